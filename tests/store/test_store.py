import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.store import Store
from bot.store.comments import (
    NewComment,
    add_comment,
    edit_comment,
    find_comment_by_message,
    list_comments,
    list_revisions,
    set_comment_status,
    upsert_author,
)
from bot.store.meta import get_meta, set_meta
from bot.store.mirrors import (
    count_mirrors_by_state,
    count_unmirrored_posts,
    find_mirror_by_thread,
    get_mirror,
    record_mirror,
)
from bot.store.models import CommentStatus, MirrorState, Source
from bot.store.posts import NewPost, add_post, find_post, get_post

WHEN = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


def sample_post(**changes):
    fields = {
        "source": "feed:https://example.org/feed",
        "external_id": "guid-1",
        "title": "Ai WeiWei: Still Not Sorry",
        "url": "https://example.org/ai-weiwei",
        "author_name": "Editor",
        "content_html": "<p>If there is no free speech…</p>",
        "categories": ("Art", "Film"),
        "published_at": WHEN,
    }
    return NewPost(**{**fields, **changes})


async def post_with_author(store):
    post, _ = await add_post(store, sample_post())
    author = await upsert_author(store, Source.DISCORD, "555", "Kathleen")
    return post, author


def discord_comment(post, author, message_id, **changes):
    fields = {
        "post_id": post.id,
        "author_id": author.id,
        "author_name": author.name,
        "body": "A comment",
        "source": Source.DISCORD,
        "created_at": WHEN,
        "discord_message_id": message_id,
    }
    return NewComment(**{**fields, **changes})


async def test_post_round_trip(store):
    post, created = await add_post(store, sample_post())
    assert created
    assert await get_post(store, post.id) == post
    assert post.categories == ("Art", "Film")
    assert post.published_at == WHEN
    assert post.created_at.tzinfo is not None
    assert await find_post(store, "feed:https://example.org/feed", "guid-1") == post


async def test_same_post_twice_is_one_post(store):
    first, created_first = await add_post(store, sample_post())
    second, created_second = await add_post(store, sample_post(title="Changed title"))
    assert (created_first, created_second) == (True, False)
    assert second == first
    other_source, created = await add_post(store, sample_post(source="wxr:example.org"))
    assert created and other_source.id != first.id


async def test_post_needs_source_and_external_id(store):
    with pytest.raises(ValueError):
        await add_post(store, sample_post(external_id=""))


async def test_mirror_states_and_unique_threads(store):
    post, _ = await add_post(store, sample_post())
    other, _ = await add_post(store, sample_post(external_id="guid-2"))
    assert await count_unmirrored_posts(store) == 2
    mirroring = await record_mirror(store, post.id, MirrorState.MIRRORING, count_attempt=True)
    assert (mirroring.state, mirroring.attempts) == (MirrorState.MIRRORING, 1)
    mirrored = await record_mirror(
        store, post.id, MirrorState.MIRRORED, channel_id=10, thread_id=20, starter_message_id=20
    )
    assert (mirrored.thread_id, mirrored.attempts) == (20, 1)
    assert await find_mirror_by_thread(store, 20) == mirrored
    assert await get_mirror(store, post.id) == mirrored
    with pytest.raises(sqlite3.IntegrityError):
        await record_mirror(store, other.id, MirrorState.MIRRORED, thread_id=20)
    # The failed write left nothing behind.
    assert await get_mirror(store, other.id) is None
    counts = await count_mirrors_by_state(store)
    assert counts[MirrorState.MIRRORED] == 1 and counts[MirrorState.FAILED] == 0
    assert await count_unmirrored_posts(store) == 1


async def test_comment_round_trip_and_nesting(store):
    post, author = await post_with_author(store)
    parent, _ = await add_comment(store, discord_comment(post, author, 1001))
    child, _ = await add_comment(store, discord_comment(post, author, 1002, parent_id=parent.id))
    assert child.parent_id == parent.id
    assert await find_comment_by_message(store, 1002) == child
    assert [c.id for c in await list_comments(store, post.id)] == [parent.id, child.id]
    assert child.status is CommentStatus.VISIBLE


async def test_same_discord_message_is_one_comment(store):
    post, author = await post_with_author(store)
    first, created = await add_comment(store, discord_comment(post, author, 2001))
    again, created_again = await add_comment(
        store, discord_comment(post, author, 2001, body="different")
    )
    assert (created, created_again) == (True, False)
    assert again == first
    assert len(await list_comments(store, post.id)) == 1


async def test_same_web_comment_is_one_comment(store):
    post, _ = await add_post(store, sample_post())
    author = await upsert_author(store, Source.WEB, "bill@example.org", "bill ritter")
    web = NewComment(
        post_id=post.id,
        author_id=author.id,
        author_name=author.name,
        body="From the site",
        source=Source.WEB,
        created_at=WHEN,
        external_id="wp-16",
    )
    _, created = await add_comment(store, web)
    _, created_again = await add_comment(store, web)
    assert (created, created_again) == (True, False)


async def test_constraints_refuse_impossible_rows(store):
    post, author = await post_with_author(store)
    with pytest.raises(sqlite3.IntegrityError):
        # A Discord comment without its message id.
        await add_comment(store, discord_comment(post, author, None))
    with pytest.raises(sqlite3.IntegrityError):
        await add_comment(store, discord_comment(post, author, 3001, parent_id=999_999))
    with pytest.raises(sqlite3.IntegrityError):
        await add_comment(store, discord_comment(post, author, 3002, post_id=999_999))
    assert await list_comments(store, post.id) == []


async def test_edit_keeps_previous_versions(store):
    post, author = await post_with_author(store)
    comment, _ = await add_comment(store, discord_comment(post, author, 4001, body="v1"))
    later = WHEN + timedelta(minutes=5)
    await edit_comment(store, comment.id, "v2", later)
    edited = await edit_comment(store, comment.id, "v3", later + timedelta(minutes=1))
    assert edited.body == "v3"
    assert edited.edited_at == later + timedelta(minutes=1)
    assert await list_revisions(store, comment.id) == ["v1", "v2"]
    unchanged = await edit_comment(store, comment.id, "v3", later + timedelta(hours=1))
    assert unchanged == edited
    assert await list_revisions(store, comment.id) == ["v1", "v2"]


async def test_status_change_keeps_the_row(store):
    post, author = await post_with_author(store)
    comment, _ = await add_comment(store, discord_comment(post, author, 5001))
    deleted = await set_comment_status(
        store, comment.id, CommentStatus.DELETED, "deleted in Discord"
    )
    assert (deleted.status, deleted.status_reason) == (CommentStatus.DELETED, "deleted in Discord")
    with pytest.raises(LookupError):
        await set_comment_status(store, 424242, CommentStatus.HELD)


async def test_author_upsert_refreshes_name(store):
    first = await upsert_author(store, Source.DISCORD, "77", "old name")
    second = await upsert_author(store, Source.DISCORD, "77", "new name")
    assert second.id == first.id and second.name == "new name"
    assert second.first_seen_at == first.first_seen_at


async def test_transaction_rolls_back_on_error(store):
    post, _ = await post_with_author(store)
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await db.execute("UPDATE posts SET title = 'half-written' WHERE id = ?", (post.id,))
            raise RuntimeError("boom")
    assert (await get_post(store, post.id)).title == post.title


async def test_transactions_do_not_nest(store):
    async with store.transaction():
        with pytest.raises(RuntimeError, match="nest"):
            async with store.transaction():
                pass


async def test_a_writer_cancelled_while_beginning_leaves_no_transaction_open(store):
    # Cancelled while BEGIN IMMEDIATE is on its way (as when the bot stops mid-write): the
    # next write must still be able to begin.
    async def write():
        async with store.transaction() as db:
            await db.execute("SELECT 1")

    task = asyncio.create_task(write())
    await asyncio.sleep(0)  # the task now awaits its BEGIN
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    post, _ = await add_post(store, sample_post())
    assert (await get_post(store, post.id)).title == post.title


async def test_readers_never_see_uncommitted_writes(store):
    post, _ = await add_post(store, sample_post())
    inside = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer():
        async with store.transaction() as db:
            await db.execute("UPDATE posts SET title = 'pending' WHERE id = ?", (post.id,))
            inside.set()
            await release.wait()

    writer = asyncio.create_task(slow_writer())
    await inside.wait()
    assert (await get_post(store, post.id)).title == post.title
    release.set()
    await writer
    assert (await get_post(store, post.id)).title == "pending"


async def test_concurrent_writers_are_serialised(store):
    await asyncio.gather(*(set_meta(store, f"key-{i}", str(i)) for i in range(50)))
    assert [await get_meta(store, f"key-{i}") for i in range(50)] == [str(i) for i in range(50)]
    await set_meta(store, "key-1", "replaced")
    assert await get_meta(store, "key-1") == "replaced"
    assert await get_meta(store, "never-set") is None


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    # Valid Unicode only (no lone surrogates): the store's callers guarantee it
    # (bot.comments.payloads, bot.mirror.sources). SQLite's length() stops at a NUL, which
    # sources strip too.
    title=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    external_id=st.text(
        st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=60,
    ),
    categories=st.lists(
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=30), max_size=6
    ),
)
async def test_any_text_round_trips(store, title, external_id, categories):
    # Examples share one database, so each gets its own source to stay a first arrival.
    source = f"example-{await store.fetch_value('SELECT count(*) FROM posts')}"
    new = sample_post(
        source=source, title=title, external_id=external_id, categories=tuple(categories)
    )
    post, created = await add_post(store, new)
    assert created
    stored = await get_post(store, post.id)
    assert (stored.title, stored.external_id, stored.categories) == (
        title,
        external_id,
        tuple(categories),
    )


async def test_writes_reach_the_database_file_while_the_store_stays_open(store, tmp_path):
    # Checkpoints run in the background: the file itself, without its WAL, soon holds what was
    # committed (the writer never stops to copy the WAL back).
    for number in range(50):
        await add_post(store, sample_post(external_id=f"guid-{number}"))
    copy = tmp_path / "copy.db"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    found = 0
    while found < 50 and loop.time() < deadline:
        await asyncio.sleep(0.1)
        copy.write_bytes(store.path.read_bytes())  # the main file alone, not the -wal beside it
        with sqlite3.connect(copy) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            if "posts" in tables:
                found = db.execute("SELECT count(*) FROM posts").fetchone()[0]
    assert found == 50


async def test_the_wal_stays_small_under_writes_that_never_pause(tmp_path, monkeypatch):
    # The writer's own checkpoint is put out of reach: only the background ones can keep the WAL
    # from growing by everything written while the stream lasts.
    from bot.store import database

    monkeypatch.setattr(database, "WRITER_CHECKPOINT_PAGES", 10**9)
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.05)
    monkeypatch.setattr(database, "RESTART_WAL_PAGES", 1000)  # 4 MB: a short test shows it
    value = "x" * 2000
    written = largest = 0

    def write_some(db: sqlite3.Connection) -> None:
        for _ in range(10):
            db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"key-{written}-{_}", value))

    async with Store.open(tmp_path / "stream.db") as store:
        wal = tmp_path / "stream.db-wal"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 1.5
        while loop.time() < deadline:
            await store.write_in_thread(write_some)  # back to back: the writer never pauses
            written += 10 * len(value)
            largest = max(largest, wal.stat().st_size if wal.exists() else 0)
        rows = await store.fetch_value("SELECT count(*) FROM meta WHERE key LIKE 'key-%'")
    assert rows == written // len(value)
    assert written > 20_000_000  # enough for a WAL that never starts over to show it
    assert largest < written / 4


async def test_a_batchs_lookups_of_its_messages_go_through_indexes(store):
    # Run for every batch of comments: a scan of the comments table in any of them makes the
    # writer's batches slower as the community's history grows.
    from bot.store import replies

    for name in ("_OURS", "_OPTED_OUT", "_STORED", "_TOMBSTONED", "_AWAITED", "_EDITED_EARLY"):
        plan = await store.fetch_all("EXPLAIN QUERY PLAN " + getattr(replies, name), ("[1, 2]",))
        steps = [row[-1] for row in plan if "json_each" not in row[-1]]
        assert steps[0].startswith("SEARCH"), (name, steps)
        if name == "_AWAITED":
            assert "comments_reply_to" in steps[0], steps
