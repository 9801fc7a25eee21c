"""Replies in post threads become comments: live events, catch-up after downtime, /sync, and
the members' /comments opt-out."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Threadbridge
from bot.clock import utcnow
from bot.comments.catchup import catch_up_thread
from bot.comments.events import (
    Created,
    Deleted,
    Edited,
    ReactionChanged,
    ThreadLocked,
)
from bot.comments.payloads import (
    attachment_from_payload,
    edited_content,
    incoming_from_payload,
    standing_from_payload,
)
from bot.comments.writer import CommentWriter
from bot.internals import Parser, give_back_message_create, take_over_message_create
from bot.log import event_context, get_logger
from bot.permissions import is_admin
from bot.settings import PublishMode
from bot.store.authors import (
    give_publish_consent,
    opt_in,
    opt_out,
    withdraw_publish_consent,
)
from bot.store.cursors import MirrorRef, threads_to_catch_up
from bot.store.health import CATCH_UP, count_event
from bot.store.mirrors import find_mirror_by_thread, record_mirror
from bot.store.models import MirrorState
from bot.store.server_names import replace_server_names
from bot.tree import Refusal

log = get_logger("threadbridge.cogs.comments")

# Threads read at once. A thread's pages come one after another (each asks for what follows
# the last), so the global pace (50 requests/s) is kept only with enough threads in flight to
# cover the round trips: 16 cover 0.3 s a page. With 4, the last threads of a catch-up were
# read alone, a round trip a page, while the rate limit would have let them go at once.
CATCH_UP_CONCURRENCY = 16


class CommentsCog(commands.Cog, name="comments"):
    def __init__(self, bot: Threadbridge, writer: CommentWriter) -> None:
        self.bot = bot
        self.writer = writer
        # Threads whose history has been read in this gateway session: from then on, live
        # messages arrive without gaps and may move the cursor.
        self.caught_up: set[int] = set()
        self.catching_up = False
        # Threads whose live replies the writer had no room for: read from history once it has.
        self.behind: set[int] = set()
        self.turned_away = 0  # live replies left to be read from history, since start
        self._recovery: asyncio.Task[None] | None = None
        self._parse_message: Parser | None = None  # discord.py's own MESSAGE_CREATE parser
        self._names_stale = False
        self._names_task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        # Replies in post threads are read straight from the gateway payload (bot.internals).
        self._parse_message = take_over_message_create(self.bot, self._parse_reply)

    async def cog_unload(self) -> None:
        if self._parse_message is not None:
            give_back_message_create(self.bot, self._parse_reply, self._parse_message)

    def _parse_reply(self, data: dict[str, Any]) -> None:
        guild_id = int(data.get("guild_id") or 0)
        guild = self.bot.get_guild(guild_id) if self._ours(guild_id) else None
        thread = guild.get_thread(int(data["channel_id"])) if guild is not None else None
        if thread is None:
            assert self._parse_message is not None
            self._parse_message(data)
            return
        # What discord.py's own parser keeps up to date, and catch-up reads to know where the
        # thread stood: without it, replies stored live since would look deleted.
        thread.last_message_id = int(data["id"])
        self._submit_reply(
            Created(incoming_from_payload(data, guild), advance_cursor=thread.id in self.caught_up)
        )

    def _submit_reply(self, event: Created) -> None:
        if self.writer.submit_reply(event):
            return
        # The writer is far behind: this reply will be read from the thread's history. Until
        # then the thread is not caught up, so that no later reply moves its cursor past it.
        if not self.behind:
            log.warning(
                "sync is far behind: replies will be read from their threads' history",
                backlog=self.writer.live_backlog,
            )
        self.turned_away += 1
        self.caught_up.discard(event.thread_id)
        self.behind.add(event.thread_id)
        if self._recovery is None or self._recovery.done():
            self._recovery = self.bot.background.spawn(self._recover(), name="sync-recovery")

    async def _recover(self) -> None:
        """Once the writer has worked its backlog down by half, catch up the threads whose
        replies it had to turn away (until no thread is left behind)."""
        while self.behind:
            await self.writer.wait_for_room()
            threads, self.behind = self.behind, set()
            for thread_id in sorted(threads):
                with event_context(channel_id=thread_id):
                    if not await self.catch_up(thread_id):
                        self.behind.add(thread_id)  # tried again on the next pass
        log.info("sync has caught up with the replies it turned away")

    def _ours(self, guild_id: int | None) -> bool:
        return guild_id == self.bot.settings.guild_id

    # --- live events -----------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_connect(self) -> None:
        # A new session: whatever happened since the last one has not been seen.
        self.caught_up.clear()

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.bot.background.spawn(self.catch_up_all(), name="catch-up")
        # Roles and channels may have changed while the bot was away.
        self._names_changed(self.bot.settings.guild_id)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        if not self._ours(payload.guild_id):
            return
        edit = edited_content(dict(payload.data))
        if edit is None:
            return
        content, attachments = edit
        edited_at = datetime.fromisoformat(str(payload.data.get("edited_timestamp")))
        guild = self.bot.get_guild(payload.guild_id) if payload.guild_id else None
        self.writer.submit(
            Edited(
                payload.message_id,
                payload.channel_id,
                content,
                edited_at,
                tuple(attachment_from_payload(a) for a in attachments)
                if attachments is not None
                else None,
                standing_from_payload(guild, dict(payload.data)),
            )
        )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        if self._ours(payload.guild_id):
            self.writer.submit(Deleted((payload.message_id,), payload.channel_id))

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        if self._ours(payload.guild_id):
            self.writer.submit(Deleted(tuple(sorted(payload.message_ids)), payload.channel_id))

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if self._members_reaction(payload):
            self.writer.submit(
                ReactionChanged(payload.message_id, payload.channel_id, str(payload.emoji), 1)
            )

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        if self._members_reaction(payload):
            self.writer.submit(
                ReactionChanged(payload.message_id, payload.channel_id, str(payload.emoji), -1)
            )

    def _members_reaction(self, payload: discord.RawReactionActionEvent) -> bool:
        # The bot's own reactions (the held marker it adds and takes away) are not counted.
        own = self.bot.user is not None and payload.user_id == self.bot.user.id
        return self._ours(payload.guild_id) and not own

    @commands.Cog.listener()
    async def on_raw_thread_update(self, payload: discord.RawThreadUpdateEvent) -> None:
        if not self._ours(payload.guild_id):
            return
        metadata = payload.data.get("thread_metadata") or {}
        if "locked" in metadata:
            # Archiving alone changes nothing: only a moderator's lock closes comments.
            self.writer.submit(ThreadLocked(payload.thread_id, bool(metadata["locked"])))

    # --- names of roles and channels, for showing their mentions on the site ----------------

    @commands.Cog.listener()
    async def on_guild_role_create(self, role: discord.Role) -> None:
        self._names_changed(role.guild.id)

    @commands.Cog.listener()
    async def on_guild_role_update(self, _before: discord.Role, after: discord.Role) -> None:
        # @everyone's permissions decide which channels are public.
        self._names_changed(after.guild.id)

    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        self._names_changed(role.guild.id)

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        self._names_changed(channel.guild.id)

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, _before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        self._names_changed(after.guild.id)

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        self._names_changed(channel.guild.id)

    def _names_changed(self, guild_id: int | None) -> None:
        if not self._ours(guild_id):
            return
        self._names_stale = True
        if self._names_task is None or self._names_task.done():
            self._names_task = self.bot.background.spawn(self._keep_names(), name="server-names")

    async def _keep_names(self) -> None:
        """Stores the server's names as they are now, again while changes came in meanwhile:
        a burst of events (a category's channels moved at once) is a write or two."""
        while self._names_stale:
            self._names_stale = False
            guild = self.bot.get_guild(self.bot.settings.guild_id or 0)
            if guild is None:
                return
            roles, channels = public_names(guild)
            await replace_server_names(self.bot.store, roles=roles, channels=channels)

    # --- catch-up --------------------------------------------------------------------------

    async def catch_up_all(self, *, full: bool = False) -> int:
        """Catch up every thread active within CATCHUP_DAYS; returns how many were read."""
        since = utcnow() - timedelta(days=self.bot.settings.catchup_days)
        # Several threads at once, so that the rate limits, not the round trips, set the pace.
        slots = asyncio.Semaphore(CATCH_UP_CONCURRENCY)

        async def one(ref: MirrorRef) -> bool:
            async with slots:
                with event_context(post_id=ref.post_id, channel_id=ref.thread_id):
                    return await self.catch_up(ref.thread_id, full=full)

        self.catching_up = True
        try:
            refs = await threads_to_catch_up(self.bot.store, since)
            done = sum(await asyncio.gather(*(one(ref) for ref in refs)))
        finally:
            self.catching_up = False
        await count_event(self.bot.store, CATCH_UP, self.bot.clock(), done)
        return done

    async def catch_up(self, thread_id: int, *, full: bool = False) -> bool:
        thread = await self._thread(thread_id)
        if thread is None:
            return False
        try:
            await catch_up_thread(thread, self.bot.store, self.writer, full=full)
        except discord.HTTPException as error:
            log.warning("catch-up stopped", status=error.status, code=error.code)
            return False
        self.caught_up.add(thread_id)
        return True

    async def _thread(self, thread_id: int) -> discord.Thread | None:
        cached = self.bot.get_channel(thread_id)
        if isinstance(cached, discord.Thread):
            return cached
        try:
            fetched = await self.bot.fetch_channel(thread_id)
        except discord.NotFound:
            mirror = await self._mirror_by_thread(thread_id)
            if mirror is not None:
                await record_mirror(
                    self.bot.store,
                    mirror,
                    MirrorState.BROKEN,
                    error="its thread no longer exists in Discord",
                )
            return None
        except discord.HTTPException as error:
            log.warning("thread unavailable for catch-up", status=error.status)
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def _mirror_by_thread(self, thread_id: int) -> int | None:
        mirror = await find_mirror_by_thread(self.bot.store, thread_id)
        return mirror.post_id if mirror else None

    # --- commands ---------------------------------------------------------------------------

    sync_group = app_commands.Group(
        name="sync",
        description="Reconcile comments with Discord",
        default_permissions=discord.Permissions(manage_guild=True),
        guild_only=True,
    )

    @sync_group.command(name="thread", description="Re-read a post thread completely")
    @app_commands.describe(thread="The post thread to reconcile (default: this one)")
    async def sync_thread(
        self, interaction: discord.Interaction[Threadbridge], thread: discord.Thread | None = None
    ) -> None:
        if not is_admin(interaction.user):
            raise Refusal("Only admins (Manage Server) can reconcile threads.")
        target = thread or interaction.channel
        if not isinstance(target, discord.Thread):
            raise Refusal("Run this inside a post thread, or choose one.")
        mirror = await self._mirror_by_thread(target.id)
        if mirror is None:
            raise Refusal("That thread is not the thread of a post.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread_object = await self._thread(target.id)
        if thread_object is None:
            await interaction.followup.send("That thread no longer exists.", ephemeral=True)
            return
        result = await catch_up_thread(thread_object, self.bot.store, self.writer, full=True)
        self.caught_up.add(target.id)
        await interaction.followup.send(
            f"Reconciled: {result.read} message(s) read, {result.created} new comment(s), "
            f"{result.edited} edit(s), {result.deleted} deletion(s).",
            ephemeral=True,
        )

    comments_group = app_commands.Group(
        name="comments", description="Your comments on the community's site", guild_only=True
    )

    @comments_group.command(
        name="opt-out", description="Stop keeping your messages as comments, and remove them"
    )
    async def comments_opt_out(self, interaction: discord.Interaction[Threadbridge]) -> None:
        removed = await opt_out(self.bot.store, interaction.user.id)
        await interaction.response.send_message(
            f"Done: from now on your messages in post threads are not kept, and your "
            f"{removed} stored comment(s) were removed. `/comments opt-in` undoes this.",
            ephemeral=True,
        )

    @comments_group.command(
        name="publish", description="Agree that your comments are shown on the community's site"
    )
    async def comments_publish(self, interaction: discord.Interaction[Threadbridge]) -> None:
        given = await give_publish_consent(
            self.bot.store, interaction.user.id, interaction.user.display_name
        )
        if self.bot.settings.web_publish == PublishMode.CONSENTED:
            shown = "Your comments now appear on the site, under each post."
        else:
            shown = (
                "This community shows everyone's comments on the site already; your agreement "
                "is kept in case that changes."
            )
        again = "" if given else " (you had agreed already)"
        await interaction.response.send_message(
            f"Done{again}. {shown} `/comments unpublish` takes them off the site.",
            ephemeral=True,
        )

    @comments_group.command(
        name="unpublish", description="Take your comments off the community's site"
    )
    async def comments_unpublish(self, interaction: discord.Interaction[Threadbridge]) -> None:
        withdrawn = await withdraw_publish_consent(self.bot.store, interaction.user.id)
        if self.bot.settings.web_publish == PublishMode.CONSENTED:
            text = (
                "Done: your comments no longer appear on the site (they stay here in Discord)."
                if withdrawn
                else "Your comments were not shown on the site: there was nothing to withdraw."
            )
        else:
            text = (
                "This community shows everyone's comments on the site unless they opt out: "
                "`/comments opt-out` stops keeping your messages as comments and removes them."
            )
        await interaction.response.send_message(text, ephemeral=True)

    @comments_group.command(name="opt-in", description="Keep your new messages as comments again")
    async def comments_opt_in(self, interaction: discord.Interaction[Threadbridge]) -> None:
        await opt_in(self.bot.store, interaction.user.id)
        await interaction.response.send_message(
            "Done: your new messages in post threads are kept as comments again.", ephemeral=True
        )


def public_names(guild: discord.Guild) -> tuple[dict[int, str], dict[int, str]]:
    """The names a public page may show for mentions: every role's (Discord shows them to
    everyone who reads the message), and those of the channels @everyone can see."""
    everyone = guild.default_role
    roles = {role.id: role.name for role in guild.roles if not role.is_default()}
    channels = {
        channel.id: channel.name
        for channel in guild.channels
        if channel.permissions_for(everyone).view_channel
    }
    return roles, channels


async def setup(bot: Threadbridge) -> None:
    await bot.add_cog(CommentsCog(bot, bot.services.writer))
