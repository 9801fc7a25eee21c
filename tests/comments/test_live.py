"""Replies in mirrored threads become comments, end to end through the emulator."""

import asyncio
import time

from bot.comments.catchup import CLOCK_MARGIN
from bot.store.comments import list_comments, list_revisions
from bot.store.export import export_posts
from bot.store.mirrors import get_mirror
from bot.store.posts import get_post, save_source_post
from tests.mirror.test_mirroring import hostile_post, seed_post

ALL = ("cogs.admin", "cogs.mirror", "cogs.comments")


async def eventually(check, timeout=10.0):
    """Wait until the async `check` returns something truthy; never a blind sleep."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)


async def discord_comments(store, post_id):
    return [c for c in await list_comments(store, post_id) if c.source.value == "discord"]


async def mirrored(bot, source):
    saved = await save_source_post(bot.store, source)
    await bot.services.mirroring.run_once()
    mirror = await get_mirror(bot.store, saved.post.id)
    return saved.post.id, mirror.thread_id


async def test_live_replies_edits_deletes_reactions_and_locks(start_bot, emulator, members):
    alice, bob = members[:2]
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, seed_post())
        web_first = emulator.messages(thread_id)[1]  # the first web comment's message
        top = emulator.send_message(thread_id, alice, "I loved this film.")
        reply = emulator.send_message(thread_id, bob, "Me too!", reply_to=top.id)
        to_web = emulator.send_message(thread_id, bob, "Answering the site", reply_to=web_first.id)
        emulator.send_message(thread_id, alice, "", attachments=[("still.png", b"\x89PNG")])
        comments = await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 4)
        )
        by_message = {c.discord_message_id: c for c in comments}
        assert by_message[top.id].parent_id is None
        assert by_message[reply.id].parent_id == by_message[top.id].id
        assert by_message[to_web.id].parent_id is not None
        assert by_message[top.id].author_name == "alice"
        assert by_message[reply.id].author_name == "bob"

        emulator.edit_message(top.id, "I loved this film, truly.")
        emulator.delete_message(reply.id)
        emulator.add_reaction(top.id, bob, "👍")
        emulator.archive_thread(thread_id, locked=True)

        async def settled():
            comments = {c.discord_message_id: c for c in await discord_comments(bot.store, post_id)}
            post = await get_post(bot.store, post_id)
            return (
                comments[top.id].body == "I loved this film, truly."
                and comments[reply.id].status.value == "deleted"
                and post.comments_closed
            )

        await eventually(settled)
        assert await list_revisions(bot.store, by_message[top.id].id) == ["I loved this film."]
        (exported,) = await export_posts(bot.store, post_id)
        top_node = next(c for c in exported["comments"] if c["discord_message_id"] == str(top.id))
        assert await eventually(lambda: _reaction(bot.store, post_id, top.id))
        assert top_node["replies"][0]["status"] == "deleted"


async def _when(awaitable, condition):
    value = await awaitable
    return value if condition(value) else None


async def _reaction(store, post_id, message_id):
    (exported,) = await export_posts(store, post_id)
    node = next(c for c in exported["comments"] if c["discord_message_id"] == str(message_id))
    return node["reactions"] == {"👍": 1}


async def test_bot_and_webhook_messages_are_not_comments(start_bot, emulator, members):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, seed_post())
        thread = bot.get_channel(thread_id) or await bot.fetch_channel(thread_id)
        await thread.send("A notice from the bot")
        marker = emulator.send_message(thread_id, members[0], "a real reply")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) >= 1))
        # The writer applies events in arrival order: once the member's reply is stored, the
        # bot's notice and the 24 webhook messages before it have been judged too.
        comments = await discord_comments(bot.store, post_id)
        web = [c for c in await list_comments(bot.store, post_id) if c.source.value == "web"]
    assert [c.discord_message_id for c in comments] == [marker.id]
    assert len(web) == 24


async def test_messages_that_show_nothing_are_not_comments(start_bot, emulator, members):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        for blank in ("\u200d" * 2000, "\u2800\u3164 \u200b\n\u2060", "\ufe0f\u202e\u00ad"):
            emulator.send_message(thread_id, members[0], blank)
        picture = emulator.send_message(
            thread_id, members[0], "\u200b", attachments=[("still.png", b"\x89PNG")]
        )
        marker = emulator.send_message(thread_id, members[1], "a real reply")
        # Applied in arrival order: once the marker is stored, the ones before were decided.
        comments = await eventually(
            lambda: _when(
                discord_comments(bot.store, post_id),
                lambda c: marker.id in {comment.discord_message_id for comment in c},
            )
        )
    assert [c.discord_message_id for c in comments] == [picture.id, marker.id]


async def test_catch_up_after_downtime(start_bot, emulator, members):
    alice, bob = members[:2]
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        early = emulator.send_message(thread_id, alice, "before the outage")
        doomed = emulator.send_message(thread_id, bob, "will be deleted while away")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 2))
    # The bot is down: members keep writing, editing and deleting.
    written = [
        emulator.send_message(thread_id, alice if i % 2 else bob, f"missed {i}") for i in range(250)
    ]
    emulator.edit_message(early.id, "before the outage (edited)")
    emulator.delete_message(doomed.id)
    emulator.archive_thread(thread_id)  # archived by inactivity: still caught up
    async with start_bot(extensions=ALL) as bot:
        await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 252), 20
        )
        await eventually(lambda: _settled_edit(bot.store, post_id, early.id, doomed.id), 10)
        comments = await discord_comments(bot.store, post_id)
        mirror = await get_mirror(bot.store, post_id)
    assert {c.discord_message_id for c in comments} >= {m.id for m in written}
    assert mirror.sync_cursor == written[-1].id


async def _settled_edit(store, post_id, edited_id, deleted_id):
    by_message = {c.discord_message_id: c for c in await discord_comments(store, post_id)}
    return (
        by_message[edited_id].body == "before the outage (edited)"
        and by_message[deleted_id].status.value == "deleted"
    )


async def test_opt_out_removes_and_stops_storing(start_bot, emulator, members, community):
    alice = members[0]
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        emulator.send_message(thread_id, alice, "keep me? no")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 1))
        interaction = emulator.run_slash_command(
            community.text_channel_id, alice, "comments", {}, subcommand="opt-out"
        )
        await emulator.wait_for_response(interaction)
        emulator.send_message(thread_id, alice, "after opting out")
        emulator.send_message(thread_id, members[1], "someone else")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 2))
        comments = await discord_comments(bot.store, post_id)
    assert interaction.responses[0].ephemeral
    assert "1 stored comment(s) were removed" in interaction.responses[0].data["content"]
    removed = next(c for c in comments if c.author_id != comments[-1].author_id)
    assert removed.body == "" and removed.status.value == "deleted"
    assert comments[-1].body == "someone else"


async def test_a_new_session_catches_up_what_the_old_one_missed(start_bot, emulator, members):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        emulator.send_message(thread_id, members[0], "seen live")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 1))
        # The session ends without a resume; replies written meanwhile never arrive live.
        emulator.gateway_invalidate(resumable=False)
        missed = [emulator.send_message(thread_id, members[1], f"while away {i}") for i in range(3)]
        await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 4), 20
        )
        stored = {c.discord_message_id for c in await discord_comments(bot.store, post_id)}
    assert {m.id for m in missed} <= stored
    # They came from history, read after the new session's READY.
    assert len(emulator.journal.events_named("READY")) == 2


async def test_sync_thread_command_reconciles_for_admins(start_bot, emulator, members, community):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        emulator.send_message(thread_id, members[0], "hello")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 1))
        refused = emulator.run_slash_command(thread_id, members[0], "sync", {}, subcommand="thread")
        allowed = emulator.run_slash_command(
            thread_id, community.owner_id, "sync", {}, subcommand="thread"
        )
        await emulator.wait_for_response(refused)
        await emulator.wait_for_response(allowed, count=2)
    assert "Only admins" in refused.responses[0].data["content"]
    # The starter and the reply are read; the reply was already stored.
    assert (
        allowed.responses[-1]
        .data["content"]
        .startswith("Reconciled: 2 message(s) read, 0 new comment(s)")
    )
    assert allowed.responses[-1].ephemeral


async def test_bulk_delete_unlock_and_replies_in_archived_threads(start_bot, emulator, members):
    alice = members[0]
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        first = emulator.send_message(thread_id, alice, "one")
        second = emulator.send_message(thread_id, alice, "two")
        await eventually(lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 2))
        emulator.bulk_delete(thread_id, [first.id, second.id])
        emulator.archive_thread(thread_id, locked=True)

        async def deleted_and_closed():
            comments = await discord_comments(bot.store, post_id)
            post = await get_post(bot.store, post_id)
            return post.comments_closed and all(c.status.value == "deleted" for c in comments)

        await eventually(deleted_and_closed)
        emulator.modify_channel(thread_id, locked=False, archived=False)
        await eventually(lambda: _reopened(bot.store, post_id))
        # Archived by inactivity only: nothing closes, and a new reply brings it back.
        emulator.archive_thread(thread_id)
        later = emulator.send_message(thread_id, alice, "after the archive")
        comments = await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 3)
        )
        post = await get_post(bot.store, post_id)
    assert comments[-1].discord_message_id == later.id
    assert not post.comments_closed


async def _reopened(store, post_id):
    return not (await get_post(store, post_id)).comments_closed


async def test_live_edit_while_catch_up_holds_an_older_copy(start_bot, emulator, members):
    from bot.store.comments import find_comment_by_message

    alice = members[0]
    async with start_bot(extensions=ALL) as bot:
        _, thread_id = await mirrored(bot, hostile_post())
    written = [emulator.send_message(thread_id, alice, f"v1 {i}") for i in range(5)]
    # The first history page is computed, then its answer is held back, as when in flight;
    # meanwhile the member edits a message on that page.
    emulator.inject("GET", rf"/channels/{thread_id}/messages", delay=0.5, after=True)
    async with start_bot(extensions=ALL) as bot:
        await emulator.wait_for_request("GET", rf"/channels/{thread_id}/messages", timeout=10)
        emulator.edit_message(written[2].id, "v2 edited")
        await eventually(lambda: find_comment_by_message(bot.store, written[4].id))
        comment = await eventually(
            lambda: _when(
                find_comment_by_message(bot.store, written[2].id),
                lambda c: c is not None and c.body == "v2 edited",
            )
        )
        revisions = await list_revisions(bot.store, comment.id)
    assert revisions == ["v1 2"]


async def test_replies_the_writer_has_no_room_for_are_read_from_history(
    start_bot, emulator, members
):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        cog = bot.get_cog("comments")
        assert await cog.catch_up(thread_id)  # from now on its live replies move the cursor
        cog.writer.max_live_backlog = 5
        written = []
        # A long write holds the writer back while replies pour in.
        async with bot.store.transaction():
            for n in range(30):
                written.append(emulator.send_message(thread_id, members[n % 2], f"reply {n}"))
            await eventually(lambda: _true(cog.writer.live_backlog + cog.turned_away == 30))
            assert cog.writer.live_backlog == 5 and cog.turned_away == 25
            assert thread_id not in cog.caught_up  # its cursor must not pass the gap
        comments = await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 30)
        )
        await eventually(lambda: _true(not cog.behind and thread_id in cog.caught_up))
        mirror = await get_mirror(bot.store, post_id)
    assert sorted(c.discord_message_id for c in comments) == [m.id for m in written]
    assert [c.body for c in sorted(comments, key=lambda c: c.discord_message_id)] == [
        f"reply {n}" for n in range(30)
    ]
    assert mirror.sync_cursor == written[-1].id


async def _true(value):
    return value


async def test_replies_stored_live_are_not_taken_for_deleted_by_a_later_catch_up(
    start_bot, emulator, members
):
    async with start_bot(extensions=ALL) as bot:
        post_id, thread_id = await mirrored(bot, hostile_post())
        cog = bot.get_cog("comments")
        assert await cog.catch_up(thread_id)
        live = [emulator.send_message(thread_id, members[0], f"live {n}") for n in range(3)]
        await eventually(
            lambda: _when(discord_comments(bot.store, post_id), lambda c: len(c) == 3)
        )
        # Catch-up reads history up to where the thread stood, as the client's cache says.
        assert bot.get_channel(thread_id).last_message_id == live[-1].id
        # Catch-up judges only messages older than its clock margin: let the replies age.
        await asyncio.sleep(CLOCK_MARGIN.total_seconds() + 0.2)
        assert await cog.catch_up(thread_id)
        comments = await discord_comments(bot.store, post_id)
    assert [c.status.value for c in comments] == ["visible"] * 3
