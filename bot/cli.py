"""The `threadbridge` command line (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import signal
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import click
import discord

from bot import __version__
from bot.client import Threadbridge
from bot.log import configure_logging, get_logger
from bot.permissions import BOT_PERMISSIONS, BOT_SCOPES
from bot.settings import Settings, SettingsError, load_settings
from bot.store import Store, StoreError, read_schema_status, upgrade_database

T = TypeVar("T")

EXIT_CONFIG = 2  # settings missing or invalid, or refused by Discord
EXIT_FAILURE = 1


def _fail(message: str, status: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"threadbridge: {message}", err=True)
    sys.exit(status)


def _settings(*, discord_needed: bool) -> Settings:
    try:
        settings = load_settings()
        if discord_needed:
            settings.require_discord()
    except SettingsError as error:
        _fail(str(error), EXIT_CONFIG)
    secrets = [settings.token] if settings.discord_token is not None else []
    configure_logging(
        level=settings.log_level.value, log_format=settings.log_format.value, secrets=secrets
    )
    return settings


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except StoreError as error:
        _fail(str(error))
    except discord.LoginFailure:
        _fail("Discord refused DISCORD_TOKEN: check the token in your .env", EXIT_CONFIG)
    except discord.PrivilegedIntentsRequired:
        _fail(
            "Discord refused the Message Content intent: enable it under Bot > Privileged "
            "Gateway Intents in the developer portal",
            EXIT_CONFIG,
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="threadbridge")
def cli() -> None:
    """threadbridge: mirror a community's posts into Discord threads and sync replies back.

    Settings come from the environment and from a .env file in the working directory
    (see .env.example).
    """


@cli.command()
def run() -> None:
    """Connect to Discord and run the bot until stopped (Ctrl-C or SIGTERM).

    Applies pending database migrations first.
    """
    settings = _settings(discord_needed=True)
    _run_async(_run_bot(settings))


async def _run_bot(settings: Settings) -> None:
    log = get_logger("threadbridge")
    async with (
        Store.open(settings.database_path) as store,
        Threadbridge(settings=settings, store=store) as bot,
    ):
        _stop_on_signals(bot)
        log.info("starting", database=str(settings.database_path), guild=settings.guild_id)
        await bot.start(settings.token)
    log.info("stopped")


def _stop_on_signals(bot: Threadbridge) -> None:
    loop = asyncio.get_running_loop()
    # Not a bot.background task: close() cancels those, and would cancel itself.
    closing: list[asyncio.Task[None]] = []

    def stop() -> None:
        if not closing:
            closing.append(loop.create_task(bot.close(), name="shutdown"))

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)


@cli.command("check-config")
def check_config() -> None:
    """Validate the settings and show them (the token stays hidden); exit 2 if any is wrong."""
    settings = _settings(discord_needed=True)
    for name, value in settings.summary().items():
        click.echo(f"{name}={value}")
    status = _run_async(read_schema_status(settings.database_path))
    if status.current > status.latest:
        _fail(f"database schema {status.current} is newer than this threadbridge knows")
    click.echo(
        f"database: schema {status.current} of {status.latest}"
        + (f" ({len(status.pending)} migration(s) to apply)" if status.pending else "")
    )
    click.echo("configuration OK")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (run does this too)."""
    settings = _settings(discord_needed=False)
    applied = _run_async(upgrade_database(settings.database_path))
    for migration in applied:
        click.echo(f"applied {migration.version:04d}_{migration.name}: {migration.reason}")
    if not applied:
        click.echo("database already up to date")


@db.command("status")
def db_status() -> None:
    """Show the database's schema version and the migrations still to apply."""
    settings = _settings(discord_needed=False)
    status = _run_async(read_schema_status(settings.database_path))
    click.echo(f"database: {settings.database_path}")
    click.echo(f"schema version: {status.current} (latest known: {status.latest})")
    for migration in status.pending:
        click.echo(f"pending: {migration.version:04d}_{migration.name}: {migration.reason}")
    if status.current > status.latest:
        _fail("the database is newer than this threadbridge: upgrade threadbridge")


@cli.command("sync-commands")
def sync_commands() -> None:
    """Register the slash commands with Discord for GUILD_ID (run does it when they change)."""
    settings = _settings(discord_needed=True)
    count = _run_async(_sync_commands(settings))
    click.echo(f"synced {count} command(s) to guild {settings.guild_id}")


async def _sync_commands(settings: Settings) -> int:
    async with (
        Store.open(settings.database_path) as store,
        Threadbridge(settings=settings, store=store, sync_on_start=False) as bot,
    ):
        await bot.login(settings.token)
        return await bot.sync_commands()


@cli.command("invite-url")
@click.option(
    "--application-id",
    type=click.IntRange(min=1),
    help="The application's id (default: read from DISCORD_TOKEN).",
)
def invite_url(application_id: int | None) -> None:
    """Print the URL that adds the bot to a server with exactly the permissions it needs."""
    settings = _settings(discord_needed=False)
    if application_id is None:
        if settings.discord_token is None:
            _fail("give --application-id, or set DISCORD_TOKEN to read it from", EXIT_CONFIG)
        application_id = application_id_from_token(settings.token)
        if application_id is None:
            _fail(
                "DISCORD_TOKEN does not look like a bot token; give --application-id", EXIT_CONFIG
            )
    click.echo(
        discord.utils.oauth_url(
            application_id,
            permissions=BOT_PERMISSIONS,
            scopes=BOT_SCOPES,
            guild=discord.Object(settings.guild_id) if settings.guild_id else discord.utils.MISSING,
        )
    )


def application_id_from_token(token: str) -> int | None:
    """A bot token starts with its user id in base64; for bots that is the application id."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None
