"""Comment bodies for the site's readers: Discord markdown and web comments' HTML made safe."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.list import list_block
from markdown_it.rules_inline import StateInline
from markdown_it.rules_inline.linkify import linkify
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from bot.discord_text import clean_line


@dataclass(frozen=True, slots=True)
class Names:
    """How mentions are shown: Discord ids never reach the page."""

    users: Mapping[int, str] = field(default_factory=dict)  # user id -> display name
    roles: Mapping[int, str] = field(default_factory=dict)  # role id -> role name
    channels: Mapping[int, str] = field(default_factory=dict)  # channel/thread id -> name


_NO_NAMES = Names()


def discord_to_html(content: str, names: Names = _NO_NAMES) -> str:
    """A Discord message's content as a safe HTML fragment, shown as Discord shows it."""
    env = _env(names)
    tokens = _MD.parse(_strip_unsafe(content), env)
    return _strip_unsafe(_DISCORD_CLEANER.clean(_MD.renderer.render(tokens, _MD.options, env)))


def discord_to_text(content: str, names: Names = _NO_NAMES) -> str:
    """A Discord message's content as plain text: no markdown markers, mentions as @name and
    #name, custom emoji as :name:, timestamps as dates, spoilers hidden."""
    env = _env(names)
    return _tidy_text(_tokens_text(_MD.parse(_strip_unsafe(content), env), names))


def clean_web_html(html: str) -> str:
    """A web comment's HTML through the same allow-list as Discord comments, images dropped."""
    return _strip_unsafe(_WEB_CLEANER.clean(html))


def web_html_to_text(html: str) -> str:
    """A web comment's (or post's) plain text: tags gone, entities decoded, whitespace as a
    browser shows it (blocks apart by a blank line, <br> a line break, list items on lines)."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return _tidy_text(_strip_unsafe("".join(collector.parts)))


# -- characters ------------------------------------------------------------------------------

# Bidi embeddings, overrides and isolates are removed from every output and from names: on a
# page, one comment's right-to-left override reorders the rest of its paragraph, links and the
# names beside them included ("gpj.exe" tricks), which Discord's one-message bubbles contain but a
# page does not. Marks that only set a direction (LRM, RLM, ALM) and the zero-width characters
# (ZWSP, ZWJ for emoji sequences, ZWNJ for Persian) are spelling and stay. Control characters
# other than tab and newline have no place in HTML text and go too.
_UNSAFE_CHARS_RE = re.compile("[\u202a-\u202e\u2066-\u2069\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _strip_unsafe(text: str) -> str:
    return _UNSAFE_CHARS_RE.sub("", text)


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# -- mentions, custom emoji and timestamps ---------------------------------------------------

_EMOJI_CDN = "https://cdn.discordapp.com/emojis/"

# Snowflakes have at most 20 digits; a longer number is not a mention in Discord either.
_TAG_RE = re.compile(
    r"""<(?:
        @!?(?P<user>[0-9]{1,20})
      | @&(?P<role>[0-9]{1,20})
      | \#(?P<channel>[0-9]{1,20})
      | /(?P<command>[\w-]{1,32}(?:\ [\w-]{1,32}){0,2}):[0-9]{1,20}
      | (?P<animated>a?):(?P<emoji>[A-Za-z0-9_]{1,32}):(?P<emoji_id>[0-9]{1,20})
      | t:(?P<time>-?[0-9]{1,17})(?::(?P<style>[tTdDfFR]))?
    )>""",
    re.VERBOSE,
)
# In code Discord shows the raw syntax; here a mention shows its name there too, not its id.
_CODE_MENTION_RE = re.compile(
    r"<(?:@!?(?P<user>[0-9]{1,20})|@&(?P<role>[0-9]{1,20})|\#(?P<channel>[0-9]{1,20})"
    r"|/(?P<command>[\w-]{1,32}(?:\ [\w-]{1,32}){0,2}):[0-9]{1,20})>"
)

_NAMES_KEY = "threadbridge_names"
_IN_QUOTE_KEY = "threadbridge_in_quote"
_CLOSERS_KEY = "threadbridge_code_closers"


def _env(names: Names) -> EnvType:
    return {_NAMES_KEY: names}


def _name(names: Mapping[int, str], id_: str) -> str | None:
    # Display names are other people's text: one line, no bidi overrides or invisible tricks.
    return clean_line(names.get(int(id_), "")) or None


def _mention_label(match: re.Match[str], names: Names) -> str | None:
    """The label a mention shows ("@name", "#channel", "/command"), None for other syntax."""
    if (user := match.group("user")) is not None:
        return "@" + (_name(names.users, user) or "unknown-user")
    if (role := match.group("role")) is not None:
        return "@" + (_name(names.roles, role) or "unknown-role")
    if (channel := match.group("channel")) is not None:
        return "#" + (_name(names.channels, channel) or "unknown-channel")
    if (command := match.group("command")) is not None:
        return "/" + command
    return None


def _hide_mention_ids(code: str, names: Names) -> str:
    return _CODE_MENTION_RE.sub(lambda m: _mention_label(m, names) or m.group(0), code)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _timestamp(seconds: int, style: str | None) -> tuple[str, str] | None:
    """(datetime attribute, readable UTC text) for a Discord timestamp, None when out of range.

    The text is absolute in every style, in English and UTC, whatever the reader's clock: the
    HTML is cached and shared, so "3 hours ago" (style R) would go stale and a local time would
    be the server's. Styles t and T show only the time, d and D only the date, F the weekday too.
    """
    try:
        at = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        return None
    date = f"{at.year:04d}-{at.month:02d}-{at.day:02d}"
    iso = f"{date}T{at.hour:02d}:{at.minute:02d}:{at.second:02d}Z"
    month = _MONTHS[at.month - 1]
    time = f"{at.hour:02d}:{at.minute:02d}"
    if style == "t":
        return iso, f"{time} UTC"
    if style == "T":
        return iso, f"{time}:{at.second:02d} UTC"
    if style == "d":
        return iso, f"{at.day} {month[:3]} {at.year}"
    if style == "D":
        return iso, f"{at.day} {month} {at.year}"
    if style == "F":
        return iso, f"{_WEEKDAYS[at.weekday()]}, {at.day} {month} {at.year}, {time} UTC"
    return iso, f"{at.day} {month[:3]} {at.year}, {time} UTC"


def _discord_tag(state: StateInline, silent: bool) -> bool:
    """Mentions, custom emoji and timestamps: Discord's angle-bracket syntax."""
    if state.src[state.pos] != "<":
        return False
    match = _TAG_RE.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if (emoji := match.group("emoji")) is not None:
        extension = "gif" if match.group("animated") else "png"
        kind, text = "discord_emoji", f":{emoji}:"
        meta = {"src": f"{_EMOJI_CDN}{int(match.group('emoji_id'))}.{extension}"}
    elif (seconds := match.group("time")) is not None:
        moment = _timestamp(int(seconds), match.group("style"))
        if moment is None:
            return False  # out of range: literal text, as in Discord
        kind, meta, text = "discord_time", {"datetime": moment[0]}, moment[1]
    else:
        label = _mention_label(match, state.env[_NAMES_KEY])
        assert label is not None  # the other alternatives of _TAG_RE are mentions
        kind, meta, text = "discord_mention", {}, label
    if not silent:
        token = state.push(kind, "", 0)
        token.content = text
        token.meta = meta
    state.pos = match.end()
    return True


# -- Discord's inline syntax that CommonMark lacks or has differently -------------------------


def _spoiler(state: StateInline, silent: bool) -> bool:
    """||hidden||: at least one character up to the next "||", which may span lines."""
    start = state.pos
    if not state.src.startswith("||", start, state.posMax):
        return False
    end = state.src.find("||", start + 3, state.posMax)
    if end < 0:
        return False
    if not silent:
        limit = state.posMax
        state.push("spoiler_open", "span", 1).markup = "||"
        state.pos, state.posMax = start + 2, end
        state.md.inline.tokenize(state)
        state.push("spoiler_close", "span", -1).markup = "||"
        state.posMax = limit
    state.pos = end + 2
    return True


def _no_image(state: StateInline, silent: bool) -> bool:
    """![alt](url) is not an image in Discord: the "![" is text, so no link starts there."""
    if not state.src.startswith("![", state.pos, state.posMax):
        return False
    if not silent:
        state.append_pending("![")
    state.pos += 2
    return True


def _no_url_as_link_text(state: StateInline, silent: bool) -> bool:
    """[https://a](https://b) stays text, as in Discord: link text that is itself a URL could
    show one address and lead to another."""
    if state.src[state.pos] != "[":
        return False
    last_bracket = state.src.rfind("]", state.pos, state.posMax)
    if last_bracket < 0 or state.src.find("://", state.pos, last_bracket) < 0:
        return False  # no address before the last "]": no need to find where the label ends
    label_end = state.md.helpers.parseLinkLabel(state, state.pos, True)
    if label_end < 0 or "://" not in state.src[state.pos + 1 : label_end]:
        return False
    if not silent:
        state.append_pending("[")
    state.pos += 1
    return True


def _linkify_in_range(state: StateInline, silent: bool) -> bool:
    """Bare links, ended where the current span ends (a spoiler's "||" is not part of its URL)."""
    if state.posMax == len(state.src):
        return linkify(state, silent)
    source = state.src
    state.src = source[: state.posMax]
    try:
        return linkify(state, silent)
    finally:
        state.src = source


# -- Discord's block syntax ------------------------------------------------------------------


def _line(state: StateBlock, line: int) -> tuple[int, int]:
    """Where a line's text starts (after its indentation) and ends."""
    return state.bMarks[line] + state.tShift[line], state.eMarks[line]


def _code_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """```lang ... ```: the language only when the opening line holds one word; the block ends
    at the first line ending in ```. Unclosed, it is no block (Discord shows the backticks)."""
    start, end = _line(state, start_line)
    if not state.src.startswith("```", start, end):
        return False
    first = state.src[start + 3 : end]
    if "```" in first:
        return False  # ```one line``` is code inline
    closers = _closing_lines(state)
    at = bisect.bisect_right(closers, start_line)
    if at == len(closers) or closers[at] >= end_line:
        return False
    close_line = closers[at]
    # Inside a list item, a line indented less than the item ends it (and an unclosed block).
    indent = min(state.blkIndent, state.sCount[start_line])
    for line in range(start_line + 1, close_line + 1):
        line_start, line_end = _line(state, line)
        if line_start < line_end and state.sCount[line] < indent:
            return False
    language = ""
    lines: list[str] = []
    if re.fullmatch(r"[A-Za-z0-9_+\-.#]+", first.strip()):
        language = re.sub(r"[^a-z0-9+#-]", "", first.strip().lower())
    elif first.strip():
        lines.append(first)
    lines.append(state.getLines(start_line + 1, close_line + 1, state.blkIndent, False))
    code = "\n".join(lines).rstrip()[:-3].strip("\n")
    if not code.strip():
        return False
    if silent:
        return True
    token = state.push("fence", "code", 0)
    token.info = language
    token.content = code
    token.markup = "```"
    token.map = [start_line, close_line + 1]
    state.line = close_line + 1
    return True


def _closing_lines(state: StateBlock) -> list[int]:
    """The lines that end in ``` (where a code block may close), found once per message.

    A quote's marker moves where its lines start, never where they end, so this holds inside
    quotes too. Looking each block's end up here keeps a message of unclosed openers linear.
    """
    closers: list[int] | None = state.env.get(_CLOSERS_KEY)
    if closers is None:
        lines = state.src.split("\n")
        closers = [n for n, line in enumerate(lines) if line.rstrip().endswith("```")]
        state.env[_CLOSERS_KEY] = closers
    return closers


def _quote_marker(state: StateBlock, line: int) -> int:
    """How many characters of a line are its quote marker: 4 for ">>> ", 2 for "> ", else 0."""
    start, end = _line(state, line)
    if state.src.startswith(">>> ", start, end):
        return 4
    if state.src.startswith("> ", start, end):
        return 2
    return 0


def _quote(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A quote: "> " quotes its line (consecutive such lines quote together), ">>> " the rest
    of the message. Quotes don't nest in Discord: inside one, ">" is text."""
    if state.env.get(_IN_QUOTE_KEY):
        return False
    marker = _quote_marker(state, start_line)
    if not marker:
        return False
    text_start = _line(state, start_line)[0] + marker
    if marker == 4 and not state.src[text_start : state.eMarks[end_line - 1]].strip():
        return False  # ">>> " and nothing after: Discord trims the space, and shows ">>>"
    if silent:
        return True
    quoted = [start_line]
    if marker == 2:
        next_line = start_line + 1
        while (
            next_line < end_line
            and state.sCount[next_line] >= state.blkIndent
            and _quote_marker(state, next_line) == 2
        ):
            quoted.append(next_line)
            next_line += 1
    else:
        next_line = end_line
    saved = [
        (state.bMarks[line], state.tShift[line], state.sCount[line], state.bsCount[line])
        for line in quoted
    ]
    for line in quoted:
        begin = _line(state, line)[0] + marker
        end = state.eMarks[line]
        indent = begin
        while indent < end and state.src[indent] in " \t":
            indent += 1
        state.bsCount[line] = state.sCount[line] + marker
        state.bMarks[line] = begin
        state.tShift[line] = indent - begin
        state.sCount[line] = _columns(state.src[begin:indent])
    old_indent, old_parent, old_max = state.blkIndent, state.parentType, state.lineMax
    state.blkIndent, state.parentType, state.lineMax = 0, "blockquote", next_line
    state.env[_IN_QUOTE_KEY] = True
    try:
        token = state.push("blockquote_open", "blockquote", 1)
        token.markup = ">>>" if marker == 4 else ">"
        token.map = [start_line, next_line]
        state.md.block.tokenize(state, start_line, next_line)
        state.push("blockquote_close", "blockquote", -1).markup = token.markup
    finally:
        state.env[_IN_QUOTE_KEY] = False
        state.blkIndent, state.parentType, state.lineMax = old_indent, old_parent, old_max
        for line, (begin, shift, count, bs_count) in zip(quoted, saved, strict=True):
            state.bMarks[line], state.tShift[line] = begin, shift
            state.sCount[line], state.bsCount[line] = count, bs_count
    state.line = next_line
    return True


def _columns(indent: str) -> int:
    width = 0
    for ch in indent:
        width += 4 - width % 4 if ch == "\t" else 1
    return width


_HEADING_RE = re.compile(r"(#{1,3})[ \t]+(\S.*)")
_SUBTEXT_RE = re.compile(r"-#[ \t]+(\S.*)")


def _heading(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """A heading: "# ", "## ", "### " and text, as h3, h4, h5 so a comment never heads a page."""
    start, end = _line(state, start_line)
    match = _HEADING_RE.fullmatch(state.src, start, end)
    if match is None:
        return False
    if silent:
        return True
    tag = f"h{len(match.group(1)) + 2}"
    state.push("heading_open", tag, 1).markup = match.group(1)
    _push_inline(state, match.group(2).rstrip(), start_line)
    state.push("heading_close", tag, -1).markup = match.group(1)
    state.line = start_line + 1
    return True


def _subtext(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Subtext: "-# " and text, small print. Consecutive such lines make one block."""
    lines: list[str] = []
    line = start_line
    while line < end_line:
        match = _SUBTEXT_RE.fullmatch(state.src, *_line(state, line))
        if match is None or state.sCount[line] < state.blkIndent:
            break
        lines.append(match.group(1).rstrip())
        line += 1
    if not lines:
        return False
    if silent:
        return True
    state.push("subtext_open", "small", 1).markup = "-#"
    _push_inline(state, "\n".join(lines), start_line)
    state.push("subtext_close", "small", -1).markup = "-#"
    state.line = line
    return True


def _push_inline(state: StateBlock, content: str, line: int) -> None:
    token = state.push("inline", "", 0)
    token.content = content
    token.map = [line, line + 1]
    token.children = []


# Deeper lists are text: the list rule recurses, and markdown-it drops whatever lies past its
# nesting limit. A list and its item are two levels, a quote one.
_LIST_LEVEL_LIMIT = 12


_EMPTY_ITEM_RE = re.compile(r"(?:[-*+]|[0-9]{1,9}[.)])[ \t]*")


def _list(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Lists, when their first item has text (a lone "-" is text in Discord)."""
    if state.level >= _LIST_LEVEL_LIMIT or _EMPTY_ITEM_RE.fullmatch(
        state.src, *_line(state, start_line)
    ):
        return False
    return list_block(state, start_line, end_line, silent)


# -- the parser ------------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class _DiscordMarkdown(MarkdownIt):
    def normalizeLink(self, url: str) -> str:
        normal = super().normalizeLink(url)
        scheme = _SCHEME_RE.match(normal)
        return normal if scheme is None else scheme.group(0).lower() + normal[scheme.end() :]

    def validateLink(self, url: str) -> bool:
        # Only web links. An angle bracket in a link (encoded by now) is a mention's syntax:
        # its id would reach the page.
        lowered = url.lower()
        return lowered.startswith(("http://", "https://")) and "%3c" not in lowered


class _Renderer(RendererHTML):
    """HTML for exactly the tokens the Discord parser makes: no attributes but the ones below."""

    def strong_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "<u>" if tokens[idx].markup == "__" else "<strong>"

    def strong_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</u>" if tokens[idx].markup == "__" else "</strong>"

    def link_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f'<a href="{escapeHtml(str(tokens[idx].attrs["href"]))}">'

    def code_inline(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        code = _hide_mention_ids(tokens[idx].content, env[_NAMES_KEY])
        return f"<code>{escapeHtml(code)}</code>"

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        language = f' class="language-{token.info}"' if token.info else ""
        code = _hide_mention_ids(token.content, env[_NAMES_KEY])
        return f"<pre><code{language}>{escapeHtml(code)}</code></pre>\n"

    def spoiler_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return '<span class="spoiler">'

    def spoiler_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</span>"

    def subtext_open(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "<p><small>"

    def subtext_close(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return "</small></p>\n"

    def discord_mention(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        return f'<span class="mention">{escapeHtml(tokens[idx].content)}</span>'

    def discord_emoji(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return (
            f'<img class="emoji" src="{token.meta["src"]}" alt="{escapeHtml(token.content)}"'
            ' width="22" height="22" loading="lazy">'
        )

    def discord_time(
        self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
    ) -> str:
        token = tokens[idx]
        return f'<time datetime="{token.meta["datetime"]}">{escapeHtml(token.content)}</time>'


def _build_markdown() -> MarkdownIt:
    md = _DiscordMarkdown(
        "zero",
        {"html": False, "linkify": True, "breaks": True, "maxNesting": 20},
        renderer_cls=_Renderer,
    )
    # Discord links only what has a scheme: "example.com" and "a@b.c" stay text.
    assert md.linkify is not None
    md.linkify.set({"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})

    # Off, as in Discord: tables, rules, indented code, setext headings, references, raw HTML,
    # images (see _no_image), entities ("&amp;" shows as typed), typographic replacements.
    md.enable(["linkify", "text_join"], ignoreInvalid=True)
    md.enable(["newline", "escape", "backticks", "strikethrough", "emphasis", "link", "autolink"])
    md.inline.ruler.push("linkify_in_range", _linkify_in_range)
    md.inline.ruler.before("strikethrough", "spoiler", _spoiler)
    md.inline.ruler.before("link", "no_image", _no_image)
    md.inline.ruler.before("link", "no_url_as_link_text", _no_url_as_link_text)
    md.inline.ruler.before("autolink", "discord_tag", _discord_tag)
    md.inline.ruler.disable("linkify")  # replaced by linkify_in_range
    md.inline.add_terminator_char("|")

    can_interrupt: RuleOptionsType = {"alt": ["paragraph", "list"]}
    block = md.block.ruler
    block.before("paragraph", "discord_code", _code_block, can_interrupt)
    block.before("paragraph", "discord_quote", _quote, can_interrupt)
    block.before("paragraph", "discord_heading", _heading, can_interrupt)
    block.before("paragraph", "discord_subtext", _subtext, can_interrupt)
    block.before("paragraph", "discord_list", _list, {"alt": ["paragraph"]})
    return md


_MD = _build_markdown()


# -- plain text ------------------------------------------------------------------------------

_BLOCK_ENDS = frozenset({"paragraph_close", "heading_close", "subtext_close", "blockquote_close"})
_LIST_OPENS = frozenset({"bullet_list_open", "ordered_list_open"})
_LIST_CLOSES = frozenset({"bullet_list_close", "ordered_list_close"})
_TEXT_TOKENS = frozenset(
    {"text", "text_special", "discord_mention", "discord_emoji", "discord_time"}
)


def _tokens_text(tokens: Sequence[Token], names: Names) -> str:
    """Blocks apart by a blank line; list items one a line, "•" or their number before them."""
    parts: list[str] = []
    lists: list[str] = []  # the open lists' types, innermost last
    item_start = -1  # len(parts) just after the latest bullet

    def end_line(count: int) -> None:
        tail = "".join(parts[-3:])
        missing = count - (len(tail) - len(tail.rstrip("\n")))
        if parts and missing > 0:
            parts.append("\n" * missing)

    for token in tokens:
        kind = token.type
        if kind == "inline":
            if text := _inline_text(token.children or [], names):
                parts.append(text)
        elif kind == "fence":
            if len(parts) != item_start:
                end_line(1)  # the code starts on a line of its own, or right after a bullet
            parts.append(_hide_mention_ids(token.content, names))
            end_line(1 if lists else 2)
        elif kind in _LIST_OPENS:
            end_line(1)
            lists.append(kind)
        elif kind in _LIST_CLOSES:
            lists.pop()
            end_line(1 if lists else 2)
        elif kind == "list_item_open":
            bullet = "•" if lists[-1] == "bullet_list_open" else f"{token.info}{token.markup}"
            parts.append("  " * (len(lists) - 1) + bullet + " ")
            item_start = len(parts)
        elif kind == "list_item_close":
            end_line(1)
        elif kind in _BLOCK_ENDS and not token.hidden:
            end_line(1 if lists else 2)
    return "".join(parts)


def _inline_text(tokens: Sequence[Token], names: Names) -> str:
    parts: list[str] = []
    hidden = 0  # inside a spoiler: plain text goes where a reader cannot click to reveal it
    for token in tokens:
        kind = token.type
        if kind == "spoiler_open":
            if not hidden:
                parts.append("[spoiler]")
            hidden += 1
        elif kind == "spoiler_close":
            hidden -= 1
        elif hidden:
            continue
        elif kind in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif kind == "code_inline":
            parts.append(_hide_mention_ids(token.content, names))
        elif kind in _TEXT_TOKENS:
            parts.append(token.content)
    return "".join(parts)


class _TextCollector(HTMLParser):
    """The text a browser shows for some HTML (a web comment's, or a post's richer markup)."""

    # Tags that start and end a block of text; their text is kept, as the sanitiser keeps it.
    _BLOCKS = frozenset(
        {"address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt",
         "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
         "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul"}
    )  # fmt: skip
    # Never shown, and dropped with their content by the sanitiser too.
    _HIDDEN = frozenset({"script", "style"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pre = 0
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            # HTML's whitespace (not a no-break space) shows as one space, none at a line's start.
            data = re.sub(r"[ \t\n\r\f]+", " ", data)
            before = self.parts[-1] if self.parts else "\n"
            if before.endswith(("\n", " ")):
                data = data.lstrip(" ")
        if data:
            self.parts.append(data)


# -- sanitising ------------------------------------------------------------------------------

# Exactly what the renderer above emits, plus <b> and <i> that web comments use.
_TAGS = frozenset(
    {"p", "br", "strong", "b", "em", "i", "u", "s", "code", "pre", "blockquote", "h3", "h4", "h5",
     "small", "ul", "ol", "li", "a", "span", "img", "time"}
)  # fmt: skip
_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href"}),  # rel is set on every link by the cleaner
    "img": frozenset({"src", "alt"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start"}),
    "code": frozenset({"class"}),
}
_ATTRIBUTE_VALUES = {
    "img": {"width": {"22"}, "height": {"22"}, "loading": {"lazy"}},
}
_CLASSES = {"span": {"spoiler", "mention"}, "img": {"emoji"}}
_CHECKED_VALUES = {
    ("img", "src"): re.compile(re.escape(_EMOJI_CDN) + r"[0-9]{1,20}\.(?:png|gif)"),
    ("code", "class"): re.compile(r"language-[a-z0-9+#-]+"),
    ("ol", "start"): re.compile(r"[0-9]{1,9}"),
    ("time", "datetime"): re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"),
}


_WEB_URL_RE = re.compile(r"\s*(https?)://(?=\S)", re.IGNORECASE)


def _attribute_filter(element: str, attribute: str, value: str) -> str | None:
    if (element, attribute) == ("a", "href"):
        # Web comments' links: only absolute web addresses, with the scheme as browsers read it.
        url = _WEB_URL_RE.match(value)
        return None if url is None else f"{url.group(1).lower()}://{value[url.end() :].strip()}"
    pattern = _CHECKED_VALUES.get((element, attribute))
    return value if pattern is None or pattern.fullmatch(value) else None


def _cleaner(tags: frozenset[str]) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=tags,
        clean_content_tags={"script", "style"},
        # "*" empty: no attribute on every tag (the cleaner's default allows title and lang).
        attributes={"*": frozenset(), **{t: a for t, a in _ATTRIBUTES.items() if t in tags}},
        attribute_filter=_attribute_filter,
        link_rel="nofollow ugc noopener",
        tag_attribute_values={t: v for t, v in _ATTRIBUTE_VALUES.items() if t in tags},
        allowed_classes={tag: classes for tag, classes in _CLASSES.items() if tag in tags},
        url_schemes={"http", "https"},
        url_relative="deny",
    )


_DISCORD_CLEANER = _cleaner(_TAGS)
# Web comments lose their images: the only images allowed are Discord's custom emoji, which a
# web comment has no reason to hold, and any other address would make readers' browsers fetch
# from wherever a commenter chose (tracking pixels, huge files, anything at all).
_WEB_CLEANER = _cleaner(_TAGS - {"img"})
