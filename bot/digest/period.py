"""Digest periods: whole local days in the community's timezone.

A period runs between two local midnights, so its days are calendar days even across a DST
change (a day is 23, 24 or 25 hours long). The one exception is the week so far, which is
partial: it starts at the week's first midnight and ends at the moment it was asked for. Pure
date arithmetic, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) between two local midnights, or up to a moment when `partial`.

    Both are aware datetimes in the community's timezone (their tzinfo), so that `days` knows
    the calendar. Subtracting them directly would give wall-clock time: use `duration`.

    A partial period is a week so far (`current_week`): its last day is the local day `end`
    falls in, counted up to `end`. It may be empty, when asked for at the week's first instant.
    """

    start: datetime
    end: datetime
    partial: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware datetimes")
        start, end = self.start.astimezone(UTC), self.end.astimezone(UTC)
        if start > end or (start == end and not self.partial):
            raise ValueError("a period must start before it ends")

    @property
    def duration(self) -> timedelta:
        """Real elapsed time: 167 or 169 hours for a week across a DST change."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)

    @property
    def tz(self) -> ZoneInfo:
        zone = self.start.tzinfo
        return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of `day` in `tz`.

    Where midnight does not exist (a DST jump at 00:00), fold=0 reads it with the offset before
    the jump, which is the first instant that does exist; where it happens twice, the first.
    """
    naive = datetime.combine(day, time(0))
    moment = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return moment


def last_complete_period(
    now: datetime, tz: ZoneInfo, *, length_days: int = 7, week_start: int = 0
) -> Period:
    """The latest period of `length_days` local days that has ended by `now`.

    A seven-day period starts on `week_start` (0 = Monday, as `date.weekday()`); any other length
    ends at the latest local midnight. A `now` exactly on a boundary counts that period complete.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    if length_days < 1:
        raise ValueError("a period is at least one day")
    if not 0 <= week_start <= 6:
        raise ValueError("week_start is a weekday number, 0 (Monday) to 6 (Sunday)")
    today = now.astimezone(tz).date()
    # The end is the first instant of a local day on or before today, so never after `now`.
    end_day = today
    if length_days == 7:
        end_day = today - timedelta(days=(today.weekday() - week_start) % 7)
    return Period(
        local_midnight(end_day - timedelta(days=length_days), tz), local_midnight(end_day, tz)
    )


def current_week(now: datetime, tz: ZoneInfo, *, week_start: int = 0) -> Period:
    """The week so far: from the first local midnight of the week `now` falls in, to `now`.

    Partial, and never posted on schedule (the weekly digest is of complete weeks); it is what
    an admin previews to see today's activity. At the week's first instant it is empty.
    """
    complete = last_complete_period(now, tz, week_start=week_start)
    return Period(complete.end, now.astimezone(tz), partial=True)


def day_count(period: Period) -> int:
    """How many local days `period` covers (a partial period's last day counts, begun or not)."""
    tz = period.tz
    whole = (period.end.astimezone(tz).date() - period.start.astimezone(tz).date()).days
    return whole + 1 if period.partial else whole


def previous(period: Period) -> Period:
    """The period of as many local days just before `period`.

    Before a week so far: the same stretch of the week before, from its first midnight to the
    same local time a week earlier, so that the two compare like with like.
    """
    tz = period.tz
    first = period.start.astimezone(tz).date()
    if period.partial:
        end = period.end.astimezone(tz)
        # The same wall-clock time a week earlier; one that did not exist then (a DST gap)
        # reads with the offset before the gap, as `local_midnight` does.
        earlier = datetime.combine(end.date() - timedelta(days=7), end.time(), tzinfo=tz)
        start = local_midnight(first - timedelta(days=7), tz)
        return replace(period, start=start, end=max(start, earlier.astimezone(UTC).astimezone(tz)))
    return Period(local_midnight(first - timedelta(days=day_count(period)), tz), period.start)


def days(period: Period) -> list[date]:
    """The local calendar days of `period`, in order."""
    first = period.start.astimezone(period.tz).date()
    return [first + timedelta(days=offset) for offset in range(day_count(period))]


def day_bounds(period: Period) -> list[tuple[datetime, datetime]]:
    """Each local day of `period` as its [start, end) instants (23, 24 or 25 hours long; a
    partial period's last day ends at the period's end).

    In UTC, so that subtracting them gives real durations (not wall-clock ones).
    """
    tz = period.tz
    end = period.end.astimezone(UTC)
    return [
        (
            local_midnight(day, tz).astimezone(UTC),
            min(local_midnight(day + timedelta(days=1), tz).astimezone(UTC), end),
        )
        for day in days(period)
    ]
