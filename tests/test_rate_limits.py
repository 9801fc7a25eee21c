import logging
from datetime import UTC, datetime, timedelta

from bot.digest.content import build_digest
from bot.digest.period import Period
from bot.rate_limits import RateLimitCounter
from bot.store.health import CATCH_UP, RATE_LIMITED, count_event, events_between

T0 = datetime(2026, 11, 16, 10, 30, tzinfo=UTC)


async def test_counters_add_up_per_hour_and_fill_the_digest(store):
    await count_event(store, CATCH_UP, T0, 3)
    await count_event(store, CATCH_UP, T0 + timedelta(minutes=10))
    await count_event(store, RATE_LIMITED, T0 + timedelta(days=1), 2)
    await count_event(store, RATE_LIMITED, T0 + timedelta(days=9), 5)  # outside the week
    week = Period(datetime(2026, 11, 16, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC))
    assert await events_between(store, CATCH_UP, week.start, week.end) == 4
    content = await build_digest(store, week, guild_id=1, now=week.end)
    assert (content.health.catchups_run, content.health.rate_limits_seen) == (4, 2)


def test_rate_limit_warnings_are_counted_once_taken():
    counter = RateLimitCounter()
    logger = logging.getLogger("tests.fake.discord.http")
    logger.addFilter(counter)
    try:
        logger.warning("We are being rate limited. POST /x responded with 429.")
        logger.warning("Global rate limit has been hit. Retrying in 0.78 seconds.")
        logger.warning("something else")
        logger.debug("rate limit bucket info")
    finally:
        logger.removeFilter(counter)
    assert counter.take() == 2
    assert counter.take() == 0
