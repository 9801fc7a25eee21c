"""Gateway behaviour with a bare client: resume with replay, invalid session, 4004, zlib."""

import asyncio

import discord
import pytest

from tests.emulator_fixtures import run_client


class Recorder(discord.Client):
    def __init__(self, **options):
        options.setdefault("guild_ready_timeout", 0.05)
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(intents=intents, **options)
        self.readies = 0
        self.resumes = 0
        self.contents = []

    async def on_ready(self):
        self.readies += 1

    async def before_identify_hook(self, shard_id, *, initial=False):
        # discord.py sleeps 5 s before every re-IDENTIFY; not worth waiting for in tests.
        return None

    async def on_resumed(self):
        self.resumes += 1

    async def on_message(self, message):
        self.contents.append(message.content)


async def _send_while_disconnected(emulator, community, session, texts):
    await emulator.wait_for(lambda: session.connection is None)
    for text in texts:
        emulator.send_message(community.text_channel_id, community.member_ids[1], text)


async def _assert_resumed_with(emulator, client, texts):
    await emulator.wait_for(lambda: client.resumes == 1 and all(
        t in client.contents for t in texts))
    assert client.readies == 1
    assert len(emulator.journal.events_named("RESUMED")) == 1
    resumes = [op for op in emulator.journal.gateway_ops if op[1] == 6]
    assert len(resumes) == 1


async def test_op7_reconnect_resumes_and_replays(emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        await emulator.wait_for(lambda: client.readies == 1)
        session = await emulator.wait_for_session()
        emulator.send_message(community.text_channel_id, community.member_ids[1], "before")
        await emulator.wait_for(lambda: "before" in client.contents)
        assert emulator.gateway_reconnect() == 1
        await _send_while_disconnected(emulator, community, session, ["gap1", "gap2"])
        await _assert_resumed_with(emulator, client, ["gap1", "gap2"])
        assert client.contents == ["before", "gap1", "gap2"]


async def test_close_4000_resumes_and_replays(emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        session = await emulator.wait_for_session()
        assert await emulator.gateway_close(4000) == 1
        await _send_while_disconnected(emulator, community, session, ["while closed"])
        await _assert_resumed_with(emulator, client, ["while closed"])


@pytest.mark.emulator_config(heartbeat_interval_ms=200)
async def test_silence_leads_to_resume(emulator, community, connect_client):
    async with connect_client(Recorder(heartbeat_timeout=1.0)) as client:
        session = await emulator.wait_for_session()
        old = session.connection
        emulator.gateway_silence(3.0)
        emulator.send_message(community.text_channel_id, community.member_ids[1], "in silence")
        await emulator.wait_for(lambda: session.connection is not old, timeout=5)
        await _assert_resumed_with(emulator, client, ["in silence"])
        assert client.contents.count("in silence") == 1


@pytest.mark.emulator_config(heartbeat_interval_ms=100)
async def test_withheld_acks_with_traffic_do_not_reconnect(emulator, community, connect_client):
    async with connect_client(Recorder(heartbeat_timeout=5.0)) as client:
        session = await emulator.wait_for_session()
        emulator.gateway_withhold_acks(3)
        for i in range(5):
            emulator.send_message(community.text_channel_id, community.member_ids[1], f"t{i}")
            await asyncio.sleep(0.1)
        await emulator.wait_for(lambda: "t4" in client.contents)
        assert session.resumes == 0 and client.resumes == 0


async def test_invalid_session_resumable_resumes(emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        session = await emulator.wait_for_session()
        emulator.gateway_invalidate(resumable=True)
        await _send_while_disconnected(emulator, community, session, ["after op9 true"])
        await _assert_resumed_with(emulator, client, ["after op9 true"])


async def test_invalid_session_not_resumable_reidentifies(emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        first = await emulator.wait_for_session()
        emulator.gateway_invalidate(resumable=False)
        await emulator.wait_for(lambda: client.readies == 2, timeout=10)
        assert first.id not in emulator.gateway.sessions
        identifies = [op for op in emulator.journal.gateway_ops if op[1] == 2]
        assert len(identifies) == 2
        emulator.send_message(community.text_channel_id, community.member_ids[1], "new session")
        await emulator.wait_for(lambda: "new session" in client.contents)


async def test_bad_token_rest_login_fails(emulator):
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        async with run_client(emulator, client, token="wrong"):
            pass


async def test_bad_token_at_identify_closes_4004(emulator, community):
    class Revoking(Recorder):
        async def setup_hook(self):
            emulator.revoke_token(community.token)

    client = Revoking()
    with pytest.raises(discord.ConnectionClosed) as info:
        async with run_client(emulator, client):
            pass
    assert info.value.code == 4004


async def test_reset_token_closes_live_sessions_with_4004(emulator, community):
    client = Recorder()
    running = asyncio.create_task(client.start(community.token))
    try:
        session = await emulator.wait_for_session()
        assert await emulator.reset_token(community.token) == 1
        with pytest.raises(discord.ConnectionClosed) as info:
            await asyncio.wait_for(running, 10)
    finally:
        await client.close()
    assert info.value.code == 4004
    assert session.id not in emulator.gateway.sessions
    assert await emulator.reset_token(community.token) == 0
    with pytest.raises(discord.LoginFailure):
        async with run_client(emulator, Recorder()):
            pass


@pytest.mark.emulator_config(honour_zlib_stream=True)
async def test_zlib_stream_compression(emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        await emulator.wait_for_session()
        conn = next(iter(emulator.gateway.connections))
        assert conn.compressed
        for i in range(20):
            emulator.send_message(community.text_channel_id, community.member_ids[1], f"z{i}")
        await emulator.wait_for(lambda: "z19" in client.contents)
        assert client.contents == [f"z{i}" for i in range(20)]


async def test_plain_json_when_zlib_not_honoured(emulator, community, connect_client):
    async with connect_client(Recorder()):
        await emulator.wait_for_session()
        assert not next(iter(emulator.gateway.connections)).compressed


async def test_member_chunking_and_member_events(emulator, community, connect_client):
    intents = discord.Intents.default()
    intents.members = True
    joined = asyncio.Queue()

    class Client(discord.Client):
        async def on_member_join(self, member):
            await joined.put(member)

    async with connect_client(Client(intents=intents, guild_ready_timeout=0.05)) as client:
        guild = client.get_guild(community.guild_id)
        members = await guild.chunk()
        assert {m.id for m in members} >= set(community.member_ids)
        assert any(op[1] == 8 for op in emulator.journal.gateway_ops)
        new = emulator.create_member(community.guild_id, username="newcomer")
        member = await asyncio.wait_for(joined.get(), 5)
        assert member.id == new.user_id and member.name == "newcomer"


async def test_events_only_for_visible_channels_and_joined_guilds(
        emulator, community, connect_client):
    async with connect_client(Recorder()) as client:
        session = await emulator.wait_for_session()
        emulator.modify_channel(community.digest_channel_id, permission_overwrites=[
            {"id": community.guild_id, "type": 0,
             "deny": discord.Permissions(view_channel=True).value},
        ])
        seq = session.seq
        emulator.send_message(community.digest_channel_id, community.moderator_id, "hidden")
        assert session.seq == seq
        other = emulator.create_guild("Elsewhere")
        channel = emulator.create_channel(other.id, "general")
        member = emulator.create_member(other.id, username="stranger")
        emulator.send_message(channel.id, member.user_id, "not for the bot")
        assert session.seq == seq
        emulator.send_message(community.text_channel_id, community.member_ids[1], "visible")
        await emulator.wait_for(lambda: "visible" in client.contents)
        assert client.contents == ["visible"]


async def test_stop_with_a_connected_client_is_quick(emulator, community, connect_client):
    import time

    async with connect_client(Recorder()):
        await emulator.wait_for_session()
        start = time.monotonic()
        await emulator.stop()
        assert time.monotonic() - start < 3
        assert not emulator.gateway.connections


async def test_privileged_intent_not_enabled_in_portal_closes_4014(emulator, connect_client):
    emulator.bot.application.flags = 0
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with connect_client():
            pass


async def test_application_reports_its_privileged_intent_flags(emulator, connect_client):
    async with connect_client() as client:
        assert client.application.flags.gateway_message_content_limited
        assert client.application.flags.gateway_guild_members_limited
