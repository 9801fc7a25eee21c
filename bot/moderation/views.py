"""The buttons of the review queue and of held cases in the mod-log.

They are dynamic items: the comment and the page travel in the custom id, so a button keeps
working after a restart, on any message that carries it. What a click does lives in the
review desk (bot.moderation.desk), which the bot's services hold; these classes only parse
and route.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from bot.client import Threadbridge
    from bot.moderation.desk import ReviewDesk

# Four comments a page: each takes a row of two buttons, and the fifth row pages.
QUEUE_PAGE_SIZE = 4


def _desk(interaction: discord.Interaction[Any]) -> ReviewDesk:
    bot: Threadbridge = interaction.client
    return bot.services.desk


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"tb:review:(?P<action>approve|remove):(?P<comment>[0-9]{1,19})(?::q(?P<page>[0-9]{1,5}))?",
):
    """Approve or Remove one held comment; `page` set when it sits in a /mod queue page."""

    def __init__(self, action: str, comment_id: int, page: int | None = None) -> None:
        approve = action == "approve"
        suffix = "" if page is None else f":q{page}"
        super().__init__(
            discord.ui.Button(
                label=f"{'Approve' if approve else 'Remove'} #{comment_id}",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=f"tb:review:{action}:{comment_id}{suffix}",
            )
        )
        self.action = action
        self.comment_id = comment_id
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        page = match["page"]
        return cls(match["action"], int(match["comment"]), int(page) if page else None)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        desk = _desk(interaction)
        await desk.review_clicked(interaction, self.action, self.comment_id, self.page)


class QueuePageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"tb:queue:(?P<page>[0-9]{1,5})",
):
    def __init__(self, page: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, custom_id=f"tb:queue:{page}"
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> QueuePageButton:
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["page"]), label or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _desk(interaction).queue_page_clicked(interaction, self.page)


def review_view(comment_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("approve", comment_id))
    view.add_item(ReviewButton("remove", comment_id))
    return view


def queue_view(comment_ids: list[int], page: int, pages: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for row, comment_id in enumerate(comment_ids[:QUEUE_PAGE_SIZE]):
        approve = ReviewButton("approve", comment_id, page)
        remove = ReviewButton("remove", comment_id, page)
        approve.item.row = remove.item.row = row
        view.add_item(approve)
        view.add_item(remove)
    if pages > 1:
        if page > 0:
            previous = QueuePageButton(page - 1, "Previous")
            previous.item.row = 4
            view.add_item(previous)
        if page + 1 < pages:
            following = QueuePageButton(page + 1, "Next")
            following.item.row = 4
            view.add_item(following)
    return view
