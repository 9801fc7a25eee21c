"""Time in one shape everywhere: aware UTC datetimes in code, ISO-8601 UTC text in the store."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    """Fixed-width UTC text, so that string order in SQLite is time order."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: attach a timezone before storing it")
    # isoformat pads the year to four digits, where strftime("%Y") may not. In UTC it ends in
    # "+00:00", cut off here rather than by making a naive copy (every comment stored does this).
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def from_db(text: str) -> datetime:
    """Read our own format, and the ISO-8601 variants other programs may write (UTC if naive)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def from_db_optional(text: str | None) -> datetime | None:
    return None if text is None else from_db(text)
