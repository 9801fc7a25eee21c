"""The demo's page in Chromium: the thread on the left fills and follows the conversation, the
form writes into it without leaving the page."""

from __future__ import annotations

import sys

import aiohttp
import pytest
from playwright.async_api import expect

from tests.browser import screenshot
from tests.demo.test_demo import demo_environment, started, stopped

pytestmark = pytest.mark.slow


async def test_the_demo_page_shows_the_thread_and_sends_the_form(tmp_path, page, page_events):
    process, address, _ = await started(
        sys.executable, "-m", "demo", "--port", "0", "--speed", "20",
        cwd=tmp_path, env=demo_environment(tmp_path),
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(address.replace("/demo/", "/embed.js")) as answer:
                assert answer.status == 200
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.goto(address)
        thread = page.locator("#thread .message")
        # The bot's starter message and the 24 comments from the web, at least.
        await expect(thread.nth(24)).to_be_visible(timeout=60_000)
        assert await page.text_content("#thread-name") == "Ai WeiWei: Still Not Sorry"
        assert "WEB" in await thread.nth(1).inner_text()  # a comment from the web, posted
        await expect(page.locator("#thread")).to_contain_text("Welcome all", timeout=60_000)
        assert "(edited)" in await page.locator("#thread").inner_text()

        await page.fill("#text", "Hello from the browser")
        await page.click("form.write button")
        await expect(page.locator("#write-status")).to_contain_text("sent")
        await expect(page.locator("#text")).to_have_value("")
        await expect(thread.last).to_contain_text("Hello from the browser")
        assert "You (visitor)" in await thread.last.inner_text()
        comments = page.locator("#threadbridge-comments")
        await expect(comments).to_contain_text("Hello from the browser", timeout=30_000)
        await expect(comments).to_contain_text("Ai Weiwei")
        await screenshot(page, "demo-page")
    finally:
        # Leave the page before the demo stops, or its polling meets a closed port.
        await page.goto("about:blank")
        _, stderr = await stopped(process)
    assert process.returncode == 0, stderr
