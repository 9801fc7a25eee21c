"""Where each feed's polling stands: validators for conditional GETs, errors and backoff."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db_optional, to_db
from bot.store.database import Store


@dataclass(frozen=True, slots=True)
class FeedState:
    url: str
    etag: str | None
    last_modified: str | None
    first_polled_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    consecutive_errors: int
    retry_after: datetime | None


def _feed_from_row(row: sqlite3.Row) -> FeedState:
    return FeedState(
        url=row["url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        first_polled_at=from_db_optional(row["first_polled_at"]),
        last_polled_at=from_db_optional(row["last_polled_at"]),
        last_success_at=from_db_optional(row["last_success_at"]),
        last_error=row["last_error"],
        consecutive_errors=row["consecutive_errors"],
        retry_after=from_db_optional(row["retry_after"]),
    )


async def get_feed(store: Store, url: str) -> FeedState | None:
    row = await store.fetch_one("SELECT * FROM feeds WHERE url = ?", (url,))
    return None if row is None else _feed_from_row(row)


async def list_feeds(store: Store) -> list[FeedState]:
    return [
        _feed_from_row(row) for row in await store.fetch_all("SELECT * FROM feeds ORDER BY url")
    ]


async def record_feed_success(
    store: Store, url: str, *, now: datetime, etag: str | None, last_modified: str | None
) -> FeedState:
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO feeds (url, etag, last_modified, first_polled_at, last_polled_at,
                               last_success_at, consecutive_errors)
            VALUES (?, ?, ?, ?, ?, ?, 0)
            ON CONFLICT (url) DO UPDATE SET
                etag = excluded.etag, last_modified = excluded.last_modified,
                first_polled_at = coalesce(first_polled_at, excluded.first_polled_at),
                last_polled_at = excluded.last_polled_at,
                last_success_at = excluded.last_success_at,
                last_error = NULL, consecutive_errors = 0, retry_after = NULL
            RETURNING *
            """,
            (url, etag, last_modified, to_db(now), to_db(now), to_db(now)),
        ) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return _feed_from_row(row)


async def record_feed_error(
    store: Store, url: str, *, now: datetime, error: str, retry_after: datetime
) -> FeedState:
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO feeds (url, last_polled_at, last_error, consecutive_errors, retry_after)
            VALUES (?, ?, ?, 1, ?)
            ON CONFLICT (url) DO UPDATE SET
                last_polled_at = excluded.last_polled_at, last_error = excluded.last_error,
                consecutive_errors = consecutive_errors + 1, retry_after = excluded.retry_after
            RETURNING *
            """,
            (url, to_db(now), error, to_db(retry_after)),
        ) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return _feed_from_row(row)
