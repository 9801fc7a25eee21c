"""Text folding for rule matching: undo case, accents and common obfuscation.

Everything here is pure and works on `str`; no regex given by a moderator runs here.
"""

# The look-alike table is made of the characters RUF001/RUF003 warn about, on purpose.
# ruff: noqa: RUF001, RUF003

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

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


def strip_invisible(text: str) -> str:
    """NFKC, then drop format characters (zero-width and friends), surrogates and blank letters.

    Links, invites and mentions are found in this form: it keeps digits and case intact.
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def normalise(text: str) -> str:
    """Fold `text` to the form words are matched in.

    NFKC, casefold, accents stripped, invisible characters removed, whitespace runs squeezed to
    one space, look-alike letters and leetspeak mapped to ASCII. Idempotent.
    """
    result = _fold(text)
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
    return _SPACED_RUN.sub(lambda m: _SEPARATOR.sub("", m.group()), text)


def words(text: str) -> list[str]:
    """The words of already-normalised text, split on anything that is not a letter or digit."""
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
