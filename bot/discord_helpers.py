"""Point discord.py at the Discord API and gateway the operator configured.

discord.py reads both from class attributes (Route.BASE for every REST call, webhooks and
interactions included; DiscordWebSocket.DEFAULT_GATEWAY for the first connection and for fresh
IDENTIFYs), so they are process-wide and set once by whoever builds the bot.
"""

from __future__ import annotations

import discord.gateway
import discord.http
import yarl


def point_discord_at(api_base_url: str, gateway_url: str) -> None:
    discord.http.Route.BASE = api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

