"""The browser plugin's own rules, without a browser: when browser tests skip or fail, and what
a page's recorded problems look like."""

from pathlib import Path

import pytest

from tests import browser
from tests.browser import BrowserEvents, fail_unless_clean, require_browser, screenshot


def test_a_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"chromium not found.*CI=true"):
        require_browser(tmp_path / "chromium")


@pytest.mark.parametrize("ci", [None, "false", "1"])
def test_a_missing_chromium_skips_outside_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str | None
):
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"chromium not found \(Debian: apt-get"):
        require_browser(tmp_path / "chromium")


def test_a_missing_playwright_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(browser.importlib.util, "find_spec", lambda name: None)
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    with pytest.raises(pytest.fail.Exception, match="Playwright for Python is not installed"):
        require_browser(executable)


def test_problems_fail_the_test_and_clear_forgets_them() -> None:
    events = BrowserEvents(
        console_errors=["Failed to load resource (http://127.0.0.1:1/a.js)"],
        page_errors=["x is not defined"],
        dialogs=["confirm: Delete?"],
        outside_requests=["https://fonts.example/a.woff2"],
    )
    with pytest.raises(pytest.fail.Exception) as failed:
        fail_unless_clean(events)
    assert str(failed.value).splitlines()[1:] == [
        "  console error: Failed to load resource (http://127.0.0.1:1/a.js)",
        "  uncaught: x is not defined",
        "  dialog: confirm: Delete?",
        "  request to an outside host: https://fonts.example/a.woff2",
    ]
    events.clear()
    assert events == BrowserEvents()
    fail_unless_clean(events)


async def test_screenshot_names_stay_inside_the_artifacts_folder() -> None:
    with pytest.raises(ValueError, match="a screenshot name"):
        await screenshot(None, "../outside")  # refused before the page is touched
