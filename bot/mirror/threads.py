"""A post's thread in the mirror channel, and the starter message that opens it.

Each post gets its thread exactly once. Its mirror moves new -> mirroring -> mirrored (or
failed, with the reason and the attempt count). 'mirroring' is recorded before Discord is asked
for anything, so a post found in that state after a restart may already have its thread: it is
looked for, by the marker its starter carries, before anything is created again. A create
answered with a 5xx or not at all is looked for the same way before it is tried again (once.py).

Also here: the mirror channel itself, the forum tags a thread gets, refreshing the starter of a
post edited at its source, and the notice for a mirror that failed or broke.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.clock import utcnow
from bot.discord_helpers import DISCORD_FAILURES, describe_failure
from bot.discord_text import escape_title, thread_name
from bot.log import get_logger
from bot.mirror.once import create_once
from bot.mirror.render import find_post_marker, render_starter
from bot.store import Store
from bot.store.mirrors import get_mirror, mark_starter_fresh, record_mirror, stale_starters
from bot.store.models import Mirror, MirrorState, Post

if TYPE_CHECKING:
    # Annotations only: mirroring.py imports this module to run its round.
    from bot.mirror.mirroring import MirrorRound

NO_MENTIONS = discord.AllowedMentions.none()
MAX_APPLIED_TAGS = 5
# How far back a reconciliation looks for a starter or a comment it may have posted.
RECONCILE_HISTORY = 200

log = get_logger("threadbridge.mirror")

MirrorChannel = discord.ForumChannel | discord.TextChannel


class MirrorError(Exception):
    """Mirroring cannot proceed; the message says why in an operator's words."""


def retry_delay(attempts: int) -> timedelta:
    """Back off 1, 2, 4 ... minutes after each failed attempt, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def matching_tags(
    channel: discord.ForumChannel, categories: tuple[str, ...]
) -> list[discord.ForumTag]:
    """The forum's tags named like the post's categories (case-insensitive), at most five."""
    wanted = [category.casefold().strip() for category in categories]
    by_name = {tag.name.casefold().strip(): tag for tag in channel.available_tags}
    tags: list[discord.ForumTag] = []
    for name in wanted:
        tag = by_name.get(name)
        if tag is not None and tag not in tags:
            tags.append(tag)
    return tags[:MAX_APPLIED_TAGS]


def failure_notice(post: Post, mirror: Mirror) -> str:
    what = "could not be mirrored" if mirror.state is MirrorState.FAILED else "lost its thread"
    return (
        f"Post {post.id} **{escape_title(post.title[:200])}** {what}: {mirror.last_error}. "
        f"Use `/mirror retry` once it is fixed, or `/mirror repost` for a new thread."
    )


async def thread_by_id(client: discord.Client, thread_id: int) -> discord.Thread | None:
    """The thread with this id, from the cache or from Discord; None once it is gone."""
    thread = client.get_channel(thread_id)
    if isinstance(thread, discord.Thread):
        return thread
    try:
        fetched = await client.fetch_channel(thread_id)
    except discord.NotFound:
        return None
    return fetched if isinstance(fetched, discord.Thread) else None


class PostThreads:
    """Creates and keeps up each post's thread and starter in the mirror channel."""

    def __init__(self, client: discord.Client, store: Store, *, channel_id: int) -> None:
        self.client = client
        self.store = store
        self.channel_id = channel_id

    async def channel(self) -> MirrorChannel:
        channel = self.client.get_channel(self.channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(self.channel_id)
            except discord.NotFound:
                raise MirrorError(f"MIRROR_CHANNEL_ID {self.channel_id} does not exist") from None
            except discord.Forbidden:
                raise MirrorError(
                    f"the bot cannot see MIRROR_CHANNEL_ID {self.channel_id}"
                ) from None
        if not isinstance(channel, discord.ForumChannel | discord.TextChannel):
            kind = getattr(channel, "type", "private")
            raise MirrorError(
                f"MIRROR_CHANNEL_ID {self.channel_id} is a {kind} channel; "
                "it must be a forum or a text channel"
            )
        return channel

    # --- one post ---------------------------------------------------------------------------

    async def ensure_thread(
        self, channel: MirrorChannel, post: Post, mirror: Mirror | None, result: MirrorRound
    ) -> discord.Thread | None:
        """The post's thread, found again or created, and recorded as mirrored.

        None when this attempt failed: the failure is recorded, with the time of its retry.
        """
        # An earlier attempt that was cut off, or whose answer was lost, may have left a thread.
        interrupted = mirror is not None and mirror.state in (
            MirrorState.MIRRORING,
            MirrorState.FAILED,
        )
        mirror = await record_mirror(
            self.store,
            post.id,
            MirrorState.MIRRORING,
            channel_id=channel.id,
            count_attempt=True,
            error=mirror.last_error if mirror else None,
        )
        try:
            thread = (
                await self._find_existing_thread(channel, post, mirror) if interrupted else None
            )
            if thread is None and mirror.starter_message_id is not None:
                thread = await self._thread_from_known_starter(channel, post, mirror)
            if thread is None:
                thread = await self._create_thread(channel, post)
            starter_id = thread.id if isinstance(channel, discord.ForumChannel) else None
            await record_mirror(
                self.store,
                post.id,
                MirrorState.MIRRORED,
                channel_id=channel.id,
                thread_id=thread.id,
                starter_message_id=starter_id,
            )
            log.info(
                "post mirrored",
                guild=thread.guild.id,
                post=post.id,
                thread=thread.id,
                reconciled=interrupted,
            )
            result.mirrored.append(post.id)
        except MirrorError as error:
            await self._fail(post, mirror, str(error), result)
            return None
        except DISCORD_FAILURES as error:
            await self._fail(post, mirror, describe_failure(error), result)
            return None
        return thread

    async def _fail(self, post: Post, mirror: Mirror, reason: str, result: MirrorRound) -> None:
        retry_at = utcnow() + retry_delay(mirror.attempts)
        await record_mirror(
            self.store, post.id, MirrorState.FAILED, error=reason, retry_after=retry_at
        )
        log.warning("post not mirrored", reason=reason, attempts=mirror.attempts)
        result.failed[post.id] = reason

    async def _create_thread(self, channel: MirrorChannel, post: Post) -> discord.Thread:
        starter = render_starter(post)
        if isinstance(channel, discord.ForumChannel):

            async def create_forum_thread() -> discord.Thread:
                created = await channel.create_thread(
                    name=thread_name(post.title),
                    content=starter.content or None,
                    embed=starter.embed,
                    applied_tags=matching_tags(channel, post.categories),
                    allowed_mentions=NO_MENTIONS,
                )
                return created.thread

            return await create_once(
                "forum thread", create_forum_thread, lambda: self._find_forum_thread(channel, post)
            )
        message = await create_once(
            "starter",
            lambda: channel.send(
                starter.content or None,
                embed=starter.embed,
                allowed_mentions=NO_MENTIONS,
                nonce=post.id,
            ),
            lambda: self._find_starter(channel, post),
        )
        # Recorded before the thread exists: a crash now is finished from this message.
        await record_mirror(
            self.store, post.id, MirrorState.MIRRORING, starter_message_id=message.id
        )
        return await self._open_thread(message, post)

    async def _open_thread(self, starter: discord.Message, post: Post) -> discord.Thread:
        """The thread of a text channel's starter, made from it (the thread has its id)."""
        return await create_once(
            "thread",
            lambda: starter.create_thread(name=thread_name(post.title)),
            lambda: thread_by_id(self.client, starter.id),
        )

    async def _thread_from_known_starter(
        self, channel: MirrorChannel, post: Post, mirror: Mirror
    ) -> discord.Thread | None:
        """A text channel's starter was sent; its thread may or may not have been created."""
        assert mirror.starter_message_id is not None
        if isinstance(channel, discord.ForumChannel):
            return None
        try:
            message = await channel.fetch_message(mirror.starter_message_id)
        except discord.NotFound:
            return None
        existing = await thread_by_id(self.client, message.id)
        if existing is not None:
            return existing
        return await self._open_thread(message, post)

    async def _find_existing_thread(
        self, channel: MirrorChannel, post: Post, mirror: Mirror
    ) -> discord.Thread | None:
        """The thread an interrupted attempt may have created, found by the starter's marker."""
        if mirror.thread_id is not None:
            known = await thread_by_id(self.client, mirror.thread_id)
            if known is not None:
                return known
        if isinstance(channel, discord.ForumChannel):
            return await self._find_forum_thread(channel, post)
        message = await self._find_starter(channel, post)
        if message is None:
            return None
        log.info("found the starter of an interrupted mirror", message=message.id)
        await record_mirror(
            self.store, post.id, MirrorState.MIRRORING, starter_message_id=message.id
        )
        existing = await thread_by_id(self.client, message.id)
        return existing or await self._open_thread(message, post)

    async def _find_starter(
        self, channel: discord.TextChannel, post: Post
    ) -> discord.Message | None:
        """The post's starter in a text channel's recent history, found by its marker."""
        async for message in channel.history(limit=RECONCILE_HISTORY):
            if message.author.id == self.client.user.id and _marker_of(message) == post.id:  # type: ignore[union-attr]
                return message
        return None

    async def _find_forum_thread(
        self, channel: discord.ForumChannel, post: Post
    ) -> discord.Thread | None:
        name = thread_name(post.title)
        candidates = [
            thread
            for thread in await channel.guild.active_threads()
            if thread.parent_id == channel.id
        ]
        async for thread in channel.archived_threads(limit=RECONCILE_HISTORY):
            candidates.append(thread)
        for thread in candidates:
            if thread.name != name:
                continue
            try:
                starter = await thread.fetch_message(thread.id)
            except discord.NotFound:
                continue
            if _marker_of(starter) == post.id:
                log.info("found the thread of an interrupted mirror", thread=thread.id)
                return thread
        return None

    # --- a post closed at its source --------------------------------------------------------

    async def lock_if_closed(self, post: Post, thread: discord.Thread, result: MirrorRound) -> None:
        """Lock and archive the thread of a post whose comments are closed (closed at its
        source, e.g. a WordPress post), as /mod lock leaves one.

        Called once the thread exists and its web comments are posted. If Discord refuses, the
        mirror fails and is tried again later: the retry finds this thread and locks it then.
        """
        if not post.comments_closed or thread.locked:
            return
        try:
            await thread.edit(locked=True, archived=True)
        except DISCORD_FAILURES as error:
            mirror = await get_mirror(self.store, post.id)
            assert mirror is not None  # ensure_thread recorded it
            if post.id in result.mirrored:
                result.mirrored.remove(post.id)
            await self._fail(
                post, mirror, f"its thread could not be locked: {describe_failure(error)}", result
            )
            return
        log.info("thread locked: comments closed at the source", thread=thread.id)

    # --- starters --------------------------------------------------------------------------

    async def refresh_stale_starters(self, channel: MirrorChannel, result: MirrorRound) -> None:
        """A post edited at its source: show the new title and excerpt in its thread."""
        for post, mirror in await stale_starters(self.store):
            if mirror.thread_id is None:
                continue
            starter = render_starter(post)
            starter_id = mirror.starter_message_id or mirror.thread_id
            holder_id = (
                mirror.thread_id if isinstance(channel, discord.ForumChannel) else channel.id
            )
            try:
                holder = self.client.get_partial_messageable(holder_id)
                await holder.get_partial_message(starter_id).edit(
                    content=starter.content or None,
                    embed=starter.embed,
                    allowed_mentions=NO_MENTIONS,
                )
                thread = await thread_by_id(self.client, mirror.thread_id)
                if thread is not None and thread.name != thread_name(post.title):
                    await thread.edit(name=thread_name(post.title))
            except DISCORD_FAILURES as error:
                log.warning("starter not refreshed", post=post.id, reason=describe_failure(error))
                continue
            await mark_starter_fresh(self.store, post.id)
            result.starters_refreshed += 1


def _marker_of(message: discord.Message) -> int | None:
    for embed in message.embeds:
        if embed.footer and embed.footer.text:
            found = find_post_marker(embed.footer.text)
            if found is not None:
                return found
    return None
