"""Admin commands: how the bot is doing, from inside Discord."""

from __future__ import annotations

import math

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Threadbridge
from bot.errors import UserFacingError
from bot.permissions import is_admin
from bot.status import collect_status, status_embed


class Admin(commands.Cog):
    def __init__(self, bot: Threadbridge) -> None:
        self.bot = bot

    @app_commands.command(name="status", description="What threadbridge holds and how it is doing")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction[Threadbridge]) -> None:
        if not is_admin(interaction.user):
            raise UserFacingError("Only admins (Manage Server) can see the bot's status.")
        snapshot = await collect_status(self.bot.store)
        latency = self.bot.latency * 1000 if math.isfinite(self.bot.latency) else None
        await interaction.response.send_message(
            embed=status_embed(
                snapshot, writes=self.bot.services.writer.health, latency_ms=latency
            ),
            ephemeral=True,
        )


async def setup(bot: Threadbridge) -> None:
    await bot.add_cog(Admin(bot))
