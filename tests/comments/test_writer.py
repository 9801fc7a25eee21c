"""The batching writer, against a real store."""

import asyncio
from datetime import UTC, datetime

from bot.comments.apply import BatchResult
from bot.comments.events import Created, Edited, IncomingMessage, SyncPolicy, snowflake_time
from bot.comments.writer import CommentWriter, merge_results
from bot.store.comments import list_comments
from bot.store.mirrors import record_mirror
from bot.store.models import MirrorState
from bot.store.posts import NewPost, add_post

THREAD = 4242
POLICY = SyncPolicy(own_user_id=1)


def message(n, content="hello", reply_to=None):
    message_id = (n + 1000) << 22
    return IncomingMessage(
        message_id=message_id,
        thread_id=THREAD,
        author_id=77,
        author_name="Ann",
        author_is_bot=False,
        webhook_id=None,
        kind="reply" if reply_to else "default",
        content=content,
        reply_to=reply_to,
        created_at=snowflake_time(message_id),
    )


async def mirrored_post(store):
    post, _ = await add_post(store, NewPost(source="t", external_id="1", title="Post"))
    await record_mirror(store, post.id, MirrorState.MIRRORED, thread_id=THREAD)
    return post.id


async def test_live_events_are_committed_in_order_in_few_batches(store):
    post_id = await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY)
    writer.start()
    try:
        for n in range(300):
            writer.submit(Created(message(n, f"comment {n}")))
        writer.submit(Edited(message(5).message_id, THREAD, "edited", datetime.now(UTC)))
        await writer.stop()  # commits everything queued first
    finally:
        await writer.stop()
    comments = await list_comments(store, post_id)
    assert [c.body for c in comments][:6] == [f"comment {n}" for n in range(5)] + ["edited"]
    assert len(comments) == 300 and writer.committed == 301


async def test_apply_waits_for_its_own_batch(store):
    await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY)
    writer.start()
    try:
        first, second = await asyncio.gather(
            writer.apply([Created(message(n)) for n in range(3)]),
            writer.apply([Created(message(n)) for n in range(3, 5)]),
        )
    finally:
        await writer.stop()
    assert (first.created, second.created) == (3, 2)


async def test_one_bad_event_does_not_take_its_batch_down(store):
    post_id = await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY)
    writer.start()
    # Text SQLite cannot encode (bot.comments.payloads cleans it; this event skipped that).
    bad = Created(message(9, "broken \ud800 text"))
    try:
        result = await writer.apply([Created(message(1)), bad, Created(message(2))])
    finally:
        await writer.stop()
    stored = {c.discord_message_id for c in await list_comments(store, post_id)}
    assert stored == {message(1).message_id, message(2).message_id}
    assert result.created == 2


def test_merge_results_adds_counts_and_reasons():
    merged = merge_results(
        BatchResult(created=1, skipped={"own message": 1}),
        BatchResult(created=2, edited=1, skipped={"own message": 2, "empty": 1}),
    )
    assert (merged.created, merged.edited) == (3, 1)
    assert merged.skipped == {"own message": 3, "empty": 1}


async def test_a_full_live_backlog_turns_replies_away_until_it_has_room(store):
    await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY, max_live_backlog=4)
    accepted = [writer.submit_reply(Created(message(n))) for n in range(6)]
    assert accepted == [True] * 4 + [False] * 2
    assert writer.live_backlog == 4
    writer.submit(Edited(message(1).message_id, THREAD, "edited", datetime.now(UTC)))  # always
    room = asyncio.create_task(writer.wait_for_room())
    await asyncio.sleep(0.01)
    assert not room.done()
    writer.start()
    try:
        await asyncio.wait_for(room, 5)
        await writer.stop()
    finally:
        await writer.stop()
    assert writer.live_backlog == 0 and writer.committed == 5
    assert writer.submit_reply(Created(message(7)))
