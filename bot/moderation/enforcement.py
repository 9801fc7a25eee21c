"""What a case asks of Discord, done after the case is committed: delete or mark the message,
lock the thread, tell the member, post the case to the mod-log.

The case row is the durable intent. Each case is settled once (`enforced_at`, then
`modlog_message_id`); a failure is recorded and the case is tried again by the scheduled job,
so a crash or an outage delays the Discord side but never loses a case.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.clock import utcnow
from bot.discord_helpers import DISCORD_FAILURES, describe_failure, jump_url
from bot.discord_text import escape_title, neutralise_mentions, one_line
from bot.log import get_logger
from bot.moderation.durations import format_duration
from bot.moderation.views import review_view
from bot.store.cases import (
    get_case_by_id,
    mark_enforced,
    messages_of_case,
    owed_cases,
    record_case_failure,
    review_posts_of,
    set_modlog_message,
)
from bot.store.comment_refs import CommentRef, get_comment_ref
from bot.store.mirrors import get_mirror
from bot.store.models import Case, CaseAction, CommentStatus
from bot.store.posts import get_post

if TYPE_CHECKING:
    from bot.client import Threadbridge

log = get_logger("threadbridge.moderation")

HELD_MARKER = "\N{HOURGLASS WITH FLOWING SAND}"
# After this many failed attempts the Discord side of a case is given up (the case stays, with
# its last error); a missing permission will not fix itself every minute.
MAX_ATTEMPTS = 10
# A case whose Discord side failed is tried again after a minute, then twice as long after each
# failure, up to RETRY_CAP: an outage is ridden out without a request a minute for hours.
FIRST_RETRY = timedelta(minutes=1)
RETRY_CAP = timedelta(minutes=15)


def retry_delay(failures: int) -> timedelta:
    """How long after its `failures`-th failure (1 or more) a case is tried again."""
    return min(FIRST_RETRY * 2 ** min(max(failures - 1, 0), 10), RETRY_CAP)

ACTION_TITLES = {
    CaseAction.HOLD: "Held for review",
    CaseAction.REMOVE: "Comment removed",
    CaseAction.APPROVE: "Comment approved",
    CaseAction.LOCK: "Comments closed",
    CaseAction.UNLOCK: "Comments reopened",
    CaseAction.BAN: "Banned from commenting",
    CaseAction.UNBAN: "Comment ban lifted",
    CaseAction.WARN: "Warning",
    CaseAction.PURGE: "Comments purged",
}
_COLOURS = {
    CaseAction.HOLD: discord.Colour.gold(),
    CaseAction.REMOVE: discord.Colour.red(),
    CaseAction.PURGE: discord.Colour.red(),
    CaseAction.BAN: discord.Colour.dark_red(),
    CaseAction.WARN: discord.Colour.orange(),
    CaseAction.APPROVE: discord.Colour.green(),
    CaseAction.UNBAN: discord.Colour.green(),
    CaseAction.UNLOCK: discord.Colour.green(),
    CaseAction.LOCK: discord.Colour.light_grey(),
}


def quote(text: str, limit: int) -> str:
    """A member's text shown literally in a quote: shortened, mentions broken, markdown kept
    from spilling out of the quote."""
    text = one_line(text, limit)
    if not text:
        return "> (no text)"
    return "> " + neutralise_mentions(discord.utils.escape_markdown(text))


def case_embed(
    case: Case, *, guild_id: int, comment: CommentRef | None, post_title: str | None
) -> discord.Embed:
    embed = discord.Embed(
        title=f"Case {case.number} \N{MIDDLE DOT} {ACTION_TITLES[case.action]}",
        colour=_COLOURS[case.action],
        timestamp=case.created_at,
    )
    if case.target_user_id is not None:
        embed.add_field(name="Member", value=f"<@{case.target_user_id}> ({case.target_user_id})")
    embed.add_field(
        name="Moderator",
        value=f"<@{case.moderator_id}>" if case.moderator_id else "automatic",
    )
    if post_title is not None:
        embed.add_field(name="Post", value=escape_title(post_title)[:1000], inline=False)
    if comment is not None:
        where = ""
        if comment.thread_id and comment.discord_message_id:
            link = jump_url(guild_id, comment.thread_id, comment.discord_message_id)
            where = f"\n[comment {comment.id}]({link})"
        embed.add_field(name="Comment", value=quote(comment.body, 700) + where, inline=False)
    elif case.channel_id is not None and case.message_id is not None:
        link = jump_url(guild_id, case.channel_id, case.message_id)
        embed.add_field(name="Message", value=f"[not kept: the member opted out]({link})")
    if case.rule:
        embed.add_field(name="Rule", value=case.rule.replace("_", " "))
    if case.expires_at is not None:
        stamp = int(case.expires_at.timestamp())
        embed.add_field(name="Until", value=f"<t:{stamp}:f> (<t:{stamp}:R>)")
    embed.add_field(
        name="Reason", value=neutralise_mentions(case.reason or "none given")[:1000], inline=False
    )
    return embed


class Enforcer:
    """Settles cases one at a time in the background, in the order they were opened."""

    def __init__(self, bot: Threadbridge) -> None:
        self.bot = bot
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._queued: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._modlog_failures: dict[int, int] = {}  # case id -> failed mod-log posts in a row
        self.settled = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="enforcer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def submit(self, case_ids: Iterable[int]) -> None:
        for case_id in case_ids:
            if case_id not in self._queued:
                self._queued.add(case_id)
                self._queue.put_nowait(case_id)

    async def submit_owed(self) -> None:
        """Scheduled job (and at start): queue every case whose Discord side is not done."""
        guild_id = self.bot.settings.guild_id
        assert guild_id is not None
        modlog = self.bot.settings.modlog_channel_id is not None
        owed = await owed_cases(self.bot.store, guild_id, modlog=modlog, limit=200)
        self.submit(case.id for case in owed)

    def _retry_later(self, case_id: int, failures: int) -> None:
        """Settle the case again when its retry is due (at start, every owed case is queued
        anyway: `submit_owed`)."""
        self.bot.scheduler.add_job(
            self._retry,
            "date",
            run_date=utcnow() + retry_delay(failures),
            args=[case_id],
            id=f"case-retry:{case_id}",
            replace_existing=True,
        )

    async def _retry(self, case_id: int) -> None:
        self.submit([case_id])

    async def wait_idle(self) -> None:
        """Until everything submitted so far has been settled (for tests and shutdown)."""
        await self._queue.join()

    async def _run(self) -> None:
        await self.bot.wait_until_ready()
        while True:
            case_id = await self._queue.get()
            try:
                case = await get_case_by_id(self.bot.store, case_id)
                if case is not None:
                    await self.settle(case)
            except Exception:  # one case must not stop the others
                log.exception("case not settled", case_id=case_id)
            finally:
                self._queued.discard(case_id)
                self._queue.task_done()

    async def settle(self, case: Case) -> None:
        if case.enforced_at is None:
            try:
                await self.enforce(case)
            except DISCORD_FAILURES as error:
                reason = describe_failure(error)
                await record_case_failure(self.bot.store, case.id, reason)
                log.warning("case action failed", case=case.number, reason=reason)
                if case.attempts + 1 < MAX_ATTEMPTS:
                    self._retry_later(case.id, case.attempts + 1)
                    return
                log.error("case action given up", case=case.number, reason=reason)
            await mark_enforced(self.bot.store, case.id, self.bot.clock())
        if case.modlog_message_id is None and self.bot.settings.modlog_channel_id is not None:
            try:
                message_id = await self.post_to_modlog(case)
            except DISCORD_FAILURES as error:
                failures = self._modlog_failures.get(case.id, 0) + 1
                self._modlog_failures[case.id] = failures
                # Said once per case: a missing channel would otherwise repeat it at every try.
                (log.warning if failures == 1 else log.debug)(
                    "mod-log post failed; it will be retried",
                    case=case.number,
                    reason=describe_failure(error),
                )
                self._retry_later(case.id, failures)
                return
            self._modlog_failures.pop(case.id, None)
            await set_modlog_message(self.bot.store, case.id, message_id)
        self.settled += 1

    # --- the Discord side of each action -------------------------------------------------------

    async def enforce(self, case: Case) -> None:
        comment = (
            await get_comment_ref(self.bot.store, case.comment_id) if case.comment_id else None
        )
        match case.action:
            case CaseAction.HOLD:
                message = self._message_of(comment)
                if message is not None and comment and comment.status is CommentStatus.HELD:
                    with contextlib.suppress(discord.NotFound):  # gone: nothing left to mark
                        await message.add_reaction(HELD_MARKER)
            case CaseAction.APPROVE:
                message = self._message_of(comment)
                if message is not None:
                    with contextlib.suppress(discord.NotFound):
                        await message.remove_reaction(HELD_MARKER, discord.Object(self._own_id()))
                if comment is not None:
                    await self._retire_review_buttons(comment.id)
            case CaseAction.REMOVE:
                if comment is not None:
                    if comment.thread_id and comment.discord_message_id:
                        await self._delete(comment.thread_id, comment.discord_message_id)
                    await self._tell_removed(case, comment.post_title, comment.body)
                    await self._retire_review_buttons(comment.id)
                elif case.channel_id is not None and case.message_id is not None:
                    # An opted-out member's message: not stored, so no text to give back.
                    await self._delete(case.channel_id, case.message_id)
                    post = await get_post(self.bot.store, case.post_id) if case.post_id else None
                    await self._tell_removed(case, post.title if post else None, None)
            case CaseAction.PURGE:
                for thread_id, message_id in await messages_of_case(self.bot.store, case.id):
                    await self._delete(thread_id, message_id)
            case CaseAction.LOCK | CaseAction.UNLOCK:
                await self._lock(case)
            case CaseAction.BAN:
                await self._dm(case.target_user_id, self._ban_notice(case))
            case CaseAction.UNBAN:
                await self._dm(
                    case.target_user_id,
                    f"You can comment in the post threads of {self._guild_name()} again.",
                )
            case CaseAction.WARN:
                await self._dm(
                    case.target_user_id,
                    f"A warning from the moderators of {self._guild_name()}: "
                    f"{neutralise_mentions(case.reason or 'no reason given')}",
                )

    def _message(self, channel_id: int, message_id: int) -> discord.PartialMessage:
        channel = self.bot.get_partial_messageable(channel_id, guild_id=self.bot.settings.guild_id)
        return channel.get_partial_message(message_id)

    def _message_of(self, comment: CommentRef | None) -> discord.PartialMessage | None:
        if comment is None or comment.thread_id is None or comment.discord_message_id is None:
            return None
        return self._message(comment.thread_id, comment.discord_message_id)

    async def _retire_review_buttons(self, comment_id: int) -> None:
        """The comment is decided: its held case's mod-log post loses its buttons (best effort;
        a stale button would only be told the comment is decided)."""
        channel_id = self.bot.settings.modlog_channel_id
        if channel_id is None:
            return
        for message_id in await review_posts_of(self.bot.store, comment_id):
            try:
                await self._message(channel_id, message_id).edit(view=None)
            except DISCORD_FAILURES as error:
                log.info("review buttons left in place", reason=describe_failure(error))

    async def _delete(self, thread_id: int, message_id: int) -> None:
        with contextlib.suppress(discord.NotFound):  # gone already: nothing left to do
            await self._message(thread_id, message_id).delete()

    async def _lock(self, case: Case) -> None:
        if case.post_id is None:
            return
        mirror = await get_mirror(self.bot.store, case.post_id)
        if mirror is None or mirror.thread_id is None:
            return
        closing = case.action is CaseAction.LOCK
        try:
            thread = self.bot.get_channel(mirror.thread_id) or await self.bot.fetch_channel(
                mirror.thread_id
            )
        except discord.NotFound:
            return
        if not isinstance(thread, discord.Thread):
            return
        if closing:
            await thread.edit(locked=True, archived=True)
        else:
            await thread.edit(archived=False, locked=False)

    async def _tell_removed(self, case: Case, post_title: str | None, body: str | None) -> None:
        post = f"**{escape_title(post_title)[:200]}**" if post_title else "a post"
        reason = neutralise_mentions(case.reason or "it broke the community's rules")
        text = f"Your comment on {post} in {self._guild_name()} was removed: {reason}."
        if body is not None:
            text += f"\nWhat you wrote, in case you want to rewrite it:\n{quote(body, 1500)}"
        await self._dm(case.target_user_id, text)

    def _ban_notice(self, case: Case) -> str:
        if case.expires_at is None:
            until = "until a moderator lifts the ban"
        else:
            length = format_duration(case.expires_at - case.created_at)
            until = f"for {length}, until <t:{int(case.expires_at.timestamp())}:f>"
        reason = neutralise_mentions(case.reason or "no reason given")
        return (
            f"You can't comment in the post threads of {self._guild_name()} {until}. "
            f"Reason: {reason}"
        )

    async def _dm(self, user_id: int | None, text: str) -> bool:
        """Best effort: a member may not accept direct messages; that is logged, not retried."""
        if user_id is None:
            return False
        try:
            user = self.bot.get_user(user_id) or await self.bot.fetch_user(user_id)
            await user.send(text[:2000])
        except discord.HTTPException as error:
            log.info("member not told by direct message", user=user_id, code=error.code)
            return False
        return True

    def _guild_name(self) -> str:
        guild = self.bot.get_guild(self.bot.settings.guild_id or 0)
        return f"**{escape_title(guild.name)}**" if guild is not None else "the community"

    def _own_id(self) -> int:
        assert self.bot.user is not None
        return self.bot.user.id

    # --- the mod-log -------------------------------------------------------------------------

    async def describe(self, case: Case, comment: CommentRef | None = None) -> discord.Embed:
        """The case's embed; `comment`, when the caller has read it already."""
        if comment is None and case.comment_id is not None:
            comment = await get_comment_ref(self.bot.store, case.comment_id)
        title = comment.post_title if comment else None
        if title is None and case.post_id is not None:
            post = await get_post(self.bot.store, case.post_id)
            title = post.title if post else None
        guild_id = self.bot.settings.guild_id or 0
        return case_embed(case, guild_id=guild_id, comment=comment, post_title=title)

    async def post_to_modlog(self, case: Case) -> int:
        channel_id = self.bot.settings.modlog_channel_id
        assert channel_id is not None
        channel = self.bot.get_partial_messageable(channel_id, guild_id=self.bot.settings.guild_id)
        comment = (
            await get_comment_ref(self.bot.store, case.comment_id) if case.comment_id else None
        )
        embed = await self.describe(case, comment)
        still_held = (
            case.action is CaseAction.HOLD
            and comment is not None
            and comment.status is CommentStatus.HELD
        )
        if still_held and comment is not None:
            message = await channel.send(embed=embed, view=review_view(comment.id))
        else:
            message = await channel.send(embed=embed)
        return message.id

    async def refresh_modlog(self, case: Case) -> None:
        """Show a changed reason in the case's mod-log post, if it was posted."""
        if case.modlog_message_id is None or self.bot.settings.modlog_channel_id is None:
            return
        message = self._message(self.bot.settings.modlog_channel_id, case.modlog_message_id)
        try:
            await message.edit(embed=await self.describe(case))
        except DISCORD_FAILURES as error:
            reason = describe_failure(error)
            log.warning("mod-log post not updated", case=case.number, reason=reason)
