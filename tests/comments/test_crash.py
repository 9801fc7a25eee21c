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
import sqlite3
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.comments.catchup import RECENT_WINDOW
from bot.store.mirrors import get_mirror
from bot.store.posts import save_source_post
from tests.mirror.test_mirroring import hostile_post, seed_post
from tests.test_cli import emulator_env

ALL = ("cogs.admin", "cogs.mirror", "cogs.comments")
CYCLES = 10
MAX_DEPTH = 5  # SYNC_MAX_DEPTH's default; the bot runs with it
THREAD_CAP = RECENT_WINDOW - 30  # messages per thread, starter and webhook messages included
SEED = int(os.environ.get("THREADBRIDGE_CRASH_SEED", "20261124"))
PHRASES = [
    "I agree with this.",
    "Not so sure — see the second paragraph.",
    "ممتاز، شكرا",
    "👍🏽 +1",
    "'; DROP TABLE comments; --",
    "e\u0301e\u0301 combining",
    "a longer thought " * 20,
]


@dataclass
class Written:
    thread_id: int
    author_id: int
    reply_to: int | None
    label: str


class Members:
    """Members writing in the threads: new messages, replies, edits and deletes, at random."""

    def __init__(self, emulator, rng, threads, member_ids, starters):
        self.emulator = emulator
        self.rng = rng
        self.threads = threads
        self.member_ids = member_ids
        self.starters = starters  # thread id -> the bot's starter message id
        self.written: dict[int, Written] = {}
        self.deleted: set[int] = set()
        self.edits = 0
        self.replies = 0

    def alive(self, thread_id: int) -> list[int]:
        return [
            i for i, w in self.written.items() if w.thread_id == thread_id and i not in self.deleted
        ]

    def step(self) -> None:
        thread_id = self.rng.choice(self.threads)
        alive = self.alive(thread_id)
        roll = self.rng.random()
        room = len(self.emulator.messages(thread_id)) < THREAD_CAP
        if room and (roll < 0.55 or not alive):
            self._write(thread_id, alive)
        elif roll < 0.8 and alive:
            target = self.rng.choice(alive)
            self.edits += 1
            self.emulator.edit_message(
                target,
                f"{self.written[target].label} edited #{self.edits}: {self.rng.choice(PHRASES)}",
            )
        elif alive:
            target = self.rng.choice(alive)
            self.deleted.add(target)
            self.emulator.delete_message(target)

    def _write(self, thread_id: int, alive: list[int]) -> None:
        roll = self.rng.random()
        reply_to = None
        if roll < 0.5 and alive:
            # The newest message half the time: long reply chains, deeper than the depth limit.
            reply_to = alive[-1] if self.rng.random() < 0.5 else self.rng.choice(alive)
        elif roll < 0.6:
            hooks = [m.id for m in self.emulator.messages(thread_id) if m.webhook_id is not None]
            reply_to = self.rng.choice(hooks) if hooks else None
        elif roll < 0.65:
            reply_to = self.starters[thread_id]
        author = self.rng.choice(self.member_ids)
        label = f"m{len(self.written) + 1}"
        message = self.emulator.send_message(
            thread_id, author, f"{label}: {self.rng.choice(PHRASES)}", reply_to=reply_to
        )
        self.written[message.id] = Written(thread_id, author, reply_to, label)
        self.replies += reply_to is not None


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


@dataclass
class Snapshot:
    comments: list[sqlite3.Row]
    parts: dict[int, int]  # webhook message id -> web comment id
    posts: dict[int, int]  # thread id -> post id
    cursors: dict[int, int | None]


def read_store_once(path: Path) -> Snapshot:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        db.row_factory = sqlite3.Row
        db.execute("BEGIN")  # one consistent snapshot for all three reads
        comments = db.execute(
            "SELECT id, post_id, parent_id, body, status, source, discord_message_id, "
            "reply_to_message_id FROM comments ORDER BY id"
        ).fetchall()
        parts = dict(db.execute("SELECT message_id, comment_id FROM comment_messages"))
        posts, cursors = {}, {}
        for row in db.execute("SELECT thread_id, post_id, sync_cursor FROM mirrors"):
            posts[row["thread_id"]] = row["post_id"]
            cursors[row["thread_id"]] = row["sync_cursor"]
        db.execute("COMMIT")
    return Snapshot(comments, parts, posts, cursors)


async def read_store(path: Path) -> Snapshot:
    deadline = time.monotonic() + 5
    while True:
        try:
            return read_store_once(path)
        except sqlite3.OperationalError:  # a starting bot recovering the WAL, briefly
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


def compare(members: Members, emulator, store: Snapshot) -> dict[str, list[str]]:
    """What differs between the store and the emulator's truth, by kind."""
    problems: dict[str, list[str]] = defaultdict(list)
    by_message: dict[int, list[sqlite3.Row]] = defaultdict(list)
    rows = {row["id"]: row for row in store.comments}
    for row in store.comments:
        if row["discord_message_id"] is not None:
            by_message[row["discord_message_id"]].append(row)
    for message_id, found in by_message.items():
        if len(found) > 1:
            problems["duplicated"].append(f"{message_id}: rows {[r['id'] for r in found]}")
    for row in store.comments:
        if row["source"] == "discord" and row["discord_message_id"] not in members.written:
            problems["not a member message"].append(
                f"row {row['id']} for message {row['discord_message_id']}"
            )

    def web_path(comment_id: int) -> list[int]:
        path = []
        while comment_id is not None:
            path.insert(0, comment_id)
            comment_id = rows[comment_id]["parent_id"]
        return path

    paths: dict[int, list[int]] = {}  # comment id -> ids from the top level down to it
    for message_id in sorted(members.written):
        written = members.written[message_id]
        where = f"{message_id} ({written.label})"
        found = by_message.get(message_id)
        if not found:
            if message_id not in members.deleted:
                problems["lost"].append(where)
            continue
        row = found[0]
        if row["source"] != "discord":
            problems["wrong source"].append(f"{where}: {row['source']}")
        if row["post_id"] != store.posts[written.thread_id]:
            problems["wrong post"].append(f"{where}: post {row['post_id']}")
        if message_id in members.deleted:
            if row["status"] != "deleted":
                problems["delete not applied"].append(f"{where}: {row['status']}")
        else:
            if row["status"] != "visible":
                problems["wrongly not visible"].append(f"{where}: {row['status']}")
            current = emulator.message(message_id).content
            if row["body"] != current:
                problems["edit not applied"].append(
                    f"{where}: {row['body'][:40]!r} != {current[:40]!r}"
                )
        if row["reply_to_message_id"] != written.reply_to:
            problems["wrong reply_to"].append(f"{where}: {row['reply_to_message_id']}")
        target = written.reply_to
        if target in members.written:
            target_rows = by_message.get(target)
            above = paths[target_rows[0]["id"]] if target_rows else []
        elif target in store.parts:
            above = web_path(store.parts[target])
        else:  # top level, or a reply to the bot's starter message
            above = []
        above = above[: MAX_DEPTH - 1]
        expected = above[-1] if above else None
        paths[row["id"]] = [*above, row["id"]]
        if row["parent_id"] != expected:
            problems["wrong parent"].append(
                f"{where}: parent {row['parent_id']}, expected {expected} (reply to {target})"
            )
    return problems


def summary(problems: dict[str, list[str]], members: Members, store: Snapshot) -> str:
    stored_deleted = sum(
        1 for i in members.deleted if any(r["discord_message_id"] == i for r in store.comments)
    )
    lines = [
        f"seed {SEED}: {len(members.written)} member messages written, {members.replies} "
        f"replies, {members.edits} edits, {len(members.deleted)} deleted "
        f"({stored_deleted} of them ever stored), {len(store.comments)} comment rows",
    ]
    for kind, items in problems.items():
        if items:
            lines.append(f"{kind}: {len(items)}")
            lines.extend(f"    {item}" for item in items[:8])
    return "\n".join(lines)


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
    report = summary(problems, members, store)
    web = [r for r in store.comments if r["source"] == "web"]
    assert len(web) == 24, report
    assert members.edits and members.deleted and members.replies, report
    if any(problems.values()):
        pytest.fail(f"the store is not the emulator's truth\n{report}", pytrace=False)
