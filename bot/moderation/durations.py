"""Durations as moderators type them ("30m", "2h", "7d", "1w 2d") and as the bot writes them."""

from __future__ import annotations

import re
from datetime import timedelta

MIN_DURATION = timedelta(minutes=1)
MAX_DURATION = timedelta(days=365)

_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_ALIASES = {
    "week": "w", "weeks": "w", "day": "d", "days": "d", "hour": "h", "hours": "h", "hr": "h",
    "hrs": "h", "min": "m", "mins": "m", "minute": "m", "minutes": "m", "sec": "s", "secs": "s",
    "second": "s", "seconds": "s",
}  # fmt: skip
_PART = re.compile(r"(\d{1,6})\s*([a-z]+)")


class DurationError(ValueError):
    """A duration that cannot be read or is out of bounds; the message is safe to show."""


def parse_duration(text: str) -> timedelta:
    """Read "1w 2d", "90m", "12 hours": one or more amounts, each with its unit."""
    cleaned = text.strip().lower().replace(",", " ")
    if not cleaned:
        raise DurationError("Give a duration such as 30m, 12h, 7d or 2w.")
    total = timedelta(0)
    position = 0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break
        unit = _ALIASES.get(match.group(2), match.group(2))
        if unit not in _UNITS:
            raise DurationError(
                f"{match.group(2)!r} is not a unit: use w, d, h, m or s (e.g. 7d, 12h)."
            )
        total += int(match.group(1)) * _UNITS[unit]
        position = match.end()
    if position != len(cleaned) or position == 0:
        shown = text.strip()[:40]
        raise DurationError(f"{shown!r} is not a duration: use e.g. 30m, 12h, 7d or 2w.")
    if total < MIN_DURATION:
        raise DurationError("The shortest duration is 1 minute.")
    if total > MAX_DURATION:
        raise DurationError("The longest duration is 365 days; leave it out for no end.")
    return total


def format_duration(duration: timedelta) -> str:
    """The largest units first, at most two of them: "2d 3h", "45m", "1w"."""
    seconds = int(duration.total_seconds())
    parts: list[str] = []
    for unit in ("w", "d", "h", "m", "s"):
        size = int(_UNITS[unit].total_seconds())
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2]) or "0s"
