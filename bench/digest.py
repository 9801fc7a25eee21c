"""Benchmark: build the weekly digest from a store of a large community.

Builds a store of 1,000,000 comments on 10,000 posts by 50,000 authors (a year of activity, with
reactions, held and removed comments, moderation cases and a few failing mirrors), then times
`build_digest` for the last complete week: the median of 5 runs against the 300 ms goal. It also
prints the query plans that would scan the comments table (there should be none).

    .venv/bin/python bench/digest.py [--comments 1000000] [--posts 10000] [--authors 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import to_db
from bot.digest.content import build_digest
from bot.digest.period import last_complete_period
from bot.store import Store
from bot.store.digest import DIGEST_QUERIES

GOAL_MS = 300
RUNS = 5
CHUNK = 50_000
GUILD = 1
TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
SPAN = timedelta(days=365)


def stamps(rng: random.Random, count: int, start: datetime, end: datetime) -> list[str]:
    """`count` sorted random instants in [start, end) as store text (sorted: index appends)."""
    low, high = start.timestamp(), end.timestamp()
    return [
        to_db(datetime.fromtimestamp(moment, UTC))
        for moment in sorted(rng.uniform(low, high) for _ in range(count))
    ]


async def fill(store: Store, *, comments: int, posts: int, authors: int) -> None:
    rng = random.Random(7)
    first = NOW - SPAN
    async with store.transaction() as db:
        post_times = stamps(rng, posts, first, NOW)
        await db.executemany(
            "INSERT INTO posts (id, source, external_id, title, url, published_at, created_at) "
            "VALUES (?, 'bench', ?, ?, ?, ?, ?)",
            (
                (
                    n,
                    f"post-{n}",
                    f"Post {n}: a community discussion",
                    f"https://x.example/{n}",
                    t,
                    t,
                )
                for n, t in enumerate(post_times, 1)
            ),
        )
        await db.executemany(
            "INSERT INTO mirrors (post_id, state, channel_id, thread_id, updated_at) "
            "VALUES (?, ?, 10, ?, ?)",
            (
                (n, "failed" if n % 997 == 0 else "mirrored", 10_000_000 + n, t)
                for n, t in enumerate(post_times, 1)
            ),
        )
        await db.executemany(
            "INSERT INTO authors (id, source, external_id, name, first_seen_at) "
            "VALUES (?, 'web', ?, ?, ?)",
            ((n, f"author-{n}", f"Member {n}", to_db(first)) for n in range(1, authors + 1)),
        )
        await db.execute(
            "INSERT INTO feeds (url, last_error, consecutive_errors) "
            "VALUES ('https://feed.example/rss', 'HTTP 503', 3)"
        )

    comment_times = stamps(rng, comments, first, NOW)
    # Activity follows a long tail: a few posts and people account for most comments.
    weights = [1 / n for n in range(1, 101)]
    statuses = ["visible"] * 93 + ["held"] * 2 + ["removed"] * 3 + ["deleted"] * 2
    case_number = 0
    for offset in range(0, comments, CHUNK):
        rows = []
        reactions = []
        cases = []
        for index in range(offset, min(offset + CHUNK, comments)):
            comment_id = index + 1
            moment = comment_times[index]
            # Posts get comments after they appear: pick among those published by then.
            published = max(1, int(posts * (index + 1) / comments))
            post_id = max(1, published - int(rng.expovariate(1 / 50)))
            author_id = (
                rng.choices(range(1, 101), weights)[0]
                if rng.random() < 0.3
                else (rng.randrange(1, authors + 1))
            )
            status = rng.choice(statuses)
            rows.append(
                (
                    comment_id,
                    post_id,
                    author_id,
                    f"Member {author_id}",
                    "A comment with a few words in it.",
                    status,
                    moment,
                )
            )
            if rng.random() < 0.1:
                reactions.append((comment_id, "👍", rng.randrange(1, 20)))
            if status != "visible" and status != "deleted":
                case_number += 1
                cases.append(
                    (
                        GUILD,
                        case_number,
                        "hold" if status == "held" else "remove",
                        comment_id,
                        rng.choice(["links", "caps", "spam", None]),
                        moment,
                    )
                )
        async with store.transaction() as db:
            await db.executemany(
                "INSERT INTO comments (id, post_id, author_id, author_name, body, status, "
                "source, created_at) VALUES (?, ?, ?, ?, ?, ?, 'web', ?)",
                rows,
            )
            await db.executemany(
                "INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?, ?, ?)",
                reactions,
            )
            await db.executemany(
                "INSERT INTO cases (guild_id, number, action, comment_id, rule, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                cases,
            )


async def scans_of_comments(store: Store) -> list[str]:
    found = []
    for name, sql in DIGEST_QUERIES.items():
        plan = await store.fetch_all(f"EXPLAIN QUERY PLAN {sql}", [None] * sql.count("?"))
        for row in plan:
            if re.match(r"SCAN (comments|earlier)\b", row["detail"]):
                found.append(f"{name}: {row['detail']}")
    return found


async def run(comments: int, posts: int, authors: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with Store.open(Path(folder) / "bench.db") as store:
            started = time.perf_counter()
            await fill(store, comments=comments, posts=posts, authors=authors)
            setup = time.perf_counter() - started
            print(
                f"set-up: {comments:,} comments, {posts:,} posts, {authors:,} authors "
                f"in {setup:.1f} s"
            )
            period = last_complete_period(NOW, TZ)
            timings = []
            content = None
            for _ in range(RUNS):
                started = time.perf_counter()
                content = await build_digest(store, period, TZ, guild_id=GUILD, now=NOW)
                timings.append((time.perf_counter() - started) * 1000)
            assert content is not None
            median = statistics.median(timings)
            print(
                f"week {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}: "
                f"{content.comments:,} comments ({content.previous_comments:,} the week before), "
                f"{len(content.new_posts)} new posts, "
                f"review queue {content.moderation.queue.size:,}"
            )
            print("runs (ms): " + ", ".join(f"{t:.0f}" for t in timings))
            verdict = "within" if median <= GOAL_MS else "OVER"
            print(f"build_digest median: {median:.0f} ms ({verdict} the {GOAL_MS} ms goal)")
            scans = await scans_of_comments(store)
            print("full scans of comments: " + ("none" if not scans else "; ".join(scans)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--authors", type=int, default=50_000)
    args = parser.parse_args()
    asyncio.run(run(args.comments, args.posts, args.authors))


if __name__ == "__main__":
    main()
