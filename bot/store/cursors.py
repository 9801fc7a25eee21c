"""How far each post thread has been synced: its cursor (the newest message read in order) and
its last activity, moved in the same transaction as the comments they cover."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import to_db
from bot.store.database import Store


@dataclass(frozen=True, slots=True)
class MirrorRef:
    post_id: int
    thread_id: int
    sync_cursor: int | None


def posts_of_threads_in(db: sqlite3.Connection, thread_ids: Iterable[int]) -> dict[int, int]:
    """The post each of these threads mirrors (threads that mirror none are left out)."""
    rows = db.execute(
        "SELECT thread_id, post_id FROM mirrors "
        "WHERE thread_id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(thread_ids)),),
    ).fetchall()
    return {row["thread_id"]: row["post_id"] for row in rows}


def save_progress_in(
    db: sqlite3.Connection, progress: Iterable[tuple[int, datetime, int | None]]
) -> None:
    """For each (post, latest activity, cursor or None): move both forward, never back."""
    db.executemany(
        """
        UPDATE mirrors SET
            last_activity_at = max(coalesce(last_activity_at, ''), ?),
            sync_cursor = CASE WHEN ? IS NULL THEN sync_cursor
                               ELSE max(coalesce(sync_cursor, 0), ?) END
        WHERE post_id = ?
        """,
        [(to_db(moment), cursor, cursor, post_id) for post_id, moment, cursor in progress],
    )


async def cursor_of(store: Store, thread_id: int) -> int | None:
    """The newest message id synced from the thread; None if never synced or not mirrored."""
    value = await store.fetch_value(
        "SELECT sync_cursor FROM mirrors WHERE thread_id = ?", (thread_id,)
    )
    return None if value is None else int(value)


async def advance_cursor(store: Store, thread_id: int, message_id: int) -> None:
    """Move the cursor forward to `message_id` (never back): e.g. after an empty history page."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE mirrors SET sync_cursor = max(coalesce(sync_cursor, 0), ?) WHERE thread_id = ?",
            (message_id, thread_id),
        )


async def threads_to_catch_up(store: Store, since: datetime) -> list[MirrorRef]:
    """Mirrored threads that may have missed messages: active or mirrored since `since`, or
    never synced. Most recently active first."""
    rows = await store.fetch_all(
        """
        SELECT post_id, thread_id, sync_cursor FROM mirrors
        WHERE state = 'mirrored' AND thread_id IS NOT NULL
          AND (last_activity_at >= ?1 OR updated_at >= ?1 OR sync_cursor IS NULL)
        ORDER BY coalesce(last_activity_at, updated_at) DESC, post_id
        """,
        (to_db(since),),
    )
    return [MirrorRef(row["post_id"], row["thread_id"], row["sync_cursor"]) for row in rows]


async def stored_message_ids(store: Store, thread_id: int, from_id: int, to_id: int) -> set[int]:
    """Message ids of the live Discord comments written in this thread within [from_id, to_id].

    The comments' own thread, not their post's: a post given a new thread keeps the comments of
    the one it lost, and they are in no history the new thread can show. Found through the
    post (its comments' index): an index of their own on the thread would cost every insert."""
    rows = await store.fetch_all(
        """
        SELECT comments.discord_message_id FROM comments
        JOIN mirrors ON mirrors.post_id = comments.post_id
        WHERE mirrors.thread_id = ?1 AND comments.thread_id = ?1
          AND comments.source = 'discord' AND comments.status != 'deleted'
          AND comments.discord_message_id BETWEEN ?2 AND ?3
        """,
        (thread_id, from_id, to_id),
    )
    return {row["discord_message_id"] for row in rows}
