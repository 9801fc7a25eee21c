"""The digest posted through the emulator: on schedule, once, and the missed one at start."""

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import to_db
from bot.digest.delivery import last_due_time, publish_digest, schedule_trigger
from bot.digest.period import current_week, last_complete_period
from bot.digest.render import CHART_FILENAME, QUIET_WEEK
from bot.store.digest import get_digest
from bot.store.meta import set_meta
from bot.store.models import SourceComment
from bot.store.posts import save_source_post
from tests.mirror.test_mirroring import hostile_post

PARIS = ZoneInfo("Europe/Paris")
# Monday 9:00 in Paris: the default schedule's moment.
MONDAY_NINE = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)
DIGEST_ONLY = ("cogs.admin", "cogs.digest")


@pytest.fixture
def paris_settings(bot_settings):
    return bot_settings.model_copy(update={"timezone": "Europe/Paris"})


def digests_in(emulator, community):
    return [
        m
        for m in emulator.messages(community.digest_channel_id)
        if m.embeds and "threadbridge digest" in m.embeds[0].get("footer", {}).get("text", "")
    ]


async def fill_last_week(store):
    week = last_complete_period(MONDAY_NINE, PARIS)
    comments = tuple(
        SourceComment(
            external_id=f"c{n}",
            author_name=f"Reader {n % 3}",
            content_html="<p>Thoughts</p>",
            created_at=week.start.astimezone(UTC) + timedelta(hours=5 + 20 * n),
        )
        for n in range(6)
    )
    await save_source_post(
        store,
        hostile_post(
            title="Week's post", published_at=week.start + timedelta(days=1), comments=comments
        ),
    )


def test_last_due_time_looks_back_to_the_latest_fire():
    trigger = schedule_trigger("0 9 * * mon", PARIS)
    assert last_due_time(trigger, MONDAY_NINE) == MONDAY_NINE
    wednesday = MONDAY_NINE + timedelta(days=2)
    assert last_due_time(trigger, wednesday) == MONDAY_NINE
    assert last_due_time(trigger, MONDAY_NINE - timedelta(minutes=1)) == MONDAY_NINE - timedelta(
        days=7
    )


async def test_scheduled_digest_is_posted_once_with_its_chart(
    start_bot, paris_settings, emulator, community
):
    async with start_bot(paris_settings, extensions=DIGEST_ONLY, clock=lambda: MONDAY_NINE) as bot:
        job = bot.scheduler.get_job("digest")
        assert job.trigger.timezone == PARIS
        cog = bot.get_cog("digest")
        await cog.missed_check  # first start: nothing was missed
        await fill_last_week(bot.store)
        await asyncio.gather(cog.post_due(), cog.post_due())  # two triggers at once
        await cog.post_due()
        record = await get_digest(
            bot.store, community.guild_id, last_complete_period(MONDAY_NINE, PARIS)
        )
    (digest,) = digests_in(emulator, community)
    assert record.state == "posted" and record.message_id == digest.id
    assert [a.filename for a in digest.attachments] == [CHART_FILENAME]
    assert digest.embeds[0]["image"]["url"] == f"attachment://{CHART_FILENAME}"
    text = str(digest.embeds[0])
    assert "Week's post" in text and "6" in text
    assert emulator.message_payload(digest.id)["mention_everyone"] is False

    async with start_bot(paris_settings, extensions=DIGEST_ONLY, clock=lambda: MONDAY_NINE) as bot:
        await bot.get_cog("digest").missed_check
        await bot.get_cog("digest").post_due()
    assert len(digests_in(emulator, community)) == 1, "posted again after a restart"


async def test_the_latest_missed_digest_is_posted_at_start_and_only_that_one(
    start_bot, paris_settings, emulator, community
):
    three_weeks_later = MONDAY_NINE + timedelta(days=16)  # Wednesday, two schedules missed
    async with start_bot(paris_settings, extensions=DIGEST_ONLY, clock=lambda: MONDAY_NINE) as bot:
        await bot.get_cog("digest").missed_check
        await set_meta(bot.store, "first_started_at", to_db(MONDAY_NINE - timedelta(days=30)))
        await bot.get_cog("digest").post_due()  # the week before the outage
    async with start_bot(
        paris_settings, extensions=DIGEST_ONLY, clock=lambda: three_weeks_later
    ) as bot:
        await bot.get_cog("digest").missed_check
        latest = last_complete_period(three_weeks_later, PARIS)
        record = await get_digest(bot.store, community.guild_id, latest)
        skipped = await get_digest(
            bot.store,
            community.guild_id,
            last_complete_period(MONDAY_NINE + timedelta(days=7), PARIS),
        )
    assert record.state == "posted"
    assert skipped is None
    assert QUIET_WEEK in str(digests_in(emulator, community)[-1].embeds[0])


async def test_no_catch_up_for_a_digest_due_before_the_first_start(
    start_bot, paris_settings, emulator, community
):
    async with start_bot(
        paris_settings, extensions=DIGEST_ONLY, clock=lambda: MONDAY_NINE + timedelta(hours=1)
    ) as bot:
        await bot.get_cog("digest").missed_check
    assert digests_in(emulator, community) == []


async def test_preview_for_admins_only(start_bot, paris_settings, emulator, community):
    member = next(m for m in community.member_ids if m != community.moderator_id)
    async with start_bot(paris_settings, extensions=DIGEST_ONLY, clock=lambda: MONDAY_NINE) as bot:
        await bot.get_cog("digest").missed_check
        await fill_last_week(bot.store)
        shown = emulator.run_slash_command(
            community.text_channel_id, community.owner_id, "digest", {}, subcommand="preview"
        )
        refused = emulator.run_slash_command(
            community.text_channel_id, member, "digest", {}, subcommand="preview"
        )
        await emulator.wait_for_response(shown, count=2)
        await emulator.wait_for_response(refused)
    followup = shown.responses[-1]
    assert followup.ephemeral
    assert "Week's post" in str(followup.data["embeds"][0])
    assert "Only admins" in refused.responses[0].data["content"]
    assert digests_in(emulator, community) == []


async def test_preview_of_the_week_so_far(start_bot, paris_settings, emulator, community):
    wednesday = MONDAY_NINE + timedelta(days=2, hours=5)  # Wednesday 14:00 in Paris
    async with start_bot(paris_settings, extensions=DIGEST_ONLY, clock=lambda: wednesday) as bot:
        await bot.get_cog("digest").missed_check
        await fill_last_week(bot.store)
        # Written this morning: only the week so far holds it.
        await save_source_post(
            bot.store,
            hostile_post(
                external_id="today-1",
                title="Today's post",
                published_at=wednesday - timedelta(hours=6),
                comments=(
                    SourceComment(
                        external_id="t1",
                        author_name="Early reader",
                        content_html="<p>First!</p>",
                        created_at=wednesday - timedelta(hours=2),
                    ),
                ),
            ),
        )
        so_far = emulator.run_slash_command(
            community.text_channel_id,
            community.owner_id,
            "digest",
            {"weeks_ago": 0},
            subcommand="preview",
        )
        last_week = emulator.run_slash_command(
            community.text_channel_id,
            community.owner_id,
            "digest",
            {"weeks_ago": 1},
            subcommand="preview",
        )
        await emulator.wait_for_response(so_far, count=2)
        await emulator.wait_for_response(last_week, count=2)
        claimed = await get_digest(bot.store, community.guild_id, current_week(wednesday, PARIS))

    followup = so_far.responses[-1]
    assert followup.ephemeral
    embed = followup.data["embeds"][0]
    assert embed["title"] == "Digest: 23 Nov \u2013 25 Nov 2026, so far"
    assert embed["footer"]["text"] == (
        "Times in Europe/Paris · week so far, up to Wed 25 Nov 14:00"
    )
    assert "Today's post" in str(embed) and "Week's post" not in str(embed)
    assert "on the same time last week" in embed["description"]
    earlier = last_week.responses[-1].data["embeds"][0]
    assert earlier["title"] == "Digest: 16 Nov \u2013 22 Nov 2026"
    assert "Week's post" in str(earlier)
    # A preview is only shown: nothing posted in the digest channel, nothing recorded.
    assert digests_in(emulator, community) == []
    assert claimed is None


async def test_the_week_so_far_is_never_posted(store):
    with pytest.raises(ValueError, match="complete"):
        await publish_digest(
            None,  # refused before Discord is reached
            store,
            guild_id=1,
            channel_id=2,
            period=current_week(MONDAY_NINE, PARIS),
            now=MONDAY_NINE,
        )
