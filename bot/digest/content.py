"""The digest's content: what happened in the community during a period, as data.

`build_digest` gathers every section from the store's digest queries; how the result reads is
`bot.digest.render`'s business.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import utcnow
from bot.digest.period import Period, day_bounds, day_count, days, previous
from bot.store import digest as queries
from bot.store import health
from bot.store.database import Store
from bot.store.digest import (
    Commenter,
    DiscussedPost,
    FeedError,
    LikedComment,
    NewPostItem,
    ReviewQueue,
)


@dataclass(frozen=True, slots=True)
class ModerationSummary:
    held: int
    approved: int
    removed: int
    cases_by_action: dict[str, int]
    top_rules: tuple[tuple[str, int], ...]
    queue: ReviewQueue
    # The oldest held comment's age at build time; None when the queue is empty.
    oldest_age: timedelta | None


@dataclass(frozen=True, slots=True)
class HealthSummary:
    mirrors_failed: int
    mirrors_broken: int
    feed_errors: tuple[FeedError, ...]
    # From the health counters (bot.store.health).
    catchups_run: int = 0
    rate_limits_seen: int = 0


@dataclass(frozen=True, slots=True)
class DigestContent:
    guild_id: int
    period: Period
    previous: Period
    new_posts: tuple[NewPostItem, ...]
    comments: int
    previous_comments: int
    # (local day, comments) for each day of the period, and the previous period's counts.
    per_day: tuple[tuple[date, int], ...]
    previous_per_day: tuple[int, ...]
    most_discussed: tuple[DiscussedPost, ...]
    most_liked: tuple[LikedComment, ...]
    most_active: tuple[Commenter, ...]
    new_commenters_total: int
    new_commenters: tuple[Commenter, ...]
    moderation: ModerationSummary
    health: HealthSummary

    @property
    def partial(self) -> bool:
        """The week so far, not a complete period."""
        return self.period.partial

    @property
    def is_quiet(self) -> bool:
        return not self.new_posts and self.comments == 0


async def build_digest(
    store: Store,
    period: Period,
    tz: ZoneInfo | None = None,
    *,
    guild_id: int,
    catchups_run: int | None = None,
    rate_limits_seen: int | None = None,
    now: datetime | None = None,
    top: int = 5,
) -> DigestContent:
    """Everything the digest of `period` says, read from the store.

    `tz` re-expresses the period in that timezone (the period's own by default); `now` is when
    the queue's age is measured (the real time by default). Catch-ups and 429s are read from
    the health counters unless given. A partial period (the week so far) is compared with the
    same stretch of the week before (see `previous`).
    """
    if tz is not None:
        period = replace(period, start=period.start.astimezone(tz), end=period.end.astimezone(tz))
    before = previous(period)
    start, end = period.start, period.end
    # Both periods' days in one query: the period totals are their sums, since days partition.
    counts = await queries.comments_per_day(store, day_bounds(before) + day_bounds(period))
    previous_counts, current_counts = counts[: day_count(before)], counts[day_count(before) :]
    posts = await queries.new_posts(store, start, end)
    discussed = await queries.most_discussed(store, start, end, limit=top)
    liked = await queries.most_liked(store, start, end, limit=top)
    active = await queries.most_active(store, start, end, limit=top)
    newcomers = await queries.new_commenters(store, start, end, limit=top)
    actions = await queries.cases_by_action(store, guild_id, start, end)
    rules = await queries.top_rules(store, guild_id, start, end, limit=top)
    queue = await queries.review_queue(store)
    mirrors = await queries.mirror_problems(store)
    feeds = await queries.feed_errors(store)
    if catchups_run is None:
        catchups_run = await health.events_between(store, health.CATCH_UP, start, end)
    if rate_limits_seen is None:
        rate_limits_seen = await health.events_between(store, health.RATE_LIMITED, start, end)
    moment = now or utcnow()
    return DigestContent(
        guild_id=guild_id,
        period=period,
        previous=before,
        new_posts=tuple(posts),
        comments=sum(current_counts),
        previous_comments=sum(previous_counts),
        per_day=tuple(zip(days(period), current_counts, strict=True)),
        previous_per_day=tuple(previous_counts),
        most_discussed=tuple(discussed),
        most_liked=tuple(liked),
        most_active=tuple(active),
        new_commenters_total=newcomers.total,
        new_commenters=newcomers.top,
        moderation=ModerationSummary(
            held=actions.get("hold", 0),
            approved=actions.get("approve", 0),
            removed=actions.get("remove", 0),
            cases_by_action=actions,
            top_rules=tuple(rules),
            queue=queue,
            oldest_age=None
            if queue.oldest_created_at is None
            else max(timedelta(0), moment - queue.oldest_created_at),
        ),
        health=HealthSummary(
            mirrors_failed=mirrors["failed"],
            mirrors_broken=mirrors["broken"],
            feed_errors=tuple(feeds),
            catchups_run=catchups_run,
            rate_limits_seen=rate_limits_seen,
        ),
    )
