"""Time in one shape everywhere: aware UTC datetimes in code, ISO-8601 UTC text in the store."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    """Fixed-width UTC text, so that string order in SQLite is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone before storing it")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


def from_db_optional(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)
