"""Exactly once under crashes: the bot process is SIGKILLed at random moments while members keep
writing, editing and deleting in mirrored threads; after ten crash/restart cycles the store must
hold exactly the emulator's truth.

The bot runs as an operator runs it (`python -m bot run`, a separate process, its own
environment) against the in-process emulator; the test only reads the database (read-only
sqlite3), never writes it after the threads were mirrored.

What "the truth" is, precisely:
- every member message still in a thread is exactly one comment row (keyed by its Discord message
  id), of the thread's post, visible, with the message's current text;
- a deleted member message is either a row marked 'deleted', or no row at all: a message that was
  created and deleted while no bot process was listening (dead, starting, or killed before its
  batch was committed) is in no history any more, so nothing can ever learn of it. Rows are never
  removed, so "no row" can only mean "never stored", not "stored and lost";
- the parent of a reply is the comment of the replied-to message (a web comment for a reply to a
  webhook message, top level for a reply to the bot's starter or to a message never stored),
  attached to its deepest allowed ancestor when that would nest deeper than SYNC_MAX_DEPTH (5);
- the bot's own messages and its webhook's messages are never Discord comments, and no row is
  duplicated.

Each thread is kept below catch-up's re-read window (bot.comments.catchup.RECENT_WINDOW
messages), so edits and deletes made while the bot was down are all within what catch-up
promises to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
import time
from pathlib import Path

import pytest

from bot.store.mirrors import get_mirror
from bot.store.posts import save_source_post
from tests.comments.truth import Members, compare, read_store, summary
from tests.mirror.test_mirroring import hostile_post, seed_post
from tests.test_cli import emulator_env

ALL = ("cogs.admin", "cogs.mirror", "cogs.comments")
CYCLES = 10
SEED = int(os.environ.get("THREADBRIDGE_CRASH_SEED", "20261124"))
async def stream(members: Members, stop: asyncio.Event) -> None:
    while not stop.is_set():
        members.step()
        await asyncio.sleep(members.rng.uniform(0.005, 0.06))


# --- the bot process -------------------------------------------------------------------------


async def launch(env: dict[str, str], cwd: Path, log_path: Path) -> asyncio.subprocess.Process:
    with log_path.open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


def read_log(path: Path) -> str:
    return path.read_text(errors="replace")


async def connected(emulator, process, since: int, log_path: Path) -> None:
    """Until the emulator sent READY to the new process; fails if the process died first."""
    ready = asyncio.ensure_future(emulator.wait_for_event("READY", since=since, timeout=30))
    exited = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not ready.done():
            raise AssertionError(f"bot exited before connecting:\n{read_log(log_path)}")
        ready.result()
    finally:
        for task in (ready, exited):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await task


async def catching_up(emulator, process, since: int, threads, log_path: Path) -> None:
    """Until the process, past on_ready, reads a thread's history (catch-up has begun)."""
    paths = {f"/channels/{t}/messages" for t in threads}

    def reading() -> bool:
        return (
            any(
                r.method == "GET" and any(r.path.endswith(p) for p in paths)
                for r in emulator.journal.requests[since:]
            )
            or process.returncode is not None
        )

    await emulator.wait_for(reading, timeout=30)
    assert process.returncode is None, f"bot exited:\n{read_log(log_path)}"


# --- the store, read-only --------------------------------------------------------------------


# --- the test --------------------------------------------------------------------------------


async def test_sigkill_cycles_lose_nothing_and_duplicate_nothing(
    start_bot, bot_settings, emulator, community, tmp_path
):
    database = bot_settings.database_path
    # Three mirrored threads; the seed post's carries its 24 web comments as webhook messages.
    async with start_bot(extensions=ALL) as bot:
        sources = [
            seed_post(),
            hostile_post(),
            hostile_post(external_id="evil-2", url="https://evil.example/post-2"),
        ]
        post_ids = [(await save_source_post(bot.store, s)).post.id for s in sources]
        result = await bot.services.mirroring.run_once()
        assert result.failed == {}
        threads = [(await get_mirror(bot.store, p)).thread_id for p in post_ids]
    assert all(threads)

    starters = {t: emulator.messages(t)[0].id for t in threads}
    member_ids = list(community.member_ids)
    members = Members(emulator, random.Random(SEED), threads, member_ids, starters)
    timing = random.Random(SEED + 1)
    env = {
        **emulator_env(emulator, community, database),
        "MIRROR_INTERVAL_SECONDS": "3600",
        # The stream is a few members writing fast: flood and duplicate rules would hold it.
        # This test is about sync; moderation's own tests cover the rules.
        "RULES_FLOOD_COUNT": "0",
        "RULES_DUPLICATE_MINUTES": "0",
    }

    stop = asyncio.Event()
    streamer = asyncio.create_task(stream(members, stop))
    process = None
    try:
        for cycle in range(CYCLES):
            log_path = tmp_path / f"bot-{cycle}.log"
            since = len(emulator.journal.events)
            requests = len(emulator.journal.requests)
            process = await launch(env, tmp_path, log_path)
            await connected(emulator, process, since, log_path)
            if timing.random() < 0.2:
                # Connected, but discord.py has not fired on_ready yet (it waits for more
                # guilds): live events already flow, catch-up has not begun.
                await asyncio.sleep(timing.uniform(0.05, 1.0))
            else:
                # Ready: catch-up is reading history. Short delays are favoured, so that many
                # crashes land in the middle of catch-up (a few tens of ms per thread).
                await catching_up(emulator, process, requests, threads, log_path)
                await asyncio.sleep(0.05 + 0.95 * timing.random() ** 2)
            assert process.returncode is None, f"bot exited on its own:\n{read_log(log_path)}"
            process.kill()
            assert await process.wait() == -signal.SIGKILL
            process = None
            await asyncio.sleep(timing.uniform(0.05, 0.4))  # members keep writing meanwhile
            assert not streamer.done()
        stop.set()
        await streamer

        # The last start: no more writing; the bot catches up on its own.
        before = await read_store(database)
        requests_since = len(emulator.journal.requests)
        log_path = tmp_path / "bot-final.log"
        since = len(emulator.journal.events)
        process = await launch(env, tmp_path, log_path)
        await connected(emulator, process, since, log_path)

        def history_read(thread_id: int) -> bool:
            # With a cursor, the window re-read (`before`) is catch-up's last request.
            key = "before" if before.cursors.get(thread_id) is not None else "after"
            return any(
                r.method == "GET"
                and r.path.endswith(f"/channels/{thread_id}/messages")
                and key in r.query
                and r.status == 200
                for r in emulator.journal.requests[requests_since:]
            )

        await emulator.wait_for(lambda: all(history_read(t) for t in threads), timeout=30)
        deadline = time.monotonic() + 30
        while True:
            store = await read_store(database)
            problems = compare(members, emulator, store)
            if not any(problems.values()) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)

        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
        process = None
        assert code == 0, read_log(log_path)
    finally:
        stop.set()
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        if not streamer.done():
            streamer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await streamer

    store = await read_store(database)
    problems = compare(members, emulator, store)
    report = summary(problems, members, store, SEED)
    web = [r for r in store.comments if r["source"] == "web"]
    assert len(web) == 24, report
    assert members.edits and members.deleted and members.replies, report
    if any(problems.values()):
        pytest.fail(f"the store is not the emulator's truth\n{report}", pytrace=False)
