"""Text folding for rule matching: undo case, accents and common obfuscation.

Everything here is pure and works on `str`; no regex given by a moderator runs here.
"""

# The look-alike table is made of the characters RUF001/RUF003 warn about, on purpose.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import re2
from anyascii import anyascii

# Visual look-alikes take precedence over transliteration: Cyrillic "с" looks like "c" but
# transliterates to "s", and the attacker is counting on how it looks.
_LOOKALIKES: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k",
    "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b", "ү": "y", "ӏ": "l", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j", "ς": "c",
    # Latin letters that are not decomposable
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h",
}  # fmt: skip

_LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
}  # fmt: skip

# Rendered blank but not category Cf, so NFKC and the category check let them through.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5")

_WORD = re.compile(r"[^\W_]+")
# Three or more single letters (leetspeak "@" and "$" count as letters), each followed by one
# separator: a space, or one punctuation mark with optional spaces around it. Two spaces or a
# longer word end the run.
_LETTER = r"(?:[^\W_]|[@$])"
_SPACED_RUN = re.compile(
    rf"(?<![^\W_@$]){_LETTER}(?: ?[.\-_*~|/+,:;] ?| )(?:{_LETTER}(?: ?[.\-_*~|/+,:;] ?| ))+"
    rf"{_LETTER}(?![^\W_@$])"
)
_SEPARATOR = re.compile(r"[^\w@$]+|_+")
# MAYBE_SPACED_RUN: a looser _SPACED_RUN for RE2, which matches every text _SPACED_RUN does, in
# one linear scan (Python's engine tries _SPACED_RUN at every position, slow on long text, and
# almost no text has a spaced-out word). Having no lookaround, it takes in the characters around
# the run. Outside ASCII, any character may be a letter; and a boundary, unless it is a letter
# in every Unicode version (_SURE_LETTERS), so that a Greek or Russian one-letter word is not
# taken for a spaced-out one.
_SURE_LETTERS = (
    (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x17F),
    (0x388, 0x38A), (0x38C, 0x38C), (0x38E, 0x3A1), (0x3A3, 0x3CE),
    (0x400, 0x481), (0x48A, 0x52F),
)  # fmt: skip
_HINT_LETTER = r"(?:[0-9A-Za-z@$]|[^\x00-\x7f])"
_SURE_LETTER_CLASS = "".join(rf"\x{{{first:X}}}-\x{{{last:X}}}" for first, last in _SURE_LETTERS)
_HINT_BOUNDARY = f"[^0-9A-Za-z{_SURE_LETTER_CLASS}]"
_HINT_SEPARATOR = r"(?: ?[.\-_*~|/+,:;] ?| )"
MAYBE_SPACED_RUN = (
    rf"(?:^|{_HINT_BOUNDARY}){_HINT_LETTER}{_HINT_SEPARATOR}(?:{_HINT_LETTER}{_HINT_SEPARATOR})+"
    rf"{_HINT_LETTER}(?:{_HINT_BOUNDARY}|$)"
)
_MAYBE_SPACED_RUN = re2.compile(MAYBE_SPACED_RUN)


def strip_invisible(text: str) -> str:
    """NFKC, then drop format characters (zero-width and friends), surrogates and blank letters.

    Links, invites and mentions are found in this form: it keeps digits and case intact.
    """
    if text.isascii():
        return text
    if not unicodedata.is_normalized("NFKC", text):
        # One character to change and NFKC rewrites the whole text, slowly: replace the usual
        # ones first (their NFKC forms are plain ASCII, so the result is the same).
        for character, replacement in _COMMON_COMPATIBILITY:
            text = text.replace(character, replacement)
        text = unicodedata.normalize("NFKC", text)
    # translate() looks every character up in a dict: first take out the usual suspects (the
    # joiner in emoji sequences, zero-width spaces) with replace(), after a fast scan for each.
    # Text with none of them is left as it was: they are all format characters.
    for invisible in _COMMON_INVISIBLE:
        if invisible in text:
            text = text.replace(invisible, "")
    if _plainly_visible(text):
        return text
    return text.translate(_INVISIBLE)


def _plainly_visible(text: str) -> bool:
    # isprintable() is False for every format character and surrogate, and for more (line
    # breaks, private use): when it holds, only the blank letters could be left to remove.
    # A scan for each of the eight costs less than one regex search over long text.
    return text.replace("\n", " ").isprintable() and not any(
        letter in text for letter in _INVISIBLE_LETTERS
    )


def normalise(text: str) -> str:
    """Fold `text` to the form words are matched in.

    NFKC, casefold, accents stripped, invisible characters removed, whitespace runs squeezed to
    one space, look-alike letters and leetspeak mapped to ASCII. Idempotent.
    """
    if text.isascii():
        return _normalise_ascii(text)
    try:
        return normalise_in_utf8(text)[0]
    except UnicodeEncodeError:  # a lone surrogate
        return _normalise_tokens(text)


def normalise_in_utf8(text: str) -> tuple[str, bytes, bytes]:
    """`normalise(text)`, with `text` and its fold in UTF-8 (for RE2), for `text` without lone
    surrogates; each is encoded once, or comes from the folding."""
    # Every step treats each whitespace-separated token on its own (whitespace stays whitespace
    # through NFKC and casefolding, and nothing composes across it): the text folds to its
    # tokens' folds, joined by spaces. Natural text repeats its words a lot, so the folds of
    # tokens seen before come from a cache.
    encoded = text.encode()
    # ASCII and mostly-ASCII text fold in bytes (for a short comment, half the time of folding
    # the str). Text mostly outside ASCII has a token to fold at every turn: split it.
    if len(encoded) - len(text) <= len(text) >> 3:
        folded_utf8 = _normalise_utf8(encoded)
        if folded_utf8 is not None:
            return folded_utf8.decode(), encoded, folded_utf8
    folded = _normalise_ascii(text) if text.isascii() else _normalise_tokens(text)
    return folded, encoded, folded.encode()


def _normalise_tokens(text: str) -> str:
    return " ".join(filter(None, _fold_tokens(text.split())))


def _normalise_utf8(text: bytes) -> bytes | None:
    """`normalise` of mostly ASCII text, in UTF-8; None if it had better be split into tokens.

    Splitting a long text makes a string of every token and hashes it to look its fold up.
    But most tokens are ASCII without leetspeak and fold to their lowercase; in UTF-8, ASCII
    whitespace is squeezed and ASCII lowercased by scans of the whole text, and only the
    tokens with a byte outside ASCII, a digit, "@" or "$" need looking up. None when those are
    many, or a token holds whitespace outside ASCII, or folds to nothing.
    """
    squeezed = text.translate(_ASCII_WHITESPACE_TO_SPACE)
    if b"  " in squeezed:
        # Runs of spaces are few (paragraph breaks): cut at each, and trim the rest of the run.
        parts = [part.strip(b" ") for part in squeezed.split(b"  ")]
        squeezed = b" ".join([part for part in parts if part])
    else:
        squeezed = squeezed.strip(b" ")
    probe = squeezed
    if _APOSTROPHE in probe:
        # The commonest character outside ASCII in English text, and neutral: it only makes a
        # token to fold when something else does.
        probe = probe.replace(_APOSTROPHE, b"'" * len(_APOSTROPHE))
    marked = probe.translate(_MARK_TO_FOLD)  # the same length: each byte to fold made 0x80
    lowered = squeezed.lower()  # ASCII letters only
    at = marked.find(0x80)
    if at == -1:
        return lowered
    cache = _UTF8_CACHE
    pieces: list[bytes] = []
    done = 0  # lowered[:done] is in pieces and ends a token: marked[done] is a space, or done is 0
    found = 0
    while at != -1:
        found += 1
        if found > _FEW_TO_FOLD and at < found * _BYTES_PER_FOLD:
            return None  # dense: splitting costs less than finding tokens one at a time
        start = marked.rfind(0x20, done, at) + 1
        end = marked.find(0x20, at)
        if end == -1:
            end = len(marked)
        token = squeezed[start:end]
        folded = cache.get(token)
        if folded is None:
            folded = _fold_new_utf8(token)
            if folded is None:
                return None
        pieces.append(lowered[done:start])
        pieces.append(folded)
        done = end
        at = marked.find(0x80, end)
    pieces.append(lowered[done:])
    return b"".join(pieces)


def _fold_new_utf8(token: bytes) -> bytes | None:
    """The fold of a token new to `_UTF8_CACHE`; None if it holds whitespace outside ASCII (it is
    more than one token) or folds to nothing (its space would have to go too)."""
    text = token.decode()
    if text.split() != [text]:
        return None
    folded = (_TOKEN_CACHE.get(text) or _fold_new_token(text)).encode()
    if not folded:
        return None
    # As `_TOKEN_CACHE` keeps tokens of up to _CACHED_LENGTH characters, of up to four bytes.
    if len(token) <= 4 * _CACHED_LENGTH and len(folded) <= 4 * _CACHED_LENGTH:
        if len(_UTF8_CACHE) >= _CACHE_ENTRIES:
            _UTF8_CACHE.clear()
        _UTF8_CACHE[token] = folded
    return folded


def _normalise_ascii(text: str) -> str:
    # ASCII folds to ASCII, a fixed point, in one pass. Once lowercased and squeezed, only
    # leetspeak is left to fold, in the few tokens that have a digit, "@" or "$".
    squeezed = _squeeze_ascii(text.lower())
    pieces: list[str] = []
    done = 0  # squeezed[:done] is in pieces
    for at in _leet_positions(squeezed):
        if at < done:
            continue  # in the token just folded
        start = squeezed.rfind(" ", 0, at) + 1
        end = squeezed.find(" ", at + 1)
        end = len(squeezed) if end == -1 else end
        token = squeezed[start:end]
        pieces += (squeezed[done:start], _TOKEN_CACHE.get(token) or _fold_new_token(token))
        done = end
    if not pieces:
        return squeezed
    pieces.append(squeezed[done:])
    return "".join(pieces)


_LEET_CHARS = "0123456789@$"
# Up to this many, leetspeak characters are found by a scan for each: cheaper than a regex
# search through long text, which would try every position.
_FEW_LEET = 16


def _leet_positions(text: str) -> Iterable[int]:
    """Where ASCII `text` has a digit, "@" or "$", in order."""
    positions: list[int] = []
    for character in _LEET_CHARS:
        at = text.find(character)
        while at != -1:
            if len(positions) == _FEW_LEET:
                return (hit.start() for hit in _LEET_CHAR.finditer(text))
            positions.append(at)
            at = text.find(character, at + 1)
    return sorted(positions)


# The characters str.split() splits ASCII text on, besides the space.
_ASCII_WHITESPACE = "\n\t\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _squeeze_ascii(text: str) -> str:
    """`" ".join(text.split())` for ASCII `text`, without making a string of each word."""
    # A long comment has hundreds of words, and split() makes each a string; replace() and `in`
    # are fast scans. Most texts hold only spaces and newlines.
    for space in _ASCII_WHITESPACE:
        if space in text:
            text = text.replace(space, " ")
    if "  " not in text:
        return text.strip(" ")
    # Cut at every pair of spaces and trim what is left of each run: one pass, where replacing
    # "  " with " " until none is left takes a pass per halving of the longest run.
    parts = [part.strip(" ") for part in text.split("  ")]
    return " ".join([part for part in parts if part])


# Bounded in entries, and in the length of the tokens and folds it keeps.
_CACHE_ENTRIES = 1 << 14
_CACHED_LENGTH = 40
_TOKEN_CACHE: dict[str, str] = {}
# The same folds in UTF-8, for `_normalise_utf8`: only of single tokens, and none empty.
_UTF8_CACHE: dict[bytes, bytes] = {}


def _fold_tokens(tokens: Sequence[str]) -> list[str]:
    """`normalise` of each token (which is whitespace-free)."""
    cache = _TOKEN_CACHE
    try:
        # When every token is known, as is usual, with no Python code run per token.
        return list(map(cache.__getitem__, tokens))
    except KeyError:
        # A token that folds to "" (only invisible characters) misses the cache every time; rare.
        return [cache.get(token) or _fold_new_token(token) for token in tokens]


def _fold_new_token(token: str) -> str:
    folded = _refold(_fold(token))
    if len(token) <= _CACHED_LENGTH and len(folded) <= _CACHED_LENGTH:
        if len(_TOKEN_CACHE) >= _CACHE_ENTRIES:
            # Start afresh rather than track use: the common words are back within a few texts.
            _TOKEN_CACHE.clear()
        _TOKEN_CACHE[token] = folded
    return folded


def _refold(result: str) -> str:
    """Fold `_fold`'s output again until it stops changing (at most three more times)."""
    # Casefolding, decomposition and recomposition can each expose something another step folds
    # (rare compatibility characters); repeating until nothing changes keeps this idempotent.
    # ASCII output is already a fixed point.
    for _ in range(3):
        if result.isascii():
            break
        again = _fold(result)
        if again == result:
            break
        result = again
    return result


def _fold(text: str) -> str:
    if text.isascii():
        return _NEEDS_FOLDING.sub(_fold_match, " ".join(text.lower().split()))
    folded = unicodedata.normalize("NFKC", text).casefold()
    bare = unicodedata.normalize("NFD", folded).translate(_MARKS_AND_INVISIBLE)
    return unicodedata.normalize("NFC", _NEEDS_FOLDING.sub(_fold_match, " ".join(bare.split())))


def collapse_spacing(text: str) -> str:
    """Join runs of three or more single letters: "f r e e  m o n e y" -> "free  money".

    Run it before `normalise`, which squeezes the double space that separates the words.
    """
    try:
        if _MAYBE_SPACED_RUN.search(text) is None:
            return text
    except UnicodeEncodeError:  # a lone surrogate: RE2 reads UTF-8 only
        pass
    return _SPACED_RUN.sub(lambda m: _SEPARATOR.sub("", m.group()), text)


def words(text: str) -> list[str]:
    """The words of already-normalised text, split on anything that is not a letter or digit."""
    if text.isascii():
        # The same split without the regex engine: translate() has a fast path for ASCII.
        return text.translate(_ASCII_NOT_ALNUM_TO_SPACE).split()
    return _WORD.findall(text)


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cf", "Cs") and ch not in _INVISIBLE_LETTERS


_TABLE_LIMIT = 1 << 16


class _Deletions(dict[int, int | None]):
    """A `str.translate` table that decides each character once, on first sight."""

    def __init__(self, keep: Callable[[str], bool]) -> None:
        super().__init__()
        self._keep = keep

    def __missing__(self, codepoint: int) -> int | None:
        value = codepoint if self._keep(chr(codepoint)) else None
        # Bounded, so text crafted to walk all of Unicode cannot grow it without limit.
        if len(self) < _TABLE_LIMIT:
            self[codepoint] = value
        return value


_INVISIBLE = _Deletions(_visible)
_MARKS_AND_INVISIBLE = _Deletions(lambda ch: _visible(ch) and not unicodedata.combining(ch))
_LEET_TABLE = str.maketrans(_LEET)
_ASCII_WHITESPACE_TO_SPACE = bytes.maketrans(
    _ASCII_WHITESPACE.encode(), b" " * len(_ASCII_WHITESPACE)
)
_MARK_TO_FOLD = bytes(0x80 if b >= 0x80 or chr(b) in _LEET_CHARS else b for b in range(256))
# U+2019, the right single quotation mark: folds to itself, and changes nothing in a token of
# ASCII around it (no case, decomposition or mark; not a letter or digit).
_APOSTROPHE = "\u2019".encode()
# Past this many tokens to fold, one every this many bytes or more is dense.
_FEW_TO_FOLD = 48
_BYTES_PER_FOLD = 24
_LEET_CHAR = re.compile(r"[0-9@$]")
# Compatibility characters common in real text (ellipsis, no-break spaces), with their NFKC.
_COMMON_COMPATIBILITY = (("\u2026", "..."), ("\u00a0", " "), ("\u202f", " "))
# Format characters (category Cf) that turn up in real text: emoji sequences, zero-width tricks.
_COMMON_INVISIBLE = ("\u200d", "\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad")
_ASCII_NOT_ALNUM_TO_SPACE = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
# A whole token holding something to fold: a non-ASCII character, a digit, "@" or "$".
# Anchored at token starts, so each token is scanned once.
_NEEDS_FOLDING = re.compile(r"(?<!\S)(?=\S*?(?:[^\x00-\x7f]|[0-9@$]))\S+")
_LETTER_OR_AT = re.compile(r"[^\W\d_]|@")
_DIGIT = re.compile(r"\d")


def _is_number(token: str) -> bool:
    # "2024", "$5", "(1,000$)": digits, punctuation and at most one currency sign.
    return (
        token.count("$") <= 1
        and _DIGIT.search(token) is not None
        and _LETTER_OR_AT.search(token) is None
    )


def _fold_match(match: re.Match[str]) -> str:
    return _fold_token(match.group())


def _fold_token(token: str) -> str:
    # Leetspeak only inside words: "fr33" and "@$$" are words, "2024" and "$5" are numbers.
    if not _is_number(token):
        token = token.translate(_LEET_TABLE)
    if token.isascii():
        return token
    letters = [ch for ch in token if ch.isalpha()]
    # A word with Latin letters in it, or spelled only with look-alikes ("ѕех"), is written to be
    # read as Latin: fold all of it. A word wholly in another script stays as written, so Russian
    # or Chinese text cannot transliterate into an accidental match of a listed English word.
    latin = any(_is_latin(ch) for ch in letters)
    if not letters or (not latin and not all(ch in _LOOKALIKES for ch in letters)):
        return token
    # Transliteration can yield digits (some ideographs become numbers): leet them too.
    return "".join(_fold_char(_LOOKALIKES.get(ch, ch)) for ch in token).translate(_LEET_TABLE)


@lru_cache(maxsize=4096)
def _is_latin(ch: str) -> bool:
    return ch.isascii() or unicodedata.name(ch, "").startswith("LATIN")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii() or not ch.isalpha():
        return ch
    ascii_form = "".join(c for c in anyascii(ch).lower() if c.isalnum())
    return ascii_form or ch
