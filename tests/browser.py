"""Pytest plugin: web pages in a real browser, Debian's Chromium driven by Playwright.

    from tests.browser import screenshot

    async def test_the_post_page(page, page_events, served):  # served: an app on 127.0.0.1
        await page.goto(f"{served}/posts/7")
        assert await page.text_content("h1") == "Spring meetup"
        await screenshot(page, "post-page-light")
        # Leaving with no console error, uncaught exception, dialog or outside request on
        # the page, or the test fails at teardown.

Fixtures, all function-scoped:
- `browser`: a headless Chromium (Playwright's async `Browser`) launched for this test from
  /usr/bin/chromium, never a browser Playwright downloaded.
- `page`: a page in a fresh context of that browser (800x600, en-US, UTC, light colour scheme,
  5 s timeouts so nothing waits for long).
- `page_events`: what happened on `page` (a `BrowserEvents`): console errors, uncaught
  exceptions, dialogs (dismissed at once) and requests to hosts other than this machine.
  A test that passes with any of those recorded fails at teardown; a test that expects one
  asserts on it and then calls `page_events.clear()`. `watch(other_page)` records the same for
  a page a test opens itself.

Why a browser per test and not per session: Playwright's async objects belong to the event
loop that started them, and pytest-asyncio gives every test its own loop (the project's
default), so a session-wide browser could not be used from a test's loop. Playwright's sync
API would have to live in a thread of its own, so async tests could not call it directly.
A launch costs about a second; each launch gets its own fresh profile directory, which
Playwright creates and deletes itself (it refuses `--user-data-dir` with `launch()`).

Chromium runs with background networking, component updates and sync off, and with every host
name but localhost made to fail at once: a page that reaches for an outside host fails fast and
the request is recorded, instead of the test hanging on the network.

Without /usr/bin/chromium or Playwright the browser tests are skipped on a developer's machine,
and fail in CI (`CI=true`), where skipping them would hide that they did not run (the rule of
tests/shared_files.py).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.async_api import Browser, ConsoleMessage, Dialog, Error, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

CHROMIUM_ARGS = (
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
)
CONTEXT_OPTIONS = {
    "viewport": {"width": 800, "height": 600},
    "locale": "en-US",
    "timezone_id": "UTC",
    "color_scheme": "light",
}
TIMEOUT_MS = 5_000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

_CALL_PASSED = pytest.StashKey[bool]()


@dataclass
class BrowserEvents:
    """What a watched page did that a test should know about."""

    console_errors: list[str] = field(default_factory=list)  # "text (url:line)"
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught: {text}" for text in self.page_errors),
            *(f"dialog: {text}" for text in self.dialogs),
            *(f"request to an outside host: {url}" for url in self.outside_requests),
        ]

    def clear(self) -> None:
        """Forgets what was recorded (once the test asserted on it)."""
        for records in (self.console_errors, self.page_errors, self.dialogs, self.outside_requests):
            records.clear()


def watch(page: Page) -> BrowserEvents:
    """Starts recording `page`'s console errors, uncaught exceptions, dialogs and outside
    requests; dialogs are dismissed as they open."""
    events = BrowserEvents()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            where = location.get("url")
            if where and (location.get("lineNumber") or location.get("columnNumber")):
                where = f"{where}:{location['lineNumber'] + 1}"  # Playwright counts from 0
            events.console_errors.append(f"{message.text} ({where})" if where else message.text)

    def on_page_error(error: Error) -> None:
        events.page_errors.append(error.message)

    async def on_dialog(dialog: Dialog) -> None:
        events.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def on_request(request: Request) -> None:
        address = urlsplit(request.url)
        if address.scheme in {"http", "https", "ws", "wss"} and address.hostname not in (
            LOCAL_HOSTS
        ):
            events.outside_requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("dialog", on_dialog)
    page.on("request", on_request)
    page.on("crash", lambda _: events.page_errors.append("the page crashed"))
    return events


async def screenshot(page: Page, name: str) -> Path:
    """Saves what `page` shows as tests/artifacts/<name>.png (git-ignored) and returns the path."""
    if not re.fullmatch(r"[\w.-]+", name):
        raise ValueError(f"a screenshot name is letters, digits, '.', '-', '_': {name!r}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=True)
    return path


def require_browser(executable: Path = CHROMIUM) -> None:
    """Skips the test when the browser cannot run here; fails it instead under CI=true."""
    missing = []
    if not os.access(executable, os.X_OK):
        missing.append(f"{executable} not found (Debian: apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("Playwright for Python is not installed (python3 tasks.py test does it)")
    if missing:
        _unavailable("browser tests cannot run: " + "; ".join(missing))


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true, so this is a failure, not a skip", pytrace=False)
    pytest.skip(message)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_browser(CHROMIUM)
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            await launched.close()
    finally:
        await playwright.stop()


@pytest.fixture
async def _watched_page(
    browser: Browser, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Page, BrowserEvents]]:
    context = await browser.new_context(**CONTEXT_OPTIONS)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        events = watch(page)
        yield page, events
    finally:
        await context.close()
    if request.node.stash.get(_CALL_PASSED, False):
        fail_unless_clean(events)


def fail_unless_clean(events: BrowserEvents) -> None:
    if problems := events.problems():
        pytest.fail(
            "the page had problems the test did not expect (assert on them, then "
            "page_events.clear()):\n" + "\n".join(f"  {problem}" for problem in problems),
            pytrace=False,
        )


@pytest.fixture
def page(_watched_page: tuple[Page, BrowserEvents]) -> Page:
    return _watched_page[0]


@pytest.fixture
def page_events(_watched_page: tuple[Page, BrowserEvents]) -> BrowserEvents:
    return _watched_page[1]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> object:
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report
