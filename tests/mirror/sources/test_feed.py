"""Feeds: parsing RSS 0.91/2.0 and Atom into SourcePosts, and fetching them over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import __version__
from bot.mirror.sources.feed import (
    MAX_FEED_BYTES,
    FeedError,
    FetchResult,
    fetch_feed,
    parse_feed,
    parse_feed_with_warnings,
)

DATA = Path(__file__).parent / "data"
SOURCE = "feed:https://notes.example.org/feed/"
BASE = "https://notes.example.org/feed/"
C0_EXCEPT_NEWLINE_TAB = re.compile(r"[\x00-\x08\x0b-\x1f]")


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def rss(*items: str, channel_extra: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>t</title><link>https://notes.example.org/</link>{channel_extra}"
        + "".join(f"<item>{item}</item>" for item in items)
        + "</channel></rss>"
    ).encode()


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- parsing the three dialects ------------------------------------------------------


def test_rss2_fields() -> None:
    posts, warnings = parse_feed_with_warnings(data("rss2.xml"), source=SOURCE, base_url=BASE)

    assert warnings == []
    assert [post.external_id for post in posts] == [
        "https://notes.example.org/?p=1100",
        "https://notes.example.org/?p=1200",
        "https://notes.example.org/?p=1234",
    ]
    harlan, citizen, ai = posts
    assert ai.source == SOURCE
    assert ai.title == "Ai WeiWei: Still Not Sorry"
    assert ai.url == "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
    assert ai.author_name == "Kathleen Sweeney"
    assert ai.categories == ("Documentary", "Free Speech")
    assert ai.published_at == utc(2015, 3, 10, 19, 30)
    assert ai.published_at is not None and ai.published_at.tzinfo is UTC
    assert ai.updated_at is None
    assert ai.image_url == "https://cdn.example.org/poster.jpg"
    # content:encoded wins over description, and its relative image is made absolute
    assert "What are your views on the power of documentary?" in ai.content_html
    assert (
        'src="https://notes.example.org/wp-content/uploads/2015/03/finger.jpg"' in ai.content_html
    )

    # relative link resolved against the feed URL; author from "email (Name)"
    assert citizen.url == "https://notes.example.org/2015/03/citizen-four/"
    assert citizen.author_name == "R. Stauffer"
    assert citizen.published_at == utc(2015, 3, 2, 9, 0)
    assert citizen.image_url == "https://cdn.example.org/citizen-four.png"
    assert citizen.content_html.startswith("<p>After last week")

    # an audio enclosure is not an image
    assert harlan.image_url is None
    assert harlan.author_name is None
    assert harlan.content_html == "Coal miners and the cameras that stood with them."


def test_script_in_content_does_not_survive() -> None:
    ai = parse_feed(data("rss2.xml"), source=SOURCE, base_url=BASE)[-1]
    assert "<script" not in ai.content_html
    assert "alert" not in ai.content_html


def test_atom_fields() -> None:
    posts = parse_feed(data("atom.xml"), source=SOURCE)

    plain, never_sorry = posts
    assert never_sorry.external_id == "tag:notes.example.org,2015:post-1234"
    assert never_sorry.title == "Never Sorry & the Kickstarter film"
    assert never_sorry.url == "https://notes.example.org/2015/03/never-sorry/"
    assert never_sorry.author_name == "Alison K."
    assert never_sorry.categories == ("film", "activism")
    assert never_sorry.published_at == utc(2015, 3, 10, 19, 30)
    assert never_sorry.updated_at == utc(2015, 3, 11, 7, 0)
    assert never_sorry.content_html == "<p>The <strong>full</strong> story.</p>"
    assert never_sorry.image_url == "https://cdn.example.org/thumb.jpg"

    # type="text" is not HTML: "<" stays in the title, and plain content is escaped
    assert plain.title == "A < B, plainly"
    assert plain.content_html == "Plain text &amp; &lt;not html&gt;"
    assert plain.published_at is None
    assert plain.updated_at == utc(2015, 2, 20, 17, 0)


def test_rss091_without_guids_or_dates() -> None:
    posts, warnings = parse_feed_with_warnings(data("rss091.xml"), source=SOURCE)

    assert warnings == []
    assert [post.title for post in posts] == ["Oldest post", "Newest café post"]
    assert [post.external_id for post in posts] == [
        "http://old.example.org/oldest.html",
        "http://old.example.org/newest.html",
    ]
    assert all(post.published_at is None and post.updated_at is None for post in posts)
    assert posts[1].content_html == "The newest item, listed first."


# --- identity, order and duplicates ------------------------------------------------------


def test_guid_falls_back_to_link_then_to_a_stable_hash() -> None:
    body = rss(
        "<title>Linked</title><link>https://notes.example.org/linked/</link>",
        "<title>Bare</title><pubDate>Mon, 02 Mar 2015 09:00:00 GMT</pubDate>",
    )
    linked, bare = parse_feed(body, source=SOURCE)  # undated entries count as oldest
    assert linked.external_id == "https://notes.example.org/linked/"

    expected = hashlib.sha256(b"Bare\nMon, 02 Mar 2015 09:00:00 GMT").hexdigest()
    assert bare.external_id == f"sha256:{expected}"
    assert parse_feed(body, source=SOURCE)[1].external_id == bare.external_id

    other = parse_feed(
        rss("<title>Other</title><pubDate>Mon, 02 Mar 2015 09:00:00 GMT</pubDate>"),
        source=SOURCE,
    )
    assert other[0].external_id.startswith("sha256:")
    assert other[0].external_id != bare.external_id


def test_entries_come_oldest_first_by_date_then_reversed_feed_order() -> None:
    body = rss(
        "<guid>c</guid><pubDate>Wed, 04 Mar 2015 09:00:00 GMT</pubDate>",
        "<guid>a</guid><pubDate>Mon, 02 Mar 2015 09:00:00 GMT</pubDate>",
        "<guid>b</guid><pubDate>Tue, 03 Mar 2015 09:00:00 GMT</pubDate>",
        "<guid>same-2</guid><pubDate>Thu, 05 Mar 2015 09:00:00 GMT</pubDate>",
        "<guid>same-1</guid><pubDate>Thu, 05 Mar 2015 09:00:00 GMT</pubDate>",
    )
    ids = [post.external_id for post in parse_feed(body, source=SOURCE)]
    assert ids == ["a", "b", "c", "same-1", "same-2"]


def test_duplicate_guids_keep_the_first_entry() -> None:
    body = rss(
        "<guid>dup</guid><title>First in the feed</title>",
        "<guid>other</guid><title>Other</title>",
        "<guid>dup</guid><title>Second copy</title>",
    )
    posts = parse_feed(body, source=SOURCE)
    assert [post.external_id for post in posts] == ["other", "dup"]
    assert posts[1].title == "First in the feed"


def test_entry_with_nothing_but_a_description() -> None:
    (post,) = parse_feed(rss("<description>Only words.</description>"), source=SOURCE)
    assert post.title == ""
    assert post.url is None
    assert post.external_id.startswith("sha256:")
    assert post.published_at is None
    assert post.content_html == "Only words."


def test_an_empty_channel_is_a_feed_with_no_posts() -> None:
    assert parse_feed(rss(), source=SOURCE) == []


# --- text hygiene ---------------------------------------------------------------------


def test_html_in_titles_is_stripped_and_whitespace_collapsed() -> None:
    body = rss(
        "<guid>1</guid><title>&lt;b&gt;Bold&lt;/b&gt;   and\n  "
        "&lt;i&gt;tilted&lt;/i&gt; &amp;amp; more</title>"
    )
    assert parse_feed(body, source=SOURCE)[0].title == "Bold and tilted & more"


def test_control_characters_are_stripped_but_rtl_and_zero_width_kept() -> None:
    # Raw control characters make the XML invalid: feedparser recovers with its loose parser.
    title = "Ai\x01 Wei\x00Wei\x1b \u200f\u0639\u0631\u0628\u064a\u200f zero\u200bwidth"
    body = rss(
        f"<guid>g\x02</guid><title>{title}</title>"
        "<description>line one\r\nline\x07 two\tTabbed</description>"
    )
    posts, warnings = parse_feed_with_warnings(body, source=SOURCE)
    (post,) = posts
    assert post.title == "Ai WeiWei \u200f\u0639\u0631\u0628\u064a\u200f zero\u200bwidth"
    assert post.external_id == "g"
    assert post.content_html == "line one\nline two\tTabbed"
    assert len(warnings) == 1


def test_a_50000_character_body_parses() -> None:
    paragraph = "<p>" + "Documentaries remain an important mode of communication. " * 10 + "</p>"
    content = paragraph * (50_000 // len(paragraph) + 1)
    assert len(content) >= 50_000
    body = rss(
        f"<guid>long</guid><title>Long</title><content:encoded><![CDATA[{content}]]>"
        "</content:encoded>"
    )
    (post,) = parse_feed(body, source=SOURCE)
    assert len(post.content_html) >= 50_000
    assert post.content_html.count("<p>") == content.count("<p>")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=st.text(max_size=200), raw=st.booleans())
def test_any_title_is_sanitised_or_refused_with_feed_error(title: str, raw: bool) -> None:
    text = title if raw else escape(title)
    body = rss(
        f"<guid>g</guid><title>{text}</title><description>{text}</description>"
        f"<author>{text}</author><category>{text}</category><link>{text}</link>"
    )
    try:
        posts = parse_feed(body, source=SOURCE)
    except FeedError:
        return
    for post in posts:
        values = [post.title, post.content_html, post.external_id, post.author_name or ""]
        for value in [*values, *post.categories, post.url or "", post.image_url or ""]:
            assert not C0_EXCEPT_NEWLINE_TAB.search(value)
        assert "\n" not in post.title and "\t" not in post.title


# --- malformed and hostile documents -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"hello, I am not XML", "not a feed: syntax error"),
        (b"<html><body><p>A web page</p></body></html>", "no RSS or Atom"),
        (b"<rss version='2.0'><channel><title>cut", "not a feed"),
        (b"\x00\x01\x02\xff\xfe", "not a feed"),
    ],
)
def test_bozo_without_entries_is_a_feed_error(body: bytes, reason: str) -> None:
    with pytest.raises(FeedError, match=reason) as caught:
        parse_feed(body, source=SOURCE)
    assert "Traceback" not in str(caught.value)
    assert "<unknown>" not in str(caught.value)


def test_bozo_with_entries_returns_them_with_a_warning() -> None:
    body = (
        b"<rss version='2.0'><channel><title>t</title>"
        b"<item><guid>1</guid><title>Whole</title></item>"
        b"<item><guid>2</guid><title>Cut off"
    )
    posts, warnings = parse_feed_with_warnings(body, source=SOURCE)
    assert [post.external_id for post in posts] == ["2", "1"]
    assert posts[1].title == "Whole"
    (warning,) = warnings
    assert warning.startswith("malformed feed, 2 entries recovered:")
    assert "no element found at line" in warning
    # parse_feed hands back the same posts and leaves the warning to parse_feed_with_warnings
    assert parse_feed(body, source=SOURCE) == posts


def test_billion_laughs_is_not_expanded() -> None:
    body = data("billion_laughs_feed.xml")
    try:
        posts = parse_feed(body, source=SOURCE)
    except FeedError:
        return
    for post in posts:
        assert len(post.title) < 1000
        assert "lol" * 100 not in post.content_html


def test_a_body_that_names_a_local_file_is_not_read_as_a_file(tmp_path: Path) -> None:
    # feedparser opens bytes as a file name when such a file exists: a server must not be able
    # to make us read local files.
    secret = tmp_path / "feed.xml"
    secret.write_bytes(rss("<guid>local-secret</guid>"))
    with pytest.raises(FeedError):
        parse_feed(str(secret).encode(), source=SOURCE)


# --- fetching over real HTTP -------------------------------------------------------------


@dataclass
class FeedServer:
    base: str
    requests: list[dict[str, str]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)


BIG = 20 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    state = FeedServer(base="")
    rss_body = data("rss2.xml")

    async def record(request: web.Request) -> None:
        state.requests.append({"path": request.path, **dict(request.headers)})

    async def etagged(request: web.Request) -> web.Response:
        await record(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304, headers={"ETag": '"v1"'})
        return web.Response(
            body=rss_body, content_type="application/rss+xml", headers={"ETag": '"v1"'}
        )

    last_modified = "Tue, 10 Mar 2015 19:30:00 GMT"

    async def dated(request: web.Request) -> web.Response:
        await record(request)
        if request.headers.get("If-Modified-Since") == last_modified:
            return web.Response(status=304)
        return web.Response(
            body=rss_body,
            content_type="application/rss+xml",
            headers={"Last-Modified": last_modified},
        )

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]), text="nope")

    async def slow(request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.release.wait(), timeout=5)
        return web.Response(body=rss_body)

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        if request.match_info["how"] == "length":
            response.content_length = BIG
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(BIG // len(CHUNK)):
                await response.write(CHUNK)
        except (ConnectionError, RuntimeError):
            pass  # the client gave up, as it should
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("/feed")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    app = web.Application()
    app.router.add_get("/feed", etagged)
    app.router.add_get("/dated", dated)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/huge/{how}", huge)
    app.router.add_get("/old-address", redirect)
    app.router.add_get("/loop", loop)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.base = f"http://127.0.0.1:{port}"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_fetch_then_conditional_get_with_etag(server: FeedServer, session) -> None:
    url = f"{server.base}/feed"
    first = await fetch_feed(session, url)
    assert first == FetchResult(
        status=200, body=data("rss2.xml"), etag='"v1"', last_modified=None, url=url
    )
    assert server.requests[0]["User-Agent"] == f"threadbridge/{__version__} (+feed mirror)"
    assert "If-None-Match" not in server.requests[0]

    second = await fetch_feed(session, url, etag=first.etag)
    assert server.requests[1]["If-None-Match"] == '"v1"'
    assert second.status == 304
    assert second.body is None
    assert second.etag == '"v1"'


async def test_conditional_get_with_last_modified(server: FeedServer, session) -> None:
    url = f"{server.base}/dated"
    first = await fetch_feed(session, url)
    assert first.status == 200
    assert first.last_modified == "Tue, 10 Mar 2015 19:30:00 GMT"

    second = await fetch_feed(session, url, last_modified=first.last_modified)
    assert server.requests[1]["If-Modified-Since"] == first.last_modified
    assert second == FetchResult(
        status=304, body=None, etag=None, last_modified=first.last_modified, url=url
    )


@pytest.mark.parametrize(("code", "words"), [(404, "404 Not Found"), (500, "500 Internal")])
async def test_http_errors_name_the_status(server: FeedServer, session, code, words) -> None:
    with pytest.raises(FeedError, match=words):
        await fetch_feed(session, f"{server.base}/status/{code}")


async def test_slow_server_times_out(server: FeedServer, session) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(FeedError, match=r"timed out after 0\.3 s"):
        await fetch_feed(session, f"{server.base}/slow", timeout=0.3)
    assert loop.time() - started < 2


@pytest.mark.parametrize("how", ["length", "chunked"])
async def test_too_large_a_response_is_refused(server: FeedServer, session, how) -> None:
    with pytest.raises(FeedError, match="larger than 10 MB"):
        await fetch_feed(session, f"{server.base}/huge/{how}")
    assert MAX_FEED_BYTES == 10 * 1024 * 1024


async def test_max_bytes_is_configurable(server: FeedServer, session) -> None:
    with pytest.raises(FeedError, match="larger than 1000 bytes"):
        await fetch_feed(session, f"{server.base}/feed", max_bytes=1000)


async def test_connection_refused(session) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FeedError, match="could not connect"):
        await fetch_feed(session, f"http://127.0.0.1:{port}/feed", timeout=2)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/feed.xml", "feed.xml", "http:///feed"]
)
async def test_only_http_urls_are_fetched(session, url) -> None:
    with pytest.raises(FeedError, match="only http"):
        await fetch_feed(session, url)


async def test_redirect_is_followed(server: FeedServer, session) -> None:
    result = await fetch_feed(session, f"{server.base}/old-address")
    assert result.status == 200
    assert result.url == f"{server.base}/feed"
    assert result.body == data("rss2.xml")


async def test_redirect_loop_is_a_feed_error(server: FeedServer, session) -> None:
    with pytest.raises(FeedError, match="redirect"):
        await fetch_feed(session, f"{server.base}/loop")


async def test_fetched_feed_parses(server: FeedServer, session) -> None:
    result = await fetch_feed(session, f"{server.base}/feed")
    assert result.body is not None
    posts = parse_feed(result.body, source=f"feed:{result.url}", base_url=result.url)
    assert len(posts) == 3
    assert posts[1].url == f"{server.base}/2015/03/citizen-four/"
