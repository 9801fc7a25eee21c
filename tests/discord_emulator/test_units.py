"""Unit checks of the emulator's model: snowflakes, permissions, history bounds, validation."""

import time

import pytest

from discord_emulator import Emulator, EmulatorConfig, Perm, SnowflakeGenerator, snowflake_time
from discord_emulator.errors import ApiError
from discord_emulator.ratelimit import Bucket
from discord_emulator.validation import check_message_body


def test_snowflakes_are_time_ordered_and_unique():
    gen = SnowflakeGenerator()
    ids = [gen.next() for _ in range(10000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert abs(snowflake_time(ids[-1]).timestamp() - time.time()) < 5


def test_permissions_roles_overwrites_and_admin_bypass():
    emu = Emulator(EmulatorConfig(rate_limits=False))
    c = emu.seed_community("t")
    state = emu.state
    text = state.channels[c.text_channel_id]
    digest = state.channels[c.digest_channel_id]
    alice = c.member_ids[1]
    assert state.channel_permissions(text, alice) & Perm.SEND_MESSAGES
    assert not state.channel_permissions(digest, alice) & Perm.VIEW_CHANNEL
    assert state.channel_permissions(digest, c.moderator_id) & Perm.VIEW_CHANNEL
    assert state.channel_permissions(digest, c.bot_user_id) & Perm.VIEW_CHANNEL
    assert not state.channel_permissions(text, alice) & Perm.MANAGE_MESSAGES
    admin = emu.create_role(c.guild_id, "Admin", permissions=int(Perm.ADMINISTRATOR))
    state.guilds[c.guild_id].members[alice].roles.append(admin.id)
    assert state.channel_permissions(digest, alice) & Perm.VIEW_CHANNEL
    assert state.channel_permissions(text, alice) & Perm.MANAGE_MESSAGES
    # Member overwrite beats role overwrite; threads use the parent's overwrites.
    text.permission_overwrites = [
        {"id": str(c.bot_role_id), "type": 0, "allow": "0", "deny": str(int(Perm.SEND_MESSAGES))},
        {"id": str(c.bot_user_id), "type": 1, "allow": str(int(Perm.SEND_MESSAGES)), "deny": "0"},
    ]
    assert state.channel_permissions(text, c.bot_user_id) & Perm.SEND_MESSAGES
    starter = emu.send_message(text.id, alice, "x")
    thread = emu.create_thread(text.id, alice, "t", message_id=starter.id)
    text.permission_overwrites = [
        {"id": str(c.guild_id), "type": 0, "allow": "0", "deny": str(int(Perm.VIEW_CHANNEL))},
    ]
    assert not state.channel_permissions(thread, c.member_ids[2]) & Perm.VIEW_CHANNEL
    assert state.channel_permissions(thread, c.owner_id) & Perm.VIEW_CHANNEL


def test_history_bounds_are_exclusive():
    emu = Emulator(EmulatorConfig(rate_limits=False))
    c = emu.seed_community("t")
    ids = [emu.send_message(c.text_channel_id, c.member_ids[1], str(i)).id for i in range(10)]
    history = emu.state.history
    assert [m.id for m in history(c.text_channel_id, 3, None, None, None)] == ids[:-4:-1]
    assert [m.id for m in history(c.text_channel_id, 100, ids[5], None, None)] == ids[4::-1]
    assert [m.id for m in history(c.text_channel_id, 2, None, ids[5], None)] == [ids[7], ids[6]]
    assert [m.id for m in history(c.text_channel_id, 100, ids[8], ids[5], None)] == [ids[7], ids[6]]
    around = [m.id for m in history(c.text_channel_id, 3, None, None, ids[5])]
    assert sorted(around) == ids[4:7]


def test_validation_error_tree_shape():
    with pytest.raises(ApiError) as info:
        check_message_body(
            {"content": "x" * 2001, "embeds": [{"fields": [{"name": "", "value": "v"}]}]},
            max_content=2000, has_files=False)
    errors = info.value.errors
    assert info.value.code == 50035 and info.value.status == 400
    assert errors["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    field_errors = errors["embeds"]["0"]["fields"]["0"]["name"]["_errors"]
    assert field_errors[0]["code"] == "BASE_TYPE_REQUIRED"
    with pytest.raises(ApiError) as info:
        check_message_body({"content": ""}, max_content=2000, has_files=False)
    assert info.value.code == 50006
    check_message_body({"content": "x" * 2000, "embeds": [{"title": "t" * 256}] * 10},
                       max_content=2000, has_files=False)
    with pytest.raises(ApiError):
        check_message_body({"embeds": [{"title": "t"}] * 11}, max_content=2000, has_files=False)


def test_bucket_fixed_window():
    bucket = Bucket(limit=2, window=1.0)
    assert bucket.take(10.0) == 0 and bucket.take(10.1) == 0
    assert bucket.take(10.2) == pytest.approx(0.8)
    assert bucket.take(11.0) == 0 and bucket.remaining == 1


async def test_detached_sessions_expire(emulator, community, connect_client):
    emulator.config.resume_window = 0.0
    async with connect_client():
        session = await emulator.wait_for_session()
    await emulator.wait_for(lambda: session.connection is None)
    emulator.send_message(community.text_channel_id, community.member_ids[1], "x")
    assert session.id not in emulator.gateway.sessions


async def test_stop_closes_websockets_and_leaves_no_tasks():
    import asyncio

    import aiohttp

    emu = Emulator(EmulatorConfig(rate_limits=False))
    await emu.start()
    c = emu.seed_community("tok")
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(emu.gateway_url + "?v=10&encoding=json")
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "tok", "intents": 513, "properties": {}}})
        ready = await ws.receive_json()
        assert ready["t"] == "READY" and ready["s"] == 1
        assert ready["d"]["resume_gateway_url"] == emu.gateway_url
        guild_create = await ws.receive_json()
        assert guild_create["t"] == "GUILD_CREATE" and guild_create["s"] == 2
        await ws.send_json({"op": 1, "d": 2})
        assert (await ws.receive_json())["op"] == 11
        emu.send_message(c.text_channel_id, c.member_ids[1], "x")
        event = await ws.receive_json()
        assert (event["t"], event["s"]) == ("MESSAGE_CREATE", 3)
        await emu.stop()
        closing = await ws.receive()
        assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await ws.close()
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []


async def test_bad_token_identify_gets_4004_on_raw_socket():
    import aiohttp

    async with Emulator(EmulatorConfig(rate_limits=False)) as emu:
        emu.seed_community("tok")
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(emu.gateway_url)
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": "nope", "intents": 1}})
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.CLOSE and message.data == 4004
            await ws.close()


async def test_resume_replays_exactly_the_missed_events_on_raw_socket():
    import aiohttp

    async with Emulator(EmulatorConfig(rate_limits=False)) as emu:
        c = emu.seed_community("tok")
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(emu.gateway_url)
            await ws.receive_json()
            await ws.send_json({"op": 2, "d": {"token": "tok", "intents": 1 | 512 | 32768}})
            ready = await ws.receive_json()
            session_id = ready["d"]["session_id"]
            await ws.receive_json()  # GUILD_CREATE
            emu.send_message(c.text_channel_id, c.member_ids[1], "seen")
            seen = await ws.receive_json()
            await ws.close()
            await emu.wait_for(lambda: not emu.connected_sessions())
            for text in ("missed 1", "missed 2"):
                emu.send_message(c.text_channel_id, c.member_ids[1], text)

            ws = await session.ws_connect(ready["d"]["resume_gateway_url"])
            await ws.receive_json()
            await ws.send_json({"op": 6, "d": {"token": "tok", "session_id": session_id,
                                               "seq": seen["s"]}})
            replayed = [await ws.receive_json() for _ in range(3)]
            assert [(e["t"], e["s"]) for e in replayed] == [
                ("MESSAGE_CREATE", seen["s"] + 1), ("MESSAGE_CREATE", seen["s"] + 2),
                ("RESUMED", seen["s"] + 3)]
            assert [e["d"]["content"] for e in replayed[:2]] == ["missed 1", "missed 2"]
            await ws.close()

            ws = await session.ws_connect(emu.gateway_url)
            await ws.receive_json()
            await ws.send_json({"op": 6, "d": {"token": "tok", "session_id": "bogus", "seq": 1}})
            invalid = await ws.receive_json()
            assert (invalid["op"], invalid["d"]) == (9, False)
            await ws.close()
