"""Rate limits and injected REST faults, as a bare discord.py client experiences them."""

import time

import aiohttp
import discord
import pytest


async def test_injected_429_is_waited_out_and_retried(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        fault = emulator.inject("POST", r"^/channels/\d+/messages$", status=429, retry_after=0.6)
        start = time.monotonic()
        message = await channel.send("after the wait")
        elapsed = time.monotonic() - start
        assert elapsed >= 0.6
        assert fault.hits == 1 and emulator.journal.rate_limited == 1
        assert emulator.message(message.id).content == "after the wait"
        statuses = [r.status for r in emulator.journal.requests_matching("POST", "/messages")]
        assert statuses == [429, 200]


async def test_injected_500_is_retried(emulator, community, connect_client):
    async with connect_client() as client:
        emulator.inject("POST", r"/messages$", status=500)
        message = await client.get_channel(community.text_channel_id).send("eventually")
        assert emulator.message(message.id).content == "eventually"
        statuses = [r.status for r in emulator.journal.requests_matching("POST", "/messages")]
        assert statuses == [500, 200]


async def test_injected_403_and_404_surface_as_exceptions(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        emulator.inject("POST", r"/messages$", status=403,
                        body={"message": "Missing Permissions", "code": 50013})
        with pytest.raises(discord.Forbidden) as info:
            await channel.send("x")
        assert info.value.code == 50013
        emulator.inject("GET", r"/messages/\d+$", status=404, times=2)
        msg = await channel.send("exists")
        with pytest.raises(discord.NotFound):
            await channel.fetch_message(msg.id)
        with pytest.raises(discord.NotFound):
            await channel.fetch_message(msg.id)
        assert (await channel.fetch_message(msg.id)).content == "exists"


async def test_injected_delay_and_dropped_connection(emulator, community):
    headers = {"Authorization": f"Bot {community.token}"}
    url = f"{emulator.api_base_url}/users/@me"
    emulator.inject("GET", r"^/users/@me$", delay=0.3)
    async with aiohttp.ClientSession(headers=headers) as session:
        start = time.monotonic()
        async with session.get(url) as response:
            assert response.status == 200
        assert time.monotonic() - start >= 0.3
    # aiohttp silently retries an idempotent GET once on a dropped connection, so use POST.
    post_url = f"{emulator.api_base_url}/channels/{community.text_channel_id}/messages"
    emulator.inject("POST", r"/messages$", drop=True)
    async with aiohttp.ClientSession(headers=headers) as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(post_url, json={"content": "lost"}) as response:
                await response.read()
        async with session.post(post_url, json={"content": "kept"}) as response:
            assert response.status == 200
    assert [m.content for m in emulator.messages(community.text_channel_id)] == ["kept"]


@pytest.mark.emulator_config(rate_limits=True, message_limit=2, message_window=0.5)
async def test_real_message_bucket_headers_and_429(emulator, community):
    url = f"{emulator.api_base_url}/channels/{community.text_channel_id}/messages"
    headers = {"Authorization": f"Bot {community.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        responses = []
        for i in range(3):
            async with session.post(url, json={"content": f"m{i}"}) as response:
                responses.append((response.status, dict(response.headers), await response.json()))
    (s1, h1, _), (s2, h2, _), (s3, h3, b3) = responses
    assert (s1, s2, s3) == (200, 200, 429)
    assert h1["Content-Type"] == "application/json"
    assert h1["X-RateLimit-Limit"] == "2" and h1["X-RateLimit-Remaining"] == "1"
    assert h2["X-RateLimit-Remaining"] == "0"
    assert h1["X-RateLimit-Bucket"] == h2["X-RateLimit-Bucket"]
    assert float(h2["X-RateLimit-Reset-After"]) <= 0.5
    assert h3["Via"] == "1.1 google" and h3["X-RateLimit-Scope"] == "user"
    assert 0 < b3["retry_after"] <= 0.5 and b3["global"] is False
    assert emulator.journal.rate_limited == 1

    # Another channel has its own bucket.
    other = f"{emulator.api_base_url}/channels/{community.digest_channel_id}/messages"
    async with aiohttp.ClientSession(headers=headers) as session, session.post(
        other, json={"content": "other"}
    ) as response:
        assert response.status == 200


@pytest.mark.emulator_config(rate_limits=True, message_limit=2, message_window=0.5)
async def test_discord_py_respects_real_bucket(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        start = time.monotonic()
        for i in range(5):
            await channel.send(f"paced {i}")
        assert time.monotonic() - start >= 0.9
        assert len(emulator.messages(community.text_channel_id)) == 5


@pytest.mark.emulator_config(rate_limits=True, global_limit=3, global_window=1.0)
async def test_global_limit_and_interaction_exemption(emulator, community):
    headers = {"Authorization": f"Bot {community.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        statuses = []
        for _ in range(4):
            async with session.get(f"{emulator.api_base_url}/users/@me") as response:
                statuses.append(response.status)
                body = await response.json()
        assert statuses == [200, 200, 200, 429]
        assert body["global"] is True
        assert response.headers["X-RateLimit-Global"] == "true"
        interaction = emulator.run_slash_command(community.text_channel_id,
                                                 community.member_ids[1], "ping")
        async with session.post(
            f"{emulator.api_base_url}/interactions/{interaction.id}/{interaction.token}/callback",
            json={"type": 4, "data": {"content": "pong"}},
        ) as response:
            assert response.status == 204
    assert interaction.responses[0].data["content"] == "pong"


async def test_unknown_route_and_exact_content_type(emulator, community):
    headers = {"Authorization": f"Bot {community.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(f"{emulator.api_base_url}/nope/nothing") as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
            assert await response.json() == {"message": "404: Not Found", "code": 0}
        async with session.get(f"{emulator.base_url}/api/v9/users/@me") as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
        async with session.get(f"{emulator.api_base_url}/users/@me",
                               headers={"Authorization": "Bot wrong"}) as response:
            assert response.status == 401
    assert emulator.journal.invalid_requests == 1


async def test_rest_validation_without_client(emulator, community):
    headers = {"Authorization": f"Bot {community.token}"}
    base = f"{emulator.api_base_url}/channels/{community.text_channel_id}/messages"
    async with aiohttp.ClientSession(headers=headers) as session:
        for limit in ("0", "101"):
            async with session.get(base, params={"limit": limit}) as response:
                body = await response.json()
            assert response.status == 400 and body["code"] == 50035
            assert "limit" in body["errors"]
        async with session.post(base, json={"content": ""}) as response:
            assert (await response.json())["code"] == 50006
        async with session.post(base, data=b"{not json", headers={
            "Content-Type": "application/json"}) as response:
            assert response.status == 400 and (await response.json())["code"] == 50109
        app = f"{emulator.api_base_url}/applications/{community.application_id}/commands"
        async with session.put(app, json={"name": "x"}) as response:
            assert response.status == 400
        async with session.put(app, json=[{"name": "hello", "description": "hi"}]) as response:
            created = await response.json()
        async with session.get(app) as response:
            assert await response.json() == created
        async with session.get(f"{emulator.api_base_url}/channels/1/messages/2") as response:
            assert (await response.json())["code"] == 10003


async def test_fault_after_the_request_took_effect(emulator, community):
    headers = {"Authorization": f"Bot {community.token}"}
    url = f"{emulator.api_base_url}/channels/{community.text_channel_id}/messages"
    emulator.inject("POST", r"/messages$", drop=True, after=True)
    emulator.inject("POST", r"/messages$", status=502, after=True)
    async with aiohttp.ClientSession(headers=headers) as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(url, json={"content": "acted, answer lost"}) as response:
                await response.read()
        async with session.post(url, json={"content": "acted, answer replaced"}) as response:
            assert response.status == 502
    contents = [m.content for m in emulator.messages(community.text_channel_id)]
    assert contents == ["acted, answer lost", "acted, answer replaced"]
    statuses = [r.status for r in emulator.journal.requests_matching("POST", "/messages")]
    assert statuses == [200, 0, 200, 502]


async def test_driver_delete_channel_fires_thread_delete(emulator, community, connect_client):
    async with connect_client() as client:
        post, _ = emulator.create_forum_post(community.forum_channel_id, community.member_ids[1],
                                             "gone soon", "body")
        await emulator.wait_for(lambda: client.get_channel(post.id))
        emulator.delete_channel(post.id)
        await emulator.wait_for(lambda: client.get_channel(post.id) is None)
        assert post.id not in [t.id for t in emulator.threads()]
