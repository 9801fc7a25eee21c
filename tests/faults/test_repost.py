"""A post that lost its thread and was given a new one with /mirror repost: the comments written
in the lost thread stay as they were (the site still shows them), the new thread's replies are
stored, and neither catch-up at the next start nor `threadbridge sync --full` loses or doubles
anything."""

from __future__ import annotations

import sqlite3

from bot.store.mirrors import get_mirror
from bot.store.models import MirrorState
from bot.store.posts import save_source_post
from tests.comments.test_live import ALL, eventually
from tests.mirror.test_mirroring import seed_post
from tests.test_cli import emulator_env, run_cli

WEB_COMMENTS = 24  # in seed_post()


def discord_rows(database):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        db.row_factory = sqlite3.Row
        return db.execute(
            "SELECT id, post_id, body, status, discord_message_id, parent_id FROM comments "
            "WHERE source = 'discord' ORDER BY id"
        ).fetchall()


def web_rows(database):
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM comments WHERE source = 'web'").fetchone()[0]


async def stored(database, count):
    async def check():
        rows = discord_rows(database)
        return rows if len(rows) >= count else None

    return await eventually(check, 15)


async def test_repost_keeps_the_lost_threads_comments_and_stores_the_new_ones(
    start_bot, bot_settings, emulator, community, tmp_path
):
    database = bot_settings.database_path
    alice, bob = [m for m in community.member_ids if m != community.moderator_id][:2]
    written: dict[int, tuple[int, str]] = {}  # message id -> (thread id, text)

    def write(thread_id, author, text, reply_to=None):
        message = emulator.send_message(thread_id, author, text, reply_to=reply_to)
        written[message.id] = (thread_id, text)
        return message

    async with start_bot(extensions=ALL) as bot:
        post_id = (await save_source_post(bot.store, seed_post())).post.id
        await bot.services.mirroring.run_once()
        lost = (await get_mirror(bot.store, post_id)).thread_id
        question = write(lost, alice, "Asked in the first thread")
        write(lost, bob, "Answered in the first thread", reply_to=question.id)
        write(lost, bob, "Another thought, first thread")
        await stored(database, 3)

        emulator.delete_channel(lost)
        await eventually(lambda: _state(bot.store, post_id, MirrorState.BROKEN), 10)
        interaction = emulator.run_slash_command(
            community.text_channel_id,
            community.owner_id,
            "mirror",
            {"post": post_id},
            subcommand="repost",
        )
        await emulator.wait_for_response(interaction, count=2, timeout=15)
        renewed = (await get_mirror(bot.store, post_id)).thread_id
        assert renewed and renewed != lost
        assert "is mirrored in" in interaction.responses[-1].data["content"]
        again = write(renewed, alice, "Asked again in the new thread")
        write(renewed, bob, "And answered in the new thread", reply_to=again.id)
        await stored(database, 5)

    # Written while the bot is down: read from history by catch-up at the next start.
    write(renewed, alice, "Written while the bot was away")
    async with start_bot(extensions=ALL) as bot:
        cog = bot.get_cog("comments")
        await eventually(_true(lambda: renewed in cog.caught_up), 15)
        await stored(database, 6)

    env = emulator_env(emulator, community, database)
    status, stdout, stderr = await run_cli("sync", "--full", env=env, cwd=tmp_path)
    assert status == 0, stderr
    assert "0 new comment(s)" in stdout and "0 deletion(s)" in stdout

    rows = discord_rows(database)
    by_message: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        by_message.setdefault(row["discord_message_id"], []).append(row)
    assert set(by_message) == set(written)  # nothing lost, nothing foreign
    assert all(len(found) == 1 for found in by_message.values())  # nothing doubled
    for message_id, (thread_id, text) in written.items():
        (row,) = by_message[message_id]
        where = "lost" if thread_id == lost else "new"
        assert (where, row["status"], row["body"], row["post_id"]) == (
            where,
            "visible",
            text,
            post_id,
        )
    # Replies keep their place under what they answer, in either thread.
    ids = {row["discord_message_id"]: row["id"] for row in rows}
    parents = {row["body"]: row["parent_id"] for row in rows}
    assert parents["Answered in the first thread"] == ids[question.id]
    assert parents["And answered in the new thread"] == ids[again.id]
    # The web comments were posted again in the new thread, not stored a second time.
    assert web_rows(database) == WEB_COMMENTS


async def _state(store, post_id, state):
    return (await get_mirror(store, post_id)).state is state


def _true(condition):
    async def check():
        return condition()

    return check
