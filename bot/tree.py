"""The slash-command tree: one place that turns errors into short private replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import discord
import structlog
from discord import app_commands

from bot.errors import UserFacingError
from bot.log import get_logger
from bot.store.posts import search_posts

if TYPE_CHECKING:
    from bot.client import Threadbridge

log = get_logger("threadbridge.commands")

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again later."


class Refusal(app_commands.CheckFailure):
    """A permission check said no; its message tells the user why."""


class ThreadbridgeTree(app_commands.CommandTree["Threadbridge"]):
    async def interaction_check(self, interaction: discord.Interaction[Threadbridge]) -> bool:
        # Each interaction is handled in its own task, so this context stays with this command.
        structlog.contextvars.bind_contextvars(
            guild=interaction.guild_id,
            channel=interaction.channel_id,
            user=interaction.user.id,
            command=interaction.command.qualified_name if interaction.command else None,
        )
        if interaction.guild_id != self.client.settings.guild_id:
            await reply_privately(interaction, "threadbridge only works in its community's server.")
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Threadbridge], error: app_commands.AppCommandError
    ) -> None:
        await reply_privately(interaction, describe_error(interaction, error))


def describe_error(
    interaction: discord.Interaction[Threadbridge], error: app_commands.AppCommandError
) -> str:
    """The message a user sees for an error; unexpected ones are logged, not shown."""
    original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
    if isinstance(original, UserFacingError | Refusal):
        return str(original)
    if isinstance(error, app_commands.TransformerError) and isinstance(
        error.__cause__, UserFacingError
    ):
        return str(error.__cause__)
    if isinstance(error, app_commands.TransformerError):
        return f"{error.value!r} is not a valid {error.type.name.lower().replace('_', ' ')}."
    if isinstance(error, app_commands.MissingPermissions | app_commands.CheckFailure):
        return "You don't have permission to use this command."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down: try again in {error.retry_after:.0f} s."
    if isinstance(original, discord.Forbidden):
        log.warning("discord refused an action", status=original.status, code=original.code)
        return "Discord refused that action: the bot is missing a permission in this channel."
    command = interaction.command.qualified_name if interaction.command else None
    log.error(
        "command failed",
        command=command,
        user=interaction.user.id,
        guild=interaction.guild_id,
        exc_info=original,
    )
    return UNEXPECTED


async def reply_privately(interaction: discord.Interaction[Threadbridge], message: str) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException as error:
        log.warning("could not reply to an interaction", status=error.status, code=error.code)


async def may_run(interaction: discord.Interaction[Threadbridge]) -> bool:
    """Whether the user may run the command they are typing: the checks discord.py runs before
    a command (its group's and its cog's interaction_check, its own checks), which it does not
    run before autocomplete. Autocomplete answers with what only the command's users may see
    (held comments, the list of posts): anyone else gets no choices."""
    command = interaction.command
    if not isinstance(command, app_commands.Command):
        return False
    gates: list[Callable[[discord.Interaction[Threadbridge]], Any]] = []
    if command.parent is not None and command.parent is not command.binding:
        gates.append(command.parent.interaction_check)
    gate = getattr(command.binding, "interaction_check", None)
    if gate is not None:
        gates.append(gate)
    gates.extend(command.checks)
    try:
        for check in gates:
            if not await discord.utils.maybe_coroutine(check, interaction):
                return False
    except app_commands.AppCommandError:  # a Refusal says no with a reason: here, just no
        return False
    return True


async def post_choices(
    interaction: discord.Interaction[Threadbridge], current: str
) -> list[app_commands.Choice[int]]:
    """Autocomplete for a `post` argument: posts whose title contains what was typed, for those
    who may run the command."""
    if not await may_run(interaction):
        return []
    posts = await search_posts(interaction.client.store, current.strip(), limit=25)
    return [
        app_commands.Choice(name=f"{post.id} · {post.title or 'Untitled'}"[:100], value=post.id)
        for post in posts
    ]
