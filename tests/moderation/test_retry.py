"""When a case whose Discord side failed is tried again."""

from datetime import timedelta

import pytest

from bot.moderation.enforcement import FIRST_RETRY, RETRY_CAP, retry_delay


@pytest.mark.parametrize(
    ("failures", "minutes"),
    [(1, 1), (2, 2), (3, 4), (4, 8), (5, 15), (10, 15), (1000, 15)],
)
def test_retries_back_off_to_a_cap(failures, minutes):
    assert retry_delay(failures) == timedelta(minutes=minutes)


def test_the_first_retry_and_the_cap_bound_every_delay():
    delays = [retry_delay(n) for n in range(1, 50)]
    assert delays == sorted(delays)
    assert min(delays) == FIRST_RETRY and max(delays) == RETRY_CAP
