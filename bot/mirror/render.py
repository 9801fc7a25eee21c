"""Rendering: posts and web comments as Discord text for their threads, within Discord's limits.

Pure functions, no I/O. Everything that reaches a thread from the web goes through here: HTML
becomes Discord markdown, long text is cut at a good boundary, a post becomes its starter and a
comment its messages. The text is made inert with `bot.discord_text`: markdown that would change
meaning is escaped and mentions are broken, whatever `allowed_mentions` a later send uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import discord
from markdownify import MarkdownConverter

from bot.discord_text import (
    ELLIPSIS,
    EMBED_AUTHOR_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_TITLE_LIMIT,
    MESSAGE_LIMIT,
    WEBHOOK_USERNAME_LIMIT,
    ZWSP,
    clean_line,
    escape_text,
    escape_title,
    grapheme_safe,
    neutralise_mentions,
    shorten,
    shorten_escaped,
)
from bot.store.models import Post

_MARKER_RE = re.compile(r"\bthreadbridge post (\d+)\b")
_HTTP_URL_RE = re.compile(r"https?://[^\s<>]+", re.IGNORECASE)


def _http_url(url: str | None) -> str | None:
    if url and _HTTP_URL_RE.fullmatch(url.strip()):
        return url.strip()
    return None


# -- HTML to markdown ------------------------------------------------------------------------


class _DiscordConverter(MarkdownConverter):
    """markdownify, told what Discord renders and what it doesn't."""

    def escape(self, text: str, parent_tags: Any) -> str:
        return escape_text(text) if text else ""

    def convert_a(self, el: Any, text: str, parent_tags: Any) -> str:
        if "_noformat" in parent_tags:
            return text
        label = " ".join(text.split())
        raw = (el.get("href") or "").strip().replace(" ", "%20")
        href = _http_url(raw) or _mailto(raw)
        if not label:
            return ""
        if href is None:
            return text
        if label.replace("\\", "") == href:
            return f"<{href}>"
        href = href.replace("(", "%28").replace(")", "%29")
        lead = " " if text[:1].isspace() else ""
        trail = " " if text[-1:].isspace() else ""
        return f"{lead}[{label}]({href}){trail}"

    def convert_hN(self, n: int, el: Any, text: str, parent_tags: Any) -> str:
        # Discord's own # headings are loud in a chat: a bold line reads as a heading.
        if "_inline" in parent_tags:
            return text
        text = " ".join(re.sub(r"(?<!\\)\*\*", "", text).split())
        return f"\n\n**{text}**\n\n" if text else ""

    def convert_br(self, el: Any, text: str, parent_tags: Any) -> str:
        return " " if "_inline" in parent_tags else "\n"

    def convert_pre(self, el: Any, text: str, parent_tags: Any) -> str:
        text = text.strip("\n")
        if not text.strip():
            return ""
        return "\n\n```\n" + text.replace("```", "`" + ZWSP + "``") + "\n```\n\n"

    def convert_img(self, el: Any, text: str, parent_tags: Any) -> str:
        return ""

    def _drop(self, el: Any, text: str, parent_tags: Any) -> str:
        return ""

    convert_script = convert_style = convert_iframe = convert_noscript = _drop
    convert_template = convert_object = convert_embed = convert_svg = convert_canvas = _drop
    convert_video = convert_audio = convert_head = convert_title = convert_button = _drop


def _mailto(href: str | None) -> str | None:
    if href and href.strip().lower().startswith("mailto:") and " " not in href.strip():
        return href.strip()
    return None


def _tidy(markdown: str) -> str:
    lines: list[str] = []
    in_fence = False
    for line in markdown.split("\n"):
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence:
            # Dropped elements leave their neighbours' spaces behind.
            line = re.sub(r"(?<=\S) {2,}", " ", line)
        lines.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n").strip()


def html_to_markdown(html: str) -> str:
    """Post or comment HTML as Discord markdown, with mentions broken. Never raises."""
    converter = _DiscordConverter(
        bullets="-",
        wrap=True,  # HTML newlines are spaces; Discord would show them as line breaks
        wrap_width=None,
        escape_asterisks=False,
        escape_underscores=False,
    )
    try:
        markdown = converter.convert(html)
    except Exception:  # parser internals and deep nesting raise many kinds: never fail a post
        markdown = escape_text(" ".join(html.split()))
    return neutralise_mentions(_tidy(markdown))


# -- cutting markdown ------------------------------------------------------------------------

_PARAGRAPH, _LINE, _SENTENCE, _WORD = range(4)
_SENTENCE_END = ".!?…"
_SENTENCE_CLOSERS = "\"'\u201d\u2019)]*_~|"
_LINK_RE = re.compile(r"\[(?:\\.|[^\\\]\n])*\]\([^()\s]*\)")
_ANGLE_RE = re.compile(r"<[^\s<>]+>")
_FENCE_LANG_LIMIT = 20


@dataclass(frozen=True, slots=True)
class _State:
    """What is open just before a position: emphasis markers, and a code fence's opening line."""

    emphasis: tuple[str, ...]
    fence: str | None

    def closers(self) -> str:
        if self.fence is not None:
            return "\n```"
        return "".join(reversed(self.emphasis))

    def reopeners(self) -> str:
        if self.fence is not None:
            return self.fence + "\n"
        return "".join(self.emphasis)


@dataclass(frozen=True, slots=True)
class _Boundary:
    start: int  # where the piece ends
    end: int  # where the rest begins (whitespace between is dropped)
    kind: int
    state: _State


_OUTSIDE = _State((), None)


def _scan(text: str, stop: int) -> tuple[list[_State | None], list[_Boundary]]:
    """The state at each position up to `stop` (None where a cut is forbidden), and boundaries.

    Positions inside an atom (link, code span, escape, marker run) are jumped over and stay None.
    """
    n = len(text)
    stop = min(stop, n)
    states: list[_State | None] = [None] * (stop + 1)
    bounds: list[_Boundary] = []
    emphasis: list[str] = []
    fence: str | None = None
    state = _OUTSIDE
    blocked_until = 0
    i = 0
    while i <= stop:
        if i >= blocked_until:
            states[i] = state
        if i == n:
            break
        ch = text[i]
        line_start = i == 0 or text[i - 1] == "\n"
        if fence is not None:
            if line_start and text.startswith("```", i):
                # A cut just before the closing fence would leave an empty block behind.
                for k in (i - 1, i):
                    if 0 <= k <= stop:
                        states[k] = None
                fence = None
                state = _State(tuple(emphasis), None)
                i += 3
            elif ch == "\n" and states[i] is not None:
                bounds.append(_Boundary(i, i + 1, _LINE, state))
                i += 1
            else:
                i += 1
            continue
        if line_start and text.startswith("```", i):
            eol = text.find("\n", i)
            closing = text.find("```", i + 3)
            if eol != -1 and (closing == -1 or closing > eol):
                lang = text[i + 3 : eol].strip()
                fence = "```" + (lang if len(lang) <= _FENCE_LANG_LIMIT else "")
                state = _State(tuple(emphasis), fence)
                # Not right after the opening line either: that piece would hold no code.
                blocked_until = eol + 2
                i = eol + 1
                continue
        if ch.isspace():
            j = i
            while j < n and text[j].isspace():
                j += 1
            newlines = text.count("\n", i, j)
            k = i - 1
            while k >= 0 and text[k] in _SENTENCE_CLOSERS:
                k -= 1
            if newlines >= 2:
                kind = _PARAGRAPH
            elif newlines:
                kind = _LINE
            elif k >= 0 and text[k] in _SENTENCE_END:
                kind = _SENTENCE
            else:
                kind = _WORD
            if j < n and states[i] is not None:
                bounds.append(_Boundary(i, j, kind, state))
            i = j
            continue
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            k = i
            while k < n and text[k] == "`":
                k += 1
            close = re.compile(r"(?<!`)" + "`" * (k - i) + r"(?!`)").search(text, k)
            i = close.end() if close else k
            continue
        atom = None
        if ch == "[":
            atom = _LINK_RE.match(text, i)
        elif ch == "<":
            atom = _ANGLE_RE.match(text, i)
        if atom:
            i = atom.end()
            continue
        if ch in "*_~|":
            k = i
            while k < n and text[k] == ch:
                k += 1
            _toggle(
                emphasis,
                ch,
                k - i,
                text[i - 1] if i else " ",
                text[k] if k < n else " ",
                line_start,
            )
            state = _State(tuple(emphasis), None)
            i = k
            continue
        i += 1
    return states, [b for b in bounds if states[b.start] is not None]


def _toggle(
    emphasis: list[str], ch: str, run: int, before: str, after: str, line_start: bool
) -> None:
    """Opens or closes the emphasis a run of `ch` marks, the way Discord reads it."""
    if ch == "*" and line_start and after == " ":
        return  # a list bullet
    if ch == "_" and before.isalnum() and after.isalnum():
        return  # snake_case
    markers: list[str] = []
    if ch in "*_":
        if run >= 2:
            markers.append(ch * 2)
        if run % 2:
            markers.append(ch)
    elif run >= 2:
        markers.append(ch * 2)
    for marker in markers:
        if marker in emphasis and not before.isspace():
            emphasis.remove(marker)
        elif marker not in emphasis and not after.isspace():
            emphasis.append(marker)


def _cut(text: str, limit: int, suffix: str, floor: int) -> tuple[str, str, int]:
    """The longest good first piece of `text` (with closers and `suffix`), the rest, and how
    much of the rest is reopened markup.

    `floor` is where new content starts (after reopened markup); a piece must go past it.
    """
    states, bounds = _scan(text, limit)

    def fits(pos: int, state: _State) -> bool:
        return floor < pos and pos + len(state.closers()) + len(suffix) <= limit

    for level in (_PARAGRAPH, _LINE, _SENTENCE, _WORD):
        minimum = 0 if level == _WORD else limit // 2
        for b in reversed(bounds):
            if b.kind <= level and b.start >= minimum and fits(b.start, b.state):
                reopen = b.state.reopeners()
                return (
                    text[: b.start] + b.state.closers() + suffix,
                    reopen + text[b.end :],
                    len(reopen),
                )
    # No boundary: a giant word, cut hard where no atom or grapheme is split.
    for pos in range(min(limit, len(text)), floor, -1):
        state = states[pos] if pos < len(states) else None
        if state is not None and grapheme_safe(text, pos) == pos and fits(pos, state):
            reopen = state.reopeners()
            return text[:pos] + state.closers() + suffix, reopen + text[pos:], len(reopen)
    # A single atom longer than the limit: nothing left to keep whole.
    pos = max(floor + 1, limit - len(suffix))
    return text[:pos] + suffix, text[pos:], 0


def excerpt(markdown: str, limit: int) -> str:
    """`markdown` in at most `limit` characters, cut at the best boundary and ending with "…"."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = markdown.strip()
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    piece, _, _ = _cut(text, limit, ELLIPSIS, 0)
    return piece


def _split(text: str, limit: int, first_reserve: int = 0) -> list[str]:
    """`text` in pieces of at most `limit` characters; the first leaves `first_reserve` free."""
    parts: list[str] = []
    floor = 0
    room = limit - first_reserve
    while len(text) > room:
        piece, text, floor = _cut(text, room, "", floor)
        parts.append(piece)
        room = limit
    parts.append(text)
    return [part.strip() for part in parts if part.strip()]


# -- the messages ----------------------------------------------------------------------------


def post_marker(post_id: int) -> str:
    """The text a starter carries (in its embed footer) so its thread can be found again."""
    return f"threadbridge post {post_id}"


def find_post_marker(text: str | None) -> int | None:
    """The post id in a starter's footer text, or None."""
    match = _MARKER_RE.search(text or "")
    return int(match.group(1)) if match else None


@dataclass(frozen=True, slots=True)
class Starter:
    content: str
    embed: discord.Embed


def render_starter(post: Post, *, excerpt_chars: int = 1500) -> Starter:
    """The message a post's thread starts from: a link line and an embed of the post."""
    url = _http_url(post.url)
    embed = discord.Embed(
        title=shorten_escaped(escape_title(post.title), EMBED_TITLE_LIMIT) or "Untitled post",
        url=url,
        timestamp=post.published_at,
    )
    body = html_to_markdown(post.content_html)
    if body:
        limit = max(1, min(excerpt_chars, EMBED_DESCRIPTION_LIMIT))
        embed.description = excerpt(body, limit)
    author = clean_line(post.author_name or "")
    if author:
        embed.set_author(name=shorten(f"by {author}", EMBED_AUTHOR_LIMIT))
    image = _http_url(post.image_url)
    if image:
        embed.set_image(url=image)
    embed.set_footer(text=post_marker(post.id))
    # The embed shows the link already: angle brackets keep Discord from previewing it twice.
    content = f"New post: <{url}>" if url and len(url) < MESSAGE_LIMIT - 20 else ""
    return Starter(content=content, embed=embed)


@dataclass(frozen=True, slots=True)
class ParentQuote:
    author_name: str
    jump_url: str | None
    excerpt: str = ""


# Discord refuses webhook names containing these; a look-alike letter keeps the name readable.
_FORBIDDEN_NAME_PARTS = (
    (re.compile("discord", re.IGNORECASE), {"i": "1", "I": "1"}),
    (re.compile("clyde", re.IGNORECASE), {"y": "i", "Y": "I"}),
)
_FORBIDDEN_NAMES = frozenset({"everyone", "here"})


def _swap_letters(swaps: dict[str, str], match: re.Match[str]) -> str:
    return "".join(swaps.get(c, c) for c in match.group(0))


def webhook_username(name: str) -> str:
    """A name Discord accepts as a webhook username, as close to `name` as allowed."""
    cleaned = clean_line(name)
    for pattern, swaps in _FORBIDDEN_NAME_PARTS:
        cleaned = pattern.sub(partial(_swap_letters, swaps), cleaned)
    if cleaned.lower() in _FORBIDDEN_NAMES:
        cleaned = f"{cleaned} (web)"
    return shorten(cleaned, WEBHOOK_USERNAME_LIMIT).strip() or "Guest"


def _quote_line(parent: ParentQuote) -> str:
    name = shorten_escaped(escape_title(parent.author_name) or "someone", 80)
    line = f"> ↪ replying to **{name}**"
    words = escape_title(parent.excerpt)
    if words:
        line += f": “{shorten_escaped(words, 80)}”"
    url = _http_url(parent.jump_url)
    if url:
        line += f" — {url}"
    return line


def written_line(written_at: datetime) -> str:
    """A small line with the date a comment was written on the site, which Discord shows in
    each reader's own time zone and language (a timestamp tag, full date and time)."""
    return f"-# written on the site <t:{int(written_at.timestamp())}:f>"


def render_comment(
    body_html: str,
    *,
    author_name: str,
    parent: ParentQuote | None = None,
    written_at: datetime | None = None,
    limit: int = MESSAGE_LIMIT,
) -> list[str]:
    """The messages a web comment becomes, in order, each at most `limit` characters.

    `author_name` is not shown here: the webhook posts under it (see `webhook_username`).
    `written_at`, the date it was written on the site, heads the first message only (the
    webhook message's own time is when it was posted to Discord, years later for an import).
    """
    if limit < 64:
        raise ValueError("limit must be at least 64")
    body = html_to_markdown(body_html) or "*(empty comment)*"
    if parent is not None:
        body = _quote_line(parent) + "\n" + body
    if written_at is None:
        return _split(body, limit)
    # Kept out of the cutting, so it always heads a first part that has the comment's start.
    date = written_line(written_at) + "\n"
    parts = _split(body, limit, first_reserve=len(date))
    return [date + parts[0], *parts[1:]]
