"""Counters of how the bot's dealings with Discord went, kept per hour for the digest."""

from __future__ import annotations

from datetime import datetime

from bot.clock import to_db
from bot.store.database import ReadStore, Store

CATCH_UP = "catch-up"
RATE_LIMITED = "rate-limited"


def _hour(moment: datetime) -> str:
    return to_db(moment.replace(minute=0, second=0, microsecond=0))


async def count_event(store: Store, kind: str, at: datetime, count: int = 1) -> None:
    if count <= 0:
        return
    async with store.transaction() as db:
        await db.execute(
            """
            INSERT INTO health_counters (hour, kind, count) VALUES (?, ?, ?)
            ON CONFLICT (hour, kind) DO UPDATE SET count = count + excluded.count
            """,
            (_hour(at), kind, count),
        )


async def events_between(store: Store, kind: str, start: datetime, end: datetime) -> int:
    """Events counted in the hours starting within [start, end)."""
    value = await store.fetch_value(
        "SELECT coalesce(sum(count), 0) FROM health_counters "
        "WHERE kind = ? AND hour >= ? AND hour < ?",
        (kind, to_db(start), to_db(end)),
    )
    return int(value)


async def store_numbers(store: Store | ReadStore) -> dict[str, dict[str, int]]:
    """Counts for the operator's metrics: comments by status, mirrors by state, feed errors in a
    row, and 429 answers from Discord counted so far."""
    comments = await store.fetch_all("SELECT status, count(*) AS n FROM comments GROUP BY status")
    mirrors = await store.fetch_all("SELECT state, count(*) AS n FROM mirrors GROUP BY state")
    feed_errors = await store.fetch_value("SELECT coalesce(sum(consecutive_errors), 0) FROM feeds")
    rate_limited = await store.fetch_value(
        "SELECT coalesce(sum(count), 0) FROM health_counters WHERE kind = ?", (RATE_LIMITED,)
    )
    return {
        "comments": {row["status"]: row["n"] for row in comments},
        "mirrors": {row["state"]: row["n"] for row in mirrors},
        "feeds": {"errors": int(feed_errors)},
        "discord": {"rate_limited": int(rate_limited)},
    }
