"""The digest's renderings: small formatting, the embed within Discord's limits, text and JSON."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.digest.content import (
    DigestContent,
    HealthSummary,
    ModerationSummary,
    build_digest,
)
from bot.digest.period import current_week, days, previous
from bot.digest.render import (
    DISCORD_ID_KEYS,
    QUIET_SO_FAR,
    QUIET_WEEK,
    digest_embed_dict,
    digest_json,
    digest_marker,
    digest_text,
    find_digest_marker,
    fit_lines,
    format_age,
    format_change,
)
from bot.discord_helpers import jump_url
from bot.discord_text import EMBED_FIELD_VALUE_LIMIT, EMBED_FIELDS_LIMIT, EMBED_TOTAL_LIMIT
from bot.store.digest import NewPostItem, ReviewQueue
from bot.store.export import export_posts
from tests.digest.test_content import NOW, WEEK, crafted, in_week
from tests.digest.test_period import PARIS, utc
from tests.store.test_digest_store import GUILD, Seeder

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


# -- the crafted week, rendered --------------------------------------------------------------


async def test_rendered_digest_links_escapes_and_reports_health(store):
    ids = await crafted(store)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW, catchups_run=2)
    embed = digest_embed_dict(content)
    text = json.dumps(embed, ensure_ascii=False)

    assert embed["title"] == "Digest: 16 Nov \u2013 22 Nov 2026"
    assert "**Comments:** 7 · +5 (+250%) on the period before" in embed["description"]
    assert jump_url(GUILD, 11) == f"https://discord.com/channels/{GUILD}/11"
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
        moderation=ModerationSummary(0, 0, 0, {}, (), ReviewQueue(0, None), None),
        health=HealthSummary(0, 0, ()),
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


# -- the week so far -------------------------------------------------------------------------


async def test_the_week_so_far_says_so_everywhere(store):
    await crafted(store)
    thursday = in_week(3, 16)  # Thursday 16:00 in Paris, in the crafted week
    content = await build_digest(store, current_week(thursday, PARIS), guild_id=GUILD, now=thursday)
    assert content.partial
    assert [n for _, n in content.per_day] == [1, 2, 1, 1]

    embed = digest_embed_dict(content)
    assert embed["title"] == "Digest: 16 Nov \u2013 19 Nov 2026, so far"
    assert "**Comments:** 5 · new on the same time last week" in embed["description"]
    footer = embed["footer"]["text"]
    assert footer == "Times in Europe/Paris · week so far, up to Thu 19 Nov 16:00"
    assert find_digest_marker(footer) is None  # never taken for a posted digest

    text = digest_text(content)
    assert text.startswith("Digest 16 Nov \u2013 19 Nov 2026, so far (Europe/Paris)\n")
    assert "to 2026-11-19T16:00:00+01:00 (now: the week so far, not complete)" in text
    assert "Comments: 5 (new; 0 by the same time last week)" in text
    assert "Per day: Mon 1, Tue 2, Wed 1, Thu 1\n" in text

    data = json.loads(json.dumps(digest_json(content)))
    assert data["partial"] is True and data["period"]["partial"] is True
    assert data["period"] == {
        "start": "2026-11-16T00:00:00+01:00",
        "end": "2026-11-19T16:00:00+01:00",  # the moment it was built
        "partial": True,
    }
    assert data["previous"]["end"] == "2026-11-12T16:00:00+01:00"


async def test_a_quiet_week_so_far(store):
    content = await build_digest(store, current_week(NOW, PARIS), guild_id=GUILD, now=NOW)
    assert digest_embed_dict(content)["description"] == QUIET_SO_FAR
    assert QUIET_SO_FAR in digest_text(content)
    assert digest_json(content)["quiet"] is True


async def test_a_complete_week_is_not_partial(store):
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)
    data = digest_json(content)
    assert data["partial"] is False and data["period"]["partial"] is False
    assert "so far" not in digest_embed_dict(content)["title"] + digest_text(content)


# -- ids in the JSON -------------------------------------------------------------------------


def _ids(data: object) -> list[tuple[str, object]]:
    """Every (key, value) whose key names an id, anywhere in `data`."""
    found: list[tuple[str, object]] = []
    if isinstance(data, dict):
        for name, value in data.items():
            if name == "id" or name.endswith("_id"):
                found.append((name, value))
            found += _ids(value)
    elif isinstance(data, list):
        for item in data:
            found += _ids(item)
    return found


async def test_json_ids_are_strings_for_discord_and_integers_for_the_store(store):
    await crafted(store)
    content = await build_digest(store, WEEK, PARIS, guild_id=GUILD, now=NOW)
    data = json.loads(json.dumps(digest_json(content)))

    ids = _ids(data)
    assert {name for name, _ in ids} == {
        "guild_id",
        "post_id",
        "thread_id",
        "comment_id",
        "message_id",
        "author_id",
    }
    for name, value in ids:
        if name in DISCORD_ID_KEYS:
            assert value is None or isinstance(value, str), (name, value)
        else:  # the store's own ids
            assert isinstance(value, int) and not isinstance(value, bool), (name, value)
    assert data["guild_id"] == str(GUILD)
    (liked,) = data["most_liked"]
    assert liked["message_id"].isdigit()

    # As in the export: the same post has the same integer id and the same string thread id,
    # and a commenter's author_id is the one on their comments there.
    exported = {post["id"]: post for post in await export_posts(store)}
    for post in data["new_posts"] + data["most_discussed"]:
        assert post["thread_id"] == exported[post["post_id"]]["thread_id"]
    authors = {
        (comment["author"], comment["author_id"])
        for post in exported.values()
        for comment in post["comments"]
    }
    people = data["most_active"] + data["new_commenters"]
    assert people and all((p["name"], p["author_id"]) in authors for p in people)
    assert set(people[0]) == {"author_id", "name", "comments"}
