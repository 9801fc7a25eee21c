"""`serve --state FILE`: the world survives a restart, so the pasted .env keeps working."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import discord
import pytest

from bot.cli import application_id_from_token
from discord_emulator import Emulator, EmulatorConfig
from discord_emulator.persistence import Saver, StateFileError, read
from tests.emulator_fixtures import FIXED_TOKEN, point_discord_at, run_client

ROOT = Path(__file__).resolve().parents[2]
ENV_KEYS = 9  # the eight .env lines and APPLICATION_ID


async def _started(path: Path | None = None) -> Emulator:
    emu = Emulator(EmulatorConfig(rate_limits=False))
    if path is not None:
        read(path, emu)
    await emu.start()
    if emu.community is None:
        emu.seed_community(FIXED_TOKEN)
    return emu


async def test_a_restarted_emulator_serves_the_same_world_to_a_client(tmp_path):
    path = tmp_path / "world.json"
    first = await _started()
    community = first.community
    alice, bob = community.member_ids[1], community.member_ids[2]
    post, starter = first.create_forum_post(
        community.forum_channel_id, alice, "Kept", "hello", applied_tags=[community.tag_ids["idea"]]
    )
    reply = first.send_message(post.id, bob, "a reply")
    first.add_reaction(reply.id, alice, "👍")
    first.edit_message(reply.id, "a reply, edited")
    gone = first.send_message(post.id, bob, "deleted later")
    first.delete_message(gone.id)
    closed, _ = first.create_forum_post(community.forum_channel_id, bob, "Closed", "bye")
    first.archive_thread(closed.id, locked=True)
    newcomer = first.create_member(community.guild_id, username="dave")
    with point_discord_at(first.api_base_url, first.gateway_url):
        async with run_client(first) as client:
            hook = await client.get_channel(community.forum_channel_id).create_webhook(name="web")
            sent = await hook.send("from the site", username="Reader", thread=post, wait=True)
    Saver(first, path, None).save_now()
    await first.stop()

    second = await _started(path)
    try:
        assert second.community == community
        with point_discord_at(second.api_base_url, second.gateway_url):
            async with run_client(second, token=FIXED_TOKEN) as client:
                assert client.user.id == community.bot_user_id
                assert client.application_id == community.application_id
                guild = client.get_guild(community.guild_id)
                assert guild.get_member(newcomer.user_id).name == "dave"
                assert guild.get_role(community.moderator_role_id).name == "Moderator"
                thread = guild.get_thread(post.id)
                assert thread.applied_tags[0].id == community.tag_ids["idea"]
                history = [m async for m in thread.history(oldest_first=True)]
                assert [(m.id, m.content) for m in history] == [
                    (starter.id, "hello"),
                    (reply.id, "a reply, edited"),
                    (sent.id, "from the site"),
                ]
                assert history[1].edited_at is not None
                assert [(str(r.emoji), r.count) for r in history[1].reactions] == [("👍", 1)]
                assert history[2].webhook_id == hook.id and history[2].author.name == "Reader"
                assert [
                    w.id for w in await guild.get_channel(community.forum_channel_id).webhooks()
                ] == [hook.id]
                archived = await client.fetch_channel(closed.id)
                assert (archived.archived, archived.locked) == (True, True)
                with pytest.raises(discord.NotFound):
                    await thread.fetch_message(gone.id)
                # New ids come after the old ones, as Discord's do.
                later = await thread.send("after the restart")
                assert later.id > sent.id
    finally:
        await second.stop()


def test_a_damaged_file_is_refused_with_where_it_is_damaged(tmp_path):
    path = tmp_path / "world.json"
    path.write_text(
        json.dumps(
            {
                "format": "threadbridge-discord-emulator",
                "version": 1,
                "users": [{"id": "x", "username": "u"}],
            }
        )
    )
    with pytest.raises(StateFileError, match=r"users\[0\]\.id: expected an integer"):
        read(path, Emulator())
    path.write_text('{"something": "else"}')
    with pytest.raises(StateFileError, match="not a discord_emulator state file"):
        read(path, Emulator())


async def _serve(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "discord_emulator",
        "serve",
        *args,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _env_lines(proc: asyncio.subprocess.Process) -> dict[str, str]:
    values = {}
    while len(values) < ENV_KEYS:
        line = await asyncio.wait_for(proc.stdout.readline(), 20)
        assert line, (await proc.stderr.read()).decode()
        key, _, value = line.decode().strip().partition("=")
        values[key] = value
    return values


async def _stop(proc: asyncio.subprocess.Process, sig: int) -> int:
    if proc.returncode is None:
        proc.send_signal(sig)
    return await asyncio.wait_for(proc.wait(), 10)


async def test_serve_with_a_state_file_keeps_env_threads_and_messages_across_restarts(tmp_path):
    path = tmp_path / "world.json"
    proc = await _serve("--state", str(path))
    try:
        env = await _env_lines(proc)
        # invite-url finds the application in the token, as with a real bot token.
        assert application_id_from_token(env["DISCORD_TOKEN"]) == int(env["APPLICATION_ID"])
        with point_discord_at(env["DISCORD_API_BASE_URL"], env["DISCORD_GATEWAY_URL"]):
            async with run_client(None, token=env["DISCORD_TOKEN"]) as client:
                assert client.application_id == int(env["APPLICATION_ID"])
                forum = client.get_channel(int(env["MIRROR_CHANNEL_ID"]))
                post = await forum.create_thread(name="Mirrored", content="a post")
                message = await post.thread.send("a comment")
        await asyncio.sleep(1.5)  # a kill loses at most the last second
        assert await _stop(proc, signal.SIGKILL) == -signal.SIGKILL
        assert not list(tmp_path.glob(".world.json.*"))  # no temporary file left behind

        proc = await _serve("--state", str(path))
        assert await _env_lines(proc) == env  # same URLs (the saved port), token and ids
        with point_discord_at(env["DISCORD_API_BASE_URL"], env["DISCORD_GATEWAY_URL"]):
            async with run_client(None, token=env["DISCORD_TOKEN"]) as client:
                thread = client.get_guild(int(env["GUILD_ID"])).get_thread(post.thread.id)
                assert thread.name == "Mirrored"
                kept = await thread.fetch_message(message.id)
                assert kept.content == "a comment"
                await thread.send("said before a clean stop")
        assert await _stop(proc, signal.SIGTERM) == 0

        proc = await _serve("--state", str(path))
        assert await _env_lines(proc) == env
        with point_discord_at(env["DISCORD_API_BASE_URL"], env["DISCORD_GATEWAY_URL"]):
            async with run_client(None, token=env["DISCORD_TOKEN"]) as client:
                thread = await client.fetch_channel(post.thread.id)
                contents = [m.content async for m in thread.history(oldest_first=True)]
                assert contents == ["a post", "a comment", "said before a clean stop"]
        assert await _stop(proc, signal.SIGTERM) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_serve_refuses_a_corrupt_state_file_in_one_line(tmp_path):
    path = tmp_path / "world.json"
    path.write_text('{"format": "threadbridge-discord-emulator", "version": 1, "users": [')
    proc = await _serve("--state", str(path))
    stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 1
    assert stdout == b""
    lines = stderr.decode().splitlines()
    assert len(lines) == 1, stderr.decode()
    assert lines[0].startswith(f"discord_emulator: state file {path}: not valid JSON")


def test_a_token_given_at_restart_replaces_the_saved_one(tmp_path):
    path = tmp_path / "world.json"
    first = Emulator()
    community = first.seed_community("old-token")
    Saver(first, path, 8765).save_now()
    second = Emulator()
    assert read(path, second) == 8765
    second.replace_token("new-token")
    assert set(second.state.tokens) == {"new-token"}
    assert second.state.tokens["new-token"].id == community.application_id
    assert second.community.token == second.bot.token == "new-token"


async def test_a_running_client_carries_on_across_an_emulator_restart(tmp_path):
    path = tmp_path / "world.json"
    first = await _started()
    community = first.community
    port = int(first.base_url.rsplit(":", 1)[1])
    saver = Saver(first, path, port)
    saver.start()
    with point_discord_at(first.api_base_url, first.gateway_url):
        async with run_client(first) as client:
            forum = client.get_channel(community.forum_channel_id)
            post = await forum.create_thread(name="Before the restart", content="kept")
            await saver.stop()
            await first.stop()
            second = Emulator(EmulatorConfig(rate_limits=False))
            read(path, second)
            await second.start(port=port)
            try:
                # discord.py resumes, is told the session is unknown, and identifies again.
                await second.wait_for_event("READY", timeout=30)
                await client.wait_until_ready()
                thread = client.get_guild(community.guild_id).get_thread(post.thread.id)
                assert thread is not None and thread.name == "Before the restart"
                sent = await thread.send("after the restart")
                assert second.message(sent.id).content == "after the restart"
            finally:
                await second.stop()
