"""What an operator sees when Discord cannot be reached or refuses the bot: one line, no
traceback, and an exit status that tells a passing trouble (1) from a setting to fix (2)."""

import asyncio
import json
import re
import signal
import socket
import ssl
from types import SimpleNamespace
from urllib.parse import urlsplit

import aiohttp
import discord
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.startup import explain, reason, token_origin, waits
from tests.test_cli import TOKEN, clean_environment, emulator_env, run_cli, start_run
from tests.web.test_serve_command import free_port

ONE_SHOT_COMMANDS = [
    ["check-config", "--online"],
    ["sync"],
    ["register-commands"],
    ["sync-commands"],
]


def settings_for(api_base_url, gateway_url="ws://127.0.0.1:9/gateway"):
    return Settings(
        _env_file=None,
        discord_token=TOKEN,
        guild_id=1,
        mirror_channel_id=2,
        discord_api_base_url=api_base_url,
        discord_gateway_url=gateway_url,
    )


def pointed_at(tmp_path, api_base_url, gateway_url):
    return {
        **clean_environment(),
        "DISCORD_TOKEN": TOKEN,
        "GUILD_ID": "1",
        "MIRROR_CHANNEL_ID": "2",
        "DISCORD_API_BASE_URL": api_base_url,
        "DISCORD_GATEWAY_URL": gateway_url,
        "DATABASE_PATH": str(tmp_path / "threadbridge.db"),
        "WEB_LISTEN": "",
    }


DATABASE_SAID = re.compile(r"threadbridge: database .* (created|upgraded) ")


def one_line(stderr):
    """The operator's line about Discord (the database's own line on a first use aside), and
    nothing like a traceback anywhere."""
    assert "Traceback" not in stderr
    lines = [
        line
        for line in stderr.splitlines()
        if line.startswith("threadbridge: ") and not DATABASE_SAID.match(line)
    ]
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("command", ONE_SHOT_COMMANDS, ids=" ".join)
async def test_unreachable_api_is_one_line_naming_the_url_and_setting(tmp_path, command):
    port = free_port()  # nothing listens there
    base = f"http://127.0.0.1:{port}/api/v10"
    env = pointed_at(tmp_path, base, f"ws://127.0.0.1:{port}/gateway")
    status, _, stderr = await run_cli(*command, env=env, cwd=tmp_path)
    assert status == 1
    assert one_line(stderr) == (
        f"threadbridge: cannot reach Discord's API at {base} (connection refused): "
        "check DISCORD_API_BASE_URL and that this machine can reach it"
    )


@pytest.mark.parametrize("command", ONE_SHOT_COMMANDS[:3], ids=" ".join)
async def test_api_base_that_is_not_discord_is_named(tmp_path, command):
    """A server answering 404 (plain text, as any web server would) is not Discord's API."""

    async def not_here(request):
        return web.Response(status=404, text="nothing here")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", not_here)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        base = f"http://127.0.0.1:{port}/v10"
        env = pointed_at(tmp_path, base, f"ws://127.0.0.1:{port}/gateway")
        status, _, stderr = await run_cli(*command, env=env, cwd=tmp_path)
    finally:
        await runner.cleanup()
    assert status == 1
    assert one_line(stderr) == (
        f"threadbridge: DISCORD_API_BASE_URL={base} does not look like Discord's API "
        "(it answered 404 Not Found): it should be https://discord.com/api/v10"
    )


@pytest.mark.parametrize("command", ONE_SHOT_COMMANDS[:3], ids=" ".join)
async def test_refused_token_in_the_environment_exits_2(emulator, community, tmp_path, command):
    env = {**emulator_env(emulator, community, tmp_path / "t.db"), "DISCORD_TOKEN": TOKEN}
    status, _, stderr = await run_cli(*command, env=env, cwd=tmp_path)
    assert status == 2
    line = one_line(stderr)
    assert line.startswith(
        "threadbridge: Discord refused the bot's token (DISCORD_TOKEN, set in the environment)"
    )
    assert "Reset Token" in line
    assert TOKEN not in stderr
    assert "Guilds intent" not in stderr  # discord.py's warning, meaningless without a gateway


async def test_refused_token_in_dotenv_names_the_file(emulator, community, tmp_path):
    env = emulator_env(emulator, community, tmp_path / "t.db")
    del env["DISCORD_TOKEN"]
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={TOKEN}\n")
    status, _, stderr = await run_cli("check-config", "--online", env=env, cwd=tmp_path)
    assert status == 2
    assert f"(DISCORD_TOKEN in {tmp_path / '.env'})" in one_line(stderr)


async def log_lines(process, until, timeout=30):
    """Read `run`'s JSON log lines until one satisfies `until`; return all read so far."""
    lines = []
    while True:
        raw = await asyncio.wait_for(process.stderr.readline(), timeout)
        assert raw, "run ended early:\n" + "\n".join(map(str, lines))
        text = raw.decode()
        assert "Traceback" not in text
        lines.append(json.loads(text))
        if until(lines[-1]):
            return lines


def attempt(number):
    return lambda line: (
        line["event"] == "cannot reach Discord, trying again" and (line["attempt"] == number)
    )


async def finish(process, timeout=30):
    _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    return stderr.decode()


async def test_run_waits_for_discord_at_start_then_connects(emulator, community, tmp_path):
    port = urlsplit(emulator.api_base_url).port
    env = emulator_env(emulator, community, tmp_path / "run.db")
    await emulator.stop()  # Discord is away when the bot starts
    process = await start_run(env, tmp_path)
    try:
        lines = await log_lines(process, attempt(2))
        attempts = [line for line in lines if line["event"].startswith("cannot reach")]
        assert [(a["attempt"], a["wait_seconds"], a["level"]) for a in attempts] == [
            (1, 1, "warning"),
            (2, 2, "warning"),
        ]
        assert attempts[0]["reason"] == "connection refused"
        assert attempts[0]["setting"] == "DISCORD_API_BASE_URL"
        assert attempts[0]["url"] == emulator.api_base_url
        await emulator.start(port=port)  # Discord is back
        await emulator.wait_for_event("GUILD_CREATE", timeout=30)
    finally:
        process.send_signal(signal.SIGTERM)
        stderr = await finish(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert community.token not in stderr


async def test_run_stops_at_once_when_told_while_waiting(tmp_path):
    port = free_port()
    env = pointed_at(tmp_path, f"http://127.0.0.1:{port}/api", f"ws://127.0.0.1:{port}/gateway")
    process = await start_run(env, tmp_path)
    try:
        await log_lines(process, attempt(1))
    finally:
        process.send_signal(signal.SIGTERM)
        stderr = await finish(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert [json.loads(line)["event"] for line in stderr.splitlines()] == ["stopped"]


async def test_run_names_the_gateway_when_only_the_gateway_is_away(emulator, community, tmp_path):
    gateway = f"ws://127.0.0.1:{free_port()}/gateway"
    env = {**emulator_env(emulator, community, tmp_path / "run.db"), "DISCORD_GATEWAY_URL": gateway}
    process = await start_run(env, tmp_path)
    try:
        lines = await log_lines(process, attempt(1))
    finally:
        process.send_signal(signal.SIGTERM)
        stderr = await finish(process)
    assert (lines[-1]["url"], lines[-1]["setting"]) == (gateway, "DISCORD_GATEWAY_URL")
    assert process.returncode == 0, stderr


async def test_run_refuses_a_gateway_url_that_is_no_gateway(emulator, community, tmp_path):
    gateway = emulator.api_base_url.replace("http://", "ws://") + "/not-a-gateway"
    env = {**emulator_env(emulator, community, tmp_path / "run.db"), "DISCORD_GATEWAY_URL": gateway}
    process = await start_run(env, tmp_path)
    stderr = await finish(process)
    assert process.returncode == 1, stderr
    assert one_line(stderr).startswith(
        f"threadbridge: DISCORD_GATEWAY_URL={gateway} does not look like Discord's gateway "
        "(it answered HTTP 4"
    )


async def run_ended_by_discord(emulator, community, tmp_path, end):
    """`run`, connected, then ended from Discord's side by `end()` (which reaches one
    session): its exit status and standard error."""
    process = await start_run(emulator_env(emulator, community, tmp_path / "run.db"), tmp_path)
    try:
        await emulator.wait_for_event("GUILD_CREATE", timeout=30)
        assert await end() == 1
        stderr = await finish(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    return process.returncode, stderr


async def test_run_ends_with_one_line_when_the_token_is_reset(emulator, community, tmp_path):
    status, stderr = await run_ended_by_discord(
        emulator, community, tmp_path, lambda: emulator.reset_token(community.token)
    )
    assert status == 2, stderr
    assert one_line(stderr).startswith(
        "threadbridge: Discord refused the bot's token (DISCORD_TOKEN, set in the environment)"
    )


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (4011, "sharding required"),
        (4014, "enable it under Bot > Privileged Gateway Intents"),
    ],
)
async def test_run_ends_with_one_line_on_a_fatal_gateway_close(
    emulator, community, tmp_path, code, says
):
    status, stderr = await run_ended_by_discord(
        emulator, community, tmp_path, lambda: emulator.gateway_close(code)
    )
    assert status == 2, stderr
    assert says in one_line(stderr)


# --- the messages themselves -------------------------------------------------------------------


def closed(code):
    return discord.ConnectionClosed(SimpleNamespace(close_code=code), shard_id=None)


@pytest.mark.parametrize(
    ("code", "says"),
    [
        (4004, "Discord refused the bot's token (DISCORD_TOKEN, set in the environment)"),
        (4010, "invalid shard"),
        (4011, "sharding required"),
        (4012, "invalid API version"),
        (4013, "invalid intents): upgrade threadbridge"),
        (4999, "Discord closed the gateway connection (close code 4999)"),
    ],
)
def test_fatal_gateway_closes_each_say_what_to_fix(code, says):
    settings = settings_for("https://discord.com/api/v10")
    message = explain(closed(code), settings, origin="DISCORD_TOKEN, set in the environment")
    assert says in message
    assert "\n" not in message


def test_the_disallowed_intent_message_is_kept():
    message = explain(discord.PrivilegedIntentsRequired(None), settings_for("http://x"))
    assert message == (
        "Discord refused the Message Content intent: enable it under Bot > Privileged "
        "Gateway Intents in the developer portal"
    )


def test_token_origin_prefers_the_environment(tmp_path):
    assert token_origin({"discord_token": "x"}, tmp_path) == "DISCORD_TOKEN, set in the environment"
    assert token_origin({"PATH": "/bin"}, tmp_path) == f"DISCORD_TOKEN in {tmp_path / '.env'}"


def connector_error(os_error, kind=aiohttp.ClientConnectorError):
    key = SimpleNamespace(host="discord.com", port=443, ssl=True)
    return kind(key, os_error)


@pytest.mark.parametrize(
    ("error", "phrase"),
    [
        (connector_error(ConnectionRefusedError(111, "refused")), "connection refused"),
        (
            connector_error(socket.gaierror(-2, "unknown"), aiohttp.ClientConnectorDNSError),
            "its host name does not resolve",
        ),
        (connector_error(socket.gaierror(-2, "unknown")), "its host name does not resolve"),
        (
            connector_error(
                ssl.SSLCertVerificationError("bad"), aiohttp.ClientConnectorCertificateError
            ),
            "its TLS certificate was not accepted",
        ),
        (connector_error(ssl.SSLError("bad"), aiohttp.ClientConnectorSSLError), "TLS handshake"),
        (aiohttp.ConnectionTimeoutError(), "no answer in time"),
        (TimeoutError(), "no answer in time"),
        (aiohttp.ServerDisconnectedError(), "the server closed the connection"),
    ],
)
def test_connection_failures_in_a_short_phrase(error, phrase):
    assert phrase in reason(error)
    message = explain(error, settings_for("https://discord.example/api/v10"))
    assert message == (
        f"cannot reach Discord's API at https://discord.example/api/v10 ({reason(error)}): "
        "check DISCORD_API_BASE_URL and that this machine can reach it"
    )


def test_waits_grow_to_a_minute():
    gen = waits()
    assert [next(gen) for _ in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_other_failures_are_not_explained():
    assert explain(ValueError("bug"), settings_for("http://x")) is None
