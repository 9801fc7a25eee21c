"""The embed (`/embed.js`) on a site of its own: a sample post page on another origin, with a
strict Content-Security-Policy like a real site's, showing the conversation in a real browser;
live through the emulator and the real bot; hostile text; the count script; the API down."""

from __future__ import annotations

import contextlib
import gzip
import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web

from bot.comments.apply import apply_batch
from bot.comments.events import Created, ReactionsSet
from bot.settings import Settings
from bot.store import Store
from bot.store.comment_refs import comment_by_message
from bot.store.mirrors import record_mirror
from bot.store.models import (
    Attachment,
    CommentStatus,
    MirrorState,
    SourceComment,
    SourcePost,
)
from bot.store.posts import save_source_post
from bot.web.app import serving
from bot.web.operators import bot_state
from tests.browser import screenshot
from tests.comments.test_apply import POLICY, THREAD, msg, sid
from tests.comments.test_live import eventually, mirrored
from tests.mirror.test_mirroring import seed_post
from tests.moderation.test_live import MODERATION, approve_in_modlog, quiet_post, settled
from tests.web.conftest import Site, site_settings
from tests.web.hostile import DISCORD_MESSAGES, HOSTILE_URL, WEB_COMMENTS, store_hostile_post

if TYPE_CHECKING:
    from playwright.async_api import Page, Response, Route

SEED_URL = "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
LIVE_URL = "https://notes.example.org/weekly-notes/"
MOST_GZIPPED = 8 * 1024
LIVE_MS = 5_000

SITE_CSS = """
:root { color-scheme: light dark; font-family: Georgia, serif; }
body { margin: 0 auto; max-width: 40rem; padding: 1rem; background: #fffdf8; color: #222; }
@media (prefers-color-scheme: dark) { body { background: #121212; color: #ddd; } }
"""


def expect(target: Any) -> Any:
    """Playwright's assertions, imported once the browser fixtures found Playwright (without
    it, the browser tests skip, or fail under CI, in tests/browser.py, not at collection)."""
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(target)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Blog:
    """Another origin with post pages and a listing, as a site owner's blog would add the
    embed: the two lines in the post template, and a CSP that allows no inline script or
    style."""

    def __init__(self) -> None:
        self.threadbridge = ""
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def policy(self) -> str:
        tb = self.threadbridge
        return (
            f"default-src 'self'; script-src 'self' {tb}; connect-src 'self' {tb}; "
            f"img-src 'self' {tb} https:; style-src 'self'; base-uri 'none'"
        )

    def _html(self, title: str, main: str, *, policy: bool = True) -> web.Response:
        text = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<title>{escape(title)}</title><link rel="stylesheet" href="/site.css"></head>'
            f"<body><main>{main}</main></body></html>"
        )
        return web.Response(
            text=text,
            content_type="text/html",
            headers={"Content-Security-Policy": self.policy()} if policy else {},
        )

    async def post(self, request: web.Request) -> web.Response:
        url = request.query["url"]
        theme = request.query.get("theme", "auto")
        return self._html(
            "A post",
            "<article><h1>A post</h1><p>The post's own text, as the blog shows it.</p></article>"
            '<div id="threadbridge-comments"></div>'
            f'<script src="{self.threadbridge}/embed.js" data-url="{escape(url)}" '
            f'data-theme="{escape(theme)}" async></script>'
            f'<noscript><a href="{escape(conversation_link(self.threadbridge, url))}">'
            "Read the conversation</a></noscript>",
            policy=request.query.get("csp") != "off",
        )

    async def listing(self, request: web.Request) -> web.Response:
        items = "".join(
            f'<li><a href="{escape(url)}">{escape(url)}</a> '
            f'<span data-threadbridge-count="{escape(url)}">…</span></li>'
            for url in request.query.getall("url")
        )
        return self._html(
            "Posts",
            f'<ul class="posts">{items}</ul><script src="{self.threadbridge}/embed.js" async>'
            "</script>",
        )

    async def css(self, request: web.Request) -> web.Response:
        return web.Response(text=SITE_CSS, content_type="text/css")

    async def icon(self, request: web.Request) -> web.Response:
        svg = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>'
        return web.Response(text=svg, content_type="image/svg+xml")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/post", self.post)
        app.router.add_get("/listing", self.listing)
        app.router.add_get("/site.css", self.css)
        app.router.add_get("/favicon.ico", self.icon)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@contextlib.asynccontextmanager
async def embedded(
    settings: Settings, port: int | None = None, page: Page | None = None, **options
) -> AsyncIterator[tuple[Blog, Site]]:
    """The blog, and threadbridge serving `settings`' database on a port of its own (`port`,
    else a free one) that is also its public address (the avatars it links must load from
    here), allowing the blog. `page` leaves for a blank page before the servers stop, so that
    no picture still loading meets a closed port."""
    blog = Blog()
    await blog.start()
    try:
        port = port or free_port()
        settings = settings.model_copy(
            update={
                "web_base_url": f"http://127.0.0.1:{port}",
                "web_allowed_origins": (blog.origin,),
                "web_rate_limit": 0,
            }
        )
        blog.threadbridge = settings.web_base_url or ""
        async with serving(settings, "127.0.0.1", port, **options) as server:
            async with aiohttp.ClientSession() as session:
                try:
                    yield blog, Site(server, session)
                finally:
                    if page is not None:
                        await page.goto("about:blank")
    finally:
        await blog.stop()


def conversation_link(threadbridge: str, url: str) -> str:
    """The README's `<noscript>` link: the post's page on threadbridge, by the post's address."""
    return f"{threadbridge}/conversation?url={quote(url, safe='')}"


def post_page(blog: Blog, url: str, theme: str = "auto") -> str:
    return f"{blog.origin}/post?url={url}&theme={theme}"


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "site.db") as opened:
        saved = await save_source_post(opened, seed_post())
        await record_mirror(opened, saved.post.id, MirrorState.MIRRORED, thread_id=THREAD)
        yield opened


async def test_the_script_is_small_short_lived_and_served_as_javascript(store):
    async with embedded(site_settings(store.path)) as (_, site):
        answer = await site.get("/embed.js", headers={"Accept-Encoding": "gzip"})
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert answer.headers["Cache-Control"] == "public, max-age=300"
        assert len(gzip.compress(answer.body, 9)) < MOST_GZIPPED
        again = await site.get("/embed.js", headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status == 304


async def test_the_seed_conversation_shows_on_another_site_in_light_and_dark(store, page):
    async with embedded(site_settings(store.path), page=page) as (blog, _):
        await page.goto(post_page(blog, SEED_URL))
        embed = page.locator("#threadbridge-comments")
        await expect(embed.locator("li.tb-comment")).to_have_count(24)
        assert await embed.locator("h2").text_content() == "24 comments"
        assert await embed.locator("li.tb-comment:visible").count() == 24
        deepest = embed.locator(".tb-replies .tb-replies .tb-author")
        assert await deepest.all_text_contents() == ["Kathleen Sweeney"]
        join = embed.locator("a.tb-join")
        assert await join.get_attribute("href") == f"https://discord.com/channels/4242/{THREAD}"
        first_time = embed.locator("time").first
        assert (await first_time.get_attribute("datetime")).endswith("Z")
        assert await first_time.get_attribute("title")
        assert "ago" in await first_time.text_content()
        avatars = embed.locator("img.tb-avatar")
        assert (await avatars.first.get_attribute("src")).startswith(blog.threadbridge)
        # The constructed stylesheet applied although the page forbids inline styles.
        border = await embed.locator("ol.tb-replies").first.evaluate(
            "e => getComputedStyle(e).borderLeftStyle"
        )
        assert border == "solid"
        # The page's own font reaches the conversation: no iframe in between.
        font = await embed.locator(".tb-body").first.evaluate("e => getComputedStyle(e).fontFamily")
        assert font == "Georgia, serif"
        light = await embed.evaluate("e => getComputedStyle(e).color")
        await screenshot(page, "embed-light")
        await page.emulate_media(color_scheme="dark")
        dark = await embed.evaluate("e => getComputedStyle(e).color")
        assert light == "rgb(29, 31, 35)" and dark == "rgb(230, 231, 234)"
        await screenshot(page, "embed-dark")
        # data-theme overrides the reader's preference: the site knows its own colours.
        await page.goto(post_page(blog, SEED_URL, theme="light"))
        await expect(embed.locator("li.tb-comment")).to_have_count(24)
        assert await embed.evaluate("e => getComputedStyle(e).color") == light
        # Keyboard readers reach the links with Tab, and see where they are.
        await embed.locator("a").first.focus()
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"


async def test_open_pages_ask_with_their_etag_and_not_while_hidden(store, page):
    async with embedded(site_settings(store.path), page=page) as (blog, _):
        polls: list[tuple[int, str | None]] = []

        def seen(response: Response) -> None:
            if "/api/v1/comments?" in response.url:
                polls.append((response.status, response.request.headers.get("if-none-match")))

        page.on("response", seen)
        await page.clock.install()
        await page.goto(post_page(blog, SEED_URL))
        embed = page.locator("#threadbridge-comments")
        await expect(embed.locator("li.tb-comment")).to_have_count(24)
        async with page.expect_response(lambda r: "/api/v1/comments?" in r.url):
            await page.clock.run_for(3_500)
        [(first, held), (again, sent)] = polls
        assert (first, held) == (200, None)
        assert again == 304 and sent is not None
        # Hidden, the tab asks nothing; shown again, it asks at once.
        await page.evaluate(
            "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
            "document.dispatchEvent(new Event('visibilitychange'))"
        )
        await page.clock.run_for(30_000)
        await page.wait_for_timeout(200)
        assert len(polls) == 2
        async with page.expect_response(lambda r: "/api/v1/comments?" in r.url):
            await page.evaluate(
                "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
                "document.dispatchEvent(new Event('visibilitychange'))"
            )
        assert polls[-1][0] == 304
        await expect(embed.locator("li.tb-comment")).to_have_count(24)


async def test_long_chains_wait_behind_a_button(tmp_path, page):
    when = datetime(2025, 3, 1, tzinfo=UTC)
    comments = [SourceComment("0", "Ann", "<p>top</p>", when)]
    comments += [
        SourceComment(
            str(n), f"Deep {n}", f"<p>level {n}</p>", when + timedelta(minutes=n), str(n - 1)
        )
        for n in range(1, 6)
    ]
    comments += [
        SourceComment(f"w{n}", f"Wide {n}", f"<p>wide {n}</p>", when + timedelta(hours=n), "0")
        for n in range(1, 8)
    ]
    async with Store.open(tmp_path / "site.db") as store:
        await save_source_post(
            store,
            SourcePost(
                source="test",
                external_id="long",
                title="Long",
                url=LIVE_URL,
                comments=tuple(comments),
            ),
        )
        async with embedded(site_settings(store.path), page=page) as (blog, _):
            await page.goto(post_page(blog, LIVE_URL))
            embed = page.locator("#threadbridge-comments")
            await expect(embed.locator("li.tb-comment")).to_have_count(13)
            # Depth 0-2 shown; the chain below waits; of the 8 replies to the top, 3 show.
            visible = await embed.locator(".tb-author:visible").all_text_contents()
            assert visible == ["Ann", "Deep 1", "Deep 2", "Wide 1", "Wide 2"]
            buttons = embed.locator("button.tb-more:visible")
            assert await buttons.all_text_contents() == ["Show 1 reply", "Show 5 more replies"]
            deep = buttons.first
            assert await deep.get_attribute("aria-expanded") == "false"
            await deep.focus()
            await page.keyboard.press("Enter")
            assert "Deep 3" in await embed.locator(".tb-author:visible").all_text_contents()
            await buttons.last.click()
            assert await embed.locator(".tb-author:visible").count() == 11


async def test_attachments_and_reactions_show(tmp_path, page):
    port = free_port()
    here = f"http://127.0.0.1:{port}"
    files = (
        Attachment(f"{here}/static/icon.svg", "icon.svg", 300, "image/svg+xml"),
        Attachment(f"{here}/robots.txt", "notes.txt", 60, "text/plain"),
        Attachment("javascript:alert(1)", "sneaky.txt", 1, "text/plain"),
    )
    async with Store.open(tmp_path / "site.db") as store:
        saved = await save_source_post(
            store, SourcePost(source="test", external_id="files", title="Files", url=LIVE_URL)
        )
        await record_mirror(store, saved.post.id, MirrorState.MIRRORED, thread_id=THREAD)
        await apply_batch(
            store,
            [
                Created(msg(1, "see these", attachments=files)),
                ReactionsSet(sid(1), THREAD, {"👍": 3, "🎉": 1}),
            ],
            POLICY,
        )
        async with embedded(site_settings(store.path), port=port, page=page) as (blog, _):
            await page.goto(post_page(blog, LIVE_URL))
            embed = page.locator("#threadbridge-comments")
            picture = embed.locator(".tb-files img")
            await expect(picture).to_have_count(1)
            assert await picture.get_attribute("loading") == "lazy"
            assert await picture.get_attribute("alt") == "icon.svg"
            assert await embed.locator(".tb-files a").all_text_contents() == ["", "notes.txt"]
            assert "sneaky" not in await embed.inner_text()
            reactions = await embed.locator(".tb-reactions li").all_text_contents()
            assert sorted(reactions) == ["🎉 1", "👍 3"]
            await picture.scroll_into_view_if_needed()
            await expect(picture).to_have_js_property("complete", True)
            await screenshot(page, "embed-attachments")


async def test_the_count_script_fills_a_listing_with_one_request(store, page):
    async with embedded(site_settings(store.path), page=page) as (blog, _):
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        unknown = "https://notes.example.org/never-written/"
        urls = [SEED_URL, SEED_URL.rstrip("/") + "#comments", unknown]
        query = "&".join(f"url={u}" for u in urls)
        await page.goto(f"{blog.origin}/listing?{query.replace('#', '%23')}")
        counts = page.locator("[data-threadbridge-count]")
        await expect(counts.last).to_have_text("0 comments")
        assert await counts.all_text_contents() == ["24 comments", "24 comments", "0 comments"]
        to_api = [url for url in asked if "/api/" in url]
        assert len(to_api) == 1 and "/api/v1/counts?" in to_api[0]
        assert await page.locator("#threadbridge-comments").count() == 0


async def test_with_the_api_down_readers_get_a_message_and_a_link(store, page, page_events):
    async with embedded(site_settings(store.path), page=page) as (blog, _):
        await page.route(f"{blog.threadbridge}/api/**", lambda route: route.abort())
        await page.clock.install()
        await page.goto(post_page(blog, SEED_URL))
        down = page.locator("#threadbridge-comments .tb-down")
        await expect(down).to_contain_text("cannot be loaded")
        link = down.locator("a")
        assert await link.get_attribute("href") == f"{blog.threadbridge}/"
        assert page_events.page_errors == []  # nothing thrown
        # Chromium logs the failed request itself; that, and only that, is on the console.
        assert page_events.console_errors
        assert all("net::ERR_FAILED" in text for text in page_events.console_errors)
        page_events.clear()
        # Back again: the embed, still trying, shows the conversation.
        await page.unroute(f"{blog.threadbridge}/api/**")
        await page.clock.run_for(7_000)
        await expect(page.locator("#threadbridge-comments li.tb-comment")).to_have_count(24)
        await expect(down).to_have_count(0)


async def test_without_javascript_readers_follow_a_link_to_the_conversation(store, page):
    async with embedded(site_settings(store.path), page=page) as (blog, _):
        context = await page.context.browser.new_context(java_script_enabled=False)
        try:
            reader = await context.new_page()
            await reader.goto(post_page(blog, SEED_URL))
            await expect(reader.locator("#threadbridge-comments li")).to_have_count(0)
            link = reader.get_by_role("link", name="Read the conversation")
            await expect(link).to_be_visible()
            await screenshot(reader, "embed-without-javascript")
            await link.click()
            page_url = re.compile(rf"^{re.escape(blog.threadbridge)}/posts/\d+$")
            await expect(reader).to_have_url(page_url)
            await expect(reader.locator("h2#comments-heading")).to_have_text("24 comments")
            await expect(reader.locator("ol.comments li")).to_have_count(24)
            await reader.goto("about:blank")
        finally:
            await context.close()


async def test_the_conversation_link_finds_the_post_by_its_address(store):
    async with embedded(site_settings(store.path)) as (blog, site):
        seed = (await site.get("/api/v1/comments", params={"url": SEED_URL})).json()
        post_id = seed["post"]["id"]
        # The address as the site writes it, or as a reader's browser may have it.
        for address in (SEED_URL, SEED_URL.rstrip("/"), SEED_URL.replace("https", "http"),
                        SEED_URL + "?utm_source=news#comments"):  # fmt: skip
            link = conversation_link(blog.threadbridge, address)
            answer = await site.get(link.removeprefix(site.base), allow_redirects=False)
            assert (answer.status, answer.headers["Location"]) == (303, f"/posts/{post_id}")
        unknown = conversation_link(blog.threadbridge, "https://notes.example.org/elsewhere/")
        answer = await site.get(unknown.removeprefix(site.base), allow_redirects=False)
        assert answer.status == 404
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "no post with this address" in answer.text
        for query in ("", "?url=a&url=b", "?url=" + "x" * 2100):
            answer = await site.get(f"/conversation{query}", allow_redirects=False)
            assert answer.status == 400, query
            assert answer.headers["Content-Type"].startswith("text/html")


async def test_hostile_text_stays_inert_in_the_embed(tmp_path, page):
    async with Store.open(tmp_path / "site.db") as store:
        await store_hostile_post(store)
        async with embedded(site_settings(store.path), page=page) as (blog, _):
            await page.goto(post_page(blog, HOSTILE_URL))
            embed = page.locator("#threadbridge-comments")
            total = len(WEB_COMMENTS) + len(DISCORD_MESSAGES)
            await expect(embed.locator("li.tb-comment")).to_have_count(total)
            await embed.evaluate(
                "e => e.querySelectorAll('*').forEach(n => {"
                " for (const kind of ['mouseover', 'focus', 'mouseenter', 'click'])"
                " n.dispatchEvent(new Event(kind, {bubbles: true})); })"
            )
            assert await page.evaluate("window.__pwned") is None
            assert await page.locator("script").count() == 1  # the embed's own
            assert await embed.locator("script, iframe, object, embed, svg, style").count() == 0
            hrefs = await embed.evaluate(
                "e => [...e.querySelectorAll('[href], [src]')].map(n => n.href || n.src)"
            )
            assert [h for h in hrefs if not h.startswith(("http://", "https://"))] == []
            handlers = await embed.evaluate(
                "e => [...e.querySelectorAll('*')].flatMap(n => [...n.attributes])"
                ".filter(a => a.name.startsWith('on') || a.name === 'style').map(a => a.name)"
            )
            assert handlers == []
            text = await embed.inner_text()
            assert "evil right-to-left text" in text and " end" in text
            assert "<script>alert(9)</script>" in text  # code shows as the text it is
            assert '"><img src=x onerror=alert(1)>' in text  # a name is only a name
            await screenshot(page, "embed-hostile")


@pytest.mark.parametrize("policy", ["on", "off"])
async def test_the_embed_checks_what_the_api_sends_again(store, page, page_events, policy):
    """Were the server's sanitiser ever to let something through, the embed still would not:
    the API's answer is rewritten here with raw hostile HTML and addresses, on a page with the
    blog's CSP and on one without any (only the embed's own checks stand in the way)."""
    payloads = [*WEB_COMMENTS, *DISCORD_MESSAGES]

    async def hostile(route: Route) -> None:
        response = await route.fetch()
        data = await response.json()
        sneaky = "javascript:window.__pwned=40"
        for n, comment in enumerate(data["comments"]):
            comment["html"] = payloads[n % len(payloads)]
            comment["author"] = {"name": '<img src=x onerror="alert(41)">', "avatar_url": sneaky}
            comment["discord_url"] = sneaky
            comment["attachments"] = [
                {"filename": "<b>f</b>", "url": sneaky, "content_type": "image/png", "size": 1}
            ]
            comment["reactions"] = [{"emoji": "<script>alert(42)</script>", "count": 1}]
        data["post"]["thread_url"] = sneaky
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in {"content-encoding", "content-length"}
        }
        await route.fulfill(status=response.status, headers=headers, json=data)

    async with embedded(site_settings(store.path), page=page) as (blog, _):
        await page.route(f"{blog.threadbridge}/api/v1/comments?*", hostile)
        await page.goto(post_page(blog, SEED_URL) + f"&csp={policy}")
        embed = page.locator("#threadbridge-comments")
        await expect(embed.locator("li.tb-comment")).to_have_count(24)
        await embed.evaluate(
            "e => e.querySelectorAll('*').forEach(n => {"
            " for (const kind of ['mouseover', 'focus', 'mouseenter', 'click', 'load', 'error'])"
            " n.dispatchEvent(new Event(kind, {bubbles: true})); })"
        )
        await page.wait_for_timeout(200)
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator("script").count() == 1
        dropped = "script, iframe, object, embed, svg, style, form, meta, link"
        assert await embed.locator(dropped).count() == 0
        addresses = await embed.evaluate(
            "e => [...e.querySelectorAll('*')].flatMap(n => [...n.attributes])"
            ".filter(a => ['href', 'src'].includes(a.name)).map(a => a.value)"
        )
        assert [a for a in addresses if not a.startswith(("http://", "https://"))] == []
        attributes = await embed.evaluate(
            "e => [...e.querySelectorAll('.tb-body *')].flatMap(n => [...n.attributes])"
            ".map(a => a.name)"
        )
        assert set(attributes) <= {"href", "src", "alt", "class", "rel", "loading", "start"}
        text = await embed.inner_text()
        assert '<img src=x onerror="alert(41)">' in text
        assert "<script>alert(42)</script> 1" in text
        assert "still visible" in text
        # Chromium reports the handlers and style attributes it meets while parsing, even in a
        # template's inert content, as the page's CSP refusing them: that, and nothing else.
        assert page_events.page_errors == [] and page_events.dialogs == []
        refused = ("Executing inline event handler", "Applying inline style")
        assert all(text.startswith(refused) for text in page_events.console_errors)
        if policy == "off":
            assert page_events.console_errors == []
        assert page_events.outside_requests == []
        page_events.clear()


def live(settings: Settings, **changes) -> Settings:
    return settings.model_copy(update={"web_rate_limit": 0, **changes})


async def test_replies_edits_and_deletes_in_discord_reach_an_open_page(
    start_bot, bot_settings, emulator, members, page
):
    alice, bob = members[:2]
    settings = live(bot_settings)
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post(url=LIVE_URL))
        async with embedded(settings, page=page, bot=bot_state(bot)) as (blog, _):
            await page.goto(post_page(blog, LIVE_URL))
            embed = page.locator("#threadbridge-comments")
            await expect(embed.locator("h2")).to_have_text("0 comments")
            assert "No comments yet" in await embed.inner_text()

            top = emulator.send_message(thread_id, alice, "What a **good** read")
            await embed.get_by_text("What a good read").wait_for(timeout=LIVE_MS)
            reply = emulator.send_message(thread_id, bob, "Agreed", reply_to=top.id)
            await embed.locator(".tb-replies").get_by_text("Agreed").wait_for(timeout=LIVE_MS)
            await expect(embed.locator("h2")).to_have_text("2 comments")
            strong = embed.locator(".tb-body strong")
            assert await strong.text_content() == "good"
            message_link = embed.locator(".tb-reply a").first
            assert (await message_link.get_attribute("href")).endswith(f"/{thread_id}/{top.id}")
            assert await embed.locator('[role="status"]').text_content() == "1 new comment"

            emulator.edit_message(top.id, "What a **great** read")
            await embed.get_by_text("What a great read").wait_for(timeout=LIVE_MS)
            await expect(embed.locator(".tb-edited")).to_have_count(1)

            emulator.delete_message(reply.id)
            await embed.get_by_text("Agreed").wait_for(state="detached", timeout=LIVE_MS)
            await expect(embed.locator("h2")).to_have_text("1 comment")

            # A deleted comment with a reply stays as a placeholder, its reply in place.
            answer = emulator.send_message(thread_id, bob, "Still here", reply_to=top.id)
            await embed.get_by_text("Still here").wait_for(timeout=LIVE_MS)
            emulator.delete_message(top.id)
            gone = embed.get_by_text("This comment is no longer shown.")
            await gone.wait_for(timeout=LIVE_MS)
            assert "great read" not in await embed.inner_text()
            assert answer.id  # its reply is still shown under the placeholder
            assert await embed.locator(".tb-replies").get_by_text("Still here").count() == 1


async def test_a_held_comment_appears_on_an_open_page_once_approved(
    start_bot, bot_settings, emulator, members, community, page
):
    alice = members[0]
    settings = live(bot_settings, rules_moderation_words=("refund",))
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post(url=LIVE_URL))
        async with embedded(settings, page=page, bot=bot_state(bot)) as (blog, _):
            await page.goto(post_page(blog, LIVE_URL))
            embed = page.locator("#threadbridge-comments")
            await expect(embed.locator("h2")).to_have_text("0 comments")
            emulator.send_message(thread_id, alice, "fine words")
            held = emulator.send_message(thread_id, alice, "where is my refund")
            await embed.get_by_text("fine words").wait_for(timeout=LIVE_MS)

            async def is_held():
                comment = await comment_by_message(bot.store, held.id)
                return comment is not None and comment.status is CommentStatus.HELD

            await eventually(is_held)
            await settled(bot)
            await page.wait_for_timeout(3_500)  # a poll or more: still not shown
            assert "refund" not in await embed.inner_text()
            comment = await comment_by_message(bot.store, held.id)
            click = approve_in_modlog(emulator, community, comment.id)
            await emulator.wait_for_response(click)
            await embed.get_by_text("where is my refund").wait_for(timeout=LIVE_MS)
            await expect(embed.locator("h2")).to_have_text("2 comments")
