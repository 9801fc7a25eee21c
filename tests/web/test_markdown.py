"""Comment bodies made safe for the site: Discord's markdown and web comments' HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.web.markdown import (
    Names,
    clean_web_html,
    discord_to_html,
    discord_to_text,
    web_html_to_text,
)

REL = 'rel="nofollow ugc noopener"'
NAMES = Names(
    users={80351110224678912: "Alice", 111: "Bob \u202eevil", 112: "\u200b \u2066"},
    roles={41771983423143936: "Moderators"},
    channels={81384788765712384: "general"},
)


def link(href: str, text: str | None = None) -> str:
    return f'<a href="{href}" {REL}>{href if text is None else text}</a>'


def emoji(id_: int, name: str, extension: str = "png") -> str:
    return (
        f'<img class="emoji" src="https://cdn.discordapp.com/emojis/{id_}.{extension}"'
        f' alt=":{name}:" width="22" height="22" loading="lazy">'
    )


# -- what the sanitised HTML may hold --------------------------------------------------------

ALLOWED = {
    "p": set(), "br": set(), "strong": set(), "b": set(), "em": set(), "i": set(), "u": set(),
    "s": set(), "pre": set(), "blockquote": set(), "h3": set(), "h4": set(), "h5": set(),
    "small": set(), "ul": set(), "li": set(),
    "code": {"class"},
    "ol": {"start"},
    "a": {"href", "rel"},
    "span": {"class"},
    "img": {"class", "src", "alt", "width", "height", "loading"},
    "time": {"datetime"},
}  # fmt: skip
VALUES = {
    ("a", "href"): r"https?://\S*",
    ("a", "rel"): r"nofollow ugc noopener",
    ("span", "class"): r"(spoiler|mention)( spoiler| mention)*",
    ("code", "class"): r"language-[a-z0-9+#-]+",
    ("ol", "start"): r"[0-9]+",
    ("img", "class"): r"emoji",
    ("img", "src"): r"https://cdn\.discordapp\.com/emojis/[0-9]+\.(png|gif)",
    ("img", "width"): r"22",
    ("img", "height"): r"22",
    ("img", "loading"): r"lazy",
    ("time", "datetime"): r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
}


class Audit(HTMLParser):
    """Everything in some HTML that the allow-list does not allow."""

    def __init__(self, allowed: dict[str, set[str]]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed:
            self.problems.append(f"tag <{tag}>")
            return
        for name, value in attrs:
            if name.startswith("on") or name not in self.allowed[tag]:
                self.problems.append(f"attribute {name} on <{tag}>")
            elif not re.fullmatch(VALUES.get((tag, name), r"[^<>]*"), value or ""):
                self.problems.append(f"{name}={value!r} on <{tag}>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")

    def handle_decl(self, decl: str) -> None:
        self.problems.append("a declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.problems.append("a declaration")


def audit(html: str, allowed: dict[str, set[str]] = ALLOWED) -> Audit:
    checker = Audit(allowed)
    checker.feed(html)
    checker.close()
    return checker


def problems(html: str, allowed: dict[str, set[str]] = ALLOWED) -> list[str]:
    return audit(html, allowed).problems


WEB_ALLOWED = {tag: attrs for tag, attrs in ALLOWED.items() if tag != "img"}


def test_the_audit_catches_what_it_should() -> None:
    assert problems('<p onclick="x">a</p>') == ["attribute onclick on <p>"]
    assert problems('<a href="javascript:x">a</a>') == ["href='javascript:x' on <a>"]
    assert problems("<script>x</script>") == ["tag <script>"]
    assert problems('<img class="emoji" src="https://e.com/x.png">') != []
    assert problems("<!-- x -->") == ["a comment"]


# -- inline markup ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("**bold**", "<p><strong>bold</strong></p>\n"),
        ("*italic* and _italic_", "<p><em>italic</em> and <em>italic</em></p>\n"),
        # Discord's __ is underline, not CommonMark's bold.
        ("__underline__", "<p><u>underline</u></p>\n"),
        ("***bold italic***", "<p><em><strong>bold italic</strong></em></p>\n"),
        ("___underline italic___", "<p><em><u>underline italic</u></em></p>\n"),
        ("**__bold underline__**", "<p><strong><u>bold underline</u></strong></p>\n"),
        ("~~struck~~", "<p><s>struck</s></p>\n"),
        ("||hidden||", '<p><span class="spoiler">hidden</span></p>\n'),
        ("||**a** b||", '<p><span class="spoiler"><strong>a</strong> b</span></p>\n'),
        ("||a||b||c||", '<p><span class="spoiler">a</span>b<span class="spoiler">c</span></p>\n'),
        ("||||", "<p>||||</p>\n"),
        ("a | b || c", "<p>a | b || c</p>\n"),
        ("`a < b && c`", "<p><code>a &lt; b &amp;&amp; c</code></p>\n"),
        ("`**not bold**`", "<p><code>**not bold**</code></p>\n"),
        ("snake_case_name", "<p>snake_case_name</p>\n"),
        (r"\*not italic\*", "<p>*not italic*</p>\n"),
        ("**unclosed", "<p>**unclosed</p>\n"),
        ("one\ntwo", "<p>one<br>\ntwo</p>\n"),
        ("one\n\ntwo", "<p>one</p>\n<p>two</p>\n"),
    ],
)
def test_inline_markup(content: str, html: str) -> None:
    assert discord_to_html(content) == html


# -- blocks ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("```py\nprint('hi')\n```", "<pre><code class=\"language-py\">print('hi')</code></pre>\n"),
        ("```\nplain\n```", "<pre><code>plain</code></pre>\n"),
        ("```\nclosed on the last line```", "<pre><code>closed on the last line</code></pre>\n"),
        ("```C++\nx++;\n```", '<pre><code class="language-c++">x++;</code></pre>\n'),
        ("```c#\nx\n```", '<pre><code class="language-c#">x</code></pre>\n'),
        # A first line that is not one word is code, not a language.
        ("```two words\nx\n```", "<pre><code>two words\nx</code></pre>\n"),
        ("```html\n<b>&amp;</b>\n```", '<pre><code class="language-html">'
         "&lt;b&gt;&amp;amp;&lt;/b&gt;</code></pre>\n"),
        ("```\n**kept**\n> kept\n```", "<pre><code>**kept**\n&gt; kept</code></pre>\n"),
        ("```one line```", "<p><code>one line</code></p>\n"),
        ("```\nnever closed", "<p>```<br>\nnever closed</p>\n"),
        ("> quoted\n> still\nnot quoted",
         "<blockquote>\n<p>quoted<br>\nstill</p>\n</blockquote>\n<p>not quoted</p>\n"),
        (">>> all\nof it", "<blockquote>\n<p>all<br>\nof it</p>\n</blockquote>\n"),
        ("said:\n> quote", "<p>said:</p>\n<blockquote>\n<p>quote</p>\n</blockquote>\n"),
        # Quotes don't nest in Discord, and need a space after ">".
        ("> > inner", "<blockquote>\n<p>&gt; inner</p>\n</blockquote>\n"),
        (">no space", "<p>&gt;no space</p>\n"),
        ("> **bold** quote", "<blockquote>\n<p><strong>bold</strong> quote</p>\n</blockquote>\n"),
        ("# One\n## Two\n### Three", "<h3>One</h3>\n<h4>Two</h4>\n<h5>Three</h5>\n"),
        ("#### Four", "<p>#### Four</p>\n"),
        ("#hashtag", "<p>#hashtag</p>\n"),
        ("text\n# heading", "<p>text</p>\n<h3>heading</h3>\n"),
        ("-# small print", "<p><small>small print</small></p>\n"),
        ("-# one\n-# two", "<p><small>one<br>\ntwo</small></p>\n"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("* a\n* b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"),
        ("3. from three", '<ol start="3">\n<li>from three</li>\n</ol>\n'),
        ("- a\n  - nested", "<ul>\n<li>a\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>\n"),
        ("-", "<p>-</p>\n"),
    ],
)
def test_blocks(content: str, html: str) -> None:
    assert discord_to_html(content) == html


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("![alt](https://e.com/i.png)", f"<p>![alt]({link('https://e.com/i.png')})</p>\n"),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>\n"),
        ("---", "<p>---</p>\n"),
        ("***", "<p>***</p>\n"),
        ("    indented", "<p>indented</p>\n"),
        ("Title\n=====", "<p>Title<br>\n=====</p>\n"),
        ("[ref][1]\n\n[1]: https://e.com", f"<p>[ref][1]</p>\n<p>[1]: {link('https://e.com')}</p>\n"),
        ("<b>raw</b> <!-- html -->", "<p>&lt;b&gt;raw&lt;/b&gt; &lt;!-- html --&gt;</p>\n"),
        # Discord shows entities as typed.
        ("&amp; &lt;", "<p>&amp;amp; &amp;lt;</p>\n"),
    ],
)
def test_what_discord_does_not_render_stays_text(content: str, html: str) -> None:
    assert discord_to_html(content) == html


# -- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("[the site](https://e.com/a)", f"<p>{link('https://e.com/a', 'the site')}</p>\n"),
        ("[**a** b](http://e.com)", f"<p>{link('http://e.com', '<strong>a</strong> b')}</p>\n"),
        ('[titled](https://e.com "a title")', f"<p>{link('https://e.com', 'titled')}</p>\n"),
        ("see https://e.com/a_b_c.", f"<p>see {link('https://e.com/a_b_c')}.</p>\n"),
        ("<https://e.com>", f"<p>{link('https://e.com')}</p>\n"),
        ("HTTPS://E.COM", f"<p>{link('https://E.COM', 'HTTPS://E.COM')}</p>\n"),
        ("||https://e.com||", f'<p><span class="spoiler">{link("https://e.com")}</span></p>\n'),
        ("https://e.com/?a=1&b=2", f"<p>{link('https://e.com/?a=1&amp;b=2')}</p>\n"),
        # Discord links only addresses with a scheme.
        ("e.com and a@b.com", "<p>e.com and a@b.com</p>\n"),
        ("[x](ftp://e.com)", "<p>[x](ftp://e.com)</p>\n"),
        ("[x](mailto:a@b.com)", "<p>[x](mailto:a@b.com)</p>\n"),
        ("[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"),
        # Link text that is an address could show one and lead to another.
        ("[https://a.com](https://b.com)", f"<p>[{link('https://a.com')}]({link('https://b.com')})</p>\n"),
    ],
)
def test_links(content: str, html: str) -> None:
    assert discord_to_html(content) == html


# -- mentions, emoji, timestamps -------------------------------------------------------------


def mention(label: str) -> str:
    return f'<span class="mention">{label}</span>'


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("hi <@80351110224678912>", f"<p>hi {mention('@Alice')}</p>\n"),
        ("<@!80351110224678912>", f"<p>{mention('@Alice')}</p>\n"),
        ("<@999>", f"<p>{mention('@unknown-user')}</p>\n"),
        ("<@&41771983423143936>", f"<p>{mention('@Moderators')}</p>\n"),
        ("<@&999>", f"<p>{mention('@unknown-role')}</p>\n"),
        ("<#81384788765712384>", f"<p>{mention('#general')}</p>\n"),
        ("<#999>", f"<p>{mention('#unknown-channel')}</p>\n"),
        ("</remind me:123456>", f"<p>{mention('/remind me')}</p>\n"),
        ("@everyone @here", "<p>@everyone @here</p>\n"),
        # Names are one line of visible text: no bidi override, and a blank name is unknown.
        ("<@111> <@112>", f"<p>{mention('@Bob evil')} {mention('@unknown-user')}</p>\n"),
        ("**<@80351110224678912>**", f"<p><strong>{mention('@Alice')}</strong></p>\n"),
        # In code Discord shows the raw syntax; here the id is replaced there too.
        ("`<@80351110224678912>`", "<p><code>@Alice</code></p>\n"),
        ("```\n<#81384788765712384>\n```", "<pre><code>#general</code></pre>\n"),
        ("<:blobcat:1234>", f"<p>{emoji(1234, 'blobcat')}</p>\n"),
        ("<a:party_parrot:5678>", f"<p>{emoji(5678, 'party_parrot', 'gif')}</p>\n"),
        ("<:not-a-name:1234>", "<p>&lt;:not-a-name:1234&gt;</p>\n"),
    ],
)
def test_mentions_and_emoji(content: str, html: str) -> None:
    assert discord_to_html(content, NAMES) == html


@pytest.mark.parametrize(
    ("style", "text"),
    [
        ("", "14 Nov 2023, 22:13 UTC"),
        (":f", "14 Nov 2023, 22:13 UTC"),
        (":R", "14 Nov 2023, 22:13 UTC"),  # relative would go stale in a cached page
        (":t", "22:13 UTC"),
        (":T", "22:13:20 UTC"),
        (":d", "14 Nov 2023"),
        (":D", "14 November 2023"),
        (":F", "Tuesday, 14 November 2023, 22:13 UTC"),
    ],
)
def test_timestamps(style: str, text: str) -> None:
    html = discord_to_html(f"<t:1700000000{style}>")
    assert html == f'<p><time datetime="2023-11-14T22:13:20Z">{text}</time></p>\n'
    assert discord_to_text(f"<t:1700000000{style}>") == text


@pytest.mark.parametrize(
    ("content", "html"),
    [
        ("<t:-86400:d>", '<p><time datetime="1969-12-31T00:00:00Z">31 Dec 1969</time></p>\n'),
        ("<t:253402300800>", "<p>&lt;t:253402300800&gt;</p>\n"),  # after the year 9999
        ("<t:99999999999999999>", "<p>&lt;t:99999999999999999&gt;</p>\n"),
        ("<t:1700000000:x>", "<p>&lt;t:1700000000:x&gt;</p>\n"),
    ],
)
def test_timestamps_at_the_edges(content: str, html: str) -> None:
    assert discord_to_html(content) == html


# -- plain text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("**bold** *it* __under__ ~~gone~~ `code`", "bold it under gone code"),
        ("# Title\nbody", "Title\n\nbody"),
        ("> quoted\nafter", "quoted\n\nafter"),
        ("- a\n- b\n  - c\n\n1. one\n2. two", "• a\n• b\n  • c\n\n1. one\n2. two"),
        ("```py\nx = 1\n```", "x = 1"),
        ("[the site](https://e.com) https://f.com", "the site https://f.com"),
        ("<@80351110224678912> in <#81384788765712384> <@&1>", "@Alice in #general @unknown-role"),
        ("<:blobcat:1234> <t:1700000000:D>", ":blobcat: 14 November 2023"),
        ("the end: ||Rosebud||", "the end: [spoiler]"),
        ("-# small\n\n\n\nlast", "small\n\nlast"),
        ("<b>not a tag</b> &amp;", "<b>not a tag</b> &amp;"),
        ("", ""),
    ],
)
def test_discord_to_text(content: str, text: str) -> None:
    assert discord_to_text(content, NAMES) == text


# -- web comments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "clean"),
    [
        ("<p>Hi <b>you</b> <i>there</i></p>", "<p>Hi <b>you</b> <i>there</i></p>"),
        ("<p>a<br>b</p><blockquote>q</blockquote>", "<p>a<br>b</p><blockquote>q</blockquote>"),
        ("<ul><li>a</li></ul><ol><li>b</li></ol>", "<ul><li>a</li></ul><ol><li>b</li></ol>"),
        ("<pre><code>x &lt; y</code></pre>", "<pre><code>x &lt; y</code></pre>"),
        ('<a href="https://e.com" title="t" target="_blank">e</a>', link("https://e.com", "e")),
        ('<a href=" HTTPS://e.com/a ">e</a>', link("https://e.com/a", "e")),
        ('<a href="javascript:alert(1)">x</a>', f"<a {REL}>x</a>"),
        ('<a href="//evil.com">x</a>', f"<a {REL}>x</a>"),
        ('<p onclick="alert(1)" style="color:red" class="x">a</p>', "<p>a</p>"),
        ("<script>alert(1)</script><style>p{}</style>ok", "ok"),
        ('<img src="https://e.com/pixel.gif">a', "a"),
        ('<img class="emoji" src="https://cdn.discordapp.com/emojis/1.png" alt=":x:">a', "a"),
        ("<div><h1>Big</h1> <del>old</del></div>", "Big old"),
        ("<!-- note -->text", "text"),
        ("<p>\u202eevil</p>", "<p>evil</p>"),
    ],
)
def test_clean_web_html(html: str, clean: str) -> None:
    assert clean_web_html(html) == clean


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One\ntwo</p><p>Three<br>\nfour &amp; five</p>", "One two\n\nThree\nfour & five"),
        ("<ul><li>a</li><li>b</li></ul>after", "• a\n• b\n\nafter"),
        ("<pre>  kept\n    spaces</pre>", "kept\n    spaces"),
        ("<script>alert(1)</script>hi<style>p{}</style>", "hi"),
        ("<h2>Title</h2><div>body</div>", "Title\n\nbody"),
        ("a&nbsp;b &lt;c&gt; &#x202e;d", "a\xa0b <c> d"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_web_html_to_text(html: str, text: str) -> None:
    assert web_html_to_text(html) == text


# -- hostile input ---------------------------------------------------------------------------

ID = "987654321098765432"  # an id that appears nowhere else

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](java\tscript:alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "[x](//evil.com)",
    "[x](https://e.com\" onmouseover=\"alert(1))",
    '[x](https://e.com "title" onmouseover="alert(1)")',
    "<javascript:alert(1)>",
    "<https://e.com/\"onmouseover=alert(1)>",
    "https://e.com/<script>",
    "https://e.com/\"><svg/onload=alert(1)>",
    "```js\"><script>alert(1)</script>\nx\n```",
    "```\n</code></pre><script>alert(1)</script>\n```",
    "`</code><script>`",
    "<:x\" onerror=\"alert(1):1>",
    "<a:x:1 onerror=alert(1)>",
    "<t:1\" onmouseover=\"x>",
    f"<@{ID}> <@!{ID}> <@&{ID}> <#{ID}> </x:{ID}>",
    f"`<@{ID}>` ```\n<#{ID}>\n``` [<@{ID}>](https://e.com)",
    f"[x](https://e.com/<@{ID}>) https://e.com/<@&{ID}>",
    f"**<@{ID}>** ||<@{ID}>|| > <#{ID}> _<@&{ID}>_ ~~</a b:{ID}>~~",
    "\u202eevil\u202c <@1> \u2066isolated\u2069 \u200bzero\u200dwidth\ufeff",
    "**" * 500,
    "||" * 500 + "x",
    "[" * 1000 + "x" + "](https://e.com)" * 10,
    "> " * 1000 + "deep",
    "- " * 1000 + "deep",
    "1. " * 600 + "deep",
    "\n".join("  " * depth + "- deep" for depth in range(200)),
    "```\n" * 500,
    "<" * 2000,
    "x" * 2000,
    ("**a** __b__ ~~c~~ ||d|| `e` [f](https://g.com) <@1> <:h:2> <t:3>\n" * 40)[:2000],
]


@pytest.mark.parametrize("content", HOSTILE)
def test_hostile_input_comes_out_inert(content: str) -> None:
    html = discord_to_html(content, NAMES)
    assert problems(html) == []
    assert ID not in html
    assert ID not in discord_to_text(content, NAMES)
    assert "\u202e" not in html and "\u2066" not in html


@pytest.mark.parametrize("html", HOSTILE)
def test_hostile_web_html_comes_out_inert(html: str) -> None:
    assert problems(clean_web_html(html), WEB_ALLOWED) == []


@pytest.mark.parametrize(
    "html",
    [
        "<p>\u202eevil</p>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mi xlink:href='javascript:alert(1)'>x</mi></math>",
        "<a href='jav&#x09;ascript:alert(1)'>x</a>",
        "<a href='&#106;avascript:alert(1)'>x</a>",
        "<a href='java\nscript:alert(1)'>x</a>",
        "<a href='data:text/html,x'>x</a>",
        "<iframe src='https://e.com'></iframe>",
        "<object data='x'></object><embed src='x'>",
        "<form action='https://e.com'><input name=x><button>go</button></form>",
        "<p style='background:url(javascript:alert(1))'>x</p>",
        "<base href='https://evil.com/'><a href='/x'>x</a>",
        "<noscript><p title='</noscript><img src=x onerror=alert(1)>'></noscript>",
        "<a href='https://e.com' rel='opener'>x</a>",
        "<span class='mention spoiler evil'>x</span>",
        "<img src='https://cdn.discordapp.com/emojis/1.png' class='emoji'>",
        "<time datetime='x\" onmouseover=\"y'>t</time>",
        "<ol start='1 onclick=x'><li>x</li></ol>",
        "<code class='language-x\" onclick=\"y'>c</code>",
        "<!--<script>alert(1)</script>--><![CDATA[x]]>",
    ],
)
def test_hostile_web_html(html: str) -> None:
    clean = clean_web_html(html)
    assert problems(clean, WEB_ALLOWED) == []
    assert "\u202e" not in clean
    assert "\u202e" not in web_html_to_text(html)


def test_deep_nesting_is_bounded_and_keeps_the_text() -> None:
    quotes = discord_to_html("> " * 1000 + "deep")
    assert quotes.count("<blockquote>") == 1
    assert "deep" in quotes
    lists = discord_to_html("- " * 1000 + "deep")
    assert 1 <= lists.count("<ul>") <= 6
    assert "deep" in lists and "- - -" in lists
    indented = discord_to_html("\n".join("  " * depth + f"- item{depth}" for depth in range(200)))
    assert indented.count("<ul>") <= 6
    assert all(f"item{depth}" in indented for depth in range(200))


def test_zero_width_and_direction_marks_stay() -> None:
    persian = "\u0646\u06cc\u0645\u200c\u0641\u0627\u0635\u0644\u0647"  # ZWNJ is spelling
    content = f"family 👨\u200d👩\u200d👧, {persian}, a\u200bb, \u200fRTL mark"
    assert discord_to_html(content) == f"<p>{content}</p>\n"
    assert discord_to_text(content) == content


# -- properties ------------------------------------------------------------------------------

MARKDOWN_TEXT = st.lists(
    st.sampled_from([*"ab1 \n\t*_~|`>#-+.()[]!\\<>:@&/", "https://", "\u202e"]),
    max_size=120,
).map("".join)
WORDS_ONLY = re.compile(r"[ab]+")


@given(st.one_of(MARKDOWN_TEXT, st.text(max_size=200)))
def test_any_text_becomes_allowed_html(content: str) -> None:
    assert problems(discord_to_html(content)) == []


@given(st.one_of(MARKDOWN_TEXT, st.text(max_size=200)))
def test_plain_text_adds_no_markup(content: str) -> None:
    text = discord_to_text(content)
    for ch in "<&":
        if ch not in content:
            assert ch not in text


@given(st.text(alphabet=st.sampled_from(list("ab \n*_~>#-[]()\\")), max_size=80))
def test_markup_loses_no_words(content: str) -> None:
    # Without spoilers, links and mentions in the alphabet, every word of the message shows.
    shown = "".join(audit(discord_to_html(content)).text)
    text = discord_to_text(content)
    for word in WORDS_ONLY.findall(content):
        assert word in shown
        assert word in text


@given(
    st.lists(
        st.one_of(
            st.sampled_from(["<@", "<@!", "<@&", "<#", "</cmd:", "`", "```\n", "[", "](", "> "]),
            st.sampled_from(["**", "||", "__", "~~", "\n", " ", "https://e.com/", ")", ">"]),
        ),
        max_size=12,
    ),
    st.integers(min_value=10**17, max_value=10**19),
)
def test_mention_ids_never_show(fragments: list[str], id_: int) -> None:
    content = "".join(f"{fragment}{id_}>" if fragment.endswith(("@", "!", "&", "#", ":")) else
                      fragment for fragment in fragments)  # fmt: skip
    assert str(id_) not in discord_to_html(content)
    assert str(id_) not in discord_to_text(content)


WEB_FRAGMENTS = st.lists(
    st.sampled_from(
        [
            "<p>", "</p>", "<a href='https://e.com'>", "<a href='javascript:x'>", "</a>", "<b>",
            "<script>", "</script>", "<img src=x onerror=y>", "<div onclick=z>", "</div>",
            "<!--", "-->", "&lt;", "&#x202e;", "text", " ", "\n", "<br>", "<pre>", "<li>",
            "<style>", "</style>", "<svg>", "'", '"', "<", ">", "=",
        ]
    ),
    max_size=20,
)  # fmt: skip


@given(WEB_FRAGMENTS.map("".join))
def test_any_web_html_becomes_allowed_html(html: str) -> None:
    assert problems(clean_web_html(html), WEB_ALLOWED) == []
    assert "\u202e" not in web_html_to_text(html)
