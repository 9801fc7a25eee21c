"""Pytest plugin: a started, seeded Discord emulator and helpers to connect bare discord.py clients.

Usage in a test:

    async def test_x(emulator, connect_client):
        async with connect_client() as client:
            ...

`emulator` patches discord.py's process-global REST base and gateway URL and restores them.
Mark a test with `@pytest.mark.emulator_config(message_limit=2, ...)` to pass EmulatorConfig
fields (rate limits are off unless the marker sets `rate_limits=True`).
With THREADBRIDGE_EMULATOR_SPEC=1 every emulator runs in spec mode (problems are recorded in
`emulator.journal.spec_problems`, not asserted); without the spec such a test is skipped, or
failed under CI=true (tests/shared_files.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from discord_emulator import Community, Emulator, EmulatorConfig
from tests.shared_files import shared_file

FIXED_TOKEN = "emulator-test-token"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator_config(**fields): EmulatorConfig fields for the emulator fixture"
    )


@contextlib.contextmanager
def point_discord_at(api_base_url: str, gateway_url: str):
    """Point discord.py's class-level URLs at an emulator; restore them afterwards."""
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


def default_intents():
    import discord

    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


@contextlib.asynccontextmanager
async def run_client(
    emu: Emulator | None,
    client: Any = None,
    *,
    token: str | None = None,
    intents: Any = None,
    ready_timeout: float = 10.0,
    wait_ready: bool = True,
    **options: Any,
) -> AsyncIterator[Any]:
    """Start `client` (a new discord.Client by default) against `emu`, wait for on_ready."""
    import discord

    if client is None:
        options.setdefault("guild_ready_timeout", 0.05)
        client = discord.Client(intents=intents or default_intents(), **options)
    if token is None:
        assert emu is not None and emu.community is not None
        token = emu.community.token
    task = asyncio.create_task(client.start(token, reconnect=True))
    try:
        if wait_ready:
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait({ready, task}, timeout=ready_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ready
                if task.done():
                    task.result()
                raise TimeoutError("client never became ready")
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 5)


def _env_validator() -> Any:
    if os.environ.get("THREADBRIDGE_EMULATOR_SPEC") != "1":
        return None
    from discord_emulator.spec import ENV_VAR, SpecValidator

    path = shared_file("discord", "api-spec", "openapi.json", override=ENV_VAR)
    import discord_emulator.spec as spec_module

    loader = getattr(spec_module, "load_cached", SpecValidator.load)
    return loader(path)


@pytest_asyncio.fixture
async def emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
    fields: dict[str, Any] = {"rate_limits": False}
    marker = request.node.get_closest_marker("emulator_config")
    if marker is not None:
        fields.update(marker.kwargs)
    emu = Emulator(EmulatorConfig(**fields), validator=_env_validator())
    await emu.start()
    emu.seed_community(FIXED_TOKEN)
    with point_discord_at(emu.api_base_url, emu.gateway_url):
        try:
            yield emu
        finally:
            await emu.stop()


@pytest.fixture
def community(emulator: Emulator) -> Community:
    assert emulator.community is not None
    return emulator.community


@pytest.fixture
def connect_client(emulator: Emulator) -> Callable[..., Any]:
    """`async with connect_client(client=None, **options) as client:` — ready bare client."""

    def factory(client: Any = None, **options: Any) -> Any:
        return run_client(emulator, client, **options)

    return factory
