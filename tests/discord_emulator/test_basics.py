"""Bare discord.py client against the emulator: login, messages, threads, history, validation."""

import asyncio

import discord
import pytest

from discord_emulator import snowflake_time


async def test_login_and_ready_sees_guild(emulator, community, connect_client):
    ready_count = 0

    class Client(discord.Client):
        async def on_ready(self):
            nonlocal ready_count
            ready_count += 1

    client = Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    async with connect_client(client) as client:
        await emulator.wait_for(lambda: ready_count == 1)
        guild = client.get_guild(community.guild_id)
        assert guild is not None and guild.name == "Threadbridge Community"
        assert guild.default_role.id == guild.id
        assert guild.get_role(community.moderator_role_id).name == "Moderator"
        forum = guild.get_channel(community.forum_channel_id)
        assert isinstance(forum, discord.ForumChannel)
        assert {t.name for t in forum.available_tags} >= {"question", "idea"}
        assert isinstance(guild.get_channel(community.text_channel_id), discord.TextChannel)
        me = guild.me
        perms = guild.get_channel(community.text_channel_id).permissions_for(me)
        assert perms.send_messages and perms.manage_threads and perms.manage_webhooks
        digest = guild.get_channel(community.digest_channel_id)
        assert digest.permissions_for(me).view_channel
        assert not digest.permissions_for(guild.default_role).view_channel
        assert client.user.id == community.bot_user_id
        assert client.application_id == community.application_id
    methods = [(r.method, r.path) for r in emulator.journal.requests[:2]]
    assert methods == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]


async def test_message_round_trip(emulator, community, connect_client):
    received = asyncio.Queue()

    class Client(discord.Client):
        async def on_message(self, message):
            await received.put(message)

    async with connect_client(Client(intents=_intents(), guild_ready_timeout=0.05)) as client:
        channel = client.get_channel(community.text_channel_id)
        user_msg = emulator.send_message(community.text_channel_id, community.member_ids[1],
                                         "hello bot")
        got = await asyncio.wait_for(received.get(), 5)
        assert got.id == user_msg.id and got.content == "hello bot"
        assert got.author.id == community.member_ids[1]
        assert isinstance(got.author, discord.Member)

        sent = await channel.send(
            "reply", embed=discord.Embed(title="T", description="D"), reference=got,
            allowed_mentions=discord.AllowedMentions(replied_user=False),
        )
        stored = emulator.message(sent.id)
        assert stored.content == "reply"
        assert stored.embeds[0]["title"] == "T"
        assert stored.reference["message_id"] == str(user_msg.id)
        assert not stored.allowed_mentions.get("replied_user")
        assert stored.mention_ids == []
        assert sent.reference.message_id == user_msg.id

        pinged = await channel.send(f"hi <@{community.member_ids[2]}> <@{community.member_ids[3]}>",
                                    allowed_mentions=discord.AllowedMentions(
                                        users=[discord.Object(community.member_ids[2])]))
        assert emulator.message(pinged.id).mention_ids == [community.member_ids[2]]

        edited = await sent.edit(content="edited")
        assert edited.content == "edited" and emulator.message(sent.id).edited_at is not None
        fetched = await channel.fetch_message(sent.id)
        assert fetched.content == "edited"
        await sent.delete()
        assert sent.id not in [m.id for m in emulator.messages(community.text_channel_id)]
        with pytest.raises(discord.NotFound) as info:
            await channel.fetch_message(sent.id)
        assert info.value.code == 10008


async def test_attachments_and_stickers_from_driver(emulator, community, connect_client):
    received = asyncio.Queue()

    class Client(discord.Client):
        async def on_message(self, message):
            await received.put(message)

    async with connect_client(Client(intents=_intents(), guild_ready_timeout=0.05)) as client:
        emulator.send_message(community.text_channel_id, community.member_ids[1], "pic",
                              attachments=[("cat.png", b"\x89PNG...", "image/png")],
                              stickers=[1234])
        got = await asyncio.wait_for(received.get(), 5)
        assert got.attachments[0].filename == "cat.png"
        assert await got.attachments[0].read() == b"\x89PNG..."
        assert got.stickers[0].id == 1234
        channel = client.get_channel(community.text_channel_id)
        sent = await channel.send("file", file=discord.File(__file__, filename="test.py"))
        stored = emulator.message(sent.id)
        assert stored.attachments[0].filename == "test.py" and stored.attachments[0].size > 100


async def test_thread_from_message_and_forum_post(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        parent = await channel.send("start a thread here")
        thread = await parent.create_thread(name="discussion")
        assert thread.id == parent.id
        assert emulator.channel(thread.id).parent_id == community.text_channel_id
        await emulator.wait_for_event("MESSAGE_UPDATE", lambda d: d["id"] == str(parent.id))
        await emulator.wait_for(lambda: client.get_channel(thread.id))
        await thread.send("inside")
        assert [m.content for m in emulator.messages(thread.id)] == ["inside"]

        forum = client.get_channel(community.forum_channel_id)
        tags = [t for t in forum.available_tags if t.name in ("question", "bug")]
        created = await forum.create_thread(name="My post", content="body text",
                                            applied_tags=tags)
        post = created.thread
        assert created.message.content == "body text"
        assert created.message.id == post.id
        assert {t.name for t in post.applied_tags} == {"question", "bug"}
        assert sorted(emulator.channel(post.id).applied_tags) == sorted(t.id for t in tags)

        too_many = [*forum.available_tags[:5], discord.Object(1)]
        with pytest.raises(discord.HTTPException) as info:
            await forum.create_thread(name="x", content="y", applied_tags=too_many)
        assert info.value.status == 400 and info.value.code == 50035

        with pytest.raises(discord.HTTPException) as info:
            await forum.create_thread(name="x" * 101, content="y")
        assert info.value.code == 50035 and "name" in info.value.text

        edited = await post.edit(archived=True, locked=True)
        assert edited.archived and edited.locked
        assert emulator.channel(post.id).archived
        await emulator.wait_for_event("THREAD_UPDATE", lambda d: d["id"] == str(post.id))
        archived = [t async for t in forum.archived_threads()]
        assert [t.id for t in archived] == [post.id]
        active = await client.get_guild(community.guild_id).active_threads()
        assert thread.id in [t.id for t in active] and post.id not in [t.id for t in active]


async def test_history_paging_both_ways(emulator, community, connect_client):
    ids = [emulator.send_message(community.text_channel_id, community.member_ids[1], f"m{i}").id
           for i in range(260)]
    assert ids == sorted(ids)
    assert snowflake_time(ids[0]) <= snowflake_time(ids[-1])
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        newest_first = [m.id async for m in channel.history(limit=None)]
        assert newest_first == list(reversed(ids))
        oldest_first = [m.id async for m in channel.history(limit=None, oldest_first=True)]
        assert oldest_first == ids
        after = [m.id async for m in channel.history(limit=None, after=discord.Object(ids[99]),
                                                     oldest_first=True)]
        assert after == ids[100:]
        before = [m.id async for m in channel.history(limit=150, before=discord.Object(ids[200]))]
        assert before == list(reversed(ids[50:200]))
        around = [m.id async for m in channel.history(limit=11, around=discord.Object(ids[130]))]
        assert sorted(around) == ids[125:136]
    pages = emulator.journal.requests_matching(
        "GET", f"/channels/{community.text_channel_id}/messages")
    assert len(pages) >= 6


async def test_validation_errors(emulator, community, connect_client):
    async with connect_client() as client:
        channel = client.get_channel(community.text_channel_id)
        with pytest.raises(discord.HTTPException) as info:
            await channel.send("x" * 2001)
        assert info.value.status == 400 and info.value.code == 50035
        record = emulator.journal.requests[-1]
        assert record.response["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
        assert "content" in info.value.text
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(embeds=[discord.Embed(title="x" * 257)])
        assert "embeds.0.title" in info.value.text
        with pytest.raises(discord.HTTPException) as info:
            await channel.send(embeds=[discord.Embed(description="x" * 4000),
                                       discord.Embed(description="y" * 2500)])
        assert info.value.code == 50035
        too_many_fields = discord.Embed(title="f")
        for i in range(26):
            too_many_fields.add_field(name=str(i), value="v")
        with pytest.raises(discord.HTTPException):
            await channel.send(embed=too_many_fields)
        with pytest.raises(discord.HTTPException) as info:
            await client.http.send_message(
                channel.id, params=discord.http.handle_message_parameters())
        assert info.value.code == 50006
        with pytest.raises(discord.NotFound) as info:
            await client.fetch_channel(123)
        assert info.value.code == 10003
        assert not [m for m in emulator.messages(channel.id)]


async def test_permission_denials_are_forbidden(emulator, community, connect_client):
    emulator.modify_channel(community.text_channel_id, permission_overwrites=[
        {"id": community.bot_role_id, "type": 0,
         "deny": discord.Permissions(send_messages=True, send_messages_in_threads=True).value},
    ])
    async with connect_client() as client:
        with pytest.raises(discord.Forbidden) as info:
            await client.get_channel(community.text_channel_id).send("nope")
        assert info.value.code == 50013
        # Threads inherit the parent's overwrites.
        starter = emulator.send_message(community.text_channel_id, community.member_ids[1], "s")
        thread = emulator.create_thread(community.text_channel_id, community.member_ids[1], "t",
                                        message_id=starter.id)
        await emulator.wait_for(lambda: client.get_channel(thread.id))
        with pytest.raises(discord.Forbidden):
            await client.get_channel(thread.id).send("parent overwrite applies")
        emulator.modify_channel(community.text_channel_id, permission_overwrites=[])
        await client.get_channel(thread.id).send("allowed again")

        # Locked thread: Manage Threads needed; archived+unlocked: posting unarchives.
        post, _ = emulator.create_forum_post(community.forum_channel_id, community.member_ids[1],
                                             "archived post", "hi")
        emulator.archive_thread(post.id)
        await client.http.send_message(post.id, params=discord.http.handle_message_parameters(
            content="revive"))
        assert not emulator.channel(post.id).archived
        emulator.archive_thread(post.id, locked=True)
        role = client.get_guild(community.guild_id).get_role(community.bot_role_id)
        emulator.state.guilds[community.guild_id].roles[role.id].permissions &= ~(
            discord.Permissions(manage_threads=True).value)
        with pytest.raises(discord.Forbidden):
            await client.http.send_message(post.id, params=discord.http.handle_message_parameters(
                content="locked"))


async def test_intents_hide_message_content(emulator, community, connect_client):
    received = asyncio.Queue()

    class Client(discord.Client):
        async def on_message(self, message):
            await received.put(message)

    intents = discord.Intents.default()
    intents.message_content = False
    async with connect_client(Client(intents=intents, guild_ready_timeout=0.05)):
        emulator.send_message(community.text_channel_id, community.member_ids[1], "secret",
                              embeds=[{"title": "hidden"}])
        plain = await asyncio.wait_for(received.get(), 5)
        assert plain.content == "" and plain.embeds == []
        emulator.send_message(community.text_channel_id, community.member_ids[1],
                              f"<@{community.bot_user_id}> visible")
        mentioned = await asyncio.wait_for(received.get(), 5)
        assert mentioned.content.endswith("visible")
        emulator.send_dm(community.member_ids[1], "dm text")
        dm = await asyncio.wait_for(received.get(), 5)
        assert dm.content == "dm text" and dm.guild is None

    # Without GUILD_MESSAGES no MESSAGE_CREATE is delivered at all.
    only_guilds = discord.Intents.none()
    only_guilds.guilds = True
    async with connect_client(Client(intents=only_guilds, guild_ready_timeout=0.05)):
        session = await emulator.wait_for_session()
        before = session.seq
        emulator.send_message(community.text_channel_id, community.member_ids[1], "unseen")
        assert session.seq == before


def _intents():
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents
