"""Every reach into a library's private API (bot.internals), exercised against the installed
libraries: an upgrade that moves or changes one fails here, loudly, before it fails in use."""

from __future__ import annotations

import sqlite3
import threading
from importlib.metadata import version

import aiosqlite
import discord
import pytest

from bot import internals
from bot.internals import (
    LIBRARY_VERSIONS,
    UnsupportedLibrary,
    check_library_versions,
    give_back_message_create,
    pace_requests,
    run_on_connection_thread,
    take_over_message_create,
)


def test_the_installed_libraries_are_the_ones_written_for():
    check_library_versions()
    assert set(LIBRARY_VERSIONS) == {"discord.py", "aiosqlite"}


def test_a_library_outside_the_known_versions_is_refused(monkeypatch):
    real = version

    def newer(name: str) -> str:
        return "3.0.0" if name == "discord.py" else real(name)

    monkeypatch.setattr(internals, "version", newer)
    with pytest.raises(UnsupportedLibrary, match=r"discord\.py 3\.0\.0"):
        check_library_versions()


async def test_message_create_is_taken_over_and_given_back():
    client = discord.Client(intents=discord.Intents.none())
    seen: list[dict] = []

    def mine(data: dict) -> None:
        seen.append(data)

    original = take_over_message_create(client, mine)
    # The parser table really is what the gateway dispatches through.
    assert callable(original) and original.__name__ == "parse_message_create"
    client._connection.parsers["MESSAGE_CREATE"]({"id": "1"})
    assert seen == [{"id": "1"}]
    give_back_message_create(client, mine, original)
    assert client._connection.parsers["MESSAGE_CREATE"] == original
    await client.close()


async def test_every_rest_call_waits_its_turn_first():
    client = discord.Client(intents=discord.Intents.none())
    order: list[str] = []

    async def wait(route: discord.http.Route) -> None:
        order.append(f"wait {route.path}")

    async def fake_send(route: discord.http.Route, **kwargs: object) -> dict:
        order.append(f"send {route.path}")
        return {}

    # What pace_requests wraps is the instance's bound request method, called for every route.
    client.http.request = fake_send  # type: ignore[method-assign]
    pace_requests(client, wait)
    await client.http.request(discord.http.Route("GET", "/gateway"))
    assert order == ["wait /gateway", "send /gateway"]
    await client.close()


async def test_pace_requests_wraps_the_method_discord_py_calls_for_each_route():
    # HTTPClient methods reach the network only through self.request(route, ...).
    client = discord.Client(intents=discord.Intents.none())
    routes: list[str] = []

    async def wait(route: discord.http.Route) -> None:
        routes.append(route.path)
        raise RuntimeError("stop before the network")

    pace_requests(client, wait)
    with pytest.raises(RuntimeError, match="stop before the network"):
        await client.http.get_user(1)
    assert routes == ["/users/{user_id}"]
    await client.close()


async def test_work_runs_on_the_connections_own_thread(tmp_path):
    async with aiosqlite.connect(tmp_path / "x.db") as connection:
        await connection.execute("CREATE TABLE t (n)")
        await connection.commit()

        def work(raw: sqlite3.Connection) -> tuple[int, int]:
            raw.execute("INSERT INTO t VALUES (1)")
            raw.commit()
            return threading.get_ident(), raw.execute("SELECT count(*) FROM t").fetchone()[0]

        thread, rows = await run_on_connection_thread(connection, work)
        assert rows == 1
        assert thread != threading.get_ident()
        # The same thread aiosqlite itself uses for this connection's statements.
        assert thread == connection._thread.ident
