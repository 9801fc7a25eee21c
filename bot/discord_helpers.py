"""Small helpers around discord.py that every feature shares.

`point_discord_at` points discord.py at the Discord API and gateway the operator configured.
discord.py reads both from class attributes (Route.BASE for every REST call, webhooks and
interactions included; DiscordWebSocket.DEFAULT_GATEWAY for the first connection and for fresh
IDENTIFYs), so they are process-wide and set once by whoever builds the bot.

`jump_url` links to a channel, a thread or a message. `DISCORD_FAILURES` is what a call to
Discord can fail with short of a bug, and `describe_failure` says what went wrong in an
operator's words.
"""

from __future__ import annotations

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl


def point_discord_at(api_base_url: str, gateway_url: str) -> None:
    discord.http.Route.BASE = api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def jump_url(guild_id: int, channel_id: int, message_id: int | None = None) -> str:
    """The link to a message, or to the channel or thread itself without `message_id`."""
    url = f"https://discord.com/channels/{guild_id}/{channel_id}"
    return url if message_id is None else f"{url}/{message_id}"


# What a call to Discord can fail with, short of a bug: an answer, or no answer at all.
DISCORD_FAILURES = (discord.HTTPException, aiohttp.ClientError, TimeoutError)


def describe_failure(error: BaseException) -> str:
    if isinstance(error, discord.HTTPException):
        return describe_http_error(error)
    return f"the connection to Discord failed ({type(error).__name__})"


def describe_http_error(error: discord.HTTPException) -> str:
    if isinstance(error, discord.Forbidden):
        return f"Discord refused: the bot is missing a permission ({error.text or error.status})"
    if isinstance(error, discord.NotFound):
        return f"Discord says it no longer exists ({error.text or error.status})"
    return f"Discord error {error.status}: {error.text or 'no detail'}"
