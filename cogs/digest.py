"""The weekly digest in Discord: the scheduled post, the catch-up at start, /digest preview."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Threadbridge
from bot.clock import from_db, to_db
from bot.digest.content import build_digest
from bot.digest.delivery import (
    digest_message,
    publish_digest,
    publish_missed_digest,
    schedule_trigger,
)
from bot.digest.period import current_week, last_complete_period, previous
from bot.log import get_logger
from bot.permissions import is_admin
from bot.store.digest import get_digest
from bot.store.meta import get_meta, set_meta
from bot.tree import Refusal

log = get_logger("threadbridge.cogs.digest")

DIGEST_JOB = "digest"
RETRY_JOB = "digest-retry"
RETRY_AFTER = timedelta(minutes=11)  # past the claim lease of a poster that died


async def run_scheduled_digest(cog: DigestCog) -> None:
    """Scheduled job: post the digest of the period that just ended."""
    await cog.post_due()


async def run_missed_digest(cog: DigestCog) -> None:
    await cog.post_missed()


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class DigestCog(
    commands.GroupCog, name="digest", group_name="digest", group_description="The weekly digest"
):
    def __init__(self, bot: Threadbridge) -> None:
        self.bot = bot
        settings = bot.settings
        self.trigger = schedule_trigger(settings.digest_schedule, settings.tzinfo)
        self.missed_check: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.bot.settings.digest_channel_id is not None

    async def cog_load(self) -> None:
        if self.bot.one_shot:
            return
        # The first start is remembered: a digest that fell due before it was never missed.
        if await get_meta(self.bot.store, "first_started_at") is None:
            await set_meta(self.bot.store, "first_started_at", to_db(self.bot.clock()))
        if self.enabled:
            self.bot.scheduler.add_job(
                run_scheduled_digest,
                self.trigger,
                id=DIGEST_JOB,
                replace_existing=True,
                kwargs={"cog": self},
            )

    async def cog_unload(self) -> None:
        for job_id in (DIGEST_JOB, RETRY_JOB):
            if self.bot.scheduler.get_job(job_id) is not None:
                self.bot.scheduler.remove_job(job_id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        if self.enabled:
            self.missed_check = self.bot.background.spawn(self.post_missed(), name="digest-missed")

    def _targets(self) -> tuple[int, int]:
        settings = self.bot.settings
        assert settings.guild_id is not None and settings.digest_channel_id is not None
        return settings.guild_id, settings.digest_channel_id

    async def post_due(self, now: datetime | None = None) -> None:
        await self.bot.wait_until_ready()
        now = now or self.bot.clock()
        guild_id, channel_id = self._targets()
        period = last_complete_period(now, self.bot.settings.tzinfo)
        try:
            await publish_digest(
                self.bot,
                self.bot.store,
                guild_id=guild_id,
                channel_id=channel_id,
                period=period,
                now=now,
            )
        except (discord.HTTPException, ValueError) as error:
            log.error("digest not posted", reason=str(error))
            self._retry_later(now)

    async def post_missed(self, now: datetime | None = None) -> None:
        now = now or self.bot.clock()
        guild_id, channel_id = self._targets()
        first = await get_meta(self.bot.store, "first_started_at")
        running_since = from_db(first) if first else now
        try:
            posted = await publish_missed_digest(
                self.bot,
                self.bot.store,
                guild_id=guild_id,
                channel_id=channel_id,
                trigger=self.trigger,
                tz=self.bot.settings.tzinfo,
                running_since=running_since,
                now=now,
            )
        except (discord.HTTPException, ValueError) as error:
            log.error("missed digest not posted", reason=str(error))
            self._retry_later(now)
            return
        period = last_complete_period(now, self.bot.settings.tzinfo)
        pending = await get_digest(self.bot.store, guild_id, period)
        if posted is None and pending is not None and pending.state == "pending":
            # Another poster's claim (a previous run that died) has not expired yet.
            self._retry_later(now)

    def _retry_later(self, now: datetime) -> None:
        self.bot.scheduler.add_job(
            run_missed_digest,
            "date",
            run_date=now + RETRY_AFTER,
            id=RETRY_JOB,
            replace_existing=True,
            kwargs={"cog": self},
        )

    async def interaction_check(self, interaction: discord.Interaction[Threadbridge]) -> bool:  # type: ignore[override]
        if not is_admin(interaction.user):
            raise Refusal("Only admins (Manage Server) can see the digest.")
        return True

    @app_commands.command(name="preview", description="Show a digest now, only to you")
    @app_commands.describe(
        weeks_ago="0: this week so far, 1: last week (the default), 2: the week before, ..."
    )
    async def preview(
        self,
        interaction: discord.Interaction[Threadbridge],
        weeks_ago: app_commands.Range[int, 0, 52] = 1,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        now, tz = self.bot.clock(), self.bot.settings.tzinfo
        if weeks_ago == 0:
            period = current_week(now, tz)
        else:
            period = last_complete_period(now, tz)
            for _ in range(weeks_ago - 1):
                period = previous(period)
        assert self.bot.settings.guild_id is not None
        content = await build_digest(
            self.bot.store, period, guild_id=self.bot.settings.guild_id, now=now
        )
        embed, chart = digest_message(content)
        await interaction.followup.send(embed=embed, file=chart, ephemeral=True)


async def setup(bot: Threadbridge) -> None:
    await bot.add_cog(DigestCog(bot))
