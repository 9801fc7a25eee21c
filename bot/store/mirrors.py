"""Each post's mirror in Discord: its thread, its starter message and where mirroring stands."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.store.database import Store
from bot.store.models import Mirror, MirrorState, Post
from bot.store.posts import post_from_row


def mirror_from_row(row: sqlite3.Row) -> Mirror:
    return Mirror(
        post_id=row["post_id"],
        state=MirrorState(row["state"]),
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        starter_message_id=row["starter_message_id"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        sync_cursor=row["sync_cursor"],
        last_activity_at=from_db_optional(row["last_activity_at"]),
        updated_at=from_db(row["updated_at"]),
        retry_after=from_db_optional(row["retry_after"]),
        failure_reported=bool(row["failure_reported"]),
        starter_stale=bool(row["starter_stale"]),
    )


async def get_mirror(store: Store, post_id: int) -> Mirror | None:
    row = await store.fetch_one("SELECT * FROM mirrors WHERE post_id = ?", (post_id,))
    return None if row is None else mirror_from_row(row)


async def find_mirror_by_thread(store: Store, thread_id: int) -> Mirror | None:
    row = await store.fetch_one("SELECT * FROM mirrors WHERE thread_id = ?", (thread_id,))
    return None if row is None else mirror_from_row(row)


async def record_mirror(
    store: Store,
    post_id: int,
    state: MirrorState,
    *,
    channel_id: int | None = None,
    thread_id: int | None = None,
    starter_message_id: int | None = None,
    error: str | None = None,
    count_attempt: bool = False,
    retry_after: datetime | None = None,
) -> Mirror:
    """Create or move a post's mirror to `state`; given ids replace stored ones, others stay.

    Reaching 'mirrored' (or 'skipped') clears the error and the failure-reported flag.
    """
    healthy = state in (MirrorState.MIRRORED, MirrorState.SKIPPED)
    async with store.transaction() as db, db.execute(
        """
        INSERT INTO mirrors (post_id, state, channel_id, thread_id, starter_message_id,
                             attempts, last_error, updated_at, retry_after)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (post_id) DO UPDATE SET
            state = excluded.state,
            channel_id = coalesce(excluded.channel_id, channel_id),
            thread_id = coalesce(excluded.thread_id, thread_id),
            starter_message_id = coalesce(excluded.starter_message_id, starter_message_id),
            attempts = attempts + excluded.attempts,
            last_error = excluded.last_error,
            updated_at = excluded.updated_at,
            retry_after = excluded.retry_after,
            failure_reported = CASE WHEN ? THEN 0 ELSE failure_reported END
        RETURNING *
        """,
        (
            post_id,
            state.value,
            channel_id,
            thread_id,
            starter_message_id,
            1 if count_attempt else 0,
            error,
            to_db(utcnow()),
            None if retry_after is None else to_db(retry_after),
            healthy,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return mirror_from_row(row)


async def forget_thread(store: Store, post_id: int) -> Mirror:
    """Drop a mirror's thread and starter so that the post is mirrored anew (a repost)."""
    async with store.transaction() as db:
        async with db.execute(
            """
            UPDATE mirrors SET state = 'new', thread_id = NULL, starter_message_id = NULL,
                   last_error = NULL, retry_after = NULL, failure_reported = 0, attempts = 0,
                   sync_cursor = NULL, starter_stale = 0, updated_at = ?
            WHERE post_id = ? RETURNING *
            """,
            (to_db(utcnow()), post_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise LookupError(f"post {post_id} has no mirror")
        # The comments' messages were in the old thread: post them again in the new one.
        await db.execute(
            "DELETE FROM web_comment_mirrors WHERE comment_id IN "
            "(SELECT id FROM comments WHERE post_id = ? AND source = 'web')",
            (post_id,),
        )
        await db.execute(
            "DELETE FROM comment_messages WHERE comment_id IN "
            "(SELECT id FROM comments WHERE post_id = ? AND source = 'web')",
            (post_id,),
        )
        await db.execute(
            "UPDATE comments SET discord_message_id = NULL WHERE post_id = ? AND source = 'web'",
            (post_id,),
        )
    return mirror_from_row(row)


async def mark_failure_reported(store: Store, post_id: int) -> None:
    async with store.transaction() as db:
        await db.execute("UPDATE mirrors SET failure_reported = 1 WHERE post_id = ?", (post_id,))


async def mark_starter_fresh(store: Store, post_id: int) -> None:
    async with store.transaction() as db:
        await db.execute("UPDATE mirrors SET starter_stale = 0 WHERE post_id = ?", (post_id,))


async def posts_to_mirror(
    store: Store, now: datetime, *, limit: int = 50
) -> list[tuple[Post, Mirror | None]]:
    """Posts waiting for a thread, oldest first: never tried, interrupted, or due for a retry."""
    rows = await store.fetch_all(
        """
        SELECT posts.*
        FROM posts LEFT JOIN mirrors ON mirrors.post_id = posts.id
        WHERE mirrors.post_id IS NULL
           OR mirrors.state IN ('new', 'mirroring')
           OR (mirrors.state = 'failed' AND (mirrors.retry_after IS NULL
                                             OR mirrors.retry_after <= ?))
        ORDER BY coalesce(posts.published_at, posts.created_at), posts.id
        LIMIT ?
        """,
        (to_db(now), limit),
    )
    posts = [post_from_row(row) for row in rows]
    mirrors = await _mirrors_of(store, [post.id for post in posts])
    return [(post, mirrors.get(post.id)) for post in posts]


async def _mirrors_of(store: Store, post_ids: list[int]) -> dict[int, Mirror]:
    """The mirrors of these posts, in one query."""
    if not post_ids:
        return {}
    rows = await store.fetch_all(
        "SELECT * FROM mirrors WHERE post_id IN (SELECT value FROM json_each(?))",
        (json.dumps(post_ids),),
    )
    return {row["post_id"]: mirror_from_row(row) for row in rows}


async def stale_starters(store: Store) -> list[tuple[Post, Mirror]]:
    rows = await store.fetch_all(
        "SELECT * FROM mirrors WHERE starter_stale = 1 AND state = 'mirrored'"
    )
    mirrors = {row["post_id"]: mirror_from_row(row) for row in rows}
    posts = await store.fetch_all(
        "SELECT * FROM posts WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(mirrors)),),
    )
    return [(post_from_row(post), mirrors[post["id"]]) for post in posts]


async def list_mirrors(store: Store, states: tuple[MirrorState, ...]) -> list[Mirror]:
    marks = ",".join("?" for _ in states)
    rows = await store.fetch_all(
        f"SELECT * FROM mirrors WHERE state IN ({marks}) ORDER BY post_id",  # noqa: S608
        [state.value for state in states],
    )
    return [mirror_from_row(row) for row in rows]


async def count_mirrors_by_state(store: Store) -> dict[MirrorState, int]:
    rows = await store.fetch_all("SELECT state, count(*) AS n FROM mirrors GROUP BY state")
    counts = dict.fromkeys(MirrorState, 0)
    for row in rows:
        counts[MirrorState(row["state"])] = row["n"]
    return counts


async def count_unmirrored_posts(store: Store) -> int:
    return int(
        await store.fetch_value(
            "SELECT count(*) FROM posts WHERE NOT EXISTS "
            "(SELECT 1 FROM mirrors WHERE mirrors.post_id = posts.id)"
        )
    )
