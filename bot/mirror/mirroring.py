"""Mirroring: each post becomes one Discord thread, exactly once, with the web comments it has.

A post's mirror moves new -> mirroring -> mirrored (or failed, with the reason and the attempt
count). 'mirroring' is recorded before Discord is asked for anything, so a post found in that
state after a restart may already have its thread: it is looked for, by the marker its starter
carries, before anything is created again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import discord

from bot.clock import utcnow
from bot.discord_helpers import DISCORD_FAILURES, describe_failure, jump_url
from bot.discord_text import escape_title, thread_name
from bot.log import event_context, get_logger
from bot.mirror.render import (
    ParentQuote,
    find_post_marker,
    render_comment,
    render_starter,
    webhook_username,
)
from bot.store import Store
from bot.store.comments import get_comment
from bot.store.mirrors import (
    get_mirror,
    list_mirrors,
    mark_failure_reported,
    mark_starter_fresh,
    posts_to_mirror,
    record_mirror,
    stale_starters,
)
from bot.store.models import Comment, CommentStatus, Mirror, MirrorState, Post
from bot.store.posts import get_post
from bot.store.web_comments import (
    PostedComment,
    begin_posting,
    changed_web_comments,
    is_comment_message,
    posts_with_waiting_comments,
    record_posted,
    record_withdrawn,
    web_comments_to_post,
)

WEBHOOK_NAME = "threadbridge"
NO_MENTIONS = discord.AllowedMentions.none()
MAX_APPLIED_TAGS = 5
# How far back a reconciliation looks for a starter or a comment it may have posted.
RECONCILE_HISTORY = 200
PAGE_OF_POSTS = 50

log = get_logger("threadbridge.mirror")

MirrorChannel = discord.ForumChannel | discord.TextChannel


class MirrorError(Exception):
    """Mirroring cannot proceed; the message says why in an operator's words."""


@dataclass(slots=True)
class MirrorRound:
    """What one pass of the mirroring job did."""

    mirrored: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    comments_posted: int = 0
    comments_updated: int = 0
    starters_refreshed: int = 0


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


class Mirroring:
    """Mirrors posts from the store into the mirror channel. One round at a time."""

    def __init__(self, client: discord.Client, store: Store, *, channel_id: int) -> None:
        self.client = client
        self.store = store
        self.channel_id = channel_id
        self._lock = asyncio.Lock()
        self._webhook: discord.Webhook | None = None

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

    async def run_once(self, *, now: datetime | None = None) -> MirrorRound:
        """Mirror what is waiting, post new web comments, apply changes made in the store."""
        async with self._lock:
            result = MirrorRound()
            channel = await self.channel()
            # Page through the waiting posts: each is mirrored or failed (and then waits for its
            # retry time), so a page never comes back and a large import empties in one round.
            tried: set[int] = set()
            while page := [
                (post, mirror)
                for post, mirror in await posts_to_mirror(
                    self.store, now or utcnow(), limit=len(tried) + PAGE_OF_POSTS
                )
                if post.id not in tried
            ]:
                for post, mirror in page:
                    tried.add(post.id)
                    with event_context(post_id=post.id, channel_id=channel.id):
                        await self._mirror_one(channel, post, mirror, result)
            await self._refresh_stale_starters(channel, result)
            await self._apply_comment_changes(channel, result)
            await self._post_missing_comments(channel, result)
            return result

    async def mirror_post_now(self, post: Post) -> Mirror | None:
        """Mirror one post at once (an admin's retry)."""
        async with self._lock:
            result = MirrorRound()
            channel = await self.channel()
            mirror = await get_mirror(self.store, post.id)
            with event_context(post_id=post.id, channel_id=channel.id):
                await self._mirror_one(channel, post, mirror, result)
            return await get_mirror(self.store, post.id)

    # --- one post ---------------------------------------------------------------------------

    async def _mirror_one(
        self, channel: MirrorChannel, post: Post, mirror: Mirror | None, result: MirrorRound
    ) -> None:
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
            log.info("post mirrored", thread=thread.id, reconciled=interrupted)
            result.mirrored.append(post.id)
        except MirrorError as error:
            await self._fail(post, mirror, str(error), result)
            return
        except DISCORD_FAILURES as error:
            await self._fail(post, mirror, describe_failure(error), result)
            return
        try:
            await self._post_comments(channel, post, thread, result)
        except DISCORD_FAILURES as error:
            # The thread stands; the comments still waiting are posted at the next round.
            log.warning("comments not posted", reason=describe_failure(error))

    async def _fail(self, post: Post, mirror: Mirror, reason: str, result: MirrorRound) -> None:
        retry_at = utcnow() + retry_delay(mirror.attempts)
        await record_mirror(
            self.store, post.id, MirrorState.FAILED, error=reason, retry_after=retry_at
        )
        log.warning("post not mirrored", reason=reason, attempts=mirror.attempts)
        result.failed[post.id] = reason

    async def _create_thread(self, channel: MirrorChannel, post: Post) -> discord.Thread:
        starter = render_starter(post)
        name = thread_name(post.title)
        if isinstance(channel, discord.ForumChannel):
            created = await channel.create_thread(
                name=name,
                content=starter.content or None,
                embed=starter.embed,
                applied_tags=matching_tags(channel, post.categories),
                allowed_mentions=NO_MENTIONS,
            )
            return created.thread
        message = await channel.send(
            starter.content or None,
            embed=starter.embed,
            allowed_mentions=NO_MENTIONS,
            nonce=post.id,
        )
        # Recorded before the thread exists: a crash now is finished from this message.
        await record_mirror(
            self.store, post.id, MirrorState.MIRRORING, starter_message_id=message.id
        )
        return await message.create_thread(name=name)

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
        existing = await self._thread_by_id(message.id)
        if existing is not None:
            return existing
        return await message.create_thread(name=thread_name(post.title))

    async def _thread_by_id(self, thread_id: int) -> discord.Thread | None:
        thread = self.client.get_channel(thread_id)
        if isinstance(thread, discord.Thread):
            return thread
        try:
            fetched = await self.client.fetch_channel(thread_id)
        except discord.NotFound:
            return None
        return fetched if isinstance(fetched, discord.Thread) else None

    async def _find_existing_thread(
        self, channel: MirrorChannel, post: Post, mirror: Mirror
    ) -> discord.Thread | None:
        """The thread an interrupted attempt may have created, found by the starter's marker."""
        if mirror.thread_id is not None:
            known = await self._thread_by_id(mirror.thread_id)
            if known is not None:
                return known
        if isinstance(channel, discord.ForumChannel):
            return await self._find_forum_thread(channel, post)
        async for message in channel.history(limit=RECONCILE_HISTORY):
            if message.author.id == self.client.user.id and _marker_of(message) == post.id:  # type: ignore[union-attr]
                log.info("found the starter of an interrupted mirror", message=message.id)
                await record_mirror(
                    self.store, post.id, MirrorState.MIRRORING, starter_message_id=message.id
                )
                existing = await self._thread_by_id(message.id)
                return existing or await message.create_thread(name=thread_name(post.title))
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

    # --- starters --------------------------------------------------------------------------

    async def _refresh_stale_starters(self, channel: MirrorChannel, result: MirrorRound) -> None:
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
                thread = await self._thread_by_id(mirror.thread_id)
                if thread is not None and thread.name != thread_name(post.title):
                    await thread.edit(name=thread_name(post.title))
            except DISCORD_FAILURES as error:
                log.warning("starter not refreshed", post=post.id, reason=describe_failure(error))
                continue
            await mark_starter_fresh(self.store, post.id)
            result.starters_refreshed += 1

    # --- web comments ----------------------------------------------------------------------

    @property
    def webhook_id(self) -> int | None:
        """The webhook web comments are posted with, once known (the sync must skip it)."""
        return self._webhook.id if self._webhook is not None else None

    async def webhook(self, channel: MirrorChannel) -> discord.Webhook:
        """The channel webhook that posts web comments under their authors' names."""
        if self._webhook is not None and self._webhook.channel_id == channel.id:
            return self._webhook
        for hook in await channel.webhooks():
            if (
                hook.name == WEBHOOK_NAME
                and hook.user is not None
                and self.client.user is not None
                and hook.user.id == self.client.user.id
                and hook.token
            ):
                self._webhook = hook
                return hook
        self._webhook = await channel.create_webhook(
            name=WEBHOOK_NAME, reason="posts web comments into post threads"
        )
        return self._webhook

    async def _post_missing_comments(self, channel: MirrorChannel, result: MirrorRound) -> None:
        for post_id in await posts_with_waiting_comments(self.store):
            mirror = await get_mirror(self.store, post_id)
            post = await get_post(self.store, post_id)
            if mirror is None or post is None or mirror.state is not MirrorState.MIRRORED:
                continue
            assert mirror.thread_id is not None
            thread = await self._thread_by_id(mirror.thread_id)
            if thread is None:
                continue
            with event_context(post_id=post_id, channel_id=thread.id):
                try:
                    await self._post_comments(channel, post, thread, result)
                except DISCORD_FAILURES as error:
                    log.warning("comments not posted", reason=describe_failure(error))

    async def _post_comments(
        self, channel: MirrorChannel, post: Post, thread: discord.Thread, result: MirrorRound
    ) -> None:
        waiting = await web_comments_to_post(self.store, post.id)
        if not waiting:
            return
        webhook = await self.webhook(channel)
        for comment, interrupted in waiting:
            parts = render_comment(
                comment.body,
                author_name=comment.author_name,
                parent=await self._parent_quote(comment, thread),
            )
            username = webhook_username(comment.author_name)
            found: list[int] = []
            if interrupted:
                found = await self._find_posted_parts(thread, webhook, username, parts)
            await begin_posting(self.store, comment.id, thread.id)
            ids = list(found)
            for part in parts[len(found) :]:
                message = await webhook.send(
                    part,
                    username=username,
                    thread=thread,
                    wait=True,
                    allowed_mentions=NO_MENTIONS,
                )
                ids.append(message.id)
            await record_posted(self.store, comment, thread.id, ids)
            result.comments_posted += 1

    async def _parent_quote(self, comment: Comment, thread: discord.Thread) -> ParentQuote | None:
        if comment.parent_id is None:
            return None
        parent = await get_comment(self.store, comment.parent_id)
        if parent is None:
            return None
        link = None
        if parent.discord_message_id is not None:
            link = jump_url(thread.guild.id, thread.id, parent.discord_message_id)
        return ParentQuote(author_name=parent.author_name, jump_url=link)

    async def _find_posted_parts(
        self, thread: discord.Thread, webhook: discord.Webhook, username: str, parts: list[str]
    ) -> list[int]:
        """Parts of a comment an interrupted attempt already posted, in order."""
        ours = [
            message
            async for message in thread.history(limit=RECONCILE_HISTORY, oldest_first=False)
            if message.webhook_id == webhook.id and message.author.name == username
        ]
        ours.reverse()
        for start, message in enumerate(ours):
            if message.content != parts[0]:
                continue
            ids = [message.id]
            for follower, part in zip(ours[start + 1 :], parts[1:], strict=False):
                if follower.content != part:
                    break
                ids.append(follower.id)
            if not await self._already_recorded(ids[0]):
                log.info("found the messages of an interrupted comment", parts=len(ids))
                return ids
        return []

    async def _already_recorded(self, message_id: int) -> bool:
        return await is_comment_message(self.store, message_id)

    async def _apply_comment_changes(self, channel: MirrorChannel, result: MirrorRound) -> None:
        changed = await changed_web_comments(self.store)
        if not changed:
            return
        webhook = await self.webhook(channel)
        for posted in changed:
            with event_context(post_id=posted.comment.post_id, channel_id=posted.thread_id):
                try:
                    await self._apply_change(webhook, posted)
                    result.comments_updated += 1
                except DISCORD_FAILURES as error:
                    log.warning("comment change not shown", reason=describe_failure(error))

    async def _apply_change(self, webhook: discord.Webhook, posted: PostedComment) -> None:
        comment = posted.comment
        thread = discord.Object(posted.thread_id)
        if comment.status is not CommentStatus.VISIBLE:
            await _delete_messages(webhook, posted.message_ids, thread)
            await record_withdrawn(self.store, comment)
            return
        resolved = await self._thread_by_id(posted.thread_id)
        parent = await self._parent_quote(comment, resolved) if resolved else None
        parts = render_comment(comment.body, author_name=comment.author_name, parent=parent)
        ids = list(posted.message_ids)
        if len(parts) == len(ids):
            for message_id, part in zip(ids, parts, strict=True):
                await webhook.edit_message(
                    message_id, content=part, thread=thread, allowed_mentions=NO_MENTIONS
                )
        else:
            # A different number of parts cannot be edited in place: post the comment anew.
            await _delete_messages(webhook, ids, thread)
            ids = []
            for part in parts:
                message = await webhook.send(
                    part,
                    username=webhook_username(comment.author_name),
                    thread=thread,
                    wait=True,
                    allowed_mentions=NO_MENTIONS,
                )
                ids.append(message.id)
        await record_posted(self.store, comment, posted.thread_id, ids)

    # --- failures ---------------------------------------------------------------------------

    async def report_failures(self, modlog: discord.abc.Messageable | None) -> int:
        """Tell the mod-log once about each mirror that failed or broke."""
        reported = 0
        for mirror in await list_mirrors(self.store, (MirrorState.FAILED, MirrorState.BROKEN)):
            if mirror.failure_reported:
                continue
            post = await get_post(self.store, mirror.post_id)
            if post is None:
                continue
            if modlog is not None:
                await modlog.send(failure_notice(post, mirror), allowed_mentions=NO_MENTIONS)
            await mark_failure_reported(self.store, mirror.post_id)
            reported += 1
        return reported


def failure_notice(post: Post, mirror: Mirror) -> str:
    what = "could not be mirrored" if mirror.state is MirrorState.FAILED else "lost its thread"
    return (
        f"Post {post.id} **{escape_title(post.title[:200])}** {what}: {mirror.last_error}. "
        f"Use `/mirror retry` once it is fixed, or `/mirror repost` for a new thread."
    )


def _marker_of(message: discord.Message) -> int | None:
    for embed in message.embeds:
        if embed.footer and embed.footer.text:
            found = find_post_marker(embed.footer.text)
            if found is not None:
                return found
    return None


async def _delete_messages(
    webhook: discord.Webhook, message_ids: Iterable[int], thread: discord.abc.Snowflake
) -> None:
    for message_id in message_ids:
        # Already gone (deleted by a moderator in Discord): nothing left to withdraw.
        with contextlib.suppress(discord.NotFound):
            await webhook.delete_message(message_id, thread=thread)
