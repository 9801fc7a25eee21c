"""Reaching Discord, and saying in one line why it did not work.

`explaining_failures` turns what discord.py and aiohttp raise when Discord cannot be reached or
refuses the bot into a `DiscordStartError` whose message names what failed and what to check;
the CLI prints it and exits with its status. `wait_for_discord` is how `run` treats Discord being
out of reach at start: a passing trouble, tried again with growing waits until it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path

import aiohttp
import discord
import yarl

from bot.discord_helpers import describe_http_error
from bot.log import get_logger
from bot.settings import Settings

EXIT_FAILURE = 1
EXIT_CONFIG = 2  # the same status as a missing or invalid setting

DISCORD_API_BASE = "https://discord.com/api/v10"

# Everything that means "no answer": refused, unresolvable, timed out, TLS, dropped.
UNREACHABLE = (aiohttp.ClientConnectionError, TimeoutError)

# Gateway close codes discord.py does not reconnect after (4004 and 4014 are handled apart).
FATAL_CLOSES: dict[int, str] = {
    4010: "Discord refused the shard the bot connected as (gateway close 4010, invalid shard): "
    "threadbridge connects as one unsharded bot; check that DISCORD_GATEWAY_URL is Discord's "
    "gateway (wss://gateway.discord.gg/)",
    4011: "Discord requires this bot to connect in shards (gateway close 4011, sharding "
    "required): the bot is in too many servers for one connection; remove it from the servers "
    "it does not serve (threadbridge serves one)",
    4012: "Discord refused the gateway API version (gateway close 4012, invalid API version): "
    "check that DISCORD_GATEWAY_URL is Discord's gateway (wss://gateway.discord.gg/), and "
    "upgrade threadbridge",
    4013: "Discord refused the bot's intents as invalid (gateway close 4013, invalid intents): "
    "upgrade threadbridge",
}

INTENTS_REFUSED = (
    "Discord refused the Message Content intent: enable it under Bot > Privileged "
    "Gateway Intents in the developer portal"
)

FIRST_WAIT = 1
LONGEST_WAIT = 60
PROBE_TIMEOUT = 10.0


class DiscordStartError(Exception):
    """Discord could not be reached, or refused the bot: the message is the line to show the
    operator, `status` the exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.status = status


def token_origin(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> str:
    """Where the token in use came from: the environment wins over the .env file, as in
    pydantic-settings (which matches the variable's name in any case)."""
    environ = os.environ if environ is None else environ
    if any(name.lower() == "discord_token" for name in environ):
        return "DISCORD_TOKEN, set in the environment"
    return f"DISCORD_TOKEN in {(cwd or Path.cwd()) / '.env'}"


def token_refused(origin: str) -> str:
    return (
        f"Discord refused the bot's token ({origin}): it was reset or mistyped; copy a new one "
        "from the developer portal (your application > Bot > Reset Token) and put it there"
    )


def reason(error: BaseException) -> str:
    """Why a connection failed, in a short phrase."""
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return "its TLS certificate was not accepted"
    if isinstance(error, aiohttp.ClientSSLError):
        return "the TLS handshake failed"
    if isinstance(error, aiohttp.ClientConnectorDNSError) or isinstance(
        getattr(error, "os_error", None), socket.gaierror
    ):
        return "its host name does not resolve"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, ConnectionRefusedError):
            return "connection refused"
        return error.os_error.strerror or type(error.os_error).__name__
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "the server closed the connection"
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"it answered HTTP {error.status} instead of a websocket"
    if isinstance(error, discord.DiscordServerError):
        return f"Discord answered {error.status}"
    return str(error) or type(error).__name__


def explain(error: BaseException, settings: Settings, *, origin: str | None = None) -> str | None:
    """The line for the operator, or None when `error` is not a failure to talk to Discord."""
    return _explained(error, settings, origin or token_origin())[0]


def _explained(error: BaseException, settings: Settings, origin: str) -> tuple[str | None, int]:
    if isinstance(error, discord.LoginFailure):
        return token_refused(origin), EXIT_CONFIG
    if isinstance(error, discord.PrivilegedIntentsRequired):
        return INTENTS_REFUSED, EXIT_CONFIG
    if isinstance(error, discord.ConnectionClosed):
        if error.code == 4004:
            return token_refused(origin), EXIT_CONFIG
        if error.code in FATAL_CLOSES:
            return FATAL_CLOSES[error.code], EXIT_CONFIG
        return f"Discord closed the gateway connection (close code {error.code})", EXIT_FAILURE
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return (
            f"DISCORD_GATEWAY_URL={settings.discord_gateway_url} does not look like Discord's "
            f"gateway ({reason(error)}): it should be wss://gateway.discord.gg/"
        ), EXIT_FAILURE
    if isinstance(error, discord.NotFound) and error.code == 0:
        # Discord's own 404s carry an error code (10004 Unknown Guild...); a 404 without one
        # comes from a server that is not Discord's API.
        return (
            f"DISCORD_API_BASE_URL={settings.discord_api_base_url} does not look like Discord's "
            f"API (it answered 404 Not Found): it should be {DISCORD_API_BASE}"
        ), EXIT_FAILURE
    if isinstance(error, discord.DiscordServerError):
        return (
            f"Discord's API at {settings.discord_api_base_url} is failing ({reason(error)}): "
            "try again later"
        ), EXIT_FAILURE
    if isinstance(error, discord.HTTPException):
        return describe_http_error(error), EXIT_FAILURE
    if isinstance(error, UNREACHABLE):
        return (
            f"cannot reach Discord's API at {settings.discord_api_base_url} ({reason(error)}): "
            "check DISCORD_API_BASE_URL and that this machine can reach it"
        ), EXIT_FAILURE
    return None, EXIT_FAILURE


@contextlib.contextmanager
def explaining_failures(settings: Settings) -> Iterator[None]:
    """Raise DiscordStartError in place of a failure to reach Discord or to be let in."""
    try:
        yield
    except (discord.DiscordException, aiohttp.WSServerHandshakeError, *UNREACHABLE) as error:
        message, status = _explained(error, settings, token_origin())
        if message is None:
            raise
        raise DiscordStartError(message, status) from error


def waits(first: int = FIRST_WAIT, longest: int = LONGEST_WAIT) -> Iterator[int]:
    """1, 2, 4 ... seconds, then `longest` for ever."""
    wait = first
    while True:
        yield wait
        wait = min(wait * 2, longest)


async def reach_discord(settings: Settings) -> None:
    """Raise Unreachable unless Discord's API and gateway both answer, as discord.py will
    meet them.

    Any HTTP answer from the API below 500 will do (a wrong base is found at login, and said
    then); the gateway must accept a websocket (a refusal other than a server error is raised
    as it is: DISCORD_GATEWAY_URL is then wrong, not Discord away).
    """
    api, gateway = settings.discord_api_base_url, settings.discord_gateway_url
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.get(f"{api}/gateway") as response:
                status = response.status
        except UNREACHABLE as error:
            raise Unreachable(reason(error), api, "DISCORD_API_BASE_URL") from None
        if status >= 500:
            raise Unreachable(f"it answered HTTP {status}", api, "DISCORD_API_BASE_URL")
        try:
            async with session.ws_connect(yarl.URL(gateway).with_query(v=10, encoding="json")):
                pass
        except aiohttp.WSServerHandshakeError as error:
            if error.status < 500:
                raise
            raise Unreachable(reason(error), gateway, "DISCORD_GATEWAY_URL") from None
        except UNREACHABLE as error:
            raise Unreachable(reason(error), gateway, "DISCORD_GATEWAY_URL") from None


class Unreachable(Exception):
    """A passing failure to reach `url` (the value of the setting `setting`)."""

    def __init__(self, why: str, url: str, setting: str) -> None:
        super().__init__(f"{url}: {why}")
        self.reason = why
        self.url = url
        self.setting = setting


async def wait_for_discord(settings: Settings, stopping: asyncio.Event) -> bool:
    """Try to reach Discord until it answers (True) or `stopping` is set (False), waiting
    longer after each failed attempt. One warning per failed attempt, without a traceback."""
    log = get_logger("threadbridge")
    for attempt, wait in enumerate(waits(), start=1):
        probe = asyncio.ensure_future(reach_discord(settings))
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({probe, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not probe.done():
                probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await probe  # also marks a failure as seen when stopping won the race
        if stopping.is_set():
            return False
        try:
            probe.result()
        except Unreachable as error:
            log.warning(
                "cannot reach Discord, trying again",
                attempt=attempt,
                wait_seconds=wait,
                reason=error.reason,
                url=error.url,
                setting=error.setting,
            )
        else:
            if attempt > 1:
                log.info("Discord reached", attempt=attempt)
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), wait)
        if stopping.is_set():
            return False
    raise AssertionError("unreachable")  # waits() never ends
