"""Mirroring in Discord: the scheduled jobs that mirror posts and read feeds, and /mirror."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Threadbridge
from bot.clock import utcnow
from bot.discord_text import escape_title
from bot.errors import UserFacingError
from bot.log import event_context, get_logger
from bot.mirror.arrivals import ArrivalWatch
from bot.mirror.mirroring import Mirroring
from bot.mirror.poller import poll_feed
from bot.mirror.threads import MirrorError, failure_notice
from bot.permissions import is_admin
from bot.store.mirrors import (
    count_mirrors_by_state,
    find_mirror_by_thread,
    forget_thread,
    get_mirror,
    list_mirrors,
    record_mirror,
)
from bot.store.models import MirrorState, Post
from bot.store.posts import get_post
from bot.tree import Refusal, post_choices

log = get_logger("threadbridge.cogs.mirror")

MIRROR_JOB = "mirror-round"


async def run_mirror_round(cog: MirrorCog) -> None:
    """Scheduled job: mirror what waits in the store."""
    await cog.mirror_round()


async def run_feed_poll(cog: MirrorCog, url: str) -> None:
    """Scheduled job: read one feed."""
    await cog.poll(url)


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class MirrorCog(
    commands.GroupCog, name="mirror", group_name="mirror", group_description="Post threads"
):
    def __init__(self, bot: Threadbridge, mirroring: Mirroring) -> None:
        self.bot = bot
        self.mirroring = mirroring
        self.session: aiohttp.ClientSession | None = None
        self.arrivals: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        if self.bot.one_shot:
            return
        self.session = aiohttp.ClientSession()
        settings = self.bot.settings
        # Posts and web comments stored by another program are mirrored within seconds; the
        # scheduled round below stays, for retries and for what the watch cannot see.
        watch = ArrivalWatch(self.bot.store, self.mirror_arrivals)
        self.arrivals = self.bot.background.spawn(watch.run(), name="mirror-arrivals")
        self.bot.scheduler.add_job(
            run_mirror_round,
            "interval",
            seconds=settings.mirror_interval_seconds,
            id=MIRROR_JOB,
            replace_existing=True,
            kwargs={"cog": self},
        )
        for url in settings.feed_urls:
            self.bot.scheduler.add_job(
                run_feed_poll,
                "interval",
                minutes=settings.feed_poll_minutes,
                id=f"feed:{url}",
                replace_existing=True,
                next_run_time=utcnow(),
                kwargs={"cog": self, "url": url},
            )

    async def cog_unload(self) -> None:
        if self.arrivals is not None:
            self.arrivals.cancel()
        for job in self.bot.scheduler.get_jobs():
            if job.id == MIRROR_JOB or job.id.startswith("feed:"):
                job.remove()
        if self.session is not None:
            await self.session.close()

    async def mirror_round(self) -> None:
        await self.bot.wait_until_ready()
        try:
            result = await self.mirroring.run_once()
        except MirrorError as error:
            log.error("mirroring stopped", reason=str(error))
            return
        if result.mirrored or result.failed or result.comments_posted:
            log.info(
                "mirror round",
                mirrored=len(result.mirrored),
                failed=len(result.failed),
                comments=result.comments_posted,
            )
        await self.report_failures()

    def request_round(self) -> asyncio.Task[Any]:
        """Mirror soon, without waiting for the next scheduled round."""
        return self.bot.background.spawn(self.mirror_round(), name="mirror-round-now")

    async def mirror_arrivals(self) -> None:
        # As a background task, so that a round that fails is logged and the watch goes on.
        await asyncio.wait([self.request_round()])

    async def report_failures(self) -> None:
        channel_id = self.bot.settings.modlog_channel_id
        modlog = self.bot.get_channel(channel_id) if channel_id else None
        if modlog is not None and not isinstance(modlog, discord.abc.Messageable):
            modlog = None
        try:
            await self.mirroring.report_failures(modlog)
        except discord.HTTPException as error:
            log.warning("mod-log unreachable", status=error.status, code=error.code)

    async def poll(self, url: str) -> None:
        assert self.session is not None
        settings = self.bot.settings
        with event_context(feed=url):
            result = await poll_feed(
                self.bot.store,
                self.session,
                url,
                now=utcnow(),
                poll_interval=timedelta(minutes=settings.feed_poll_minutes),
                backlog_age=timedelta(hours=settings.feed_backlog_hours),
            )
        if result.new_posts > result.backlog or result.edited_posts:
            self.request_round()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        # Posts stored while the bot was away are mirrored now, not at the next round.
        self.request_round()

    @commands.Cog.listener()
    async def on_raw_thread_delete(self, payload: discord.RawThreadDeleteEvent) -> None:
        mirror = await find_mirror_by_thread(self.bot.store, payload.thread_id)
        if mirror is None:
            return
        with event_context(post_id=mirror.post_id, channel_id=payload.thread_id):
            await record_mirror(
                self.bot.store,
                mirror.post_id,
                MirrorState.BROKEN,
                error="its thread was deleted in Discord",
            )
            log.warning("mirrored thread deleted")
        await self.report_failures()

    # --- /mirror ---------------------------------------------------------------------------

    async def interaction_check(self, interaction: discord.Interaction[Threadbridge]) -> bool:  # type: ignore[override]
        if not is_admin(interaction.user):
            raise Refusal("Only admins (Manage Server) can manage post threads.")
        return True

    async def _post(self, post_id: int) -> Post:
        post = await get_post(self.bot.store, post_id)
        if post is None:
            raise UserFacingError(f"There is no post {post_id}.")
        return post

    @app_commands.command(name="status", description="How mirroring stands, for all posts or one")
    @app_commands.describe(post="The post to look at (leave empty for a summary)")
    async def status(
        self, interaction: discord.Interaction[Threadbridge], post: int | None = None
    ) -> None:
        if post is None:
            text = await self._summary()
        else:
            text = await self._post_status(await self._post(post))
        await interaction.response.send_message(text, ephemeral=True)

    async def _summary(self) -> str:
        counts = await count_mirrors_by_state(self.bot.store)
        lines = ["**Mirrors**: " + ", ".join(f"{s.value} {n}" for s, n in counts.items())]
        troubled = await list_mirrors(self.bot.store, (MirrorState.FAILED, MirrorState.BROKEN))
        for mirror in troubled[:10]:
            post = await get_post(self.bot.store, mirror.post_id)
            if post is not None:
                lines.append("• " + failure_notice(post, mirror))
        if len(troubled) > 10:
            lines.append(f"and {len(troubled) - 10} more")
        return "\n".join(lines)[:2000]

    async def _post_status(self, post: Post) -> str:
        mirror = await get_mirror(self.bot.store, post.id)
        title = escape_title((post.title or "Untitled post")[:200])
        if mirror is None:
            return f"Post {post.id} **{title}** is waiting for its thread."
        line = f"Post {post.id} **{title}**: {mirror.state.value}, {mirror.attempts} attempt(s)"
        if mirror.thread_id:
            line += f", thread <#{mirror.thread_id}>"
        if mirror.last_error:
            line += f". Last error: {mirror.last_error}"
        return line

    @app_commands.command(name="retry", description="Try again to mirror a post that failed")
    @app_commands.describe(post="The post to mirror again")
    async def retry(self, interaction: discord.Interaction[Threadbridge], post: int) -> None:
        chosen = await self._post(post)
        mirror = await get_mirror(self.bot.store, chosen.id)
        if mirror is not None and mirror.state is MirrorState.MIRRORED:
            raise UserFacingError(f"Post {chosen.id} is already mirrored in <#{mirror.thread_id}>.")
        if mirror is not None and mirror.state is MirrorState.BROKEN:
            raise UserFacingError(
                f"Post {chosen.id} lost its thread: use `/mirror repost` to give it a new one."
            )
        await interaction.response.defer(ephemeral=True, thinking=True)
        await record_mirror(self.bot.store, chosen.id, MirrorState.NEW)
        await interaction.followup.send(await self._mirror_now(chosen), ephemeral=True)

    @app_commands.command(name="repost", description="Give a post a new thread")
    @app_commands.describe(post="The post to mirror into a new thread")
    async def repost(self, interaction: discord.Interaction[Threadbridge], post: int) -> None:
        chosen = await self._post(post)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if await get_mirror(self.bot.store, chosen.id) is not None:
            await forget_thread(self.bot.store, chosen.id)
        await interaction.followup.send(await self._mirror_now(chosen), ephemeral=True)

    async def _mirror_now(self, post: Post) -> str:
        try:
            mirror = await self.mirroring.mirror_post_now(post)
        except MirrorError as error:
            return f"Could not mirror post {post.id}: {error}"
        if mirror is not None and mirror.state is MirrorState.MIRRORED:
            return f"Post {post.id} is mirrored in <#{mirror.thread_id}>."
        reason = mirror.last_error if mirror else "unknown reason"
        return f"Post {post.id} could not be mirrored: {reason}"

    status.autocomplete("post")(post_choices)
    retry.autocomplete("post")(post_choices)
    repost.autocomplete("post")(post_choices)


async def setup(bot: Threadbridge) -> None:
    await bot.add_cog(MirrorCog(bot, bot.services.mirroring))
