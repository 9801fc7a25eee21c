"""Feed polling against a real HTTP server on 127.0.0.1: backlog, conditional GETs, errors."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.mirror import poller
from bot.mirror.poller import error_backoff, feed_source, poll_feed
from bot.mirror.sources.feed import parse_feed_with_warnings
from bot.store.feeds import get_feed
from bot.store.mirrors import get_mirror, posts_to_mirror
from bot.store.models import MirrorState
from bot.store.posts import find_post

NOW = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as client:
        yield client


async def poll(store, session, site, *, now=NOW, backlog=timedelta(0)):
    return await poll_feed(
        store, session, site.url, now=now, poll_interval=INTERVAL, backlog_age=backlog
    )


async def test_first_poll_records_the_backlog_without_threads(store, session, site):
    site.entries = [
        {"guid": "old", "title": "Old news", "date": NOW - timedelta(days=30)},
        {"guid": "fresh", "title": "Fresh", "date": NOW - timedelta(hours=2)},
    ]
    result = await poll(store, session, site, backlog=timedelta(hours=6))
    assert (result.new_posts, result.backlog) == (2, 1)
    old = await find_post(store, feed_source(site.url), "old")
    fresh = await find_post(store, feed_source(site.url), "fresh")
    assert (await get_mirror(store, old.id)).state is MirrorState.SKIPPED
    assert [post.id for post, _ in await posts_to_mirror(store, NOW)] == [fresh.id]


async def test_default_backlog_is_none_and_later_posts_are_mirrored(store, session, site):
    site.entries = [{"guid": "a", "title": "A", "date": NOW - timedelta(minutes=1)}]
    await poll(store, session, site)
    assert await posts_to_mirror(store, NOW) == []
    site.entries.append({"guid": "b", "title": "B", "date": NOW})
    result = await poll(store, session, site, now=NOW + INTERVAL)
    assert (result.new_posts, result.backlog) == (1, 0)
    ((post, _),) = await posts_to_mirror(store, NOW + INTERVAL)
    assert post.external_id == "b"


async def test_unchanged_feed_is_a_conditional_304(store, session, site):
    site.entries = [{"guid": "a", "title": "A", "date": NOW}]
    await poll(store, session, site)
    second = await poll(store, session, site, now=NOW + INTERVAL)
    assert second.not_modified
    assert site.requests[1]["If-None-Match"] == (await get_feed(store, site.url)).etag


async def test_entry_update_is_a_post_edit(store, session, site):
    site.entries = [{"guid": "a", "title": "Draft title", "date": NOW}]
    await poll(store, session, site)
    site.entries[0]["title"] = "Final title"
    result = await poll(store, session, site, now=NOW + INTERVAL)
    assert (result.new_posts, result.edited_posts) == (0, 1)
    assert (await find_post(store, feed_source(site.url), "a")).title == "Final title"


async def test_errors_are_recorded_with_backoff_and_heal(store, session, site):
    site.entries = [{"guid": "a", "title": "A", "date": NOW}]
    site.fail_with = 500
    failed = await poll(store, session, site)
    assert "500" in failed.error
    state = await get_feed(store, site.url)
    assert state.consecutive_errors == 1
    assert state.retry_after == NOW + error_backoff(1, INTERVAL)
    skipped = await poll(store, session, site, now=NOW + INTERVAL)
    assert skipped.skipped and len(site.requests) == 1
    site.fail_with = None
    healed = await poll(store, session, site, now=state.retry_after)
    assert healed.new_posts == 1
    assert (await get_feed(store, site.url)).consecutive_errors == 0


async def test_not_a_feed_changes_nothing(store, session, site):
    site.entries = []
    site.body = lambda: b"<html><body>Welcome to my site</body></html>"
    result = await poll(store, session, site)
    assert result.error and "not a feed" in result.error
    assert await posts_to_mirror(store, NOW) == []


def test_backoff_grows_and_is_capped():
    delays = [error_backoff(n, INTERVAL) for n in range(1, 20)]
    assert delays == sorted(delays)
    assert delays[0] == INTERVAL * 2
    assert delays[-1] == timedelta(days=1)


async def test_parsing_a_big_feed_leaves_the_event_loop_running(store, session, site, monkeypatch):
    """Parsing a large feed takes long (50,000 entries: many seconds): meanwhile the gateway's
    heartbeat and every reply wait on the event loop, so it must keep running."""
    # Many entries of one post: as slow to parse as as many posts, and quick to store.
    site.entries = [
        {"guid": "same", "title": f"Entry {n}", "date": NOW, "text": "<p>Some words.</p>"}
        for n in range(2_000)
    ]
    ticks: list[float] = []
    parsing: list[float] = []  # when the parse started and ended

    def timed_parse(*args, **kwargs):
        parsing.append(time.monotonic())
        try:
            return parse_feed_with_warnings(*args, **kwargs)
        finally:
            parsing.append(time.monotonic())

    async def ticker():
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    monkeypatch.setattr(poller, "parse_feed_with_warnings", timed_parse)
    ticking = asyncio.create_task(ticker())
    try:
        result = await poll(store, session, site)
    finally:
        ticking.cancel()
    assert result.new_posts == 1
    start, end = parsing
    # Blocked, the loop ticks not once while the parse runs; running, it keeps ticking (how
    # often depends on the machine's load, so no timing is asserted).
    during = [t for t in ticks if start < t < end]
    assert len(during) >= 3, f"{len(during)} ticks in {end - start:.2f} s of parsing"
