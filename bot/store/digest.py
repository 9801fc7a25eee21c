"""What the digest reads from the store, and the records that keep it to one post per period.

Every query takes its period as aware datetimes and binds them as `to_db` text: the stored text
is fixed-width UTC, so a range on the text is a range in time and can use the created_at indexes.

Which comments count: a comment counts as written in a period if it was created in it and its
status is visible, held or removed. Deleted comments are left out (their author or Discord took
them back, so counting them would make a week look busier than what anyone can read); held and
removed ones were still written by someone and are the moderation section's business. The
showcase lists (most liked comments) only show visible comments, and the people lists (most
active, new commenters) leave out bots and authors who opted out of being named.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.store.database import Store


class TimeSpan(Protocol):
    """Anything with aware start and end instants (the digest's Period is one)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class NewPostItem:
    post_id: int
    title: str
    url: str | None
    thread_id: int | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class DiscussedPost:
    post_id: int
    title: str
    thread_id: int | None
    comments: int


@dataclass(frozen=True, slots=True)
class LikedComment:
    comment_id: int
    post_id: int
    post_title: str
    thread_id: int | None
    message_id: int | None
    author_name: str
    body: str
    reactions: int


@dataclass(frozen=True, slots=True)
class Commenter:
    author_id: int
    name: str
    comments: int
    # The Discord user's id as the authors table keeps it (text); None for a web commenter.
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewCommenters:
    total: int
    top: tuple[Commenter, ...]


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    size: int
    oldest_created_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedError:
    url: str
    consecutive_errors: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DigestRow:
    id: int
    guild_id: int
    period_start: datetime
    period_end: datetime
    state: str  # 'pending' until the message is posted, then 'posted'
    channel_id: int | None
    message_id: int | None
    # When the current claim was made: a pending row older than the claim lease may be retaken.
    claimed_at: datetime
    posted_at: datetime | None


# The statuses that count as "a comment written" (see the module docstring).
_COUNTED = "status IN ('visible', 'held', 'removed')"

NEW_POSTS_SQL = """
    SELECT posts.id, posts.title, posts.url, mirrors.thread_id,
           coalesce(posts.published_at, posts.created_at) AS published
    FROM posts LEFT JOIN mirrors ON mirrors.post_id = posts.id
    WHERE posts.published_at >= ? AND posts.published_at < ?
    UNION ALL
    SELECT posts.id, posts.title, posts.url, mirrors.thread_id, posts.created_at AS published
    FROM posts LEFT JOIN mirrors ON mirrors.post_id = posts.id
    WHERE posts.published_at IS NULL AND posts.created_at >= ? AND posts.created_at < ?
    ORDER BY published DESC, id DESC
"""

COUNT_COMMENTS_SQL = f"""
    SELECT count(*) FROM comments
    WHERE created_at >= ? AND created_at < ? AND {_COUNTED}
"""  # noqa: S608 - a constant, no input

# One round trip for all the days: each day's bounds come in as a JSON pair, and each count is
# an index range on its own, so DST-length days need no arithmetic in SQL.
COMMENTS_PER_DAY_SQL = f"""
    SELECT (
        SELECT count(*) FROM comments
        WHERE created_at >= json_extract(day.value, '$[0]')
          AND created_at < json_extract(day.value, '$[1]')
          AND {_COUNTED}
    ) AS n
    FROM json_each(?) AS day
    ORDER BY day.key
"""  # noqa: S608 - a constant, no input

MOST_DISCUSSED_SQL = f"""
    WITH counted AS (
        SELECT post_id, count(*) AS n FROM comments
        WHERE created_at >= ? AND created_at < ? AND {_COUNTED}
        GROUP BY post_id
        ORDER BY n DESC, post_id
        LIMIT ?
    )
    SELECT counted.post_id, posts.title, mirrors.thread_id, counted.n
    FROM counted
    JOIN posts ON posts.id = counted.post_id
    LEFT JOIN mirrors ON mirrors.post_id = counted.post_id
    ORDER BY counted.n DESC, counted.post_id
"""  # noqa: S608 - a constant, no input

# The period's visible comments come from the created_at range; each one's reactions are summed
# through comment_reactions' primary key (a GROUP BY comments.id would tempt the planner into
# walking the whole table in rowid order).
MOST_LIKED_SQL = """
    WITH liked AS (
        SELECT comment_id, reactions FROM (
            SELECT comments.id AS comment_id,
                   (SELECT sum(comment_reactions.count) FROM comment_reactions
                    WHERE comment_reactions.comment_id = comments.id) AS reactions
            FROM comments
            WHERE comments.created_at >= ? AND comments.created_at < ?
              AND comments.status = 'visible'
        )
        WHERE reactions > 0
        ORDER BY reactions DESC, comment_id
        LIMIT ?
    )
    SELECT liked.comment_id, liked.reactions, comments.post_id, comments.author_name,
           comments.body, comments.discord_message_id, posts.title, mirrors.thread_id
    FROM liked
    JOIN comments ON comments.id = liked.comment_id
    JOIN posts ON posts.id = comments.post_id
    LEFT JOIN mirrors ON mirrors.post_id = comments.post_id
    ORDER BY liked.reactions DESC, liked.comment_id
"""

MOST_ACTIVE_SQL = f"""
    WITH counted AS (
        SELECT author_id, count(*) AS n FROM comments
        WHERE created_at >= ? AND created_at < ? AND {_COUNTED}
        GROUP BY author_id
    )
    SELECT authors.id, authors.name, counted.n,
           CASE WHEN authors.source = 'discord' THEN authors.external_id END AS user_id
    FROM counted JOIN authors ON authors.id = counted.author_id
    WHERE authors.is_bot = 0 AND authors.opted_out_at IS NULL
    ORDER BY counted.n DESC, authors.id
    LIMIT ?
"""  # noqa: S608 - a constant, no input

# New: nothing by them before the period, whatever its status (a first comment that was later
# deleted still made them a commenter before). NOT EXISTS walks comments_author_created.
NEW_COMMENTERS_SQL = f"""
    WITH counted AS (
        SELECT author_id, count(*) AS n FROM comments
        WHERE created_at >= ? AND created_at < ? AND {_COUNTED}
        GROUP BY author_id
    )
    SELECT authors.id, authors.name, counted.n, count(*) OVER () AS total,
           CASE WHEN authors.source = 'discord' THEN authors.external_id END AS user_id
    FROM counted JOIN authors ON authors.id = counted.author_id
    WHERE authors.is_bot = 0 AND authors.opted_out_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM comments AS earlier
          WHERE earlier.author_id = counted.author_id AND earlier.created_at < ?
      )
    ORDER BY counted.n DESC, authors.id
    LIMIT ?
"""  # noqa: S608 - a constant, no input

CASES_BY_ACTION_SQL = """
    SELECT action, count(*) AS n FROM cases
    WHERE created_at >= ? AND created_at < ? AND guild_id = ?
    GROUP BY action
    ORDER BY n DESC, action
"""

TOP_RULES_SQL = """
    SELECT rule, count(*) AS n FROM cases
    WHERE created_at >= ? AND created_at < ? AND guild_id = ? AND rule IS NOT NULL
    GROUP BY rule
    ORDER BY n DESC, rule
    LIMIT ?
"""

REVIEW_QUEUE_SQL = """
    SELECT count(*) AS size, min(created_at) AS oldest FROM comments WHERE status = 'held'
"""

MIRROR_PROBLEMS_SQL = """
    SELECT state, count(*) AS n FROM mirrors WHERE state IN ('failed', 'broken') GROUP BY state
"""

FEED_ERRORS_SQL = """
    SELECT url, consecutive_errors, last_error FROM feeds
    WHERE consecutive_errors > 0
    ORDER BY consecutive_errors DESC, url
"""

# Every query the digest build runs, for the EXPLAIN QUERY PLAN test.
DIGEST_QUERIES: dict[str, str] = {
    "new_posts": NEW_POSTS_SQL,
    "count_comments": COUNT_COMMENTS_SQL,
    "comments_per_day": COMMENTS_PER_DAY_SQL,
    "most_discussed": MOST_DISCUSSED_SQL,
    "most_liked": MOST_LIKED_SQL,
    "most_active": MOST_ACTIVE_SQL,
    "new_commenters": NEW_COMMENTERS_SQL,
    "cases_by_action": CASES_BY_ACTION_SQL,
    "top_rules": TOP_RULES_SQL,
    "review_queue": REVIEW_QUEUE_SQL,
    "mirror_problems": MIRROR_PROBLEMS_SQL,
    "feed_errors": FEED_ERRORS_SQL,
}


# -- what happened in a period ---------------------------------------------------------------


async def new_posts(store: Store, start: datetime, end: datetime) -> list[NewPostItem]:
    """Posts published in [start, end), newest first (posts without a date: when stored).

    Publication, not storage, time: an import of old posts is not news.
    """
    bounds = (to_db(start), to_db(end))
    rows = await store.fetch_all(NEW_POSTS_SQL, bounds + bounds)
    return [
        NewPostItem(
            post_id=row["id"],
            title=row["title"],
            url=row["url"],
            thread_id=row["thread_id"],
            published_at=from_db(row["published"]),
        )
        for row in rows
    ]


async def count_comments(store: Store, start: datetime, end: datetime) -> int:
    """Comments written in [start, end) (see the module docstring for which count)."""
    return int(await store.fetch_value(COUNT_COMMENTS_SQL, (to_db(start), to_db(end))))


async def comments_per_day(store: Store, days: Sequence[tuple[datetime, datetime]]) -> list[int]:
    """The count of comments written in each [start, end) of `days`, in order.

    The caller computes the local days' UTC bounds, so a 23- or 25-hour day is just its range.
    """
    if not days:
        return []
    payload = json.dumps([[to_db(start), to_db(end)] for start, end in days])
    rows = await store.fetch_all(COMMENTS_PER_DAY_SQL, (payload,))
    return [int(row["n"]) for row in rows]


async def most_discussed(
    store: Store, start: datetime, end: datetime, *, limit: int = 5
) -> list[DiscussedPost]:
    """The posts with the most comments written in [start, end)."""
    rows = await store.fetch_all(MOST_DISCUSSED_SQL, (to_db(start), to_db(end), limit))
    return [
        DiscussedPost(
            post_id=row["post_id"],
            title=row["title"],
            thread_id=row["thread_id"],
            comments=row["n"],
        )
        for row in rows
    ]


async def most_liked(
    store: Store, start: datetime, end: datetime, *, limit: int = 5
) -> list[LikedComment]:
    """Visible comments written in [start, end) with the most reactions (all emoji summed)."""
    rows = await store.fetch_all(MOST_LIKED_SQL, (to_db(start), to_db(end), limit))
    return [
        LikedComment(
            comment_id=row["comment_id"],
            post_id=row["post_id"],
            post_title=row["title"],
            thread_id=row["thread_id"],
            message_id=row["discord_message_id"],
            author_name=row["author_name"],
            body=row["body"],
            reactions=row["reactions"],
        )
        for row in rows
    ]


def _commenter(row: sqlite3.Row) -> Commenter:
    return Commenter(
        author_id=row["id"], name=row["name"], comments=row["n"], user_id=row["user_id"]
    )


async def most_active(
    store: Store, start: datetime, end: datetime, *, limit: int = 5
) -> list[Commenter]:
    """The people who wrote the most comments in [start, end)."""
    rows = await store.fetch_all(MOST_ACTIVE_SQL, (to_db(start), to_db(end), limit))
    return [_commenter(row) for row in rows]


async def new_commenters(
    store: Store, start: datetime, end: datetime, *, limit: int = 5
) -> NewCommenters:
    """People whose first comment ever falls in [start, end): how many, and the most active."""
    low, high = to_db(start), to_db(end)
    rows = await store.fetch_all(NEW_COMMENTERS_SQL, (low, high, low, limit))
    total = int(rows[0]["total"]) if rows else 0
    top = tuple(_commenter(row) for row in rows)
    return NewCommenters(total=total, top=top)


async def cases_by_action(
    store: Store, guild_id: int, start: datetime, end: datetime
) -> dict[str, int]:
    """Moderation cases opened in [start, end), by action ('hold', 'approve', 'remove', ...)."""
    rows = await store.fetch_all(CASES_BY_ACTION_SQL, (to_db(start), to_db(end), guild_id))
    return {row["action"]: int(row["n"]) for row in rows}


async def top_rules(
    store: Store, guild_id: int, start: datetime, end: datetime, *, limit: int = 5
) -> list[tuple[str, int]]:
    """The rules named by the most cases in [start, end)."""
    rows = await store.fetch_all(TOP_RULES_SQL, (to_db(start), to_db(end), guild_id, limit))
    return [(row["rule"], int(row["n"])) for row in rows]


async def review_queue(store: Store) -> ReviewQueue:
    """The held comments now: how many, and when the oldest was written."""
    row = await store.fetch_one(REVIEW_QUEUE_SQL)
    assert row is not None  # an aggregate always yields a row
    return ReviewQueue(size=int(row["size"]), oldest_created_at=from_db_optional(row["oldest"]))


async def mirror_problems(store: Store) -> dict[str, int]:
    """Mirrors that are failed or broken now, by state (both keys always present)."""
    counts = {"failed": 0, "broken": 0}
    for row in await store.fetch_all(MIRROR_PROBLEMS_SQL):
        counts[row["state"]] = int(row["n"])
    return counts


async def feed_errors(store: Store) -> list[FeedError]:
    """Feeds whose last poll failed, the longest-failing first."""
    return [
        FeedError(
            url=row["url"],
            consecutive_errors=int(row["consecutive_errors"]),
            last_error=row["last_error"],
        )
        for row in await store.fetch_all(FEED_ERRORS_SQL)
    ]


# -- one digest per period -------------------------------------------------------------------


def _digest_from_row(row: sqlite3.Row) -> DigestRow:
    return DigestRow(
        id=row["id"],
        guild_id=row["guild_id"],
        period_start=from_db(row["period_start"]),
        period_end=from_db(row["period_end"]),
        state=row["state"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        claimed_at=from_db(row["created_at"]),
        posted_at=from_db_optional(row["posted_at"]),
    )


async def claim_digest(
    store: Store,
    guild_id: int,
    period: TimeSpan,
    *,
    now: datetime | None = None,
    lease_seconds: float = 600.0,
) -> DigestRow | None:
    """The right to post the digest of `period`, or None if someone else has it or it is posted.

    The first caller creates the 'pending' row and gets it. A later caller gets the row only if
    it is still pending and its claim is older than `lease_seconds` (its poster died before
    `mark_posted`); taking it renews the claim, so of two callers at once exactly one wins.
    The row's created_at holds the time of the current claim.
    """
    moment = now or utcnow()
    stamp = to_db(moment)
    start, end = to_db(period.start), to_db(period.end)
    stale = to_db(moment - timedelta(seconds=lease_seconds))
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO digests (guild_id, period_start, period_end, state, created_at)
            VALUES (?, ?, ?, 'pending', ?)
            ON CONFLICT (guild_id, period_start) DO NOTHING
            RETURNING *
            """,
            (guild_id, start, end, stamp),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            # Already recorded: retake it only if its claimant has gone quiet for a lease.
            async with db.execute(
                """
                UPDATE digests SET created_at = ?
                WHERE guild_id = ? AND period_start = ? AND state = 'pending' AND created_at <= ?
                RETURNING *
                """,
                (stamp, guild_id, start, stale),
            ) as cursor:
                row = await cursor.fetchone()
    return None if row is None else _digest_from_row(row)


async def mark_posted(
    store: Store,
    digest_id: int,
    channel_id: int,
    message_id: int,
    *,
    now: datetime | None = None,
) -> DigestRow:
    """Record that the digest was posted as `message_id`; a digest is marked posted once."""
    async with store.transaction() as db:
        async with db.execute(
            """
            UPDATE digests SET state = 'posted', channel_id = ?, message_id = ?, posted_at = ?
            WHERE id = ? AND state = 'pending'
            RETURNING *
            """,
            (channel_id, message_id, to_db(now or utcnow()), digest_id),
        ) as cursor:
            row = await cursor.fetchone()
    if row is None:
        raise LookupError(f"no pending digest {digest_id} to mark posted")
    return _digest_from_row(row)


async def get_digest(store: Store, guild_id: int, period: TimeSpan) -> DigestRow | None:
    """The record of `period`'s digest, whatever its state."""
    row = await store.fetch_one(
        "SELECT * FROM digests WHERE guild_id = ? AND period_start = ?",
        (guild_id, to_db(period.start)),
    )
    return None if row is None else _digest_from_row(row)


async def latest_posted(store: Store, guild_id: int) -> DigestRow | None:
    """The posted digest with the latest period, to know which periods were missed."""
    row = await store.fetch_one(
        """
        SELECT * FROM digests WHERE guild_id = ? AND state = 'posted'
        ORDER BY period_start DESC LIMIT 1
        """,
        (guild_id,),
    )
    return None if row is None else _digest_from_row(row)
