"""Webhooks, reactions, bulk delete, DMs and member timeouts with a bare discord.py client."""

import asyncio
from datetime import timedelta

import aiohttp
import discord
import pytest


async def test_webhook_execute_into_thread_with_username(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        hook = await channel.create_webhook(name="mirror")
        assert [w.id for w in await channel.webhooks()] == [hook.id]
        starter = await channel.send("thread parent")
        thread = await starter.create_thread(name="mirrored")
        async with aiohttp.ClientSession() as session:
            partial = discord.Webhook.partial(hook.id, hook.token, session=session)
            sent = await partial.send("from webhook", username="Alice (mirrored)",
                                      avatar_url="https://example.invalid/a.png",
                                      thread=discord.Object(thread.id), wait=True)
            assert sent.author.name == "Alice (mirrored)"
            stored = emulator.message(sent.id)
            assert stored.channel_id == thread.id and stored.webhook_id == hook.id
            assert stored.webhook_avatar == "https://example.invalid/a.png"
            edited = await partial.edit_message(sent.id, content="edited via webhook",
                                                thread=discord.Object(thread.id))
            assert edited.content == "edited via webhook"
            fetched = await partial.fetch_message(sent.id, thread=discord.Object(thread.id))
            assert fetched.content == "edited via webhook"
            with_file = await partial.send("file", file=discord.File(__file__, filename="a.py"),
                                           wait=True)
            assert emulator.message(with_file.id).attachments[0].filename == "a.py"
            await partial.delete_message(with_file.id)
            assert [m.id for m in emulator.webhook_messages(hook.id)] == [sent.id]
            await partial.delete_message(sent.id, thread=discord.Object(thread.id))
            assert emulator.webhook_messages(hook.id) == []
            with pytest.raises(discord.HTTPException):
                await partial.send("x", username="y" * 81, wait=True)
            bad = discord.Webhook.partial(hook.id, "wrong-token", session=session)
            with pytest.raises(discord.HTTPException):
                await bad.send("x", wait=True)
            missing = discord.Webhook.partial(1, "t", session=session)
            with pytest.raises(discord.NotFound) as info:
                await missing.send("x", wait=True)
            assert info.value.code == 10015
    executes = emulator.journal.requests_matching("POST", f"/webhooks/{hook.id}/")
    assert executes[0].query["thread_id"] == str(thread.id)


async def test_reactions_bulk_delete_and_raw_events(emulator, community, connect_client):
    events = asyncio.Queue()

    class Client(discord.Client):
        async def on_raw_reaction_add(self, payload):
            await events.put(("add", payload.message_id, str(payload.emoji), payload.user_id))

        async def on_raw_reaction_remove(self, payload):
            await events.put(("remove", payload.message_id, str(payload.emoji), payload.user_id))

        async def on_raw_message_edit(self, payload):
            await events.put(("edit", payload.message_id, payload.data["content"]))

        async def on_raw_message_delete(self, payload):
            await events.put(("delete", payload.message_id))

        async def on_raw_bulk_message_delete(self, payload):
            await events.put(("bulk", sorted(payload.message_ids)))

    intents = discord.Intents.default()
    intents.message_content = True
    async with connect_client(Client(intents=intents, guild_ready_timeout=0.05)) as client:
        user = community.member_ids[1]
        msg = emulator.send_message(community.text_channel_id, user, "react to me")
        channel = client.get_channel(community.text_channel_id)
        fetched = await channel.fetch_message(msg.id)
        await fetched.add_reaction("👍")
        added = await asyncio.wait_for(events.get(), 5)
        assert added == ("add", msg.id, "👍", community.bot_user_id)
        emulator.add_reaction(msg.id, user, "🎉")
        assert await asyncio.wait_for(events.get(), 5) == ("add", msg.id, "🎉", user)
        fetched = await channel.fetch_message(msg.id)
        assert {str(r.emoji): r.count for r in fetched.reactions} == {"👍": 1, "🎉": 1}
        users = [u.id async for u in fetched.reactions[1].users()]
        assert users == [user]
        emulator.remove_reaction(msg.id, user, "🎉")
        assert await asyncio.wait_for(events.get(), 5) == ("remove", msg.id, "🎉", user)

        emulator.edit_message(msg.id, "edited by user")
        assert await asyncio.wait_for(events.get(), 5) == ("edit", msg.id, "edited by user")
        emulator.delete_message(msg.id)
        assert await asyncio.wait_for(events.get(), 5) == ("delete", msg.id)

        ids = [emulator.send_message(community.text_channel_id, user, f"b{i}").id for i in range(3)]
        await channel.delete_messages([discord.Object(i) for i in ids])
        assert await asyncio.wait_for(events.get(), 5) == ("bulk", ids)
        assert emulator.messages(community.text_channel_id) == []
        with pytest.raises(discord.HTTPException) as info:
            await client.http.delete_messages(channel.id, [str(1 << 22), str(2 << 22)])
        assert info.value.code == 50034


async def test_dm_and_timeout(emulator, community, connect_client):
    intents = discord.Intents.default()
    intents.members = True
    async with connect_client(intents=intents) as client:
        guild = client.get_guild(community.guild_id)
        target = guild.get_member(community.member_ids[2])
        dm = await target.send("You have been warned")
        assert dm.channel.type == discord.ChannelType.private
        assert [m.content for m in emulator.dms_to(target.id)] == ["You have been warned"]
        await target.timeout(timedelta(minutes=10), reason="spam")
        assert emulator.member(community.guild_id, target.id).communication_disabled_until
        fetched = await guild.fetch_member(target.id)
        assert fetched.is_timed_out()
        roles = await guild.fetch_roles()
        assert community.moderator_role_id in [r.id for r in roles]
        owner = guild.get_member(community.owner_id)
        with pytest.raises(discord.Forbidden):
            await owner.timeout(timedelta(minutes=1))


async def test_pins_clear_reactions_kick_ban_and_roles(emulator, community, connect_client):
    intents = discord.Intents.default()
    intents.members = True
    async with connect_client(intents=intents) as client:
        guild = client.get_guild(community.guild_id)
        channel = guild.get_channel(community.text_channel_id)
        msg = await channel.send("pin me")
        await msg.pin()
        assert emulator.message(msg.id).pinned
        assert [m.id async for m in channel.pins()] == [msg.id]
        await msg.unpin()
        assert [m async for m in channel.pins()] == []

        emulator.add_reaction(msg.id, community.member_ids[1], "👍")
        emulator.add_reaction(msg.id, community.member_ids[2], "🎉")
        await msg.clear_reaction("👍")
        assert list(emulator.message(msg.id).reactions) == ["🎉"]
        await msg.clear_reactions()
        assert emulator.message(msg.id).reactions == {}

        target = guild.get_member(community.member_ids[3])
        with pytest.raises(discord.Forbidden):
            await target.kick()
        bot_role = emulator.state.guilds[community.guild_id].roles[community.bot_role_id]
        bot_role.permissions |= discord.Permissions(kick_members=True, ban_members=True,
                                                    manage_roles=True).value
        moderator_role = guild.get_role(community.moderator_role_id)
        await target.add_roles(moderator_role)
        assert community.moderator_role_id in emulator.member(community.guild_id, target.id).roles
        await target.remove_roles(moderator_role)
        await target.kick(reason="bye")
        assert target.id not in emulator.state.guilds[community.guild_id].members
        victim = guild.get_member(community.member_ids[2])
        await victim.ban(reason="spam")
        assert victim.id in emulator.state.guilds[community.guild_id].bans
        ban = await guild.fetch_ban(victim)
        assert ban.reason == "spam"
        await guild.unban(victim)
        with pytest.raises(discord.NotFound):
            await guild.fetch_ban(victim)
