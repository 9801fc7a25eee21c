"""The server's pages in a real browser: the seed post's conversation as readers see it, in
light and dark, and hostile comments that stay inert text."""

from __future__ import annotations

import pytest

from bot.store import Store
from bot.store.posts import save_source_post
from tests.browser import screenshot
from tests.mirror.test_mirroring import seed_post
from tests.web.conftest import served, site_settings
from tests.web.hostile import HOSTILE_CHANNEL_NAME, HOSTILE_ROLE_NAME, store_hostile_post


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "site.db") as opened:
        await save_source_post(opened, seed_post())
        yield opened


async def test_the_seed_posts_conversation_reads_well_in_light_and_dark(store, page):
    async with served(site_settings(store.path)) as site:
        await page.goto(f"{site.base}/posts/1")
        assert await page.title() == "Ai WeiWei: Still Not Sorry"
        assert await page.text_content("h1") == "Ai WeiWei: Still Not Sorry"
        assert await page.text_content("#comments-heading") == "24 comments"
        assert await page.locator("li.comment").count() == 24
        deepest = page.locator("ol.replies ol.replies li.comment .author")
        assert await deepest.all_text_contents() == ["Kathleen Sweeney"]
        # The stylesheet applied: replies are indented under their parent.
        indent = await page.eval_on_selector(
            "ol.replies", "e => getComputedStyle(e).borderLeftStyle"
        )
        assert indent == "solid"
        light = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        await screenshot(page, "site-post-light")
        await page.emulate_media(color_scheme="dark")
        dark = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert light == "rgb(255, 255, 255)" and dark != light
        await screenshot(page, "site-post-dark")
        # Keyboard readers can skip to the conversation.
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "skip"
        await page.emulate_media(color_scheme="light")
        await page.goto(f"{site.base}/")
        assert await page.locator("ol.posts li").count() == 1
        assert await page.evaluate("getComputedStyle(document.body).backgroundColor") == light
        await screenshot(page, "site-index-light")


async def test_hostile_comments_stay_inert_text_on_every_page(store, page):
    post_id = await store_hostile_post(store)
    async with served(site_settings(store.path)) as site:
        for path in [f"/posts/{post_id}", "/"]:
            await page.goto(site.base + path)
            await page.wait_for_load_state("load")
            # Whatever a reader might point at or focus: a handler would fire now.
            await page.evaluate(
                "document.querySelectorAll('main *').forEach(e => {"
                " for (const kind of ['mouseover', 'focus', 'mouseenter'])"
                " e.dispatchEvent(new Event(kind, {bubbles: true})); })"
            )
            assert await page.evaluate("window.__pwned") is None
            assert await page.locator("script").count() == 0
            assert await page.locator("iframe, object, embed, svg, style").count() == 0
            hrefs = await page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
            assert [h for h in hrefs if not h.startswith(("http://", "https://"))] == []
            handlers = await page.evaluate(
                "[...document.querySelectorAll('*')].flatMap(e => [...e.attributes])"
                ".filter(a => a.name.startsWith('on') || a.name === 'style').map(a => a.name)"
            )
            assert handlers == []
        text = await page.goto(f"{site.base}/posts/{post_id}")
        body = await page.inner_text("main")
        assert "<script>alert('title')</script>" in body  # shown as the text it is
        assert "evil right-to-left text" in body and "end" in body
        for number in ("999999999999999999", "888888888888888888", "777777777777777777"):
            assert number not in body  # mentions of unknown ids show no id
        assert f"named ones @{HOSTILE_ROLE_NAME} in #{HOSTILE_CHANNEL_NAME}" in body
        assert "window.__pwned=99" not in body  # a script's text is not the post's text
        assert text is not None and text.ok
        await screenshot(page, "site-hostile")
