"""The digest's content, built from the store on crafted data."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.digest.content import build_digest
from bot.digest.period import days, last_complete_period, previous
from tests.digest.test_period import PARIS, utc
from tests.store.test_digest_store import GUILD, Seeder

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
