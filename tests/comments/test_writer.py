"""The batching writer, against a real store."""

import asyncio
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

import bot.comments.writer as writer_module
from bot.comments.apply import BatchResult
from bot.comments.events import Created, Edited, IncomingMessage, SyncPolicy, snowflake_time
from bot.comments.writer import CommentWriter, WriterHealth, WritesFailing, merge_results
from bot.store.comments import list_comments
from bot.store.cursors import cursor_of
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


async def test_calls_waiting_together_share_a_commit_and_keep_their_own_results(
    store, monkeypatch
):
    post_id = await mirrored_post(store)
    commits: list[int] = []
    real = writer_module.apply_batches

    async def counted(store, calls, policy):
        commits.append(len(calls))
        return await real(store, calls, policy)

    monkeypatch.setattr(writer_module, "apply_batches", counted)
    writer = CommentWriter(store, lambda: POLICY)
    # Queued before the writer starts, as catch-up's pages queue up behind a busy writer.
    first = writer.enqueue([Created(message(n)) for n in range(3)])
    second = writer.enqueue([Created(message(n)) for n in range(3, 5)])
    writer.start()
    try:
        results = await asyncio.gather(first, second)
    finally:
        await writer.stop()
    assert [r.created for r in results] == [3, 2]
    assert commits == [2]  # both calls, one transaction
    assert await cursor_of(store, THREAD) is None  # enqueue() of Created() without advance
    assert len(await list_comments(store, post_id)) == 5


async def test_a_bad_event_in_one_of_the_waiting_calls_fails_none_of_the_others(store):
    post_id = await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY)
    bad = Created(message(9, "broken \ud800 text"))
    first = writer.enqueue([Created(message(1), advance_cursor=True)])
    second = writer.enqueue([Created(message(2), advance_cursor=True), bad])
    third = writer.enqueue([Created(message(3), advance_cursor=True)])
    writer.start()
    try:
        results = await asyncio.gather(first, second, third)
    finally:
        await writer.stop()
    assert [r.created for r in results] == [1, 1, 1]
    stored = {c.discord_message_id for c in await list_comments(store, post_id)}
    assert stored == {message(n).message_id for n in (1, 2, 3)}
    assert await cursor_of(store, THREAD) == message(3).message_id


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


async def page_limit(store, pages=None):
    """Limit the writer connection's database to `pages` (default: its size now), as a full
    disk would; returns the limit it had."""

    def limit(db):
        before = db.execute("PRAGMA max_page_count").fetchone()[0]
        size = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages or size}")
        return before

    return await store.write_in_thread(limit)


async def test_writes_the_database_refuses_wait_in_order_until_it_takes_them(store):
    post_id = await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY, retry_first=0.01, retry_max=0.05)
    writer.start()
    unlimited = await page_limit(store)
    try:
        with capture_logs() as logs:
            first = writer.enqueue([Created(message(n, "x" * 3000)) for n in range(20)])
            for n in range(20, 40):
                writer.submit(Created(message(n, "y" * 3000), advance_cursor=True))
            await eventually(lambda: writer.failing_since is not None)
            await asyncio.sleep(0.2)  # a few attempts refused
            health = writer.health
            assert not health.ok and health.error == "database or disk is full"
            assert health.waiting == 40 and writer.committed == 0
            await page_limit(store, unlimited)
            assert (await asyncio.wait_for(first, 5)).created == 20
            await writer.stop()
    finally:
        await writer.stop()
    comments = await list_comments(store, post_id)
    assert [c.discord_message_id for c in comments] == [message(n).message_id for n in range(40)]
    assert writer.health == WriterHealth() and writer.committed == 40
    assert await cursor_of(store, THREAD) == message(39).message_id
    assert [e["event"] for e in logs if e["event"].startswith("writes")] == [
        "writes failing",
        "writes recovered",
    ]
    recovered = next(e for e in logs if e["event"] == "writes recovered")
    assert recovered["waited"] >= 20 and recovered["failed_seconds"] >= 0.2
    assert not [e for e in logs if e["event"] == "sync event not applied"]


async def test_stopping_while_the_database_refuses_gives_up_after_the_grace(store):
    post_id = await mirrored_post(store)
    writer = CommentWriter(store, lambda: POLICY, retry_first=0.01, stop_grace=0.2)
    writer.start()
    await page_limit(store)
    waiting = writer.enqueue([Created(message(n, "x" * 3000)) for n in range(20)])
    await eventually(lambda: writer.failing_since is not None)
    with capture_logs() as logs:
        await asyncio.wait_for(writer.stop(), 5)
    with pytest.raises(WritesFailing):
        await waiting
    assert await list_comments(store, post_id) == []
    (gave_up,) = [e for e in logs if e["event"].startswith("writer stopped")]
    assert gave_up["events"] == 20
    assert await cursor_of(store, THREAD) is None


async def eventually(condition, timeout=5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
