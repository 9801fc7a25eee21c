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
    UnretriedServerError,
    UnsupportedLibrary,
    check_library_versions,
    give_back_message_create,
    pace_requests,
    run_on_connection_thread,
    single_attempt,
    single_attempt_trace,
    take_over_message_create,
)


def test_the_installed_libraries_are_the_ones_written_for():
    # Raises UnsupportedLibrary, naming the library, when an upgrade leaves the known versions.
    check_library_versions()
    for name in LIBRARY_VERSIONS:
        assert version(name)  # each checked library is really installed under that name


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


async def test_a_5xx_to_a_single_attempt_is_raised_not_retried(
    emulator, community, connect_client
):
    # HTTPClient.request's own loop would repeat this 502 (it acted: a second message).
    route = rf"^/channels/{community.text_channel_id}/messages$"
    async with connect_client(http_trace=single_attempt_trace()) as client:
        channel = client.get_channel(community.text_channel_id)
        emulator.inject("POST", route, status=502, after=True)
        with single_attempt(), pytest.raises(UnretriedServerError) as raised:
            await channel.send("made once")
        assert raised.value.status == 502 and raised.value.text == "502: Injected fault"
        assert [m.content for m in emulator.messages(channel.id)] == ["made once"]

        # Outside single_attempt(), discord.py's retries are untouched.
        emulator.inject("POST", route, status=502)
        await channel.send("retried by discord.py")
        assert emulator.messages(channel.id)[-1].content == "retried by discord.py"
        # The journal has an acted request's answer after its effect: one attempt, then two.
        posts = emulator.journal.requests_matching("POST", f"/{channel.id}/messages")
        assert [r.status for r in posts] == [200, 502, 502, 200]


async def test_a_5xx_to_a_webhook_single_attempt_is_raised_not_retried(
    emulator, community, connect_client
):
    # The webhook adapter has its own loop, which repeats any 5xx; a webhook bound to the
    # client sends through the client's session, where the trace is.
    async with connect_client(http_trace=single_attempt_trace()) as client:
        channel = client.get_channel(community.text_channel_id)
        webhook = await channel.create_webhook(name="once")
        route = rf"^/webhooks/{webhook.id}/[^/]+$"
        emulator.inject("POST", route, status=503, after=True)
        with single_attempt(), pytest.raises(UnretriedServerError) as raised:
            await webhook.send("made once", wait=True)
        assert raised.value.status == 503
        assert [m.content for m in emulator.webhook_messages(webhook.id)] == ["made once"]

        emulator.inject("POST", route, status=503)
        await webhook.send("retried by discord.py", wait=True)
        contents = [m.content for m in emulator.webhook_messages(webhook.id)]
        assert contents == ["made once", "retried by discord.py"]
        posts = emulator.journal.requests_matching("POST", f"/webhooks/{webhook.id}/")
        assert [r.status for r in posts] == [200, 503, 503, 200]


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


async def test_history_payloads_reads_what_history_reads_with_the_same_requests(
    emulator, community, connect_client
):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        author = community.member_ids[0]
        ids = [emulator.send_message(channel.id, author, f"m{n}").id for n in range(250)]

        async def both(history, payloads):
            """The ids each reads, and the queries each sends."""
            read = []
            for source in (history, payloads):
                start = len(emulator.journal.requests)
                read.append([m.id if isinstance(m, discord.Message) else int(m["id"])
                             async for m in source])
                read.append([r.query for r in emulator.journal.requests[start:]])
            return read

        forwards, forwards_asked, raw, raw_asked = await both(
            channel.history(limit=None, after=discord.Object(ids[10]), oldest_first=True),
            internals.history_payloads(channel, after=ids[10]),
        )
        assert raw == forwards == ids[11:]
        assert raw_asked == forwards_asked and len(raw_asked) == 3  # 100, 100, 39: the last
        everything, _, raw_everything, _ = await both(
            channel.history(limit=None, oldest_first=True),
            internals.history_payloads(channel),
        )
        assert raw_everything == everything == ids
        backwards, backwards_asked, raw_back, raw_back_asked = await both(
            channel.history(limit=150, before=discord.Object(ids[200])),
            internals.history_payloads(channel, before=ids[200], limit=150),
        )
        assert raw_back == backwards == ids[50:200][::-1]
        assert raw_back_asked == backwards_asked
