"""Everything the demo runs, started in order and stopped in reverse: the local Discord, the
store with the imported post, the bot, the site, and the demo's own page in front of it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.background import BackgroundTasks
from bot.client import Threadbridge, connected
from bot.log import get_logger
from bot.mirror.sources.wxr import read_source
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Post
from bot.store.posts import save_source_post
from bot.web.app import serving
from bot.web.operators import bot_state
from discord_emulator import Community, Emulator, EmulatorConfig

SEED_EXPORT = Path(__file__).parent / "seed_export.xml"
# The word the demo's rules hold a comment for, so that a moderator can be seen approving it.
HELD_WORD = "refund"
READY_TIMEOUT = 30.0

log = get_logger("demo")


class CannotListen(Exception):
    """The demo's page cannot listen where it was asked to."""


class DemoSettings(Settings):
    """The bot's settings for the demo, from the arguments alone: an operator's environment or
    .env (a real token, another database) must not leak into a demo."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def demo_settings(emu: Emulator, community: Community, database: Path, base_url: str) -> Settings:
    return DemoSettings(
        discord_token=community.token,
        discord_api_base_url=emu.api_base_url,
        discord_gateway_url=emu.gateway_url,
        database_path=database,
        guild_id=community.guild_id,
        mirror_channel_id=community.mirror_channel_id,
        digest_channel_id=community.digest_channel_id,
        modlog_channel_id=community.modlog_channel_id,
        moderator_role_ids=(community.moderator_role_id,),
        rules_moderation_words=(HELD_WORD,),
        web_listen="",  # the demo serves the site itself, behind its own page
        web_base_url=base_url,
        web_rate_limit=0,  # every request comes through the demo's page, from one address
        web_cache_seconds=0,
    )


@dataclass
class Stage:
    """What the demo's page and its simulated members act on."""

    emulator: Emulator
    community: Community
    store: Store
    bot: Threadbridge
    post: Post
    site_url: str  # where the site listens, behind the demo's page
    visitor_id: int  # the member the page's form writes as
    thread_id: int | None = None  # once the post is mirrored
    tasks: BackgroundTasks = field(default_factory=lambda: BackgroundTasks(log))


async def import_seed(store: Store) -> Post:
    """The community's post from the WordPress export, with its comments from the web."""
    contents = read_source(SEED_EXPORT.read_bytes(), source_hint=str(SEED_EXPORT))
    (source_post,) = contents.posts
    saved = await save_source_post(store, source_post)
    return saved.post


def running(bot: Threadbridge, token: str) -> contextlib.AbstractAsyncContextManager[None]:
    """The bot connected (ready) until the block ends, then closed."""
    return connected(bot, token, timeout=READY_TIMEOUT)


@contextlib.asynccontextmanager
async def listening(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """`app` served on host:port until the block ends; its base address (no trailing slash)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            raise CannotListen(
                f"cannot listen on {host}:{port}: {error.strerror or error}"
            ) from None
        bound = runner.addresses[0]
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{bound[1]}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def staged(
    folder: Path, app: web.Application, host: str, port: int, stage_key: Any
) -> AsyncIterator[tuple[Stage, str]]:
    """Everything started, the demo page (`app`) answering on host:port; the stage is put in
    `app[stage_key]` once the site behind the page is up. Yields the stage and the address."""
    emu = Emulator(EmulatorConfig(rate_limits=False))
    await emu.start()
    try:
        community = emu.seed_community()
        visitor = emu.create_user("visitor", global_name="You (visitor)")
        emu.create_member(community.guild_id, visitor.id)
        async with listening(app, host, port) as address:
            settings = demo_settings(emu, community, folder / "threadbridge.db", address)
            async with (
                Store.open(settings.database_path) as store,
                Threadbridge(settings=settings, store=store) as bot,
            ):
                post = await import_seed(store)
                async with (
                    running(bot, settings.token),
                    serving(settings, "127.0.0.1", 0, bot=bot_state(bot)) as site,
                ):
                    stage = Stage(
                        emulator=emu,
                        community=community,
                        store=store,
                        bot=bot,
                        post=post,
                        site_url=f"http://127.0.0.1:{site.port}",
                        visitor_id=visitor.id,
                    )
                    app[stage_key] = stage
                    try:
                        yield stage, address
                    finally:
                        await stage.tasks.cancel_all()
    finally:
        await emu.stop()
