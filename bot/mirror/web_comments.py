"""Web comments in Discord: the site's comments, posted into their post's thread under their
authors' names, and their later edits and removals applied there.

They are posted through a channel webhook, which this module owns: the comment sync must skip
the messages it posts (`WebComments.webhook_id`), or they would come back as Discord comments.
A comment whose posting was cut off is looked for in the thread before it is posted again, and
so is a message whose answer was a 5xx or never came (once.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

import discord

from bot.discord_helpers import DISCORD_FAILURES, describe_failure, jump_url
from bot.log import event_context, get_logger
from bot.mirror.once import create_once
from bot.mirror.render import ParentQuote, render_comment, webhook_username
from bot.mirror.threads import NO_MENTIONS, RECONCILE_HISTORY, MirrorChannel, thread_by_id
from bot.store import Store
from bot.store.comments import get_comment
from bot.store.mirrors import get_mirror
from bot.store.models import Comment, CommentStatus, MirrorState, Post
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

if TYPE_CHECKING:
    # Annotations only: mirroring.py imports this module to run its round.
    from bot.mirror.mirroring import MirrorRound

WEBHOOK_NAME = "threadbridge"

# The name threads.py and mirroring.py log under: all of mirroring reads as one in the logs.
log = get_logger("threadbridge.mirror")


class WebComments:
    """Posts web comments into post threads and keeps them as the site has them."""

    def __init__(self, client: discord.Client, store: Store) -> None:
        self.client = client
        self.store = store
        self._webhook: discord.Webhook | None = None

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

    # --- posting ----------------------------------------------------------------------------

    async def post_waiting(self, channel: MirrorChannel, result: MirrorRound) -> None:
        """Comments still waiting in mirrored posts: late arrivals, or left by a failed try."""
        for post_id in await posts_with_waiting_comments(self.store):
            mirror = await get_mirror(self.store, post_id)
            post = await get_post(self.store, post_id)
            if mirror is None or post is None or mirror.state is not MirrorState.MIRRORED:
                continue
            assert mirror.thread_id is not None
            thread = await thread_by_id(self.client, mirror.thread_id)
            if thread is None:
                continue
            with event_context(post_id=post_id, channel_id=thread.id):
                await self.post_comments(channel, post, thread, result)

    async def post_comments(
        self, channel: MirrorChannel, post: Post, thread: discord.Thread, result: MirrorRound
    ) -> None:
        """Post the post's waiting comments into its thread, in order."""
        try:
            await self._post_comments(channel, post, thread, result)
        except DISCORD_FAILURES as error:
            # The thread stands; the comments still waiting are posted at the next round.
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
                written_at=comment.created_at,
            )
            username = webhook_username(comment.author_name)
            found: list[int] = []
            if interrupted:
                found = await self._find_posted_parts(thread, webhook, username, parts)
            await begin_posting(self.store, comment.id, thread.id)
            ids = list(found)
            for part in parts[len(found) :]:
                ids.append(await self._send_part(webhook, thread, username, part, ids))
            await record_posted(self.store, comment, thread.id, ids)
            log.info(
                "web comment mirrored",
                guild=thread.guild.id,
                post=post.id,
                comment=comment.id,
                thread=thread.id,
                messages=ids,
            )
            result.comments_posted += 1

    async def _send_part(
        self,
        webhook: discord.Webhook,
        thread: discord.abc.Snowflake,
        username: str,
        part: str,
        earlier: list[int],
    ) -> int:
        """Post one message of a comment, after the `earlier` ones; its id."""

        async def send() -> int:
            message = await webhook.send(
                part, username=username, thread=thread, wait=True, allowed_mentions=NO_MENTIONS
            )
            return message.id

        return await create_once(
            "comment message",
            send,
            lambda: self._find_part(thread, webhook, username, part, earlier),
        )

    async def _find_part(
        self,
        thread: discord.abc.Snowflake,
        webhook: discord.Webhook,
        username: str,
        part: str,
        earlier: list[int],
    ) -> int | None:
        """The message a send with an unclear answer may have posted: the newest one of the
        webhook under this name with this text, after the comment's earlier messages and
        recorded for no comment (a comment worded like another is not mistaken for it)."""
        history = self.client.get_partial_messageable(thread.id).history(limit=RECONCILE_HISTORY)
        async for message in history:
            if earlier and message.id <= earlier[-1]:
                break
            if (
                message.webhook_id == webhook.id
                and message.author.name == username
                and message.content == part
                and not await self._already_recorded(message.id)
            ):
                return message.id
        return None

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

    # --- edits and removals -----------------------------------------------------------------

    async def apply_changes(self, channel: MirrorChannel, result: MirrorRound) -> None:
        """Show in Discord the comments edited or removed in the store since they were posted."""
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
        resolved = await thread_by_id(self.client, posted.thread_id)
        parent = await self._parent_quote(comment, resolved) if resolved else None
        parts = render_comment(
            comment.body,
            author_name=comment.author_name,
            parent=parent,
            written_at=comment.created_at,
        )
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
            username = webhook_username(comment.author_name)
            for part in parts:
                ids.append(await self._send_part(webhook, thread, username, part, ids))
        await record_posted(self.store, comment, posted.thread_id, ids)


async def _delete_messages(
    webhook: discord.Webhook, message_ids: Iterable[int], thread: discord.abc.Snowflake
) -> None:
    for message_id in message_ids:
        # Already gone (deleted by a moderator in Discord): nothing left to withdraw.
        with contextlib.suppress(discord.NotFound):
            await webhook.delete_message(message_id, thread=thread)
