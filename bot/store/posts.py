"""Posts of the community, and their mirrors in Discord."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.store.database import Store
from bot.store.models import Mirror, MirrorState, Post


@dataclass(frozen=True, slots=True)
class NewPost:
    source: str
    external_id: str
    title: str
    url: str | None = None
    author_name: str | None = None
    content_html: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    published_at: datetime | None = None
    updated_at: datetime | None = None


def _optional_time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)


def post_from_row(row: sqlite3.Row) -> Post:
    return Post(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        title=row["title"],
        url=row["url"],
        author_name=row["author_name"],
        content_html=row["content_html"],
        image_url=row["image_url"],
        categories=tuple(json.loads(row["categories"])),
        published_at=from_db_optional(row["published_at"]),
        updated_at=from_db_optional(row["updated_at"]),
        created_at=from_db(row["created_at"]),
        comments_closed=bool(row["comments_closed"]),
    )


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
    )


async def add_post(store: Store, new: NewPost) -> tuple[Post, bool]:
    """Store a post unless one with the same source and external id exists.

    Returns the stored post and whether it was created now.
    """
    if not new.source or not new.external_id:
        raise ValueError("a post needs a source and an external id")
    async with store.transaction() as db:
        cursor = await db.execute(
            """
            INSERT INTO posts (source, external_id, title, url, author_name, content_html,
                               image_url, categories, published_at, updated_at, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (source, external_id) DO NOTHING
            """,
            (
                new.source,
                new.external_id,
                new.title,
                new.url,
                new.author_name,
                new.content_html,
                new.image_url,
                json.dumps(list(new.categories)),
                _optional_time(new.published_at),
                _optional_time(new.updated_at),
                to_db(utcnow()),
            ),
        )
        created = cursor.rowcount == 1
        async with db.execute(
            "SELECT * FROM posts WHERE source = ? AND external_id = ?",
            (new.source, new.external_id),
        ) as select:
            row = await select.fetchone()
    assert row is not None
    return post_from_row(row), created


async def get_post(store: Store, post_id: int) -> Post | None:
    row = await store.fetch_one("SELECT * FROM posts WHERE id = ?", (post_id,))
    return None if row is None else post_from_row(row)


async def find_post(store: Store, source: str, external_id: str) -> Post | None:
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE source = ? AND external_id = ?", (source, external_id)
    )
    return None if row is None else post_from_row(row)


async def count_posts(store: Store) -> int:
    return int(await store.fetch_value("SELECT count(*) FROM posts"))


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
) -> Mirror:
    """Create or move a post's mirror to `state`; given ids replace stored ones, others stay."""
    now = to_db(utcnow())
    async with store.transaction() as db:
        await db.execute(
            """
            INSERT INTO mirrors (post_id, state, channel_id, thread_id, starter_message_id,
                                 attempts, last_error, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (post_id) DO UPDATE SET
                state = excluded.state,
                channel_id = coalesce(excluded.channel_id, channel_id),
                thread_id = coalesce(excluded.thread_id, thread_id),
                starter_message_id = coalesce(excluded.starter_message_id, starter_message_id),
                attempts = attempts + excluded.attempts,
                last_error = excluded.last_error,
                updated_at = excluded.updated_at
            """,
            (
                post_id,
                state.value,
                channel_id,
                thread_id,
                starter_message_id,
                1 if count_attempt else 0,
                error,
                now,
            ),
        )
        async with db.execute("SELECT * FROM mirrors WHERE post_id = ?", (post_id,)) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return mirror_from_row(row)


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
