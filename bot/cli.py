"""The `threadbridge` command line (also `python -m bot`)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import signal
import sys
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import click
import discord

from bot import __version__
from bot.client import Threadbridge
from bot.clock import utcnow
from bot.comments.catchup import catch_up_thread
from bot.comments.policy import sync_policy
from bot.comments.writer import CommentWriter
from bot.digest.content import DigestContent, build_digest
from bot.digest.period import Period, current_week, last_complete_period, previous
from bot.digest.render import digest_json, digest_text
from bot.discord_helpers import point_discord_at
from bot.internals import UnsupportedLibrary, check_library_versions
from bot.json_stream import json_pieces
from bot.log import configure_logging, get_logger
from bot.mirror.sources.feed import FeedError, fetch_feed
from bot.mirror.sources.wxr import SourceContents, WxrError, describe_skipped, read_source
from bot.moderation.rulebook import Rulebook
from bot.permissions import BOT_PERMISSIONS, BOT_SCOPES
from bot.preflight import Problem, check_online
from bot.run_lock import RunLockError, run_lock_held, take_run_lock
from bot.settings import Settings, SettingsError, listen_url, load_settings, parse_listen
from bot.startup import DiscordStartError, explaining_failures, wait_for_discord
from bot.status import collect_status
from bot.store import Store, StoreError, read_schema_status, upgrade_database
from bot.store.cursors import MirrorRef, threads_to_catch_up
from bot.store.export import stream_posts
from bot.store.feeds import list_feeds
from bot.store.mirrors import get_mirror, list_mirrors
from bot.store.models import MirrorState
from bot.store.posts import find_post, get_post, save_source_post
from bot.web.app import serving
from bot.web.export import ExportFormat, export_site
from bot.web.operators import bot_state

T = TypeVar("T")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
        check_library_versions()
    except UnsupportedLibrary as error:
        coroutine.close()
        _fail(str(error))
    try:
        return asyncio.run(coroutine)
    except StoreError as error:
        _fail(str(error))
    except DiscordStartError as error:
        _fail(str(error), error.status)


async def _talking_to_discord(settings: Settings, coroutine: Coroutine[Any, Any, T]) -> T:
    """`coroutine`, with its failures to reach Discord or to be let in told in one line."""
    with explaining_failures(settings):
        return await coroutine


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

    Applies pending database migrations first. Refuses to start while another bot runs on
    the same database.
    """
    settings = _settings(discord_needed=True)
    try:
        lock = take_run_lock(settings.database_path)
    except RunLockError as error:
        _fail(str(error))
    with lock:
        _run_async(_run_bot(settings))


async def _run_bot(settings: Settings) -> None:
    """Discord out of reach at start is waited out (see bot.startup); once connected,
    discord.py reconnects by itself. A refusal (token, intents) ends the run."""
    log = get_logger("threadbridge")
    async with (
        _open_store(settings, as_log=True) as store,
        Threadbridge(settings=settings, store=store) as bot,
        _site_of(bot, settings),
    ):
        stopping = _stop_on_signals(bot)
        log.info("starting", database=str(settings.database_path), guild=settings.guild_id)
        with explaining_failures(settings):
            if await wait_for_discord(settings, stopping):
                await bot.start(settings.token)
    log.info("stopped")


@contextlib.asynccontextmanager
async def _site_of(bot: Threadbridge, settings: Settings) -> AsyncIterator[None]:
    """The site served beside the bot on WEB_LISTEN (nothing when it is empty)."""
    listen = parse_listen(settings.web_listen) if settings.web_listen else None
    if listen is None:
        yield
        return
    async with contextlib.AsyncExitStack() as stack:
        try:
            await stack.enter_async_context(serving(settings, *listen, bot=bot_state(bot)))
        except OSError as error:  # only the listening: the bot's own errors are not this
            _fail(f"cannot listen on WEB_LISTEN={settings.web_listen}: {error.strerror or error}")
        yield


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: WEB_LISTEN's).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on (default: WEB_LISTEN's).",
)
def serve(host: str | None, port: int | None) -> None:
    """Serve the site (API, pages, feeds) from the database, read-only, until stopped.

    Needs no token and never talks to Discord: any number of these may serve one database.
    """
    settings = _settings(discord_needed=False)
    listen = parse_listen(settings.web_listen) or ("127.0.0.1", 8080)
    _run_async(_serve(settings, host or listen[0], port or listen[1]))


async def _serve(settings: Settings, host: str, port: int) -> None:
    log = get_logger("threadbridge")
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    try:
        async with serving(settings, host, port) as server:
            click.echo(f"serving {settings.database_path} on {listen_url(host, server.port)}")
            await stopped.wait()
    except OSError as error:
        _fail(f"cannot listen on {host}:{port}: {error.strerror or error}")
    log.info("stopped")


def _stop_on_signals(bot: Threadbridge) -> asyncio.Event:
    """Close the bot on SIGINT or SIGTERM; the event returned is set then."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    # Not a bot.background task: close() cancels those, and would cancel itself.
    closing: list[asyncio.Task[None]] = []

    def stop() -> None:
        stopping.set()
        if not closing:
            closing.append(loop.create_task(bot.close(), name="shutdown"))

    # SIGHUP: the terminal that started it closed.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop)
    return stopping


@cli.command("check-config")
@click.option(
    "--online",
    is_flag=True,
    help="Also log in to Discord and check the server, channels, permissions and intents.",
)
def check_config(online: bool) -> None:
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
    if online:
        problems = _run_async(_talking_to_discord(settings, _check_online(settings)))
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        if problems:
            _fail(f"{len(problems)} set-up problem(s) found", EXIT_CONFIG)
        click.echo("Discord: server, channels, permissions and intents OK")
    click.echo("configuration OK")


def _rest_client() -> discord.Client:
    """A client for REST calls only (it never opens the gateway, so intents change nothing;
    the guilds one spares the operator discord.py's warning about it being off)."""
    return discord.Client(intents=discord.Intents(guilds=True))


async def _check_online(settings: Settings) -> list[Problem]:
    client = _rest_client()
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    async with client:
        await client.login(settings.token)
        return await check_online(client, settings)


@contextlib.asynccontextmanager
async def _open_store(settings: Settings, *, as_log: bool = False) -> AsyncIterator[Store]:
    """The store, as every command that writes or reads it opens it: created or migrated when
    it needs to be, and said so in one line on stderr (a log line under `run`), never
    silently. A database newer than this threadbridge is refused. (The read-only side, `serve`
    and `export --out`, opens a ReadStore instead: a reader never migrates.)"""
    async with Store.open(settings.database_path) as store:
        if store.applied:
            _tell_migrated(store, as_log=as_log)
        yield store


def _tell_migrated(store: Store, *, as_log: bool) -> None:
    schema = store.applied[-1].version
    count = len(store.applied)
    if as_log:
        get_logger("threadbridge").info(
            "database created" if store.created else "database upgraded",
            database=str(store.path),
            schema=schema,
            migrations=count,
        )
        return
    if store.created:
        done = f"created at schema {schema}"
    else:
        done = f"upgraded from schema {store.applied[0].version - 1} to {schema}"
    plural = "" if count == 1 else "s"
    click.echo(f"threadbridge: database {store.path} {done} ({count} migration{plural})", err=True)


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (the other commands do it too when needed, and say so)."""
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


@cli.command("register-commands")
def register_commands() -> None:
    """Register the slash commands with Discord for GUILD_ID (run does it when they change)."""
    settings = _settings(discord_needed=True)
    count = _run_async(_talking_to_discord(settings, _register_commands(settings)))
    click.echo(f"registered {count} command(s) for guild {settings.guild_id}")


# The name earlier versions documented, kept (hidden) so that operators' scripts keep working.
cli.add_command(click.Command("sync-commands", callback=register_commands.callback, hidden=True))


async def _register_commands(settings: Settings) -> int:
    async with (
        _open_store(settings) as store,
        Threadbridge(settings=settings, store=store, one_shot=True) as bot,
    ):
        await bot.login(settings.token)
        return await bot.register_commands()


MAX_IMPORT_BYTES = 200 * 1024 * 1024


@cli.command("import")
@click.argument("source")
@click.option(
    "--no-threads",
    is_flag=True,
    help="Record the posts as already seen: they get no thread (for an old archive).",
)
@click.option(
    "--pages",
    is_flag=True,
    help="Import a WordPress export's published pages too, not only its posts.",
)
def import_posts(source: str, no_threads: bool, pages: bool) -> None:
    """Import posts from SOURCE: an RSS/Atom feed or a WordPress export (WXR), file or URL.

    From a WordPress export, what the site shows publicly: published posts without a password
    (and pages with --pages), each with its approved comments and reply links; what is left
    out is counted. Running the same import again changes nothing; posts edited since are
    updated. New posts get their threads (unless --no-threads) within seconds if a bot is
    running on the database, otherwise when one starts.
    """
    settings = _settings(discord_needed=False)
    try:
        if source.startswith(("http://", "https://")):
            data = _run_async(_download_import(source))
        else:
            data = _read_import_file(Path(source))
        contents = read_source(data, source_hint=source, pages=pages)
    except (FeedError, WxrError, OSError) as error:
        _fail(f"cannot import {source}: {error}")
    posts = contents.posts
    summary = _run_async(_save_imported(settings, contents, mirror=not no_threads))
    click.echo(
        f"{len(posts)} post(s) read: {summary.new} new, {summary.edited} updated, "
        f"{len(posts) - summary.new - summary.edited} unchanged; "
        f"{summary.comments} comment(s) added"
    )
    if summary.rekeyed:
        click.echo(
            f"{summary.rekeyed} post(s) stored by an earlier import are now known by their "
            "WordPress id (their threads and comments stay)"
        )
    for line in (
        describe_skipped(contents.skipped_items, "item"),
        describe_skipped(contents.skipped_comments, "comment"),
    ):
        if line:
            click.echo(line)
    if summary.stored_but_skipped:
        ids = sorted(summary.stored_but_skipped)
        shown = ", ".join(str(post_id) for post_id in ids[:20]) + (" ..." if len(ids) > 20 else "")
        click.echo(
            f"{len(ids)} post(s) stored by an earlier import are skipped now, and left as they "
            f"are (threads too): {shown}"
        )
    if not no_threads and (summary.new or summary.comments):
        click.echo(_when_mirrored(settings.database_path, new_posts=summary.new > 0))


def _when_mirrored(database: Path, *, new_posts: bool) -> str:
    """When what an import stored reaches Discord: within seconds if a bot runs on the database
    (it watches for posts stored by other programs), otherwise when one starts."""
    if run_lock_held(database):
        if new_posts:
            return "the running bot will create their threads within a few seconds"
        return "the running bot will post the new comments in their threads within a few seconds"
    later = "the threads will be created" if new_posts else "the comments will be posted"
    return f"no bot is running on {database}: {later} when `threadbridge run` starts"


async def _download_import(url: str) -> bytes:
    async with aiohttp.ClientSession() as session:
        fetched = await fetch_feed(session, url, max_bytes=MAX_IMPORT_BYTES, timeout=120)
    return fetched.body or b""


def _read_import_file(path: Path) -> bytes:
    if not path.is_file():
        raise OSError(f"no such file: {path}")
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise OSError("the file is larger than 200 MB")
    return path.read_bytes()


@dataclass(slots=True)
class _ImportSummary:
    new: int = 0
    edited: int = 0
    comments: int = 0
    rekeyed: int = 0
    stored_but_skipped: list[int] = field(default_factory=list)  # post ids


async def _save_imported(
    settings: Settings, contents: SourceContents, *, mirror: bool
) -> _ImportSummary:
    summary = _ImportSummary()
    async with _open_store(settings) as store:
        with click.progressbar(contents.posts, label="importing", file=sys.stderr) as progress:
            for post in progress:
                saved = await save_source_post(store, post, mirror=mirror)
                summary.new += saved.created
                summary.edited += saved.edited
                summary.comments += saved.comments_added
                summary.rekeyed += saved.rekeyed
        for source, external_id in contents.skipped_keys:
            stored = await find_post(store, source, external_id)
            if stored is not None and stored.id not in summary.stored_but_skipped:
                summary.stored_but_skipped.append(stored.id)
    return summary


@cli.command("status")
def status() -> None:
    """Show what the store holds: posts, mirrors by state, comments, feeds and failures."""
    settings = _settings(discord_needed=False)
    for line in _run_async(_status_lines(settings)):
        click.echo(line)


async def _status_lines(settings: Settings) -> list[str]:
    async with _open_store(settings) as store:
        snapshot = await collect_status(store)
        troubled = await list_mirrors(store, (MirrorState.FAILED, MirrorState.BROKEN))
        feeds = await list_feeds(store)
        lines = [
            f"posts: {snapshot.posts} ({snapshot.waiting_to_mirror} waiting for a thread)",
            "mirrors: " + ", ".join(f"{s.value} {n}" for s, n in snapshot.mirrors.items()),
            f"comments: {snapshot.comments} ({snapshot.held_comments} held for review)",
        ]
        for mirror in troubled:
            post = await get_post(store, mirror.post_id)
            title = post.title if post else "?"
            lines.append(
                f"{mirror.state.value}: post {mirror.post_id} {title!r}: {mirror.last_error}"
            )
        for feed in feeds:
            when = feed.last_success_at.isoformat() if feed.last_success_at else "never"
            health = (
                f"error x{feed.consecutive_errors}: {feed.last_error}" if feed.last_error else "ok"
            )
            lines.append(f"feed {feed.url}: last read {when}, {health}")
    return lines


@cli.command("sync")
@click.option("--post", "post_id", type=click.IntRange(min=1), help="Only this post's thread.")
@click.option("--full", is_flag=True, help="Re-read whole threads, not just what is new.")
def sync(post_id: int | None, full: bool) -> None:
    """Reconcile stored comments with the post threads in Discord.

    Without --full, reads what was written since the last sync in threads active within
    CATCHUP_DAYS (as the bot does at start); with --full, every mirrored thread completely.
    """
    settings = _settings(discord_needed=True)
    read, created, edited, deleted, threads = _run_async(
        _talking_to_discord(settings, _sync_threads(settings, post_id, full))
    )
    click.echo(
        f"{threads} thread(s) synced: {read} message(s) read, {created} new comment(s), "
        f"{edited} edit(s), {deleted} deletion(s)"
    )


async def _sync_threads(
    settings: Settings, post_id: int | None, full: bool
) -> tuple[int, int, int, int, int]:
    client = _rest_client()
    point_discord_at(settings.discord_api_base_url, settings.discord_gateway_url)
    async with _open_store(settings) as store, client:
        refs = await _threads_to_sync(store, settings, post_id, full)
        await client.login(settings.token)
        assert client.user is not None
        # Judged by the same rules as the bot judges live replies: the cases they open are
        # settled (messages deleted, the mod-log told) by the bot when it next runs.
        rulebook = Rulebook(store, settings)
        await rulebook.reload()
        assert settings.guild_id is not None
        guild = await client.fetch_guild(settings.guild_id)
        policy = sync_policy(
            settings,
            own_user_id=client.user.id,
            own_webhook_ids=await _own_webhook_ids(client, settings),
            rules=rulebook.in_force(guild.roles),
        )
        writer = CommentWriter(store, lambda: policy)
        writer.start()
        totals = [0, 0, 0, 0, 0]
        try:
            with click.progressbar(refs, label="syncing threads", file=sys.stderr) as progress:
                for ref in progress:
                    try:
                        thread = await client.fetch_channel(ref.thread_id)
                    except discord.NotFound:
                        click.echo(f"post {ref.post_id}: its thread no longer exists", err=True)
                        continue
                    if not isinstance(thread, discord.Thread):
                        continue
                    done = await catch_up_thread(thread, store, writer, full=full)
                    for index, value in enumerate(
                        (done.read, done.created, done.edited, done.deleted, 1)
                    ):
                        totals[index] += value
        finally:
            await writer.stop()
    return totals[0], totals[1], totals[2], totals[3], totals[4]


async def _threads_to_sync(
    store: Store, settings: Settings, post_id: int | None, full: bool
) -> list[MirrorRef]:
    if post_id is not None:
        mirror = await get_mirror(store, post_id)
        if mirror is None or mirror.thread_id is None:
            raise StoreError(f"post {post_id} has no thread to sync")
        return [MirrorRef(post_id, mirror.thread_id, mirror.sync_cursor)]
    since = EPOCH if full else utcnow() - timedelta(days=settings.catchup_days)
    return await threads_to_catch_up(store, since)


async def _own_webhook_ids(client: discord.Client, settings: Settings) -> frozenset[int]:
    assert settings.mirror_channel_id is not None and client.user is not None
    try:
        channel = await client.fetch_channel(settings.mirror_channel_id)
        hooks = await channel.webhooks() if hasattr(channel, "webhooks") else []
    except discord.HTTPException:
        return frozenset()
    return frozenset(
        hook.id for hook in hooks if hook.user is not None and hook.user.id == client.user.id
    )


@cli.command("export")
@click.option("--post", "post_id", type=click.IntRange(min=1), help="Only this post.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the public site (what readers may see) into this folder instead.",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice([choice.value for choice in ExportFormat]),
    default=ExportFormat.HTML.value,
    show_default=True,
    help="With --out: pages (html) or the API's JSON, one file per post plus an index.",
)
def export(post_id: int | None, out: Path | None, export_format: str) -> None:
    """Write posts and their comments, as reply trees, to stdout as JSON (everything the store
    holds, for backups); with --out, write the public site into a folder."""
    settings = _settings(discord_needed=False)
    if out is not None:
        if post_id is not None:
            _fail("--post and --out do not go together: --out writes every post")
        try:
            result = _run_async(export_site(settings, out, ExportFormat(export_format)))
        except OSError as error:
            _fail(f"cannot write the export into {out}: {error.strerror or error}")
        click.echo(
            f"exported {result.posts} post(s) to {out}: {result.written} file(s) written, "
            f"{result.unchanged} unchanged"
        )
        return
    try:
        _run_async(_export(settings, post_id, sys.stdout))
    except LookupError:
        _fail(f"there is no post {post_id}")


async def _export(settings: Settings, post_id: int | None, out: TextIO) -> None:
    """The JSON list of posts, written post by post as they are read (what json.dumps with
    indent=2 would write, without holding the store in memory or recursing down reply chains)."""
    written = 0
    async with _open_store(settings) as store:
        async for post in stream_posts(store, post_id):
            out.write(("," if written else "[") + "\n  ")
            out.writelines(json_pieces(post, indent=2, level=1))
            written += 1
    out.write("\n]\n" if written else "[]\n")


@cli.command("digest")
@click.option(
    "--period",
    default="last",
    show_default=True,
    help="last (the last complete week), previous (the week before), current (this week so "
    "far, marked partial), or a date YYYY-MM-DD within the week to show (a date in this week "
    "shows it so far).",
)
@click.option(
    "--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def digest(period: str, output: str) -> None:
    """Show the weekly digest the admins receive, as text or JSON."""
    settings = _settings(discord_needed=False)
    try:
        chosen = choose_period(period, now=utcnow(), tz=settings.tzinfo)
    except ValueError as error:
        _fail(str(error), EXIT_CONFIG)
    content = _run_async(_build_digest(settings, chosen))
    if output == "json":
        click.echo(json.dumps(digest_json(content), ensure_ascii=False, indent=2))
    else:
        click.echo(digest_text(content))


def choose_period(text: str, *, now: datetime, tz: ZoneInfo) -> Period:
    """The digest period an operator names: last, previous, current, or a day within it.

    A day of the current week names the week so far (partial), the only part of it there is;
    a day after today is refused.
    """
    period = last_complete_period(now, tz)
    if text == "last":
        return period
    if text == "previous":
        return previous(period)
    if text == "current":
        return current_week(now, tz)
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--period {text!r}: use last, previous, current, or a date such as 2026-11-16"
        ) from None
    today = now.astimezone(tz).date()
    if day > today:
        raise ValueError(f"--period {day} is after today ({today}): that week has not happened")
    if day >= period.end.date():
        return current_week(now, tz)
    while day < period.start.date():
        period = previous(period)
    return period


async def _build_digest(settings: Settings, period: Period) -> DigestContent:
    async with _open_store(settings) as store:
        return await build_digest(store, period, guild_id=settings.guild_id or 0)


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
