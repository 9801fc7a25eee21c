"""Durations as moderators type them."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.durations import (
    MAX_DURATION,
    MIN_DURATION,
    DurationError,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1w 2d", timedelta(days=9)),
        ("1d12h", timedelta(days=1, hours=12)),
        (" 90 minutes ", timedelta(minutes=90)),
        ("1 day, 2 hours", timedelta(days=1, hours=2)),
        ("120s", timedelta(minutes=2)),
    ],
)
def test_readable_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Give a duration"),
        ("soon", "is not a duration"),
        ("5x", "not a unit"),
        ("3d and more", "is not a duration"),
        ("-3d", "is not a duration"),
        ("30s", "shortest"),
        ("0m", "shortest"),
        ("53w", "longest"),
        ("9999999d", "is not a duration"),
    ],
)
def test_unreadable_or_out_of_bounds(text, problem):
    with pytest.raises(DurationError, match=problem):
        parse_duration(text)


@given(st.integers(min_value=1, max_value=525_600))
def test_whole_minutes_round_trip_through_their_written_form(minutes):
    duration = timedelta(minutes=minutes)
    written = format_duration(duration)
    assert 1 <= len(written.split()) <= 2
    if len(_units(duration)) <= 2:
        assert parse_duration(written) == duration
    else:  # two units shown: the rest is dropped, never rounded up
        assert parse_duration(written) <= duration


@given(st.text(max_size=30))
def test_any_text_parses_within_bounds_or_says_why(text):
    try:
        duration = parse_duration(text)
    except DurationError as error:
        assert str(error)
    else:
        assert MIN_DURATION <= duration <= MAX_DURATION


def _units(duration: timedelta) -> list[int]:
    seconds = int(duration.total_seconds())
    parts = []
    for size in (604_800, 86_400, 3_600, 60, 1):
        if seconds >= size:
            parts.append(seconds // size)
            seconds %= size
    return parts
