"""Text made safe and short for Discord: pure functions, no I/O.

Discord's limits on text, and the plain-text handling every feature shares: lines cleaned of
control and zero-width characters, text shortened without splitting a word or a grapheme where
possible, markdown escaped so user text shows literally, and mentions broken with a zero-width
space so nothing pings, whatever `allowed_mentions` a later send uses.
"""

from __future__ import annotations

import re
import unicodedata

# Discord's limits, in characters.
MESSAGE_LIMIT = 2000
THREAD_NAME_LIMIT = 100
WEBHOOK_USERNAME_LIMIT = 80
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_AUTHOR_LIMIT = 256
EMBED_FIELD_NAME_LIMIT = 256
EMBED_FIELD_VALUE_LIMIT = 1024
EMBED_FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000  # all of an embed's text together
EMBED_FIELDS_LIMIT = 25  # how many fields one embed may have (a count, not characters)

ELLIPSIS = "…"
ZWSP = "\u200b"
_ZWJ = "\u200d"
_ZWNJ = "\u200c"
# Letters that render as nothing; used to make "blank" names.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Things Discord turns into pings or chips: broken, not removed, so they stay readable.
_BROADCAST_RE = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_ANGLE_MENTION_RE = re.compile(r"<(?=@[!&]?\d|#\d|a?:\w+:\d|/[^<>\n]+:\d)")

# A bare URL is left alone: a backslash inside it would become part of the link.
_ESCAPE_RE = re.compile(r"(https?://[^\s<]+[^<.,:;\"'\]\s])|([\\*_~|`\[\]])")
# A backslash before a digit would show, so an ordered-list number keeps it before its dot.
_LINE_START_RE = re.compile(r"^(\s*)([#>\-+])|^(\s*\d+)([.)](?=\s))")


# -- plain text ------------------------------------------------------------------------------


def _is_invisible(ch: str) -> bool:
    return ch in (_ZWJ, _ZWNJ) or ch in _INVISIBLE_LETTERS or unicodedata.combining(ch) > 0


def clean_line(text: str) -> str:
    """One line: control and zero-width characters removed, whitespace collapsed."""
    kept: list[str] = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co") or ch in _INVISIBLE_LETTERS:
            continue
        # ZWJ and ZWNJ are spelling (emoji sequences, Persian); other format characters are
        # zero-width spaces, BOMs and bidi overrides that only hide or reorder text.
        if category == "Cf" and ch not in (_ZWJ, _ZWNJ):
            continue
        kept.append(ch)
    line = " ".join("".join(kept).split())
    if all(_is_invisible(ch) for ch in line.replace(" ", "")):
        return ""
    return line


# Unicode's Default_Ignorable_Code_Point ranges (shown as nothing unless a program gives them a
# meaning) that are not format characters (category Cf, blank by category): the combining
# grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian free variation selectors,
# variation selectors, and the unassigned code points reserved as ignorable.
_IGNORABLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
    (0x2065, 0x2065), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8), (0xE0000, 0xE0FFF),
)  # fmt: skip


def shows_nothing(text: str) -> bool:
    """Whether the text has no visible glyph: only whitespace, control and format characters
    (zero-width joiners and spaces, bidi marks, tags), ignorable code points (variation
    selectors, fillers) and blank letters. 2,000 zero-width joiners look like no text at all."""
    return all(_blank(ch) for ch in text)


def _blank(ch: str) -> bool:
    if ch.isascii():
        # Every printable ASCII character but the space is a glyph: most texts stop here.
        return ch.isspace() or not ch.isprintable()
    if ch.isspace() or ch in _INVISIBLE_LETTERS:
        return True
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
        return True
    code = ord(ch)
    return any(first <= code <= last for first, last in _IGNORABLE_RANGES)


def grapheme_safe(text: str, pos: int) -> int:
    """`pos`, moved left so a cut there leaves combining marks and emoji sequences whole."""
    p = pos
    while 0 < p < len(text) and (
        unicodedata.combining(text[p]) > 0
        or unicodedata.category(text[p]) in ("Mn", "Me", "Mc")
        or text[p] == _ZWJ
        or text[p - 1] == _ZWJ
        or "\U0001f3fb" <= text[p] <= "\U0001f3ff"
    ):
        p -= 1
    return p if p > 0 else pos


def shorten(line: str, limit: int) -> str:
    """`line` in at most `limit` characters, cut at a word when that keeps half, with "…"."""
    if len(line) <= limit:
        return line
    budget = limit - len(ELLIPSIS)
    space = line.rfind(" ", 0, budget + 1)
    head = line[:space].rstrip(" ,;:") if space >= budget // 2 else ""
    if not head:
        head = line[: grapheme_safe(line, budget)].rstrip()
    return head + ELLIPSIS


def one_line(text: str, limit: int) -> str:
    """`text` on one line (whitespace runs squeezed), shortened like a thread name."""
    return shorten(" ".join(text.split()), limit)


def thread_name(title: str) -> str:
    """A thread name for a post title: one line of 1..100 characters."""
    return shorten(clean_line(title), THREAD_NAME_LIMIT) or "Untitled post"


# -- markdown and mentions -------------------------------------------------------------------


def neutralise_mentions(text: str) -> str:
    """`text` with every ping and mention chip broken by a zero-width space (idempotent)."""
    text = _BROADCAST_RE.sub("@" + ZWSP, text)
    return _ANGLE_MENTION_RE.sub("<" + ZWSP, text)


def _escape_inline(text: str) -> str:
    return _ESCAPE_RE.sub(lambda m: m.group(1) or "\\" + m.group(2), text)


def escape_text(text: str) -> str:
    """Literal text as Discord markdown.

    Over-escaping is invisible (Discord drops a backslash before any punctuation), so line-start
    syntax is escaped wherever a line might start.
    """
    text = _escape_inline(text)
    return "\n".join(_LINE_START_RE.sub(_escape_line_start, line) for line in text.split("\n"))


def _escape_line_start(match: re.Match[str]) -> str:
    lead, mark = (match.group(1), match.group(2)) if match.group(2) else match.group(3, 4)
    return f"{lead}\\{mark}"


def escape_title(title: str) -> str:
    """A title shown literally on one line: markdown escaped, mentions broken."""
    return neutralise_mentions(escape_text(clean_line(title)))


def shorten_escaped(text: str, limit: int) -> str:
    """Escaped `text` shortened like `shorten`, never leaving a lone backslash before "…"."""
    short = shorten(text, limit)
    if short.endswith(ELLIPSIS):
        head = short[: -len(ELLIPSIS)]
        trailing = len(head) - len(head.rstrip("\\"))
        if trailing % 2:
            head = head[:-1]
        short = head + ELLIPSIS
    return short

