"""The digest's queries and its once-per-period records, against a real migrated database."""

from __future__ import annotations

import asyncio
import itertools
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import to_db
from bot.store import Store
from bot.store import digest as queries

GUILD = 1_000
START = datetime(2026, 11, 16, tzinfo=UTC)
END = START + timedelta(days=7)


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


class Seeder:
    """Rows written straight into the tables, so each test says exactly what the week holds."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._ids = itertools.count(1)

    async def _insert(self, sql: str, params: tuple[object, ...]) -> int:
        async with self.store.transaction() as db:
            cursor = await db.execute(sql, params)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    async def post(
        self,
        title: str = "A post",
        *,
        published_at: datetime | None = START,
        created_at: datetime = START,
        thread_id: int | None = None,
        mirror_state: str = "mirrored",
    ) -> int:
        n = next(self._ids)
        post_id = await self._insert(
            "INSERT INTO posts (source, external_id, title, url, published_at, created_at) "
            "VALUES ('test', ?, ?, ?, ?, ?)",
            (
                f"p{n}",
                title,
                f"https://example.org/{n}",
                None if published_at is None else to_db(published_at),
                to_db(created_at),
            ),
        )
        if thread_id is not None or mirror_state != "mirrored":
            await self._insert(
                "INSERT INTO mirrors (post_id, state, thread_id, updated_at) VALUES (?, ?, ?, ?)",
                (post_id, mirror_state, thread_id, to_db(created_at)),
            )
        return post_id

    async def author(self, name: str, *, is_bot: bool = False, opted_out: bool = False) -> int:
        n = next(self._ids)
        return await self._insert(
            "INSERT INTO authors (source, external_id, name, is_bot, opted_out_at, first_seen_at) "
            "VALUES ('discord', ?, ?, ?, ?, ?)",
            (f"a{n}", name, int(is_bot), to_db(START) if opted_out else None, to_db(START)),
        )

    async def comment(
        self,
        post_id: int,
        author_id: int,
        at: datetime,
        *,
        status: str = "visible",
        body: str = "a comment",
        reactions: dict[str, int] | None = None,
    ) -> int:
        n = next(self._ids)
        comment_id = await self._insert(
            "INSERT INTO comments (post_id, author_id, author_name, body, status, source, "
            "discord_message_id, created_at) "
            "VALUES (?, ?, (SELECT name FROM authors WHERE id = ?), ?, ?, 'discord', ?, ?)",
            (post_id, author_id, author_id, body, status, 500_000 + n, to_db(at)),
        )
        for emoji, count in (reactions or {}).items():
            await self._insert(
                "INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?, ?, ?)",
                (comment_id, emoji, count),
            )
        return comment_id

    async def case(
        self, action: str, at: datetime, *, rule: str | None = None, guild_id: int = GUILD
    ) -> None:
        await self._insert(
            "INSERT INTO cases (guild_id, number, action, rule, created_at) VALUES (?, ?, ?, ?, ?)",
            (guild_id, next(self._ids), action, rule, to_db(at)),
        )

    async def feed_error(self, url: str, errors: int) -> None:
        await self._insert(
            "INSERT INTO feeds (url, last_error, consecutive_errors) VALUES (?, 'HTTP 500', ?)",
            (url, errors),
        )


@pytest.fixture
def seed(store: Store) -> Seeder:
    return Seeder(store)


def at(days: float) -> datetime:
    return START + timedelta(days=days)


async def test_new_posts_in_period_newest_first_with_threads(store, seed):
    old = await seed.post("Old", published_at=at(-1))
    first = await seed.post("First", published_at=at(0), thread_id=77)
    last = await seed.post("Last", published_at=at(6.9))
    undated = await seed.post("Undated", published_at=None, created_at=at(3))
    await seed.post("Next week", published_at=END)
    # An import of an old post, stored this week, is not news.
    await seed.post("Imported", published_at=at(-300), created_at=at(2))

    posts = await queries.new_posts(store, START, END)

    assert [p.post_id for p in posts] == [last, undated, first]
    assert posts[2].thread_id == 77 and posts[0].thread_id is None
    assert old not in {p.post_id for p in posts}


@pytest.mark.parametrize(
    ("status", "counted"),
    [("visible", True), ("held", True), ("removed", True), ("deleted", False)],
)
async def test_which_comments_count(store, seed, status, counted):
    post = await seed.post()
    ann = await seed.author("Ann")
    await seed.comment(post, ann, at(1), status=status)
    assert await queries.count_comments(store, START, END) == int(counted)


async def test_comment_counts_respect_half_open_bounds(store, seed):
    post = await seed.post()
    ann = await seed.author("Ann")
    for moment in (START - timedelta(microseconds=1), START, at(3), END - timedelta(seconds=1)):
        await seed.comment(post, ann, moment)
    await seed.comment(post, ann, END)
    assert await queries.count_comments(store, START, END) == 3
    per_day = await queries.comments_per_day(store, [(at(d), at(d + 1)) for d in range(7)])
    assert per_day == [1, 0, 0, 1, 0, 0, 1]
    assert await queries.comments_per_day(store, []) == []


async def test_most_discussed_posts(store, seed):
    quiet = await seed.post("a", thread_id=1)
    busy = await seed.post("b", thread_id=2)
    busier = await seed.post("c", thread_id=3)
    ann = await seed.author("Ann")
    for post, n in ((quiet, 1), (busy, 3), (busier, 5)):
        for i in range(n):
            await seed.comment(post, ann, at(1 + i / 10))
    await seed.comment(quiet, ann, at(-1))  # before the period
    for _ in range(4):
        await seed.comment(quiet, ann, at(2), status="deleted")

    top = await queries.most_discussed(store, START, END, limit=2)

    assert [(p.post_id, p.comments) for p in top] == [(busier, 5), (busy, 3)]
    assert top[0].title == "c" and top[0].thread_id == 3


async def test_most_liked_comments(store, seed):
    post = await seed.post("Post", thread_id=9)
    ann, bob = await seed.author("Ann"), await seed.author("Bob")
    best = await seed.comment(post, ann, at(1), body="best", reactions={"👍": 4, "❤️": 3})
    good = await seed.comment(post, bob, at(2), body="good", reactions={"👍": 5})
    await seed.comment(post, bob, at(2), reactions={"👍": 0})
    await seed.comment(post, bob, at(2), status="removed", reactions={"👍": 50})
    await seed.comment(post, bob, at(-2), reactions={"👍": 50})

    liked = await queries.most_liked(store, START, END)

    assert [(c.comment_id, c.reactions) for c in liked] == [(best, 7), (good, 5)]
    assert liked[0].author_name == "Ann" and liked[0].thread_id == 9
    assert liked[0].message_id is not None and liked[0].body == "best"


async def test_most_active_and_new_commenters(store, seed):
    post = await seed.post()
    veteran = await seed.author("Veteran")
    newbie = await seed.author("Newbie")
    quiet_new = await seed.author("Quiet new")
    robot = await seed.author("Robot", is_bot=True)
    hidden = await seed.author("Hidden", opted_out=True)
    returning = await seed.author("Returning")
    await seed.comment(post, veteran, at(-30))
    await seed.comment(post, returning, at(-30), status="deleted")
    for author, n in ((veteran, 4), (newbie, 3), (quiet_new, 1), (robot, 9), (hidden, 8)):
        for _ in range(n):
            await seed.comment(post, author, at(2))
    await seed.comment(post, returning, at(3))
    await seed.comment(post, newbie, END)  # after: not counted in the period

    active = await queries.most_active(store, START, END, limit=3)
    assert [(p.name, p.comments) for p in active] == [
        ("Veteran", 4),
        ("Newbie", 3),
        ("Quiet new", 1),
    ]

    new = await queries.new_commenters(store, START, END, limit=1)
    assert new.total == 2
    assert [(p.author_id, p.comments) for p in new.top] == [(newbie, 3)]
    # Their Discord id, as the authors table keeps it (a web commenter has none).
    key = await store.fetch_value("SELECT external_id FROM authors WHERE id = ?", (newbie,))
    assert [p.user_id for p in new.top] == [key]
    assert (await queries.new_commenters(store, END, END + timedelta(days=7))).total == 0


async def test_moderation_cases_rules_and_queue(store, seed):
    post = await seed.post()
    ann = await seed.author("Ann")
    for action, rule in [
        ("hold", "links"),
        ("hold", "links"),
        ("hold", "caps"),
        ("approve", None),
        ("remove", "links"),
        ("ban", None),
    ]:
        await seed.case(action, at(1), rule=rule)
    await seed.case("hold", at(-1), rule="old")
    await seed.case("hold", at(1), rule="elsewhere", guild_id=GUILD + 1)
    await seed.comment(post, ann, at(-3), status="held")
    await seed.comment(post, ann, at(2), status="held")
    await seed.comment(post, ann, at(2), status="visible")

    assert await queries.cases_by_action(store, GUILD, START, END) == {
        "hold": 3,
        "approve": 1,
        "ban": 1,
        "remove": 1,
    }
    assert await queries.top_rules(store, GUILD, START, END, limit=2) == [("links", 3), ("caps", 1)]
    queue = await queries.review_queue(store)
    assert queue.size == 2 and queue.oldest_created_at == at(-3)


async def test_empty_store(store):
    assert await queries.new_posts(store, START, END) == []
    assert await queries.count_comments(store, START, END) == 0
    assert await queries.most_discussed(store, START, END) == []
    assert await queries.most_liked(store, START, END) == []
    assert await queries.most_active(store, START, END) == []
    assert (await queries.new_commenters(store, START, END)).total == 0
    assert await queries.cases_by_action(store, GUILD, START, END) == {}
    assert await queries.top_rules(store, GUILD, START, END) == []
    queue = await queries.review_queue(store)
    assert queue.size == 0 and queue.oldest_created_at is None
    assert await queries.mirror_problems(store) == {"failed": 0, "broken": 0}
    assert await queries.feed_errors(store) == []


async def test_health(store, seed):
    await seed.post(mirror_state="failed")
    await seed.post(mirror_state="failed")
    await seed.post(mirror_state="broken")
    await seed.post(mirror_state="new")
    await seed.feed_error("https://a.example/feed", 1)
    await seed.feed_error("https://b.example/feed", 4)
    await seed.feed_error("https://ok.example/feed", 0)

    assert await queries.mirror_problems(store) == {"failed": 2, "broken": 1}
    errors = await queries.feed_errors(store)
    assert [(f.url, f.consecutive_errors) for f in errors] == [
        ("https://b.example/feed", 4),
        ("https://a.example/feed", 1),
    ]


# -- once per period -------------------------------------------------------------------------


async def test_claim_once_then_mark_posted(store):
    week = Span(START, END)
    claimed = await queries.claim_digest(store, GUILD, week, now=END)
    assert claimed is not None and claimed.state == "pending"
    assert claimed.period_start == START and claimed.period_end == END
    # While the claim is fresh nobody else gets it, the claimant included.
    assert await queries.claim_digest(store, GUILD, week, now=END + timedelta(minutes=1)) is None

    posted = await queries.mark_posted(store, claimed.id, 55, 66, now=END)
    assert (posted.state, posted.channel_id, posted.message_id) == ("posted", 55, 66)
    assert await queries.claim_digest(store, GUILD, week, now=END + timedelta(days=30)) is None
    with pytest.raises(LookupError):
        await queries.mark_posted(store, claimed.id, 55, 67)
    assert await queries.latest_posted(store, GUILD) == posted
    assert await queries.get_digest(store, GUILD, week) == posted


async def test_a_stale_pending_claim_is_retaken_once(store):
    week = Span(START, END)
    first = await queries.claim_digest(store, GUILD, week, now=END)
    assert first is not None
    later = END + timedelta(minutes=11)
    again = await queries.claim_digest(store, GUILD, week, now=later)
    assert again is not None and again.id == first.id and again.claimed_at == later
    assert await queries.claim_digest(store, GUILD, week, now=later) is None


async def test_two_claims_at_once_exactly_one_wins(store):
    week = Span(START, END)
    results = await asyncio.gather(
        *(queries.claim_digest(store, GUILD, week, now=END) for _ in range(5))
    )
    assert sum(result is not None for result in results) == 1


async def test_claims_are_per_guild_and_period(store):
    week = Span(START, END)
    assert await queries.claim_digest(store, GUILD, week, now=END) is not None
    assert await queries.claim_digest(store, GUILD + 1, week, now=END) is not None
    assert await queries.claim_digest(store, GUILD, Span(END, END + timedelta(days=7))) is not None
    assert await queries.latest_posted(store, GUILD) is None


async def test_latest_posted_is_the_latest_period(store):
    for weeks in (2, 0, 1):
        span = Span(START + timedelta(weeks=weeks), END + timedelta(weeks=weeks))
        row = await queries.claim_digest(store, GUILD, span, now=END)
        assert row is not None
        await queries.mark_posted(store, row.id, 1, 100 + weeks)
    latest = await queries.latest_posted(store, GUILD)
    assert latest is not None and latest.message_id == 102


# -- index use -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(queries.DIGEST_QUERIES))
async def test_digest_queries_never_scan_comments(store, seed, name):
    # Some rows, and ANALYZE, so the planner chooses as it would on a real store.
    post = await seed.post()
    ann = await seed.author("Ann")
    for i in range(20):
        await seed.comment(post, ann, at(i / 3))
    async with store.transaction() as db:
        await db.execute("ANALYZE")
    sql = queries.DIGEST_QUERIES[name]
    parameters = [None] * sql.count("?")
    plan = [row["detail"] for row in await store.fetch_all(f"EXPLAIN QUERY PLAN {sql}", parameters)]
    full_scans = [
        line
        for line in plan
        if re.match(r"SCAN (comments|earlier)\b", line) and "USING" not in line
    ]
    covering_scans = [
        line for line in plan if re.match(r"SCAN (comments|earlier) USING (COVERING )?INDEX", line)
    ]
    assert not full_scans, plan
    assert not covering_scans, plan  # a whole-index walk is a full scan too
