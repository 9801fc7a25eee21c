import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.pacing import Pacer


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_burst_up_to_the_limit_then_wait_for_the_oldest_to_age_out():
    clock = FakeClock()
    pacer = Pacer(3, 1.0, clock=clock)
    for _ in range(3):
        assert pacer.delay() == 0
        pacer._sent.append(clock())
        clock.now += 0.1
    assert pacer.delay() == pytest.approx(0.7)
    clock.now = 1.0
    assert pacer.delay() == 0


@given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=60))
def test_never_more_than_limit_in_any_window(gaps):
    clock = FakeClock()
    pacer = Pacer(5, 1.0, clock=clock)
    sent = []
    for gap in gaps:
        clock.now += gap
        while (pause := pacer.delay()) > 0:  # as wait() does
            clock.now += pause
        pacer._sent.append(clock())
        sent.append(clock())
    for start in sent:
        assert sum(1 for t in sent if start <= t < start + 1.0 - 1e-9) <= 5


async def test_wait_really_paces_concurrent_callers():
    pacer = Pacer(4, 0.2)
    loop = asyncio.get_running_loop()
    times = []

    async def call():
        await pacer.wait()
        times.append(loop.time())

    await asyncio.gather(*(call() for _ in range(8)))
    times.sort()
    assert times[4] - times[0] >= 0.19


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        Pacer(0, 1.0)


@given(
    st.lists(st.floats(min_value=0, max_value=0.05), min_size=51, max_size=160),
    st.lists(st.floats(min_value=0, max_value=0.0199), min_size=160, max_size=160),
)
def test_the_bots_pace_keeps_discord_under_50_in_any_second_despite_20_ms_of_jitter(
    gaps, delays
):
    """The client's pace (bot.client) against Discord's global limit, counted where Discord
    counts: each request arrives after its own delay, which may differ by up to 20 ms."""
    from bot.client import GLOBAL_PACE, GLOBAL_PACE_WINDOW

    clock = FakeClock()
    pacer = Pacer(GLOBAL_PACE, GLOBAL_PACE_WINDOW, clock=clock)
    arrivals = []
    for gap, delay in zip(gaps, delays, strict=False):
        clock.now += gap
        while (pause := pacer.delay()) > 0:  # as wait() does
            clock.now += pause
        pacer._sent.append(clock())
        arrivals.append(clock() + delay)
    arrivals.sort()
    for start in arrivals:
        assert sum(1 for t in arrivals if start <= t < start + 1.0) <= 50
