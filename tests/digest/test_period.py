"""Digest periods: whole local days in the community's timezone, across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.digest.period import (
    Period,
    current_week,
    day_bounds,
    day_count,
    days,
    last_complete_period,
    local_midnight,
    previous,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
SANTIAGO = ZoneInfo("America/Santiago")  # its DST changes happen at midnight
ZONES = [
    UTC_ZONE,
    PARIS,
    NEW_YORK,
    SANTIAGO,
    ZoneInfo("Australia/Lord_Howe"),  # half-hour DST
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "start", "end", "hours"),
    [
        # Paris springs forward on Sunday 29 March 2026: that week is 167 hours.
        (utc(2026, 3, 31, 10), PARIS, utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167),
        # ... and falls back on Sunday 25 October 2026: 169 hours.
        (utc(2026, 10, 27, 10), PARIS, utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 169),
        # New York falls back on Sunday 1 November 2026.
        (utc(2026, 11, 4, 15), NEW_YORK, utc(2026, 10, 26, 4), utc(2026, 11, 2, 5), 169),
        # An ordinary week in New York.
        (utc(2026, 11, 11, 15), NEW_YORK, utc(2026, 11, 2, 5), utc(2026, 11, 9, 5), 168),
        (utc(2026, 11, 25, 12), UTC_ZONE, utc(2026, 11, 16), utc(2026, 11, 23), 168),
        # `now` exactly on a boundary (Monday 00:00 in Paris): the week just ended is complete.
        (utc(2026, 11, 22, 23), PARIS, utc(2026, 11, 15, 23), utc(2026, 11, 22, 23), 168),
        # A microsecond earlier, it is not.
        (
            utc(2026, 11, 22, 23) - timedelta(microseconds=1),
            PARIS,
            utc(2026, 11, 8, 23),
            utc(2026, 11, 15, 23),
            168,
        ),
        # Monday morning in UTC is still Sunday night in New York.
        (utc(2026, 11, 23, 2), NEW_YORK, utc(2026, 11, 9, 5), utc(2026, 11, 16, 5), 168),
    ],
)
def test_last_complete_week(now, tz, start, end, hours):
    period = last_complete_period(now, tz)
    assert (period.start, period.end) == (start, end)
    assert period.duration == timedelta(hours=hours)
    assert len(days(period)) == 7
    assert days(period)[0].weekday() == 0
    assert period.start.tzinfo is tz


def test_week_start_and_other_lengths():
    now = utc(2026, 11, 25, 12)  # a Wednesday
    sunday = last_complete_period(now, UTC_ZONE, week_start=6)
    assert (sunday.start, sunday.end) == (utc(2026, 11, 15), utc(2026, 11, 22))
    wednesday = last_complete_period(now, UTC_ZONE, week_start=2)
    assert wednesday.end == utc(2026, 11, 25)
    day = last_complete_period(now, PARIS, length_days=1)
    assert days(day) == [date(2026, 11, 24)]
    month = last_complete_period(now, PARIS, length_days=30)
    assert len(days(month)) == 30 and days(month)[-1] == date(2026, 11, 24)
    with pytest.raises(ValueError, match=r"naive|aware"):
        last_complete_period(datetime(2026, 1, 1), UTC_ZONE)  # noqa: DTZ001
    with pytest.raises(ValueError, match="weekday"):
        last_complete_period(now, UTC_ZONE, week_start=7)


def test_previous_and_days_across_dst():
    week = last_complete_period(utc(2026, 11, 4, 15), NEW_YORK)
    before = previous(week)
    assert before.end == week.start
    assert days(before) == [date(2026, 10, 19) + timedelta(days=i) for i in range(7)]
    assert before.duration == timedelta(hours=168)
    bounds = day_bounds(week)
    # Sunday 1 November is 25 hours long in New York.
    assert [end - start for start, end in bounds].count(timedelta(hours=25)) == 1
    assert bounds[0][0] == week.start and bounds[-1][1] == week.end


def test_midnight_that_does_not_exist():
    # Santiago skipped from 2026-09-06 00:00 to 01:00 local: the day starts at 01:00.
    first = local_midnight(date(2026, 9, 6), SANTIAGO)
    assert first.hour == 1 and first.date() == date(2026, 9, 6)
    assert first.astimezone(UTC) == local_midnight(date(2026, 9, 5), SANTIAGO).astimezone(
        UTC
    ) + timedelta(hours=24)


def test_period_refuses_nonsense():
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001
    with pytest.raises(ValueError, match="before"):
        Period(utc(2026, 1, 2), utc(2026, 1, 1))


@given(
    st.integers(utc(2000, 1, 1).timestamp(), utc(2040, 1, 1).timestamp()),
    st.sampled_from(ZONES),
    st.integers(0, 6),
)
def test_last_complete_period_properties(seconds, tz, week_start):
    now = datetime.fromtimestamp(seconds, UTC)
    period = last_complete_period(now, tz, week_start=week_start)
    assert period.start < period.end <= now
    assert now - period.end < timedelta(days=7, hours=2)
    local_days = days(period)
    assert len(local_days) == 7
    assert local_days[0].weekday() == week_start
    end_day = period.end.astimezone(tz).date()
    assert end_day.weekday() == week_start
    assert period.end == local_midnight(end_day, tz)
    assert timedelta(hours=166) <= period.duration <= timedelta(hours=170)
    before = previous(period)
    assert before.end == period.start and len(days(before)) == 7


# -- the week so far -------------------------------------------------------------------------


def test_the_week_so_far_runs_from_the_weeks_first_midnight_to_now():
    now = utc(2026, 11, 25, 13, 30)  # Wednesday 14:30 in Paris
    week = current_week(now, PARIS)
    assert week.partial
    assert week.start == local_midnight(date(2026, 11, 23), PARIS)
    assert week.end == now and week.end.tzinfo is PARIS
    assert days(week) == [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
    bounds = day_bounds(week)
    assert bounds[-1] == (utc(2026, 11, 24, 23), now)  # today, up to now
    assert week.duration == timedelta(hours=2 * 24 + 14, minutes=30)
    # Compared with the same stretch of the week before: Monday 00:00 to Wednesday 14:30.
    before = previous(week)
    assert before.partial
    assert (before.start, before.end) == (utc(2026, 11, 15, 23), utc(2026, 11, 18, 13, 30))
    assert day_count(before) == 3


def test_the_week_so_far_at_its_first_instant_is_empty():
    monday = local_midnight(date(2026, 11, 23), PARIS)
    week = current_week(monday, PARIS)
    assert week.start == week.end == monday and week.partial
    assert days(week) == [date(2026, 11, 23)]
    assert day_bounds(week) == [(monday.astimezone(UTC), monday.astimezone(UTC))]
    with pytest.raises(ValueError, match="before"):
        Period(monday, monday)  # only the week so far may be empty


def test_the_week_so_far_compares_with_the_same_local_time_across_dst():
    # Sunday 1 November, noon in Paris; the Sunday before (25 October) was 25 hours long.
    week = current_week(utc(2026, 11, 1, 11), PARIS)
    before = previous(week)
    assert before.end == datetime(2026, 10, 25, 12, tzinfo=PARIS)
    assert before.duration - week.duration == timedelta(hours=1)
    assert day_count(before) == day_count(week) == 7


@given(
    st.integers(utc(2000, 1, 1).timestamp() * 10**6, utc(2040, 1, 1).timestamp() * 10**6),
    st.sampled_from(ZONES),
    st.integers(0, 6),
)
def test_the_week_so_far_properties(microseconds, tz, week_start):
    now = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=microseconds)
    week = current_week(now, tz, week_start=week_start)
    assert week.partial
    assert week.end == now
    # It starts where the last complete week ended: the first midnight of this week.
    assert week.start == last_complete_period(now, tz, week_start=week_start).end
    first = week.start.astimezone(tz).date()
    assert first.weekday() == week_start and week.start == local_midnight(first, tz)
    assert week.start <= now < week.start + timedelta(days=7, hours=2)
    local_days = days(week)
    assert 1 <= len(local_days) <= 7
    assert local_days[0] == first and local_days[-1] == now.astimezone(tz).date()
    # The days partition [start, now].
    bounds = day_bounds(week)
    assert bounds[0][0] == week.start and bounds[-1][1] == now
    assert all(a[1] == b[0] for a, b in pairwise(bounds))
    assert all(start <= end for start, end in bounds)
    before = previous(week)
    assert before.partial and day_count(before) == day_count(week)
    assert before.start == previous(last_complete_period(now, tz, week_start=week_start)).end
    assert before.start <= before.end <= week.start
