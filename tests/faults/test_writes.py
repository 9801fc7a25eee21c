"""Writes the database refuses are not lost: while the disk is full, or while another program
holds the write lock past the busy timeout, members keep writing, editing and deleting in
mirrored threads; once the database takes writes again, the same bot process (no restart) holds
exactly the emulator's truth, and no thread's cursor passed a reply while it waited.

The bot runs in this process against the emulator; the faults are made on the store's own
writer connection (`PRAGMA max_page_count`, `PRAGMA busy_timeout`), reached through
`Store.write_in_thread`, and with a second sqlite3 connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time

import pytest
from structlog.testing import capture_logs

from bot.store.mirrors import get_mirror
from bot.store.posts import save_source_post
from tests.comments.truth import Members, compare, read_store, summary
from tests.mirror.test_mirroring import hostile_post, seed_post

ALL = ("cogs.admin", "cogs.mirror", "cogs.comments")
SEED = 20270112


async def mirrored_threads(bot) -> list[int]:
    """Three mirrored threads (one with web comments), caught up: their live replies now move
    their cursors, which is how a reply waiting in memory could be passed."""
    sources = [
        seed_post(),
        hostile_post(),
        hostile_post(external_id="evil-2", url="https://evil.example/post-2"),
    ]
    post_ids = [(await save_source_post(bot.store, source)).post.id for source in sources]
    assert (await bot.services.mirroring.run_once()).failed == {}
    threads = [(await get_mirror(bot.store, post_id)).thread_id for post_id in post_ids]
    cog = bot.get_cog("comments")
    for thread_id in threads:
        assert await cog.catch_up(thread_id)
    return threads


def members_of(emulator, community, threads) -> Members:
    starters = {t: emulator.messages(t)[0].id for t in threads}
    return Members(emulator, random.Random(SEED), threads, list(community.member_ids), starters)


async def write_for(members: Members, seconds: float, steps: int = 0) -> None:
    """Members write, edit and delete at random for a while, and for at least `steps` steps: on
    a busy machine the sleeps run long, and a count keeps the traffic from thinning out."""
    end = time.monotonic() + seconds
    done = 0
    while time.monotonic() < end or done < steps:
        members.step()
        done += 1
        await asyncio.sleep(members.rng.uniform(0.002, 0.02))


async def all_arrived(bot, emulator, members: Members) -> None:
    """One more reply in each thread, and until the bot has received all of them: gateway events
    arrive in order, so everything the members did before has arrived too."""
    for thread_id in members.threads:
        members.write(thread_id)
    newest = {t: emulator.messages(t)[-1].id for t in members.threads}
    await emulator.wait_for(
        lambda: all(bot.get_channel(t).last_message_id == newest[t] for t in members.threads),
        timeout=10,
    )


async def failing(bot) -> None:
    deadline = time.monotonic() + 10
    while bot.services.writer.failing_since is None:
        assert time.monotonic() < deadline, "the writer never noticed the failure"
        await asyncio.sleep(0.02)


async def status_writes(emulator, community) -> str:
    """What /status says about writes."""
    interaction = emulator.run_slash_command(
        community.text_channel_id, community.owner_id, "status"
    )
    await emulator.wait_for_response(interaction)
    (field,) = [f for f in interaction.responses[0].data["embeds"][0]["fields"]
                if f["name"] == "Writes"]
    return field["value"]


async def the_truth(bot, emulator, members: Members) -> None:
    """Until the store is the emulator's truth (or fail, after 30 s, saying how it differs)."""
    deadline = time.monotonic() + 30
    while True:
        store = await read_store(bot.settings.database_path)
        problems = compare(members, emulator, store)
        if not any(problems.values()):
            break
        if time.monotonic() > deadline:
            report = summary(problems, members, store, SEED)
            pytest.fail(f"the store is not the emulator's truth\n{report}", pytrace=False)
        await asyncio.sleep(0.1)
    for thread_id in members.threads:
        # Every message read in order, up to the newest: the cursor passed nothing unstored.
        assert store.cursors[thread_id] == emulator.messages(thread_id)[-1].id


def writes_lines(logs) -> list[dict]:
    return [entry for entry in logs if entry["event"] in ("writes failing", "writes recovered")]


async def test_replies_written_while_the_disk_is_full_are_stored_once_it_has_room(
    start_bot, emulator, community
):
    async with start_bot(extensions=ALL) as bot:
        threads = await mirrored_threads(bot)
        members = members_of(emulator, community, threads)

        def fill_up(db: sqlite3.Connection) -> int:
            """The database may not grow past its size now: SQLite's "disk full"."""
            unlimited = db.execute("PRAGMA max_page_count").fetchone()[0]
            size = db.execute("PRAGMA page_count").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {size}")
            return unlimited

        with capture_logs() as logs:
            unlimited = await bot.store.write_in_thread(fill_up)
            await write_for(members, 2.0, steps=250)
            await all_arrived(bot, emulator, members)
            await failing(bot)
            assert bot.services.writer.health.error == "database or disk is full"
            writes = await status_writes(emulator, community)
            assert writes.startswith("Writes failing since <t:")
            assert "database or disk is full" in writes

            await bot.store.write_in_thread(
                lambda db: db.execute(f"PRAGMA max_page_count = {unlimited}")
            )
            await write_for(members, 0.5)  # live replies after the disk has room again
            await all_arrived(bot, emulator, members)
            await the_truth(bot, emulator, members)
        assert bot.services.writer.health.ok
        assert await status_writes(emulator, community) == "OK"

    assert len(members.written) > 100 and members.edits and members.deleted
    failed, recovered = writes_lines(logs)
    assert (failed["event"], failed["error"]) == ("writes failing", "database or disk is full")
    assert recovered["event"] == "writes recovered"
    assert recovered["waited"] > 50 and recovered["failed_seconds"] >= 1
    assert not [entry for entry in logs if entry["event"] == "sync event not applied"]


async def test_replies_written_while_another_program_holds_the_lock_are_stored_once_released(
    start_bot, emulator, community
):
    async with start_bot(extensions=ALL) as bot:
        threads = await mirrored_threads(bot)
        members = members_of(emulator, community, threads)
        cog = bot.get_cog("comments")
        # A small live backlog: the replies beyond it are turned away while the lock is held,
        # and read back from their threads' history once the writer has room again.
        cog.writer.max_live_backlog = 40
        await bot.store.write_in_thread(lambda db: db.execute("PRAGMA busy_timeout = 50"))

        other = sqlite3.connect(bot.settings.database_path, timeout=10, isolation_level=None)
        with capture_logs() as logs, contextlib.closing(other):
            other.execute("BEGIN IMMEDIATE")  # e.g. a maintenance script, a long backup
            try:
                await write_for(members, 2.0, steps=250)
                await all_arrived(bot, emulator, members)
                await failing(bot)
                assert bot.services.writer.health.error == "database is locked"
                assert cog.turned_away > 0
                assert "database is locked" in await status_writes(emulator, community)
            finally:
                other.execute("ROLLBACK")
            await write_for(members, 0.5)
            await all_arrived(bot, emulator, members)
            await the_truth(bot, emulator, members)
        assert bot.services.writer.health.ok

    assert len(members.written) > 100 and members.edits and members.deleted
    failed, recovered = writes_lines(logs)
    assert (failed["event"], failed["error"]) == ("writes failing", "database is locked")
    assert recovered["event"] == "writes recovered" and recovered["failed_seconds"] >= 1
    assert not [entry for entry in logs if entry["event"] == "sync event not applied"]
