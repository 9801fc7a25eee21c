"""Polling the community's feeds: new entries become posts, changed entries post edits."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp

from bot.log import get_logger
from bot.mirror.sources.feed import FeedError, fetch_feed, parse_feed_with_warnings
from bot.store import Store
from bot.store.feeds import get_feed, record_feed_error, record_feed_success
from bot.store.models import SourcePost
from bot.store.posts import save_source_post

log = get_logger("threadbridge.feeds")


@dataclass(frozen=True, slots=True)
class FeedPoll:
    url: str
    new_posts: int = 0
    edited_posts: int = 0
    backlog: int = 0
    not_modified: bool = False
    skipped: bool = False
    error: str | None = None


def error_backoff(consecutive_errors: int, poll_interval: timedelta) -> timedelta:
    """Wait longer after each failure in a row (2x, 4x ... the interval), at most a day."""
    return min(poll_interval * 2 ** min(consecutive_errors, 10), timedelta(days=1))


def feed_source(url: str) -> str:
    return f"feed:{url}"


def is_backlog(post: SourcePost, *, now: datetime, max_age: timedelta) -> bool:
    """On a feed's first poll, only posts younger than max_age are new to the community."""
    moment = post.published_at or post.updated_at
    return moment is None or now - moment >= max_age


async def poll_feed(
    store: Store,
    session: aiohttp.ClientSession,
    url: str,
    *,
    now: datetime,
    poll_interval: timedelta,
    backlog_age: timedelta,
    timeout: float = 30.0,
) -> FeedPoll:
    """Fetch one feed (conditionally) and store what is new. Never raises for a bad feed."""
    state = await get_feed(store, url)
    if state is not None and state.retry_after is not None and state.retry_after > now:
        return FeedPoll(url, skipped=True)
    try:
        fetched = await fetch_feed(
            session,
            url,
            etag=state.etag if state else None,
            last_modified=state.last_modified if state else None,
            timeout=timeout,
        )
        if fetched.status == 304 or fetched.body is None:
            await record_feed_success(
                store, url, now=now, etag=fetched.etag, last_modified=fetched.last_modified
            )
            return FeedPoll(url, not_modified=True)
        # Parsing is CPU work (a 50,000-entry feed takes many seconds): in a worker thread, so
        # that the gateway's heartbeat and every reply keep being served meanwhile.
        posts, warnings = await asyncio.to_thread(
            parse_feed_with_warnings, fetched.body, source=feed_source(url), base_url=fetched.url
        )
    except FeedError as error:
        errors = (state.consecutive_errors if state else 0) + 1
        retry_at = now + error_backoff(errors, poll_interval)
        await record_feed_error(store, url, now=now, error=str(error), retry_after=retry_at)
        log.warning("feed not read", feed=url, reason=str(error), retry_at=retry_at.isoformat())
        return FeedPoll(url, error=str(error))
    for warning in warnings:
        log.warning("feed is malformed; entries recovered", feed=url, reason=warning)

    first_poll = state is None or state.first_polled_at is None
    new = edited = backlog = 0
    for post in posts:
        old = first_poll and is_backlog(post, now=now, max_age=backlog_age)
        saved = await save_source_post(store, post, mirror=not old)
        if saved.created:
            new += 1
            backlog += old
        edited += saved.edited
    # Recorded after the posts: a crash before this re-reads the feed, which stores nothing twice.
    await record_feed_success(
        store, url, now=now, etag=fetched.etag, last_modified=fetched.last_modified
    )
    if new or edited:
        log.info("feed read", feed=url, new=new, edited=edited, backlog=backlog)
    return FeedPoll(url, new_posts=new, edited_posts=edited, backlog=backlog)
