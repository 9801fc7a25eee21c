"""Applying thread events against a real migrated database: events in, comments out (nesting,
edits, deletions, reactions, locks, cursors, opt-out)."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bot.comments.apply as comment_apply
from bot.clock import utcnow
from bot.comments.apply import apply_batch
from bot.comments.events import (
    DISCORD_EPOCH_MS,
    Attachment,
    Created,
    Deleted,
    Edited,
    IncomingMessage,
    ReactionChanged,
    ReactionsSet,
    SyncPolicy,
    ThreadLocked,
    reconcile_window,
    snowflake_time,
)
from bot.store import Store
from bot.store.authors import REMOVED_AUTHOR_NAME, is_opted_out, opt_in, opt_out
from bot.store.comments import (
    NewComment,
    add_comment,
    find_comment_by_message,
    list_comments,
    list_revisions,
    upsert_author,
)
from bot.store.cursors import (
    MirrorRef,
    advance_cursor,
    cursor_of,
    stored_message_ids,
    threads_to_catch_up,
)
from bot.store.export import export_posts
from bot.store.mirrors import get_mirror, record_mirror
from bot.store.models import CommentStatus, MirrorState, Source
from bot.store.posts import NewPost, add_post, get_post
from bot.store.web_comments import record_posted

THREAD = 9_000
OTHER_THREAD = 9_001
BOT_ID = 1
WEBHOOK_ID = 77
POLICY = SyncPolicy(own_user_id=BOT_ID, own_webhook_ids=frozenset({WEBHOOK_ID}))
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PICTURE = Attachment("https://cdn.example/a.png", "a.png", 1234, "image/png")


def sid(n: int, start: datetime = T0) -> int:
    """A snowflake n seconds after `start`, so that ids and times grow together."""
    ms = int(start.timestamp() * 1000) + n * 1000 - DISCORD_EPOCH_MS
    return ms << 22


def msg(n, content="hello", *, author=100, name="Ann", reply_to=None, thread=THREAD, **changes):
    message_id = sid(n)
    fields = {
        "message_id": message_id,
        "thread_id": thread,
        "author_id": author,
        "author_name": name,
        "author_is_bot": False,
        "webhook_id": None,
        "kind": "default" if reply_to is None else "reply",
        "content": content,
        "reply_to": None if reply_to is None else sid(reply_to),
        "created_at": snowflake_time(message_id),
    }
    return IncomingMessage(**(fields | changes))


async def mirrored_post(store, thread_id=THREAD, external_id="p1"):
    post, _ = await add_post(store, NewPost(source="test", external_id=external_id, title="Post"))
    await record_mirror(store, post.id, MirrorState.MIRRORED, thread_id=thread_id)
    return post.id


async def by_message(store, n):
    comment = await find_comment_by_message(store, sid(n))
    assert comment is not None
    return comment


async def depth_of(store, comment):
    depth = 1
    while comment.parent_id is not None:
        comment = next(
            c for c in await list_comments(store, comment.post_id) if c.id == comment.parent_id
        )
        depth += 1
    return depth


@pytest.fixture
async def post_id(store):
    return await mirrored_post(store)


# Created


async def test_a_message_becomes_a_comment_with_its_author(store, post_id):
    message = msg(1, "first!", name="Ann B", attachments=(PICTURE,), has_stickers=True)
    result = await apply_batch(store, [Created(message)], POLICY)

    assert result.created == 1
    comment = await by_message(store, 1)
    assert comment.post_id == post_id
    assert comment.body == "first!"
    assert comment.author_name == "Ann B"
    assert comment.source is Source.DISCORD
    assert comment.status is CommentStatus.VISIBLE
    assert comment.parent_id is None
    assert comment.created_at == T0 + timedelta(seconds=1)
    author = await store.fetch_one("SELECT * FROM authors WHERE id = ?", (comment.author_id,))
    assert (author["source"], author["external_id"], author["name"]) == ("discord", "100", "Ann B")
    row = await store.fetch_one("SELECT * FROM comments WHERE id = ?", (comment.id,))
    assert json.loads(row["attachments"]) == [
        {"url": PICTURE.url, "filename": "a.png", "size": 1234, "content_type": "image/png"}
    ]
    assert row["has_stickers"] == 1
    mirror = await get_mirror(store, post_id)
    assert mirror.last_activity_at == comment.created_at


async def test_messages_that_are_not_comments_are_counted_by_reason(store, post_id):
    events = [
        Created(msg(1, author=BOT_ID)),
        Created(msg(2, webhook_id=WEBHOOK_ID, author_is_bot=True)),
        Created(msg(3, kind="system")),
        Created(msg(4, author_is_bot=True)),
        Created(msg(5, "")),
        Created(msg(6, "", has_stickers=True)),
    ]
    result = await apply_batch(store, events, POLICY)
    assert result.skipped == {
        "own message": 1,
        "threadbridge webhook": 1,
        "system message": 1,
        "other bot": 1,
        "empty": 1,
    }
    assert result.created == 1
    assert [c.discord_message_id for c in await list_comments(store, post_id)] == [sid(6)]


async def test_a_display_name_change_updates_the_author_but_not_old_comments(store, post_id):
    await apply_batch(store, [Created(msg(1, name="Ann"))], POLICY)
    await apply_batch(store, [Created(msg(2, name="Annie"))], POLICY)
    first, second = await list_comments(store, post_id)
    assert (first.author_name, second.author_name) == ("Ann", "Annie")
    assert first.author_id == second.author_id
    assert (
        await store.fetch_value("SELECT name FROM authors WHERE id = ?", (first.author_id,))
        == "Annie"
    )


async def test_a_reply_nests_under_the_replied_comment(store, post_id):
    await apply_batch(
        store,
        [Created(msg(1)), Created(msg(2, reply_to=1)), Created(msg(3, reply_to=2))],
        POLICY,
    )
    first, second, third = [await by_message(store, n) for n in (1, 2, 3)]
    assert first.parent_id is None
    assert second.parent_id == first.id
    assert third.parent_id == second.id
    row = await store.fetch_one(
        "SELECT reply_to_message_id FROM comments WHERE id = ?", (third.id,)
    )
    assert row[0] == sid(2)


async def test_replies_to_unknown_or_foreign_messages_are_top_level(store, post_id):
    await mirrored_post(store, OTHER_THREAD, "p2")
    await apply_batch(store, [Created(msg(1, thread=OTHER_THREAD))], POLICY)
    await apply_batch(
        store,
        [
            Created(msg(2, reply_to=999)),  # never seen (or the starter message)
            Created(msg(3, reply_to=1)),  # a comment of another post
            Created(msg(4, author=BOT_ID)),
            Created(msg(5, reply_to=4)),  # a message that is not a comment
        ],
        POLICY,
    )
    for n in (2, 3, 5):
        assert (await by_message(store, n)).parent_id is None


async def test_a_reply_to_a_web_comments_message_nests_under_the_web_comment(store, post_id):
    web_author = await upsert_author(store, Source.WEB, "web@example.org", "Web Person")
    web, _ = await add_comment(
        store,
        NewComment(
            post_id=post_id,
            author_id=web_author.id,
            author_name=web_author.name,
            body="<p>from the site</p>",
            source=Source.WEB,
            created_at=T0,
            external_id="w1",
        ),
    )
    await record_posted(store, web, THREAD, [sid(1), sid(2)])  # a long comment in two parts

    result = await apply_batch(
        store,
        [
            # Our webhook's messages come back through the gateway: never comments, even when
            # the webhook id is not (or no longer) known to the policy.
            Created(msg(1, "<p>from the site</p>", webhook_id=555, author_is_bot=True)),
            Created(msg(2, "(continued)", author=300)),
            Created(msg(3, reply_to=2)),
        ],
        replace(POLICY, include_other_bots=True),
    )
    assert result.skipped == {"threadbridge webhook": 2}
    assert (await by_message(store, 3)).parent_id == web.id


async def test_nesting_deeper_than_the_limit_attaches_to_the_deepest_allowed_ancestor(
    store, post_id
):
    policy = replace(POLICY, max_depth=3)
    chain = [Created(msg(1))] + [Created(msg(n, reply_to=n - 1)) for n in range(2, 7)]
    await apply_batch(store, chain, policy)

    comments = {n: await by_message(store, n) for n in range(1, 7)}
    parents = {n: comments[n].parent_id for n in comments}
    assert parents == {
        1: None,
        2: comments[1].id,
        3: comments[2].id,
        # 3 is at the limit: replies to it, and to anything deeper, go under 3's parent.
        4: comments[2].id,
        5: comments[2].id,
        6: comments[2].id,
    }
    for comment in comments.values():
        assert await depth_of(store, comment) <= 3


@pytest.mark.parametrize("max_depth", [1, 2, 5])
async def test_depth_limit_holds_for_any_limit(store, post_id, max_depth):
    policy = replace(POLICY, max_depth=max_depth)
    chain = [Created(msg(1))] + [Created(msg(n, reply_to=n - 1)) for n in range(2, 10)]
    await apply_batch(store, chain, policy)
    depths = [await depth_of(store, c) for c in await list_comments(store, post_id)]
    assert max(depths) == max_depth
    assert len(depths) == 9


async def test_the_same_message_twice_is_one_comment(store, post_id):
    first = await apply_batch(store, [Created(msg(1)), Created(msg(1, "changed?"))], POLICY)
    second = await apply_batch(store, [Created(msg(1), advance_cursor=True)], POLICY)

    assert (first.created, first.already_stored) == (1, 1)
    assert (second.created, second.already_stored) == (0, 1)
    comments = await list_comments(store, post_id)
    assert [(c.discord_message_id, c.body) for c in comments] == [(sid(1), "hello")]


async def test_events_for_unmirrored_threads_are_ignored(store, post_id):
    events = [
        Created(msg(1, thread=OTHER_THREAD), advance_cursor=True),
        Edited(sid(1), OTHER_THREAD, "x", T0),
        Deleted((sid(1),), OTHER_THREAD),
        ReactionChanged(sid(1), OTHER_THREAD, "👍", 1),
        ReactionsSet(sid(1), OTHER_THREAD, {"👍": 2}),
        ThreadLocked(OTHER_THREAD, True),
    ]
    result = await apply_batch(store, events, POLICY)
    assert result.unmirrored == 6
    assert result.created == 0
    assert await store.fetch_value("SELECT count(*) FROM comments") == 0
    assert await store.fetch_value("SELECT count(*) FROM authors") == 0
    assert await store.fetch_value("SELECT count(*) FROM deleted_messages") == 0


async def test_a_batch_of_500_messages_is_one_transaction(store, post_id):
    statements: list[str] = []
    await store._writer.set_trace_callback(statements.append)
    events = [
        Created(msg(n, f"reply {n}", author=100 + n % 7), advance_cursor=True) for n in range(500)
    ]
    result = await apply_batch(store, events, POLICY)
    await store._writer.set_trace_callback(None)

    assert result.created == 500
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1
    assert len(await list_comments(store, post_id)) == 500
    assert await cursor_of(store, THREAD) == sid(499)


# Cursor


async def test_the_cursor_moves_only_with_advance_cursor_and_only_forward(store, post_id):
    assert await cursor_of(store, THREAD) is None
    await apply_batch(store, [Created(msg(5))], POLICY)  # live: a gap may be before it
    assert await cursor_of(store, THREAD) is None

    await apply_batch(store, [Created(msg(3), advance_cursor=True)], POLICY)
    assert await cursor_of(store, THREAD) == sid(3)
    # Catch-up covers messages that are not comments as well.
    await apply_batch(store, [Created(msg(8, author=BOT_ID), advance_cursor=True)], POLICY)
    assert await cursor_of(store, THREAD) == sid(8)
    await apply_batch(store, [Created(msg(4), advance_cursor=True)], POLICY)
    assert await cursor_of(store, THREAD) == sid(8)

    await advance_cursor(store, THREAD, sid(2))
    assert await cursor_of(store, THREAD) == sid(8)
    await advance_cursor(store, THREAD, sid(9))
    assert await cursor_of(store, THREAD) == sid(9)
    assert await cursor_of(store, OTHER_THREAD) is None


async def test_a_batch_that_fails_midway_changes_nothing(store, post_id, monkeypatch):
    def broken_edit(*_args):  # the batch's steps run synchronously on the writer's thread
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(comment_apply, "_edit", broken_edit)
    events = [
        Created(msg(1), advance_cursor=True),
        Created(msg(2, reply_to=1), advance_cursor=True),
        Edited(sid(1), THREAD, "boom", T0),
        Created(msg(3), advance_cursor=True),
    ]
    with pytest.raises(RuntimeError):
        await apply_batch(store, events, POLICY)

    assert await list_comments(store, post_id) == []
    assert await cursor_of(store, THREAD) is None
    assert (await get_mirror(store, post_id)).last_activity_at is None
    assert await store.fetch_value("SELECT count(*) FROM authors") == 0

    monkeypatch.undo()
    await apply_batch(store, events, POLICY)  # the retry stores everything once
    assert len(await list_comments(store, post_id)) == 3
    assert await cursor_of(store, THREAD) == sid(3)


# Edits and deletes


async def test_an_edit_keeps_the_previous_body_as_a_revision(store, post_id):
    await apply_batch(store, [Created(msg(1, "v1"))], POLICY)
    edited_at = T0 + timedelta(minutes=5)
    result = await apply_batch(
        store,
        [
            Edited(sid(1), THREAD, "v2", edited_at),
            Edited(sid(1), THREAD, "v2", edited_at),  # the same edit again: no revision
            Edited(sid(1), THREAD, "v3", edited_at + timedelta(minutes=1), (PICTURE,)),
            Edited(sid(1), THREAD, "stale", edited_at),  # an older edit arriving late
        ],
        POLICY,
    )
    assert result.edited == 2
    comment = await by_message(store, 1)
    assert comment.body == "v3"
    assert comment.edited_at == edited_at + timedelta(minutes=1)
    assert await list_revisions(store, comment.id) == ["v1", "v2"]
    row = await store.fetch_one("SELECT attachments FROM comments WHERE id = ?", (comment.id,))
    assert json.loads(row[0])[0]["filename"] == "a.png"


async def test_an_attachment_only_edit_changes_attachments_without_a_revision(store, post_id):
    await apply_batch(store, [Created(msg(1, "pic", attachments=(PICTURE,)))], POLICY)
    await apply_batch(store, [Edited(sid(1), THREAD, "pic", T0 + timedelta(hours=1), ())], POLICY)
    comment = await by_message(store, 1)
    assert await list_revisions(store, comment.id) == []
    assert (
        await store.fetch_value("SELECT attachments FROM comments WHERE id = ?", (comment.id,))
        == "[]"
    )
    assert comment.edited_at == T0 + timedelta(hours=1)


async def test_edits_of_unknown_messages_are_ignored(store, post_id):
    await apply_batch(store, [Created(msg(2))], POLICY)
    result = await apply_batch(
        store,
        [
            Edited(sid(1), THREAD, "never seen", T0),
            Edited(sid(2), OTHER_THREAD, "wrong thread", T0),
        ],
        POLICY,
    )
    assert (result.edited, result.unknown, result.unmirrored) == (0, 1, 1)
    assert [c.body for c in await list_comments(store, post_id)] == ["hello"]
    assert await store.fetch_value("SELECT count(*) FROM comment_revisions") == 0


async def test_a_delete_marks_the_comment_deleted_and_replies_keep_their_parent(store, post_id):
    await apply_batch(store, [Created(msg(1)), Created(msg(2, reply_to=1))], POLICY)
    result = await apply_batch(store, [Deleted((sid(1), sid(50)), THREAD)], POLICY)

    assert (result.deleted, result.unknown) == (1, 1)
    parent = await by_message(store, 1)
    assert parent.status is CommentStatus.DELETED
    assert parent.body == "hello"  # the row stays; readers hide deleted comments
    assert (await by_message(store, 2)).parent_id == parent.id
    # A reply written later to the deleted message still finds it.
    await apply_batch(store, [Created(msg(3, reply_to=1))], POLICY)
    assert (await by_message(store, 3)).parent_id == parent.id
    # Edits of a deleted comment are ignored.
    await apply_batch(store, [Edited(sid(1), THREAD, "back?", T0 + timedelta(days=1))], POLICY)
    assert (await by_message(store, 1)).body == "hello"


async def test_deleting_a_web_comments_message_leaves_the_web_comment_alone(store, post_id):
    web_author = await upsert_author(store, Source.WEB, "web@example.org", "Web")
    web, _ = await add_comment(
        store,
        NewComment(post_id, web_author.id, "Web", "<p>hi</p>", Source.WEB, T0, external_id="w1"),
    )
    await record_posted(store, web, THREAD, [sid(1)])
    result = await apply_batch(
        store, [Deleted((sid(1),), THREAD), Edited(sid(1), THREAD, "rendered", T0)], POLICY
    )
    assert (result.deleted, result.unknown) == (0, 2)
    stored = (await list_comments(store, post_id))[0]
    assert (stored.status, stored.body) == (CommentStatus.VISIBLE, "<p>hi</p>")


# Reactions and locks


async def reactions(store, n):
    comment = await by_message(store, n)
    rows = await store.fetch_all(
        "SELECT emoji, count FROM comment_reactions WHERE comment_id = ?", (comment.id,)
    )
    return {row["emoji"]: row["count"] for row in rows}


async def test_reactions_are_counted_and_never_go_below_zero(store, post_id):
    await apply_batch(store, [Created(msg(1))], POLICY)
    await apply_batch(
        store,
        [
            ReactionChanged(sid(1), THREAD, "👍", 1),
            ReactionChanged(sid(1), THREAD, "👍", 1),
            ReactionChanged(sid(1), THREAD, "🎉", 1),
            ReactionChanged(sid(1), THREAD, "👍", -1),
            ReactionChanged(sid(1), THREAD, "❤️", -1),  # removal of one never counted
            ReactionChanged(sid(1), THREAD, "🎉", -1),
            ReactionChanged(sid(1), THREAD, "🎉", -1),
        ],
        POLICY,
    )
    assert await reactions(store, 1) == {"👍": 1}


async def test_reactions_set_replaces_the_counts(store, post_id):
    await apply_batch(store, [Created(msg(1))], POLICY)
    await apply_batch(store, [ReactionChanged(sid(1), THREAD, "👍", 1)], POLICY)
    result = await apply_batch(
        store,
        [
            ReactionsSet(sid(1), THREAD, {"🎉": 3, "<:custom:123>": 1, "👻": 0}),
            ReactionsSet(sid(2), THREAD, {"🎉": 3}),  # not a comment
            ReactionChanged(sid(2), THREAD, "🎉", 1),
        ],
        POLICY,
    )
    assert (result.reactions, result.unknown) == (1, 2)
    assert await reactions(store, 1) == {"🎉": 3, "<:custom:123>": 1}


async def test_locking_the_thread_closes_the_posts_comments(store, post_id):
    result = await apply_batch(store, [ThreadLocked(THREAD, True)], POLICY)
    assert result.locks == 1
    assert (await get_post(store, post_id)).comments_closed is True
    await apply_batch(store, [ThreadLocked(THREAD, False)], POLICY)
    assert (await get_post(store, post_id)).comments_closed is False


# Opting out


async def test_opting_out_removes_content_and_skips_future_messages(store, post_id):
    await apply_batch(
        store,
        [
            Created(msg(1, "mine", attachments=(PICTURE,))),
            Created(msg(2, "someone else", author=200, reply_to=1)),
            Created(msg(3, "mine too", reply_to=2)),
            Edited(sid(1), THREAD, "mine, edited", T0 + timedelta(minutes=1)),
            ReactionChanged(sid(1), THREAD, "👍", 1),
        ],
        POLICY,
    )
    assert await opt_out(store, 100) == 2
    assert await is_opted_out(store, 100)

    mine = await by_message(store, 1)
    assert (mine.body, mine.author_name, mine.status) == (
        "",
        REMOVED_AUTHOR_NAME,
        CommentStatus.DELETED,
    )
    assert await list_revisions(store, mine.id) == []
    assert await reactions(store, 1) == {}
    assert (
        await store.fetch_value("SELECT attachments FROM comments WHERE id = ?", (mine.id,)) == "[]"
    )
    assert (await by_message(store, 2)).parent_id == mine.id
    assert (await by_message(store, 2)).body == "someone else"
    author_name = await store.fetch_value("SELECT name FROM authors WHERE external_id = '100'")
    assert author_name == REMOVED_AUTHOR_NAME

    result = await apply_batch(
        store,
        [
            Created(msg(4, "after opting out")),
            Edited(sid(3), THREAD, "edit after opting out", T0 + timedelta(hours=1)),
        ],
        POLICY,
    )
    assert result.skipped == {"opted out": 1}
    assert await find_comment_by_message(store, sid(4)) is None
    assert (await by_message(store, 3)).body == ""
    assert await opt_out(store, 100) == 0  # nothing left to remove


async def test_opting_out_before_ever_writing_is_remembered(store, post_id):
    assert await opt_out(store, 500) == 0
    result = await apply_batch(store, [Created(msg(1, author=500))], POLICY)
    assert result.skipped == {"opted out": 1}


async def test_opting_in_stores_new_messages_but_restores_nothing(store, post_id):
    await apply_batch(store, [Created(msg(1, "old"))], POLICY)
    await opt_out(store, 100)
    await opt_in(store, 100)
    assert not await is_opted_out(store, 100)

    await apply_batch(store, [Created(msg(2, "new", name="Ann"))], POLICY)
    assert (await by_message(store, 1)).body == ""
    new = await by_message(store, 2)
    assert (new.body, new.author_name, new.status) == ("new", "Ann", CommentStatus.VISIBLE)


# Catching up


def sid_at(moment: datetime) -> int:
    return (int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22


async def test_threads_to_catch_up_are_active_recent_or_never_synced(store):
    now = utcnow()
    quiet = await mirrored_post(store, 1, "quiet")
    active = await mirrored_post(store, 2, "active")
    never = await mirrored_post(store, 3, "never")
    failed, _ = await add_post(store, NewPost(source="test", external_id="failed", title="F"))
    await record_mirror(store, failed.id, MirrorState.FAILED, thread_id=4)
    await add_post(store, NewPost(source="test", external_id="unmirrored", title="U"))

    def at(thread, moment):
        return Created(
            replace(msg(0, thread=thread), message_id=sid_at(moment), created_at=moment), True
        )

    await apply_batch(
        store, [at(1, now - timedelta(days=90)), at(2, now + timedelta(days=2))], POLICY
    )

    # Every mirror was recorded just now, so a window from an hour ago holds them all.
    assert {ref.post_id for ref in await threads_to_catch_up(store, now - timedelta(hours=1))} == {
        quiet,
        active,
        never,
    }
    later = await threads_to_catch_up(store, now + timedelta(days=1))
    assert later == [
        MirrorRef(active, 2, sid_at(now + timedelta(days=2))),
        MirrorRef(never, 3, None),
    ]


async def test_messages_deleted_while_offline_are_found_in_the_window(store, post_id):
    await apply_batch(store, [Created(msg(n)) for n in range(1, 7)], POLICY)
    await apply_batch(store, [Deleted((sid(2),), THREAD)], POLICY)

    stored = await stored_message_ids(store, THREAD, sid(2), sid(5))
    assert stored == {sid(3), sid(4), sid(5)}
    assert await stored_message_ids(store, OTHER_THREAD, 0, sid(9)) == set()

    history = {sid(3), sid(5), sid(8)}  # 4 was deleted while the bot was away
    missing = reconcile_window(stored, history)
    assert missing == (sid(4),)
    await apply_batch(store, [Deleted(missing, THREAD)], POLICY)
    assert (await by_message(store, 4)).status is CommentStatus.DELETED


# Out of order


async def test_edit_before_create_is_kept_and_applied_when_the_message_arrives(store, post_id):
    # Catch-up read an older copy of the message; the live edit overtook it.
    result = await apply_batch(
        store, [Edited(sid(1), THREAD, "edited", T0), Created(msg(1, "original"))], POLICY
    )
    assert (result.unknown, result.created) == (1, 1)
    comment = await by_message(store, 1)
    assert comment.body == "edited"
    assert await list_revisions(store, comment.id) == ["original"]


async def test_an_early_edit_older_than_the_stored_copy_changes_nothing(store, post_id):
    later = T0 + timedelta(minutes=5)
    await apply_batch(
        store,
        [
            Edited(sid(1), THREAD, "stale edit", T0),
            Created(msg(1, "newer text", edited_at=later)),
        ],
        POLICY,
    )
    assert (await by_message(store, 1)).body == "newer text"


async def test_a_creation_arriving_after_its_deletion_does_not_resurrect_it(store, post_id):
    await apply_batch(store, [Deleted((sid(1),), THREAD)], POLICY)
    result = await apply_batch(store, [Created(msg(1)), Created(msg(2, reply_to=1))], POLICY)
    assert result.created == 2
    deleted = await by_message(store, 1)
    # Stored as if it had been created and then deleted: the same end state either way.
    assert deleted.status is CommentStatus.DELETED
    assert (await by_message(store, 2)).parent_id == deleted.id
    assert (await by_message(store, 2)).status is CommentStatus.VISIBLE


# Bad input

ODD_TEXTS = [
    "x" * 2000,
    "e\u0301\u0301\u0301 Z\u0351\u0352\u0353\u0354\u0355",
    "مرحبا بالعالم \u202eRTL override\u202c",
    "👩‍👩‍👧‍👦 🏳️‍🌈 👍🏽",
    "null\x00byte \x01\x07\x1b[31m bell\r\n\ttab",
    "'); DROP TABLE comments;--",
    "NULL",
    "%_\\ LIKE wildcards",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
async def test_odd_text_is_stored_literally(store, post_id, text):
    await apply_batch(store, [Created(msg(1, text, name=text[:80]))], POLICY)
    await apply_batch(
        store, [Edited(sid(1), THREAD, text + "!", T0 + timedelta(minutes=1))], POLICY
    )
    comment = await by_message(store, 1)
    assert comment.body == text + "!"
    assert comment.author_name == text[:80]
    assert await list_revisions(store, comment.id) == [text]
    exported = json.loads(json.dumps(await export_posts(store, post_id)))
    assert exported[0]["comments"][0]["body"] == text + "!"
    assert await store.fetch_value("SELECT count(*) FROM comments") == 1


async def test_odd_emoji_reactions_are_counted_literally(store, post_id):
    await apply_batch(store, [Created(msg(1))], POLICY)
    names = ["👩‍👩‍👧‍👦", "'); DROP TABLE comment_reactions;--", "<:a:1>", "\u0301"]
    await apply_batch(store, [ReactionChanged(sid(1), THREAD, name, 1) for name in names], POLICY)
    await apply_batch(store, [ReactionChanged(sid(1), THREAD, "", 1)], POLICY)
    assert await reactions(store, 1) == dict.fromkeys(names, 1)


# Export


def trees():
    """A random forest: each comment replies to nothing or to an earlier one (index)."""
    return st.lists(st.none() | st.integers(min_value=0), max_size=40).map(
        lambda picks: [None if p is None or i == 0 else p % i for i, p in enumerate(picks)]
    )


def nested_parents(parents, max_depth):
    """Where each comment belongs when messages arrive in order (the WordPress depth rule)."""
    paths: dict[int, list[int]] = {}
    found: dict[int, int | None] = {}
    for i, p in enumerate(parents):
        above = [] if p is None else paths[p][: max_depth - 1]
        found[i] = above[-1] if above else None
        paths[i] = [*above, i]
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    trees().flatmap(lambda p: st.tuples(st.just(p), st.permutations(range(len(p))))),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=5),
)
def test_arrival_order_does_not_change_where_replies_nest(tree_and_order, max_depth, batch_size):
    parents, order = tree_and_order

    async def scenario(path: Path):
        async with Store.open(path) as store:
            await mirrored_post(store)
            events = [
                Created(msg(i + 1, reply_to=None if parents[i] is None else parents[i] + 1))
                for i in order
            ]
            policy = replace(POLICY, max_depth=max_depth)
            for start in range(0, len(events), batch_size):
                await apply_batch(store, events[start : start + batch_size], policy)
            comments = await list_comments(store, 1)
            by_id = {c.id: c.discord_message_id for c in comments}
            return {c.discord_message_id: by_id.get(c.parent_id) for c in comments}

    with tempfile.TemporaryDirectory() as folder:
        stored = asyncio.run(scenario(Path(folder) / "order.db"))
    expected = nested_parents(parents, max_depth)
    assert stored == {sid(i + 1): None if p is None else sid(p + 1) for i, p in expected.items()}


async def test_a_reply_stored_before_its_parent_is_nested_when_the_parent_arrives(store, post_id):
    policy = replace(POLICY, max_depth=3)
    # Live replies while catch-up has not yet stored the chain 1 <- 2 <- 3 <- 4 <- 5.
    await apply_batch(store, [Created(msg(5, reply_to=4)), Created(msg(4, reply_to=3))], policy)
    assert (await by_message(store, 5)).parent_id == (await by_message(store, 4)).id
    assert (await by_message(store, 4)).parent_id is None
    await apply_batch(
        store,
        [Created(msg(n, reply_to=None if n == 1 else n - 1), True) for n in (1, 2, 3)],
        policy,
    )
    ids = {n: (await by_message(store, n)).id for n in range(1, 6)}
    parents = {n: (await by_message(store, n)).parent_id for n in range(1, 6)}
    assert parents == {1: None, 2: ids[1], 3: ids[2], 4: ids[2], 5: ids[2]}


async def test_an_empty_batch_does_nothing(store, post_id):
    assert await apply_batch(store, [], POLICY) == comment_apply.BatchResult()


async def test_a_message_read_from_history_keeps_its_edited_time(store, post_id):
    edited_at = T0 + timedelta(hours=2)
    await apply_batch(
        store, [Created(msg(1, "edited before we saw it", edited_at=edited_at))], POLICY
    )
    assert (await by_message(store, 1)).edited_at == edited_at


async def test_a_message_replying_to_itself_is_stored_at_the_top_level(store, post_id):
    # Discord cannot produce one, but a crafted or corrupted payload can: it must not take its
    # batch down, nor be dropped.
    result = await apply_batch(
        store,
        # The reply arrives first (live, while catch-up holds the message it answers).
        [Created(msg(1)), Created(msg(3, reply_to=2)), Created(msg(2, "loop", reply_to=2))],
        POLICY,
    )
    assert result.created == 3
    looped, child = await by_message(store, 2), await by_message(store, 3)
    assert looped.parent_id is None
    assert child.parent_id == looped.id


# One batch or many


def thread_events():
    """Random creations (some twice, some replies, some before what they answer), edits and
    deletions of eight messages in two threads, by two authors, one of whom opted out."""
    number = st.integers(min_value=1, max_value=8)
    created = st.builds(
        lambda n, reply, author, other: Created(
            msg(
                n,
                f"text {n}",
                author=author,
                reply_to=reply,
                thread=OTHER_THREAD if other else THREAD,
            )
        ),
        number,
        st.none() | number,
        st.sampled_from([100, 200]),
        st.booleans(),
    )
    edited = st.builds(
        lambda n, second: Edited(
            sid(n), THREAD, f"edit {n} {second}", T0 + timedelta(hours=1, seconds=second)
        ),
        number,
        st.integers(min_value=0, max_value=59),
    )
    deleted = st.builds(
        lambda ns: Deleted(tuple(sorted({sid(n) for n in ns})), THREAD),
        st.lists(number, min_size=1, max_size=2),
    )
    return st.lists(st.one_of(created, created, edited, deleted), max_size=25)


async def test_a_reply_in_the_batch_that_nested_its_parent_hangs_by_the_new_path(store, post_id):
    # 2 arrives before 1, which it answers: it waits at the top level until 1 is stored in the
    # same batch and takes it in. 3 answers 2, now at the depth limit: it hangs under 1.
    policy = replace(POLICY, max_depth=2)
    batch = [Created(msg(2, reply_to=1)), Created(msg(1)), Created(msg(3, reply_to=2))]
    await apply_batch(store, batch, policy)
    first = await by_message(store, 1)
    assert (await by_message(store, 2)).parent_id == first.id
    assert (await by_message(store, 3)).parent_id == first.id


async def store_state(store):
    rows = await store.fetch_all(
        """
        SELECT c.discord_message_id, c.post_id, c.status, c.body, c.edited_at,
               p.discord_message_id AS parent_message
        FROM comments c LEFT JOIN comments p ON p.id = c.parent_id
        ORDER BY c.discord_message_id
        """
    )
    early = await store.fetch_all("SELECT message_id, content FROM early_edits ORDER BY 1")
    deleted = await store.fetch_all("SELECT message_id FROM deleted_messages ORDER BY 1")
    revisions = await store.fetch_value("SELECT count(*) FROM comment_revisions")
    return [tuple(r) for r in rows], [tuple(r) for r in early], [r[0] for r in deleted], revisions


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(thread_events(), st.integers(min_value=1, max_value=4))
def test_one_batch_stores_what_one_event_per_batch_stores(events, max_depth):
    """The writer reads what the store knows of a batch's messages once, then keeps it true as
    it writes: any sequence applied as one batch must leave the store as one event per batch
    (each reading the store afresh) does."""
    policy = replace(POLICY, max_depth=max_depth)

    async def scenario(path: Path, batch_size: int):
        async with Store.open(path) as store:
            await mirrored_post(store)
            await mirrored_post(store, OTHER_THREAD, "p2")
            await opt_out(store, 200)
            for start in range(0, len(events), batch_size):
                await apply_batch(store, events[start : start + batch_size], policy)
            return await store_state(store)

    with tempfile.TemporaryDirectory() as folder:
        one_by_one = asyncio.run(scenario(Path(folder) / "single.db", 1))
        together = asyncio.run(scenario(Path(folder) / "batch.db", max(len(events), 1)))
    assert together == one_by_one
