"""Shared fixtures: the local Discord emulator and a threadbridge bot pointed at it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.client import Threadbridge, connected
from bot.settings import Settings
from bot.store import Store
from discord_emulator import Community, Emulator

pytest_plugins = ["tests.emulator_fixtures", "tests.site_server", "tests.browser"]


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    async with Store.open(tmp_path / "threadbridge.db") as opened:
        yield opened


@pytest.fixture
def members(community):
    """The community's members who do not moderate."""
    return [m for m in community.member_ids if m != community.moderator_id]


@pytest.fixture
def mod_settings(bot_settings):
    """Settings with rules: "scam" removes a comment, "refund" holds it."""
    return bot_settings.model_copy(
        update={"rules_disallowed_words": ("scam",), "rules_moderation_words": ("refund",)}
    )


@pytest.fixture
def bot_settings(emulator: Emulator, community: Community, tmp_path) -> Settings:
    """Settings an operator would write to run threadbridge against the emulator."""
    return Settings(
        _env_file=None,
        discord_token=community.token,
        discord_api_base_url=emulator.api_base_url,
        discord_gateway_url=emulator.gateway_url,
        database_path=tmp_path / "threadbridge.db",
        guild_id=community.guild_id,
        mirror_channel_id=community.mirror_channel_id,
        digest_channel_id=community.digest_channel_id,
        modlog_channel_id=community.modlog_channel_id,
        moderator_role_ids=(community.moderator_role_id,),
    )


@contextlib.asynccontextmanager
async def running_bot(settings: Settings, **options: Any) -> AsyncIterator[Threadbridge]:
    """A started threadbridge with its own store, ready (on_ready fired); closed on exit."""
    options.setdefault("guild_ready_timeout", 0.05)
    async with Store.open(settings.database_path) as store:
        bot = Threadbridge(settings=settings, store=store, **options)
        async with connected(bot, settings.token, timeout=10):
            yield bot


@pytest.fixture
def start_bot(bot_settings: Settings) -> Callable[..., Any]:
    """`async with start_bot(**options) as bot:` — may be entered several times (restarts)."""

    def factory(settings: Settings | None = None, **options: Any) -> Any:
        return running_bot(settings or bot_settings, **options)

    return factory
