"""The demo as a newcomer runs it: `python -m demo` (and `python3 tasks.py run` without a
token), a separate process, its page, the site behind it, and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

import tasks
from tests.comments.test_live import eventually
from tests.test_cli import clean_environment

ROOT = Path(tasks.__file__).resolve().parent
POST_URL = "https://notes.example.org/2015/03/ai-weiwei-still-not-sorry/"
ADDRESS = re.compile(r"open (http://\S+)")
SEED_WEB_COMMENTS = 24

pytestmark = pytest.mark.skipif(os.name == "nt", reason="signals as POSIX sends them")


def demo_environment(tmp_path):
    # The demo's temporary folder goes where the test can see that it is removed.
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    return {**clean_environment(), "TMPDIR": str(temporary), "PYTHONPATH": str(ROOT)}


async def started(*command, cwd, env):
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    lines = []
    try:
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
            assert line, f"the demo ended before saying where it is: {lines}"
            lines.append(line.rstrip("\n"))
            if found := ADDRESS.search(line):
                return process, found.group(1), lines
    except BaseException:
        process.kill()
        await process.wait()
        raise


def children_of(pid):
    """The processes whose parent is `pid` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


async def stopped(process, signum=signal.SIGINT):
    process.send_signal(signum)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    return stdout.decode(), stderr.decode()


def texts(page):
    return [c["text"] for top in page["comments"] for c in [top, *top["replies"]]]


@pytest.mark.slow
async def test_the_demo_shows_the_loop_and_stops_cleanly_on_ctrl_c(tmp_path):
    env = demo_environment(tmp_path)
    process, address, _ = await started(
        sys.executable, "-m", "demo", "--port", "0", "--speed", "50", cwd=tmp_path, env=env
    )
    base = address.removesuffix("/demo/")
    try:
        async with aiohttp.ClientSession(base) as http:
            async with http.get("/demo/") as answer:
                assert answer.status == 200
                page = await answer.text()
                assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
            assert '<div id="threadbridge-comments"></div>' in page
            assert f'<script src="/embed.js" data-url="{POST_URL}" async></script>' in page

            async def thread_with_web_comments():
                async with http.get("/demo/thread.json") as answer:
                    view = await answer.json()
                posted = [m for m in view["messages"] if m["webhook"]]
                return view if len(posted) >= SEED_WEB_COMMENTS else None

            view = await eventually(thread_with_web_comments, timeout=60)
            assert view["thread"]["name"] == "Ai WeiWei: Still Not Sorry"
            assert view["messages"][0]["bot"]  # the bot's starter message

            async def comments():
                async with http.get("/api/v1/comments", params={"url": POST_URL}) as answer:
                    assert answer.status == 200
                    return await answer.json()

            async def scripted_replies_arrived():
                page = await comments()
                return page if any("Welcome all" in (t or "") for t in texts(page)) else None

            page = await eventually(scripted_replies_arrived, timeout=90)
            shown = texts(page)
            # alice's reply, as she edited it, with bob's answer under it.
            (alice,) = [c for c in page["comments"] if "Just read this" in (c["text"] or "")]
            assert "in Beijing" in alice["text"]
            assert [r["author"]["name"] for r in alice["replies"]] == ["bob"]
            assert not any("wrong channel" in (t or "") for t in shown)  # deleted in Discord
            assert any("refund" in (t or "") for t in shown)  # held, then approved

            form = {"text": "  Hello from the demo's form  "}
            async with http.post("/demo/messages", data=form) as refused:
                assert refused.status == 403  # no Origin: not the demo's own page
            origin = {"Origin": base}
            too_long = {"text": "x" * 2001}
            async with http.post("/demo/messages", data=too_long, headers=origin) as refused:
                assert refused.status == 400
            async with http.post(
                "/demo/messages", data=form, headers=origin, allow_redirects=False
            ) as sent:
                assert sent.status == 303

            async def visitor_shown():
                return "Hello from the demo's form" in texts(await comments())

            await eventually(visitor_shown, timeout=30)
        assert children_of(process.pid) == []
    finally:
        stdout, stderr = await stopped(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stdout.splitlines()[-1] == "demo: stopped"
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary folder is gone


async def test_sigterm_stops_the_demo_and_keep_leaves_the_database(tmp_path):
    env = demo_environment(tmp_path)
    process, _, _ = await started(
        sys.executable, "-m", "demo", "--port", "0", "--keep", "kept", cwd=tmp_path, env=env
    )
    stdout, stderr = await stopped(process, signal.SIGTERM)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "kept" / "threadbridge.db").exists()
    assert "kept in kept/threadbridge.db" in stdout


ready_venv = pytest.mark.skipif(
    not tasks.environment_ready(), reason=".venv is not set up: run python3 tasks.py test"
)


@ready_venv
@pytest.mark.parametrize("empty_token", [None, "dotenv", "environment"])
async def test_tasks_run_without_a_token_says_it_is_a_demo_before_anything_else(
    tmp_path, empty_token
):
    env = demo_environment(tmp_path)
    del env["PYTHONPATH"]  # tasks.py finds the demo itself
    if empty_token == "dotenv":
        (tmp_path / ".env").write_text("DISCORD_TOKEN=\nGUILD_ID=1\n")
    elif empty_token == "environment":
        env["DISCORD_TOKEN"] = ""
    process, _, lines = await started(
        sys.executable, str(ROOT / "tasks.py"), "run", "--port", "0", cwd=tmp_path, env=env
    )
    _, stderr = await stopped(process)
    assert lines[0] == "No DISCORD_TOKEN is configured, so the demo starts instead."
    assert "local stand-in for Discord" in lines[1]
    assert any("Setting up the Discord application" in line for line in lines[:5])
    assert process.returncode == 0, stderr


@ready_venv
def test_threadbridge_run_itself_still_wants_a_token(tmp_path):
    result = subprocess.run(
        [str(tasks.BIN / "threadbridge"), "run"],
        cwd=tmp_path,
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "DISCORD_TOKEN: missing" in result.stderr
