"""Rendering posts and comments as Discord text: limits, boundaries, inert mentions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord_text import MESSAGE_LIMIT
from bot.mirror.render import (
    ParentQuote,
    excerpt,
    find_post_marker,
    html_to_markdown,
    post_marker,
    render_comment,
    render_starter,
    webhook_username,
)
from bot.store.models import Post
from tests.shared_files import shared_file
from tests.test_discord_text import pings

LINK_RE = re.compile(r"\[[^\[\]]*\]\([^()\s]*\)")
JUMP = "https://discord.com/channels/111111111111111111/222222222222222222/333333333333333333"


def make_post(**overrides: object) -> Post:
    values: dict[str, object] = {
        "id": 7,
        "source": "feed",
        "external_id": "x",
        "title": "A post",
        "url": "https://example.org/a-post",
        "author_name": "Kathleen Sweeney",
        "content_html": "<p>Hello.</p>",
        "image_url": None,
        "categories": (),
        "published_at": datetime(2015, 3, 1, 12, 0, tzinfo=UTC),
        "updated_at": None,
        "created_at": datetime(2015, 3, 1, 12, 0, tzinfo=UTC),
        "comments_closed": False,
    }
    values.update(overrides)
    return Post(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def seed() -> str:
    return shared_file("seed", "000_26248444a442803c.txt").read_text(encoding="utf-8")


def paragraphs_html(lines: list[str]) -> str:
    return "".join(f"<p>{line.strip()}</p>" for line in lines if line.strip())


@pytest.fixture(scope="module")
def seed_post(seed: str) -> Post:
    lines = seed.splitlines()
    body = lines[1 : next(i for i, line in enumerate(lines) if line.startswith("There are 25"))]
    return make_post(title=lines[0].strip(), content_html=paragraphs_html(body))


@pytest.fixture(scope="module")
def deepest_reply(seed: str) -> str:
    start = seed.index("Interesting you bring up the gender issue")
    return seed[start : seed.index("\n", start)]


# -- html_to_markdown --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
        (
            "<p>a <b>bold</b> and <i>italic</i> <strong>s</strong> <em>e</em></p>",
            "a **bold** and *italic* **s** *e*",
        ),
        (
            '<p>see <a href="https://example.org/x">the page</a>.</p>',
            "see [the page](https://example.org/x).",
        ),
        ('<a href="https://example.org">https://example.org</a>', "<https://example.org>"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href="https://e.org/a(b) c">t</a>', "[t](https://e.org/a%28b%29%20c)"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("<blockquote><p>quoted</p></blockquote><p>after</p>", "> quoted\n\nafter"),
        ("<h2>Section</h2><p>text</p>", "**Section**\n\ntext"),
        ("<h1><b>Loud</b></h1>", "**Loud**"),
        ("<p>line<br>break</p>", "line\nbreak"),
        ("<p>x</p><script>alert('@everyone')</script><style>p{}</style><p>y</p>", "x\n\ny"),
        ('<p>a</p><iframe src="https://v.example">fallback</iframe>', "a"),
        ('<p>pic <img src="https://e.org/i.png" alt="alt"> here</p>', "pic here"),
        ("<p>&amp; &lt;tag&gt; &eacute; &#8212; &hellip;</p>", "& <tag> é — …"),
        ("<p>*not bold*</p>", r"\*not bold\*"),
        ("<p>snake_case and ~~no~~</p>", r"snake\_case and \~\~no\~\~"),
        ("<p># not a heading</p>", r"\# not a heading"),
        ("<p>soft\nwrapped\nsource</p>", "soft wrapped source"),
        ("<p>a</p>\n\n\n\n<p></p><p></p><p>b</p>", "a\n\nb"),
        ("<pre>x = 1\n  y = 2</pre>", "```\nx = 1\n  y = 2\n```"),
        ("<p>use <code>a_b*c</code></p>", "use `a_b*c`"),
        ("", ""),
    ],
)
def test_html_to_markdown(html: str, expected: str) -> None:
    assert html_to_markdown(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<p>unclosed <b>bold <i>and",
        "</p></div>stray closers<p",
        "<<<>>><!-- never closed",
        "<![CDATA[x",
        "<div>" * 2000 + "deep" + "</div>" * 2000,
        "<a href=>empty href</a><img>",
        "\x00\x01<p>\ud800</p>",
    ],
)
def test_broken_markup_does_not_raise(html: str) -> None:
    assert isinstance(html_to_markdown(html), str)


def test_broken_markup_keeps_text() -> None:
    assert html_to_markdown("<p>unclosed <b>bold") == "unclosed **bold**"


def test_mentions_in_html_are_neutralised() -> None:
    html = "<p>@everyone look &lt;@123&gt; <b>@here</b> <a href='https://x.org'>&lt;@&amp;456&gt;</a></p>"
    out = html_to_markdown(html)
    assert pings(out) == []
    assert "everyone" in out and "123" in out


@settings(max_examples=200)
@given(st.text())
def test_any_html_converts_without_pings(html: str) -> None:
    assert pings(html_to_markdown(html)) == []


# -- excerpt -----------------------------------------------------------------------------------


def test_excerpt_short_text_is_unchanged() -> None:
    assert excerpt("  short text  ", 100) == "short text"


def test_excerpt_prefers_a_paragraph() -> None:
    text = "First paragraph that is long enough. Still going.\n\nSecond paragraph goes on and on."
    assert excerpt(text, 70) == "First paragraph that is long enough. Still going.…"


def test_excerpt_then_a_sentence() -> None:
    text = "One sentence here. Two sentence here. Three sentence here."
    assert excerpt(text, 45) == "One sentence here. Two sentence here.…"


def test_excerpt_then_a_word() -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta"
    out = excerpt(text, 20)
    assert out == "alpha beta gamma…"


def test_excerpt_never_cuts_inside_a_link() -> None:
    text = "read [the very long link text](https://example.org/a/long/path) now please"
    out = excerpt(text, 40)
    assert out == "read…"
    out = excerpt(text, 70)
    assert out == "read [the very long link text](https://example.org/a/long/path) now…"


def test_excerpt_never_cuts_inside_inline_code() -> None:
    text = "run `some command with spaces in it` then wait"
    assert excerpt(text, 30) == "run…"


def test_excerpt_closes_bold_and_italic() -> None:
    out = excerpt("plain **bold words that go on** and *more*", 21)
    assert out == "plain **bold words**…"
    out = excerpt("***both at once here*** end", 16)
    assert out == "***both at***…"


def test_excerpt_hard_cuts_a_giant_word() -> None:
    assert excerpt("z" * 50, 10) == "z" * 9 + "…"


def test_excerpt_tiny_limits() -> None:
    assert excerpt("hello world", 1) == "…"
    with pytest.raises(ValueError):
        excerpt("x", 0)


words = st.text(alphabet=st.characters(categories=("L", "N")), min_size=1, max_size=30)
links = st.builds(lambda t, u: f"[{t}](https://e.org/{u})", words, words)
tokens = st.lists(st.one_of(words, words, links), min_size=1, max_size=80)
separators = st.sampled_from([" ", " ", ". ", "\n", "\n\n"])


@st.composite
def markdown_texts(draw: st.DrawFn) -> str:
    parts = draw(tokens)
    return "".join(p + draw(separators) for p in parts).strip()


@settings(max_examples=300)
@given(markdown_texts(), st.integers(min_value=1, max_value=400))
def test_excerpt_is_a_bounded_prefix_with_whole_links(text: str, limit: int) -> None:
    out = excerpt(text, limit)
    assert 1 <= len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert out.endswith("…")
        assert text.startswith(out[:-1])
        # Links stay whole, unless the text starts with one word (a link) longer than the
        # limit: then there is nothing whole to keep, and it is cut hard.
        hard_cut = " " not in out[:-1]
        assert out[:-1].count("](") == len(LINK_RE.findall(out[:-1])) or limit < 60 or hard_cut


@given(st.text(min_size=1), st.integers(min_value=1, max_value=300))
def test_excerpt_any_text_is_bounded_and_not_empty(text: str, limit: int) -> None:
    out = excerpt(text, limit)
    assert len(out) <= limit
    assert out or not text.strip()


# -- markers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("post_id", [1, 42, 10**15])
def test_marker_round_trips(post_id: int) -> None:
    assert find_post_marker(post_marker(post_id)) == post_id
    assert find_post_marker(f"Mirrored · {post_marker(post_id)} · v2") == post_id


@pytest.mark.parametrize("text", ["", "threadbridge post", "threadbridge post x", "post 12", None])
def test_marker_absent(text: str | None) -> None:
    assert find_post_marker(text) is None


# -- render_starter ----------------------------------------------------------------------------


def assert_embed_within_limits(embed_dict: dict) -> None:
    title = embed_dict.get("title", "")
    description = embed_dict.get("description", "")
    author = embed_dict.get("author", {}).get("name", "")
    footer = embed_dict.get("footer", {}).get("text", "")
    assert len(title) <= 256
    assert len(description) <= 4096
    assert len(author) <= 256
    assert len(footer) <= 2048
    assert len(title) + len(description) + len(author) + len(footer) <= 6000


def test_starter_from_the_seed_post(seed_post: Post) -> None:
    starter = render_starter(seed_post)
    assert starter.content == f"New post: <{seed_post.url}>"
    assert len(starter.content) <= MESSAGE_LIMIT
    data = starter.embed.to_dict()
    assert_embed_within_limits(data)
    assert data["title"] == "Ai WeiWei: Still Not Sorry"
    assert data["url"] == seed_post.url
    assert data["author"]["name"] == "by Kathleen Sweeney"
    assert data["timestamp"].startswith("2015-03-01T12:00:00")
    assert 1000 <= len(data["description"]) <= 1500
    assert data["description"].endswith("…")
    assert "\u2019" in data["description"] and "\u201c" in data["description"]
    assert find_post_marker(data["footer"]["text"]) == seed_post.id


def test_starter_description_size_is_configurable(seed_post: Post) -> None:
    small = render_starter(seed_post, excerpt_chars=300).embed.to_dict()
    huge = render_starter(seed_post, excerpt_chars=100_000).embed.to_dict()
    assert len(small["description"]) <= 300
    assert len(huge["description"]) <= 4096
    assert_embed_within_limits(huge)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("@everyone", "@\u200beveryone"),
        ("<@123>", "<\u200b@123>"),
        ("**x**", r"\*\*x\*\*"),
        ("", "Untitled post"),
        ("\u200b\n", "Untitled post"),
    ],
)
def test_hostile_titles_come_out_literal(title: str, expected: str) -> None:
    assert render_starter(make_post(title=title)).embed.title == expected


def test_starter_long_everything_stays_within_limits() -> None:
    post = make_post(
        title="word_ " * 200,
        author_name="N" * 400,
        content_html="<p>" + "long **text** " * 2000 + "</p>",
        image_url="https://example.org/i.png",
    )
    data = render_starter(post, excerpt_chars=4096).embed.to_dict()
    assert_embed_within_limits(data)
    assert not data["title"].endswith("\\…")
    assert data["image"]["url"] == "https://example.org/i.png"


def test_starter_without_url_image_or_author() -> None:
    post = make_post(url=None, image_url="javascript:x", author_name=None, content_html="")
    starter = render_starter(post)
    data = starter.embed.to_dict()
    assert starter.content == ""
    assert "url" not in data and "image" not in data and "author" not in data
    assert "description" not in data
    assert find_post_marker(data["footer"]["text"]) == post.id


# -- webhook_username --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Kathleen Sweeney", "Kathleen Sweeney"),
        ("  two\n lines\t", "two lines"),
        ("Discord Fan", "D1scord Fan"),
        ("myDISCORDname", "myD1SCORDname"),
        ("Clyde", "Clide"),
        ("everyone", "everyone (web)"),
        ("HERE", "HERE (web)"),
        ("", "Guest"),
        ("\u200b\x00 ", "Guest"),
        ("a" * 100, "a" * 79 + "…"),
    ],
)
def test_webhook_username(name: str, expected: str) -> None:
    assert webhook_username(name) == expected


@given(st.text())
def test_webhook_username_always_acceptable(name: str) -> None:
    out = webhook_username(name)
    assert 1 <= len(out) <= 80
    assert out == out.strip()
    assert "discord" not in out.lower() and "clyde" not in out.lower()
    assert out.lower() not in {"everyone", "here"}


# -- render_comment ----------------------------------------------------------------------------


def squash(text: str) -> str:
    return "".join(text.split())


def test_comment_with_parent_quote() -> None:
    parts = render_comment(
        "<p>I agree.</p>",
        author_name="Roderic David",
        parent=ParentQuote(author_name="bill *ritter*", jump_url=JUMP),
    )
    assert parts == [f"> ↪ replying to **bill \\*ritter\\*** — {JUMP}\nI agree."]


def test_comment_quote_without_link_and_with_excerpt() -> None:
    parent = ParentQuote(author_name="@everyone", jump_url=None, excerpt="how fascinating that")
    [message] = render_comment("<p>Yes.</p>", author_name="x", parent=parent)
    first_line = message.splitlines()[0]
    assert first_line == "> ↪ replying to **@\u200beveryone**: “how fascinating that”"


WRITTEN = datetime(2015, 3, 10, 8, 10, tzinfo=UTC)  # <t:1425975000>


def test_comment_shows_when_it_was_written_on_the_site() -> None:
    assert render_comment("<p>I agree.</p>", author_name="x", written_at=WRITTEN) == [
        "-# written on the site <t:1425975000:f>\nI agree."
    ]


def test_written_date_comes_before_the_parent_quote() -> None:
    parts = render_comment(
        "<p>I agree.</p>",
        author_name="x",
        parent=ParentQuote(author_name="Roderic David", jump_url=JUMP),
        written_at=WRITTEN,
    )
    assert parts == [
        "-# written on the site <t:1425975000:f>\n"
        f"> ↪ replying to **Roderic David** — {JUMP}\nI agree."
    ]


def test_written_date_is_on_the_first_part_of_a_long_comment_only() -> None:
    sentences = " ".join(f"Sentence number {i} says something." for i in range(300))
    html = "".join(f"<p>{sentences[i : i + 2000]}</p>" for i in range(0, 10_000, 2000))
    parts = render_comment(html, author_name="x", written_at=WRITTEN)
    assert parts[0].startswith("-# written on the site <t:1425975000:f>\nSentence number 0 ")
    assert all(0 < len(p) <= MESSAGE_LIMIT for p in parts)
    assert [p for p in parts if "<t:" in p] == [parts[0]]
    body = "".join(parts).removeprefix("-# written on the site <t:1425975000:f>")
    assert squash(body) == squash(html_to_markdown(html))
    # A giant word too: the date line and the first cut still fit the limit.
    parts = render_comment("<p>" + "w" * 5000 + "</p>", author_name="x", written_at=WRITTEN)
    assert all(len(p) <= MESSAGE_LIMIT for p in parts)
    assert parts[0].startswith("-# written on the site <t:1425975000:f>\nwww")
    assert "".join(parts).count("w") == 5000 + 1  # the w of "written"


def test_empty_comment() -> None:
    assert render_comment("", author_name="x") == ["*(empty comment)*"]
    assert render_comment("<p> </p><img src='x'>", author_name="x") == ["*(empty comment)*"]


def test_deepest_seed_reply(deepest_reply: str) -> None:
    assert 1600 <= len(deepest_reply) <= 1800
    parent = ParentQuote(author_name="Roderic David", jump_url=JUMP)
    html = f"<p>{deepest_reply}</p>"
    # With the quote line it still fits one message at Discord's limit ...
    [message] = render_comment(html, author_name="Kathleen Sweeney", parent=parent)
    assert len(message) <= MESSAGE_LIMIT
    # ... and where it has to be split, it splits between sentences.
    parts = render_comment(html, author_name="Kathleen Sweeney", parent=parent, limit=1200)
    assert len(parts) == 2
    assert all(len(p) <= 1200 for p in parts)
    assert parts[0].startswith("> ↪ replying to **Roderic David**")
    assert parts[0][-1] in ".?!”"
    body = "\n".join(parts)[len(parts[0].splitlines()[0]) + 1 :]
    assert squash(body) == squash(deepest_reply)


def test_ten_thousand_characters_split() -> None:
    sentences = " ".join(f"Sentence number {i} says something." for i in range(300))
    html = "".join(f"<p>{sentences[i : i + 2000]}</p>" for i in range(0, 10_000, 2000))
    parts = render_comment(html, author_name="x")
    assert len(parts) >= 5
    assert all(0 < len(p) <= MESSAGE_LIMIT for p in parts)
    assert squash("".join(parts)) == squash(html_to_markdown(html))


def test_code_block_across_the_cut_is_closed_and_reopened() -> None:
    code = "\n".join(f"line_{i} = {i} * 2" for i in range(60))
    html = f"<p>Intro.</p><pre>{code}</pre><p>Outro.</p>"
    parts = render_comment(html, author_name="x", limit=400)
    assert len(parts) >= 3
    for part in parts:
        assert len(part) <= 400
        assert part.count("```") % 2 == 0
    joined = "\n".join(parts)
    for i in range(60):
        assert f"line_{i} = {i} * 2" in joined


def test_bold_across_the_cut_is_closed_and_reopened() -> None:
    html = "<p><b>" + "bold words " * 30 + "</b></p>"
    parts = render_comment(html, author_name="x", limit=100)
    assert len(parts) > 1
    for part in parts:
        assert part.startswith("**") and part.endswith("**")
        assert part.count("**") == 2


def test_links_are_never_split() -> None:
    link = '<a href="https://example.org/some/path">a link with several words</a>'
    html = "<p>" + " ".join(["filler words here", link] * 20) + "</p>"
    parts = render_comment(html, author_name="x", limit=150)
    for part in parts:
        assert part.count("](") == len(LINK_RE.findall(part))


def test_a_giant_word_is_cut_hard() -> None:
    parts = render_comment("<p>" + "w" * 5000 + "</p>", author_name="x")
    assert [len(p) for p in parts] == [2000, 2000, 1000]


def test_limit_too_small_is_refused() -> None:
    with pytest.raises(ValueError):
        render_comment("<p>x</p>", author_name="x", limit=10)


long_words = st.text(alphabet="abcdefghij", min_size=1, max_size=3000)
sentence = st.lists(st.one_of(words, words, words, long_words), min_size=1, max_size=20).map(
    lambda ws: " ".join(ws) + "."
)
paragraph = st.lists(sentence, min_size=1, max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=8), st.integers(min_value=200, max_value=2000))
def test_any_comment_splits_into_bounded_parts_in_order(paras: list[str], limit: int) -> None:
    html = "".join(f"<p>{p}</p>" for p in paras)
    parts = render_comment(html, author_name="x", limit=limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert squash("".join(parts)) == squash(html_to_markdown(html))
