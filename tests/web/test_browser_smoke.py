"""The browser fixtures against a tiny site served on 127.0.0.1: pages render, the Content
Security Policy the web side will send refuses inline scripts, problems on a page are recorded,
and screenshots come out in both colour schemes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.browser import BrowserEvents, fail_unless_clean, screenshot, watch

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="color-scheme" content="light dark">
<title>Browser smoke</title>
<link rel="stylesheet" href="/smoke.css">
<script src="/smoke.js" defer></script>
</head>
<body>
<main>
<h1>Comments</h1>
<p id="served">Rendered from the server.</p>
<p id="scripted">Scripts have not run.</p>
</main>
{inline}
</body>
</html>
"""

STYLE = """body { font: 18px/1.5 sans-serif; margin: 2rem; background: #fdfdfd; color: #1a1a1a; }
h1 { color: #3355aa; }
@media (prefers-color-scheme: dark) {
  body { background: #15171c; color: #e8e8e8; }
  h1 { color: #8fb0ff; }
}
"""

SCRIPT = """document.getElementById("scripted").textContent = "Scripts ran from a file.";
window.fileScriptRan = true;
"""

BROKEN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken</title><script src="/broken.js" defer></script></head>
<body><p>This page's script fails.</p></body>
</html>
"""

BROKEN_SCRIPT = """console.error("broken.js logs an error");
alert("broken.js says hello");
throw new Error("broken.js throws");
"""


@pytest.fixture
async def smoke_site() -> AsyncIterator[str]:
    """The site's address, e.g. http://127.0.0.1:41234."""
    files = {
        "/": (PAGE.format(inline=""), "text/html"),
        "/inline": (
            PAGE.format(inline="<script>window.inlineScriptRan = true;</script>"),
            "text/html",
        ),
        "/smoke.css": (STYLE, "text/css"),
        "/smoke.js": (SCRIPT, "text/javascript"),
        "/broken": (BROKEN_PAGE, "text/html"),
        "/broken.js": (BROKEN_SCRIPT, "text/javascript"),
    }

    async def serve(request: web.Request) -> web.Response:
        if request.path == "/favicon.ico":  # Chromium asks for it, and logs an error on a 404
            return web.Response(status=204)
        if request.path not in files:
            raise web.HTTPNotFound()
        text, content_type = files[request.path]
        return web.Response(
            text=text, content_type=content_type, headers={"Content-Security-Policy": CSP}
        )

    app = web.Application()
    app.router.add_get("/{path:.*}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = server._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_page_renders_and_its_policy_refuses_inline_scripts(
    page, page_events: BrowserEvents, smoke_site: str
) -> None:
    response = await page.goto(smoke_site + "/inline")
    assert response.headers["content-security-policy"] == CSP
    assert await page.text_content("#served") == "Rendered from the server."
    assert await page.text_content("#scripted") == "Scripts ran from a file."
    assert await page.evaluate("window.fileScriptRan") is True
    assert await page.evaluate("typeof window.inlineScriptRan") == "undefined"
    # Chromium reports the refusal on the console: recorded, and here expected.
    (refusal,) = page_events.console_errors
    assert "inline script" in refusal
    assert "Content Security Policy" in refusal
    assert f"({smoke_site}/inline:" in refusal
    page_events.clear()


async def test_errors_and_dialogs_are_recorded_per_page(
    page, page_events: BrowserEvents, smoke_site: str
) -> None:
    await page.goto(smoke_site)
    second = await page.context.new_page()
    events = watch(second)
    async with second.expect_event("pageerror"):
        await second.goto(smoke_site + "/broken")
    assert events.console_errors == [f"broken.js logs an error ({smoke_site}/broken.js:1)"]
    assert events.page_errors == ["broken.js throws"]
    assert events.dialogs == ["alert: broken.js says hello"]  # dismissed, or the script would wait
    assert page_events.problems() == []
    with pytest.raises(pytest.fail.Exception, match=r"uncaught: broken\.js throws"):
        fail_unless_clean(events)


async def test_requests_to_outside_hosts_are_recorded_and_fail_at_once(
    page, page_events: BrowserEvents
) -> None:
    # No policy here: the image is requested; Chromium resolves no outside name, so it fails
    # straight away and the page still loads within the fixture's timeout.
    await page.set_content('<p>Offline</p><img src="http://images.outside.example/a.png">')
    assert page_events.outside_requests == ["http://images.outside.example/a.png"]
    assert any("ERR_NAME_NOT_RESOLVED" in text for text in page_events.console_errors)
    page_events.clear()


async def test_screenshots_in_light_and_dark(page, smoke_site: str) -> None:
    await page.goto(smoke_site)
    light = await screenshot(page, "browser-smoke-light")
    await page.emulate_media(color_scheme="dark")
    assert await page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is True
    dark = await screenshot(page, "browser-smoke-dark")
    light_png, dark_png = light.read_bytes(), dark.read_bytes()
    assert light_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert dark_png.startswith(b"\x89PNG\r\n\x1a\n")
    assert light_png != dark_png
