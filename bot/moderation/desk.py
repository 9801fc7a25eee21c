"""The review desk: moderators' decisions on comments (made by bot.moderation.cases), the review
queue's pages, and what the queue's and mod-log's Approve/Remove buttons do when clicked
(bot.moderation.views routes them here). Used by the moderation cog's commands and by the
buttons alike."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord

from bot.discord_helpers import jump_url
from bot.discord_text import escape_title
from bot.errors import UserFacingError
from bot.moderation.cases import Cases
from bot.moderation.enforcement import ACTION_TITLES, quote
from bot.moderation.views import QUEUE_PAGE_SIZE, queue_view
from bot.permissions import is_moderator
from bot.store.comment_refs import CommentRef, held_comments
from bot.store.models import Case, CaseAction
from bot.tree import Refusal, reply_privately

if TYPE_CHECKING:
    from bot.client import Threadbridge


def comment_line(comment: CommentRef, guild_id: int) -> str:
    link = ""
    if comment.thread_id and comment.discord_message_id:
        link = f" [jump]({jump_url(guild_id, comment.thread_id, comment.discord_message_id)})"
    title = escape_title(comment.post_title)[:80]
    return f"**#{comment.id}** {comment.status.value} · {title}{link}\n{quote(comment.body, 160)}"


class ReviewDesk:
    def __init__(self, bot: Threadbridge, cases: Cases) -> None:
        assert bot.settings.guild_id is not None
        self.bot = bot
        self.guild_id = bot.settings.guild_id
        self.cases = cases

    def require_moderator(self, interaction: discord.Interaction[Threadbridge]) -> None:
        if not is_moderator(interaction.user, self.bot.settings.moderator_role_ids):
            raise Refusal("Only moderators (a moderator role or Manage Messages) can do that.")

    async def decide(
        self,
        interaction: discord.Interaction[Threadbridge],
        comment_id: int,
        action: CaseAction,
        reason: str | None,
    ) -> Case:
        """The moderator's decision on a comment (UserFacingError when it does not apply)."""
        return await self.cases.decide(
            comment_id, action, moderator_id=interaction.user.id, reason=reason
        )

    async def show_queue(
        self, interaction: discord.Interaction[Threadbridge], page: int, *, edit: bool
    ) -> None:
        comments, total = await held_comments(
            self.bot.store, offset=page * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE
        )
        pages = max(1, math.ceil(total / QUEUE_PAGE_SIZE))
        if not comments and total:
            page = pages - 1  # the last page emptied under us: show the one before
            comments, total = await held_comments(
                self.bot.store, offset=page * QUEUE_PAGE_SIZE, limit=QUEUE_PAGE_SIZE
            )
        embed = discord.Embed(
            title=f"Review queue: {total} held comment{'s' if total != 1 else ''}",
            colour=discord.Colour.gold(),
        )
        if not comments:
            embed.description = "Nothing is waiting for review."
        for comment in comments:
            reason = f"\nHeld: {comment.status_reason}" if comment.status_reason else ""
            embed.add_field(
                name=f"#{comment.id} · {comment.author_name}"[:256],
                value=(comment_line(comment, self.guild_id) + reason)[:1024],
                inline=False,
            )
        embed.set_footer(text=f"Page {page + 1} of {pages}")
        view = queue_view([comment.id for comment in comments], page, pages)
        if edit:
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def review_clicked(
        self,
        interaction: discord.Interaction[Threadbridge],
        action: str,
        comment_id: int,
        page: int | None,
    ) -> None:
        """An Approve or Remove button, in the queue (page given) or on a mod-log case."""
        try:
            self.require_moderator(interaction)
            decision = CaseAction.APPROVE if action == "approve" else CaseAction.REMOVE
            reason = "approved from the review queue" if action == "approve" else None
            case = await self.decide(
                interaction, comment_id, decision, reason or "removed from the review queue"
            )
        except (UserFacingError, Refusal) as error:
            await reply_privately(interaction, str(error))
            return
        if page is not None:
            await self.show_queue(interaction, page, edit=True)
        else:
            # On the mod-log post: the decision is made, the buttons have done their work.
            await interaction.response.edit_message(view=None)
            await interaction.followup.send(
                f"Comment #{comment_id}: {ACTION_TITLES[case.action].lower()} "
                f"(case {case.number}).",
                ephemeral=True,
            )

    async def queue_page_clicked(
        self, interaction: discord.Interaction[Threadbridge], page: int
    ) -> None:
        try:
            self.require_moderator(interaction)
        except Refusal as error:
            await reply_privately(interaction, str(error))
            return
        await self.show_queue(interaction, page, edit=True)

