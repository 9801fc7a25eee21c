"""The digest: periods in the community's timezone, its content on crafted data, its renderings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.digest.content import (
    EMBED_FIELD_VALUE_LIMIT,
    EMBED_FIELDS_LIMIT,
    EMBED_TOTAL_LIMIT,
    QUIET_WEEK,
    DigestContent,
    Health,
    Moderation,
    Period,
    build_digest,
    day_bounds,
    days,
    digest_embed_dict,
    digest_json,
    digest_marker,
    digest_text,
    find_digest_marker,
    fit_lines,
    format_age,
    format_change,
    last_complete_period,
    local_midnight,
    previous,
    thread_url,
)
from bot.store.digest import NewPostItem, ReviewQueue
from tests.store.test_digest_store import GUILD, Seeder

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
SANTIAGO = ZoneInfo("America/Santiago")  # its DST changes happen at midnight
ZONES = [
    UTC_ZONE,
    PARIS,
    NEW_YORK,
    SANTIAGO,
    ZoneInfo("Australia/Lord_Howe"),  # half-hour DST
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "tz", "start", "end", "hours"),
    [
        # Paris springs forward on Sunday 29 March 2026: that week is 167 hours.
        (utc(2026, 3, 31, 10), PARIS, utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167),
        # ... and falls back on Sunday 25 October 2026: 169 hours.
        (utc(2026, 10, 27, 10), PARIS, utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 169),
        # New York falls back on Sunday 1 November 2026.
        (utc(2026, 11, 4, 15), NEW_YORK, utc(2026, 10, 26, 4), utc(2026, 11, 2, 5), 169),
        # An ordinary week in New York.
        (utc(2026, 11, 11, 15), NEW_YORK, utc(2026, 11, 2, 5), utc(2026, 11, 9, 5), 168),
        (utc(2026, 11, 25, 12), UTC_ZONE, utc(2026, 11, 16), utc(2026, 11, 23), 168),
        # `now` exactly on a boundary (Monday 00:00 in Paris): the week just ended is complete.
        (utc(2026, 11, 22, 23), PARIS, utc(2026, 11, 15, 23), utc(2026, 11, 22, 23), 168),
        # A microsecond earlier, it is not.
        (
            utc(2026, 11, 22, 23) - timedelta(microseconds=1),
            PARIS,
            utc(2026, 11, 8, 23),
            utc(2026, 11, 15, 23),
            168,
        ),
        # Monday morning in UTC is still Sunday night in New York.
        (utc(2026, 11, 23, 2), NEW_YORK, utc(2026, 11, 9, 5), utc(2026, 11, 16, 5), 168),
    ],
)
def test_last_complete_week(now, tz, start, end, hours):
    period = last_complete_period(now, tz)
    assert (period.start, period.end) == (start, end)
    assert period.duration == timedelta(hours=hours)
    assert len(days(period)) == 7
    assert days(period)[0].weekday() == 0
    assert period.start.tzinfo is tz


def test_week_start_and_other_lengths():
    now = utc(2026, 11, 25, 12)  # a Wednesday
    sunday = last_complete_period(now, UTC_ZONE, week_start=6)
    assert (sunday.start, sunday.end) == (utc(2026, 11, 15), utc(2026, 11, 22))
    wednesday = last_complete_period(now, UTC_ZONE, week_start=2)
    assert wednesday.end == utc(2026, 11, 25)
    day = last_complete_period(now, PARIS, length_days=1)
    assert days(day) == [date(2026, 11, 24)]
    month = last_complete_period(now, PARIS, length_days=30)
    assert len(days(month)) == 30 and days(month)[-1] == date(2026, 11, 24)
    with pytest.raises(ValueError, match=r"naive|aware"):
        last_complete_period(datetime(2026, 1, 1), UTC_ZONE)  # noqa: DTZ001
    with pytest.raises(ValueError, match="weekday"):
        last_complete_period(now, UTC_ZONE, week_start=7)


def test_previous_and_days_across_dst():
    week = last_complete_period(utc(2026, 11, 4, 15), NEW_YORK)
    before = previous(week)
    assert before.end == week.start
    assert days(before) == [date(2026, 10, 19) + timedelta(days=i) for i in range(7)]
    assert before.duration == timedelta(hours=168)
    bounds = day_bounds(week)
    # Sunday 1 November is 25 hours long in New York.
    assert [end - start for start, end in bounds].count(timedelta(hours=25)) == 1
    assert bounds[0][0] == week.start and bounds[-1][1] == week.end


def test_midnight_that_does_not_exist():
    # Santiago skipped from 2026-09-06 00:00 to 01:00 local: the day starts at 01:00.
    first = local_midnight(date(2026, 9, 6), SANTIAGO)
    assert first.hour == 1 and first.date() == date(2026, 9, 6)
    assert first.astimezone(UTC) == local_midnight(date(2026, 9, 5), SANTIAGO).astimezone(
        UTC
    ) + timedelta(hours=24)


def test_period_refuses_nonsense():
    with pytest.raises(ValueError, match="aware"):
        Period(datetime(2026, 1, 1), datetime(2026, 1, 2))  # noqa: DTZ001
    with pytest.raises(ValueError, match="before"):
        Period(utc(2026, 1, 2), utc(2026, 1, 1))


@given(
    st.integers(utc(2000, 1, 1).timestamp(), utc(2040, 1, 1).timestamp()),
    st.sampled_from(ZONES),
    st.integers(0, 6),
)
def test_last_complete_period_properties(seconds, tz, week_start):
    now = datetime.fromtimestamp(seconds, UTC)
    period = last_complete_period(now, tz, week_start=week_start)
    assert period.start < period.end <= now
    assert now - period.end < timedelta(days=7, hours=2)
    local_days = days(period)
    assert len(local_days) == 7
    assert local_days[0].weekday() == week_start
    end_day = period.end.astimezone(tz).date()
    assert end_day.weekday() == week_start
    assert period.end == local_midnight(end_day, tz)
    assert timedelta(hours=166) <= period.duration <= timedelta(hours=170)
    before = previous(period)
    assert before.end == period.start and len(days(before)) == 7


# -- small formatting ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "before", "expected"),
    [
        (42, 30, "+12 (+40%)"),
        (27, 30, "\u22123 (\u221210%)"),
        (5, 0, "new"),
        (0, 0, "no change"),
        (30, 30, "no change"),
        (0, 8, "\u22128 (\u2212100%)"),
        (301, 300, "+1 (+0%)"),
    ],
)
def test_format_change(current, before, expected):
    assert format_change(current, before) == expected


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(minutes=12, seconds=59), "12 min"),
        (timedelta(hours=5, minutes=10), "5 h 10 min"),
        (timedelta(days=3, hours=4, minutes=1), "3 d 4 h"),
    ],
)
def test_format_age(age, expected):
    assert format_age(age) == expected


def test_fit_lines_ends_with_and_n_more():
    lines = [f"line {i:02}" for i in range(10)]
    assert fit_lines(lines, 1000) == "\n".join(lines)
    cut = fit_lines(lines, 40)
    assert len(cut) <= 40 and cut.endswith("and 7 more")
    assert cut.splitlines()[:3] == lines[:3]
    assert fit_lines(["x" * 50], 20) == "and 1 more"
    assert fit_lines(lines[:2], 1000, hidden=5) == "line 00\nline 01\nand 5 more"
    assert fit_lines([], 10, empty="Nothing.") == "Nothing."


# -- building on crafted data ----------------------------------------------------------------

NOW = utc(2026, 11, 25, 12)
WEEK = last_complete_period(NOW, PARIS)  # Mon 16 Nov 00:00 to Mon 23 Nov 00:00, Paris time


def in_week(day: int, hour: int = 12) -> datetime:
    """Local time in Paris on the week's `day` (0 = Monday)."""
    return WEEK.start + timedelta(days=day, hours=hour)


async def crafted(store) -> dict[str, int]:
    seed = Seeder(store)
    ids = {
        "old": await seed.post("Last week's post", published_at=in_week(-3), thread_id=10),
        "hot": await seed.post("Hot *topic* @everyone", published_at=in_week(1), thread_id=11),
        "new": await seed.post("New post", published_at=in_week(5), thread_id=None),
        "ann": await seed.author("Ann"),
        "bob": await seed.author("Bob"),
        "cat": await seed.author("Cat"),
    }
    await seed.comment(ids["old"], ids["ann"], in_week(-3))
    await seed.comment(ids["old"], ids["ann"], in_week(-2))
    # Sunday 23:30 Paris is Sunday in the chart, though it is 22:30 UTC.
    for day, hour in ((0, 0), (1, 9), (1, 10), (3, 15), (6, 23)):
        await seed.comment(ids["hot"], ids["bob"], in_week(day, hour))
    await seed.comment(ids["hot"], ids["ann"], in_week(2), body="liked", reactions={"👍": 3})
    await seed.comment(ids["old"], ids["cat"], in_week(4), status="held")
    await seed.comment(ids["old"], ids["cat"], in_week(4), status="deleted")
    await seed.case("hold", in_week(4), rule="links")
    await seed.case("approve", in_week(4))
    await seed.case("remove", in_week(5), rule="links")
    await seed.post("Failing", published_at=in_week(-20), mirror_state="failed")
    await seed.feed_error("https://feed.example/rss", 3)
    return ids


async def test_build_digest_sections(store):
    ids = await crafted(store)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW, catchups_run=2)

    assert content.period == WEEK and content.previous == previous(WEEK)
    assert [p.post_id for p in content.new_posts] == [ids["new"], ids["hot"]]
    assert content.comments == 7  # the deleted one is not counted
    assert content.previous_comments == 2
    assert [n for _, n in content.per_day] == [1, 2, 1, 1, 1, 0, 1]
    assert [d for d, _ in content.per_day] == days(WEEK)
    assert list(content.previous_per_day) == [0, 0, 0, 0, 1, 1, 0]
    assert [(p.post_id, p.comments) for p in content.most_discussed] == [
        (ids["hot"], 6),
        (ids["old"], 1),
    ]
    assert [(c.body, c.reactions) for c in content.most_liked] == [("liked", 3)]
    assert [(p.name, p.comments) for p in content.most_active] == [
        ("Bob", 5),
        ("Ann", 1),
        ("Cat", 1),
    ]
    assert content.new_commenters_total == 2
    assert {p.name for p in content.new_commenters} == {"Bob", "Cat"}
    moderation = content.moderation
    assert (moderation.held, moderation.approved, moderation.removed) == (1, 1, 1)
    assert moderation.top_rules == (("links", 2),)
    assert moderation.queue.size == 1
    assert moderation.oldest_age == NOW - in_week(4)
    assert content.health.mirrors_failed == 1 and content.health.mirrors_broken == 0
    assert [f.url for f in content.health.feed_errors] == ["https://feed.example/rss"]
    assert content.health.catchups_run == 2 and content.health.rate_limits_seen == 0
    assert not content.is_quiet


async def test_rendered_digest_links_escapes_and_reports_health(store):
    ids = await crafted(store)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW, catchups_run=2)
    embed = digest_embed_dict(content)
    text = json.dumps(embed, ensure_ascii=False)

    assert embed["title"] == "Digest: 16 Nov \u2013 22 Nov 2026"
    assert "**Comments:** 7 · +5 (+250%) on the period before" in embed["description"]
    assert thread_url(GUILD, 11) == f"https://discord.com/channels/{GUILD}/11"
    assert f"(https://discord.com/channels/{GUILD}/11)" in text
    assert "Hot \\\\*topic\\\\* @\u200beveryone" in text  # escaped, and the ping broken
    assert "@everyone" not in text
    assert "Catch-ups run: 2 · 429s seen: 0" in text
    assert embed["image"] == {"url": "attachment://comments-per-day.png"}
    assert "image" not in digest_embed_dict(content, chart=None)
    assert ids["new"]  # listed without a link: it has no thread yet
    new_posts = next(f for f in embed["fields"] if f["name"].startswith("New posts"))
    assert new_posts["value"].splitlines()[0] == "• New post"


async def test_quiet_week(store):
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)
    assert content.is_quiet and content.comments == 0 and content.new_posts == ()
    embed = digest_embed_dict(content)
    assert embed["description"] == QUIET_WEEK
    assert [f["name"] for f in embed["fields"]] == ["Moderation", "Health"]
    assert "Review queue: empty" in embed["fields"][0]["value"]
    assert QUIET_WEEK in digest_text(content)
    assert digest_json(content)["quiet"] is True


def _size(embed: dict) -> int:
    return (
        len(embed["title"])
        + len(embed["description"])
        + len(embed["footer"]["text"])
        + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    )


async def test_a_hundred_long_posts_still_fit(store):
    seed = Seeder(store)
    ann = await seed.author("A" * 300)
    for i in range(100):
        post = await seed.post(f"{i} " + "Very long title " * 30, published_at=in_week(i % 7))
        await seed.comment(post, ann, in_week(i % 7), body="w" * 3000, reactions={"👍": 1})
    for i in range(40):
        await seed.case(f"action-{i}-" + "x" * 50, in_week(1), rule=f"rule-{i}-" + "y" * 80)
        await seed.feed_error(f"https://feed{i}.example/" + "z" * 200, i + 1)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)

    embed = digest_embed_dict(content)

    assert len(content.new_posts) == 100
    assert _size(embed) <= EMBED_TOTAL_LIMIT
    assert len(embed["fields"]) <= EMBED_FIELDS_LIMIT
    assert all(len(f["value"]) <= EMBED_FIELD_VALUE_LIMIT for f in embed["fields"])
    assert all(len(f["name"]) <= 256 for f in embed["fields"])
    new_posts = embed["fields"][0]
    assert new_posts["name"] == "New posts (100)"
    last = new_posts["value"].splitlines()[-1]
    shown = len(new_posts["value"].splitlines()) - 1
    assert last == f"and {100 - shown} more"


def test_embed_shrinks_when_every_field_is_full():
    # Crafted content whose fields all want their full budget, to exercise the total limit.
    content = _content_with_posts(
        [NewPostItem(i, "T" * 200, None, i, utc(2026, 11, 17)) for i in range(10)]
    )
    embed = digest_embed_dict(content)
    assert _size(embed) <= EMBED_TOTAL_LIMIT


def _content_with_posts(posts: list[NewPostItem]) -> DigestContent:
    return DigestContent(
        guild_id=GUILD,
        period=WEEK,
        previous=previous(WEEK),
        new_posts=tuple(posts),
        comments=1,
        previous_comments=0,
        per_day=tuple((d, 0) for d in days(WEEK)),
        previous_per_day=(0,) * 7,
        most_discussed=(),
        most_liked=(),
        most_active=(),
        new_commenters_total=0,
        new_commenters=(),
        moderation=Moderation(0, 0, 0, {}, (), ReviewQueue(0, None), None),
        health=Health(0, 0, ()),
    )


async def test_text_and_json_say_the_same(store):
    await crafted(store)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)
    text = digest_text(content)
    assert "New posts: 2" in text and "  - Hot *topic* @everyone" in text
    assert "Comments: 7 (+5 (+250%); 2 before)" in text
    assert "Per day: Mon 1, Tue 2, Wed 1, Thu 1, Fri 1, Sat 0, Sun 1" in text
    assert "Top rules: links (2)" in text
    data = json.loads(json.dumps(digest_json(content)))
    assert data["comments"] == 7 and data["comments_change"] == "+5 (+250%)"
    assert data["timezone"] == "Europe/Paris"
    assert data["period"]["start"] == "2026-11-16T00:00:00+01:00"
    assert data["per_day"][0] == ["2026-11-16", 1]
    assert data["moderation"]["queue"]["size"] == 1
    assert data["health"]["rate_limits_seen"] == 0


async def test_footer_names_the_period_for_finding_a_posted_digest(store):
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)
    footer = digest_embed_dict(content)["footer"]["text"]
    assert footer == "Times in Europe/Paris · threadbridge digest 2026-11-16"
    assert digest_marker(WEEK) in footer
    assert find_digest_marker(footer) == date(2026, 11, 16)
    assert find_digest_marker("something else") is None
    assert find_digest_marker(None) is None
