"""Posting the digest to Discord: once per period, on schedule, and the latest missed one at
start."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import discord
from apscheduler.triggers.cron import CronTrigger

from bot.digest.chart import comments_per_day_png
from bot.digest.content import DigestContent, build_digest
from bot.digest.period import Period, last_complete_period
from bot.digest.render import CHART_FILENAME, digest_embed_dict, find_digest_marker
from bot.log import get_logger
from bot.store import Store
from bot.store.digest import DigestRow, claim_digest, get_digest, mark_posted

log = get_logger("threadbridge.digest")

NO_MENTIONS = discord.AllowedMentions.none()
# How far back the start-up check looks for a digest that fell due while the bot was down.
MISSED_LOOKBACK = timedelta(days=8)


def schedule_trigger(schedule: str, tz: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(schedule, timezone=tz)


def last_due_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The latest scheduled time at or before `now` (APScheduler only looks forward)."""
    moment = trigger.get_next_fire_time(None, now - MISSED_LOOKBACK)
    latest = None
    while moment is not None and moment <= now:
        latest = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return latest


def digest_message(content: DigestContent) -> tuple[discord.Embed, discord.File]:
    chart = comments_per_day_png(list(content.per_day), list(content.previous_per_day))
    return (
        discord.Embed.from_dict(digest_embed_dict(content)),
        discord.File(io.BytesIO(chart), filename=CHART_FILENAME),
    )


async def publish_digest(
    client: discord.Client,
    store: Store,
    *,
    guild_id: int,
    channel_id: int,
    period: Period,
    now: datetime,
) -> DigestRow | None:
    """Post `period`'s digest unless it is posted or being posted.

    Returns the record when this call posted it (or found its message and recorded it). Only
    complete periods are posted: the week so far is for previews.
    """
    if period.partial:
        raise ValueError("only a complete period's digest is posted, not the week so far")
    claim = await claim_digest(store, guild_id, period, now=now)
    if claim is None:
        return None
    channel = client.get_channel(channel_id) or await client.fetch_channel(channel_id)
    if not isinstance(channel, discord.abc.Messageable):
        raise ValueError(f"DIGEST_CHANNEL_ID {channel_id} is not a channel messages can go to")
    # A crash between sending and recording leaves the claim pending: find that message first.
    posted = await _already_posted(channel, client, period)
    if posted is None:
        content = await build_digest(store, period, guild_id=guild_id, now=now)
        embed, chart = digest_message(content)
        posted = await channel.send(embed=embed, file=chart, allowed_mentions=NO_MENTIONS)
        log.info("digest posted", period_start=period.start.isoformat(), message=posted.id)
    return await mark_posted(store, claim.id, channel_id, posted.id, now=now)


async def _already_posted(
    channel: discord.abc.Messageable, client: discord.Client, period: Period
) -> discord.Message | None:
    first_day = period.start.date()
    async for message in channel.history(limit=50):
        if client.user is None or message.author.id != client.user.id:
            continue
        for embed in message.embeds:
            if embed.footer and find_digest_marker(embed.footer.text) == first_day:
                return message
    return None


async def publish_missed_digest(
    client: discord.Client,
    store: Store,
    *,
    guild_id: int,
    channel_id: int,
    trigger: CronTrigger,
    tz: ZoneInfo,
    running_since: datetime,
    now: datetime,
) -> DigestRow | None:
    """At start: the latest digest that fell due while the bot was down, and only that one."""
    due = last_due_time(trigger, now)
    if due is None or due <= running_since:
        return None  # nothing fell due since threadbridge first ran here
    period = last_complete_period(due, tz)
    existing = await get_digest(store, guild_id, period)
    if existing is not None and existing.state == "posted":
        return None
    return await publish_digest(
        client, store, guild_id=guild_id, channel_id=channel_id, period=period, now=now
    )
