from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import from_db, to_db


@given(st.datetimes(timezones=st.just(UTC)))
def test_round_trip(moment):
    assert from_db(to_db(moment)) == moment


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_text_order_is_time_order(a, b):
    assert (to_db(a) < to_db(b)) == (a < b)


def test_other_offsets_are_stored_as_utc():
    paris = timezone(timedelta(hours=2))
    assert to_db(datetime(2024, 5, 1, 10, 0, tzinfo=paris)) == "2024-05-01T08:00:00.000000Z"


@pytest.mark.parametrize(
    "text", ["2024-05-01T08:00:00Z", "2024-05-01T08:00:00", "2024-05-01 08:00:00+00:00"]
)
def test_what_other_programs_write_is_read(text):
    assert from_db(text) == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        to_db(datetime(2024, 5, 1))  # noqa: DTZ001
