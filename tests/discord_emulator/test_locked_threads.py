"""A locked thread, as Discord keeps it: only Manage Threads posts in it or unarchives it."""

import asyncio

import discord
import pytest

from discord_emulator import ApiError
from tests.emulator_fixtures import default_intents


async def test_a_locked_thread_refuses_members_and_takes_moderators(
    emulator, community, connect_client
):
    alice, moderator = community.member_ids[1], community.moderator_id
    received: asyncio.Queue[discord.Message] = asyncio.Queue()

    class Client(discord.Client):
        async def on_message(self, message: discord.Message) -> None:
            await received.put(message)

    post, _ = emulator.create_forum_post(community.forum_channel_id, alice, "Closed", "hi")
    emulator.modify_channel(post.id, locked=True)
    async with connect_client(Client(intents=default_intents(), guild_ready_timeout=0.05)):
        with pytest.raises(ApiError) as refused:
            emulator.send_message(post.id, alice, "let me in")
        assert (refused.value.status, refused.value.code) == (403, 160005)
        assert [m.content for m in emulator.messages(post.id)] == ["hi"]

        accepted = emulator.send_message(post.id, moderator, "noted, closing this")
        message = await asyncio.wait_for(received.get(), 5)
        assert (message.id, message.author.id) == (accepted.id, moderator)

        # Archived and locked: the member who opened it cannot bring it back; a moderator can.
        emulator.modify_channel(post.id, archived=True)
        with pytest.raises(ApiError) as reopen:
            emulator.modify_channel(post.id, archived=False, as_user=alice)
        assert reopen.value.status == 403
        with pytest.raises(ApiError):
            emulator.send_message(post.id, alice, "still closed?")
        assert emulator.channel(post.id).archived
        emulator.modify_channel(post.id, archived=False, as_user=moderator)
        assert not emulator.channel(post.id).archived


async def test_the_bot_posts_in_a_locked_thread_only_with_manage_threads(
    emulator, community, connect_client
):
    post, _ = emulator.create_forum_post(
        community.forum_channel_id, community.member_ids[1], "Closed", "hi"
    )
    emulator.modify_channel(post.id, locked=True)
    async with connect_client() as client:
        thread = client.get_channel(post.id)
        sent = await thread.send("the bot has Manage Threads")
        assert emulator.message(sent.id).content == "the bot has Manage Threads"
        bot_role = emulator.state.guilds[community.guild_id].roles[community.bot_role_id]
        bot_role.permissions &= ~discord.Permissions(manage_threads=True).value
        with pytest.raises(discord.Forbidden) as refused:
            await thread.send("and now it has not")
        assert refused.value.code == 160005
