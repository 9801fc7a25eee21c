"""Further flows: deferred component updates, follow-up edits, channel/thread/member events."""

import asyncio
import io

import discord
import pytest
from discord import app_commands


class Panel(discord.ui.View):
    def __init__(self):
        super().__init__(timeout=30)

    @discord.ui.button(label="Refresh", custom_id="refresh")
    async def refresh(self, interaction, button):
        await interaction.response.defer()
        await interaction.edit_original_response(content="refreshed")


class Bot(discord.Client):
    def __init__(self):
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="panel", description="panel")
        async def panel(interaction):
            await interaction.response.send_message("panel", view=Panel())

        @self.tree.command(name="export", description="file reply")
        async def export(interaction):
            await interaction.response.send_message(
                "here", file=discord.File(io.BytesIO(b"data"), filename="export.txt"))

        @self.tree.command(name="steps", description="follow-ups")
        async def steps(interaction):
            await interaction.response.defer(ephemeral=True, thinking=True)
            message = await interaction.followup.send("step 1", wait=True, ephemeral=True)
            await message.edit(content="step 2")
            await interaction.delete_original_response()


async def test_deferred_update_and_followup_edit(emulator, community, connect_client):
    async with connect_client(Bot()) as bot:
        await bot.tree.sync()
        user = community.member_ids[1]
        panel = emulator.run_slash_command(community.text_channel_id, user, "panel")
        await emulator.wait_for_response(panel)
        click = emulator.click_button(panel.original_message_id, user, "refresh")
        await emulator.wait_for_response(click, count=2)
        assert click.responses[0].type == 6
        assert emulator.message(panel.original_message_id).content == "refreshed"

        steps = emulator.run_slash_command(community.text_channel_id, user, "steps")
        await emulator.wait_for_response(steps, count=4)
        kinds = [(r.kind, r.type, r.ephemeral) for r in steps.responses]
        assert kinds == [("callback", 5, True), ("followup", None, True),
                         ("edit_followup", None, True), ("delete_original", None, False)]
        assert emulator.message(steps.responses[1].message_id).content == "step 2"

        export = emulator.run_slash_command(community.text_channel_id, user, "export")
        await emulator.wait_for_response(export)
        exported = emulator.message(export.original_message_id)
        assert exported.attachments[0].filename == "export.txt"
        assert exported in emulator.messages(community.text_channel_id)


async def test_channel_thread_and_member_events(emulator, community, connect_client):
    events = asyncio.Queue()

    class Client(discord.Client):
        async def on_guild_channel_update(self, before, after):
            await events.put(("channel", after.id))

        async def on_raw_thread_delete(self, payload):
            await events.put(("thread_delete", payload.thread_id))

        async def on_raw_member_remove(self, payload):
            await events.put(("member_remove", payload.user.id))

    intents = discord.Intents.default()
    intents.members = True
    async with connect_client(Client(intents=intents, guild_ready_timeout=0.05)) as client:
        forum = client.get_channel(community.forum_channel_id)
        with pytest.raises(discord.Forbidden):
            await forum.edit(topic="needs Manage Channels")
        emulator.modify_channel(forum.id, permission_overwrites=[{
            "id": community.bot_role_id, "type": 0,
            "allow": discord.Permissions(manage_channels=True).value,
        }])
        await asyncio.wait_for(events.get(), 5)
        tags = [*forum.available_tags, discord.ForumTag(name="new-tag")]
        edited = await forum.edit(available_tags=tags)
        assert "new-tag" in [t.name for t in edited.available_tags]
        assert await asyncio.wait_for(events.get(), 5) == ("channel", forum.id)
        assert "new-tag" in [t["name"] for t in emulator.channel(forum.id).available_tags]

        post, _ = emulator.create_forum_post(forum.id, community.member_ids[1], "p", "body")
        await emulator.wait_for(lambda: client.get_channel(post.id))
        await client.get_channel(post.id).delete()
        assert await asyncio.wait_for(events.get(), 5) == ("thread_delete", post.id)

        emulator.remove_member(community.guild_id, community.member_ids[3])
        assert await asyncio.wait_for(events.get(), 5) == ("member_remove", community.member_ids[3])
        assert client.get_guild(community.guild_id).get_member(community.member_ids[3]) is None


@pytest.mark.emulator_config(interaction_ack_timeout=0.2)
async def test_slow_interaction_ack_is_unknown_interaction(emulator, community, connect_client):
    failures = asyncio.Queue()

    class Slow(discord.Client):
        async def on_interaction(self, interaction):
            await asyncio.sleep(0.4)
            try:
                await interaction.response.send_message("too late")
            except discord.NotFound as exc:
                await failures.put(exc.code)

    async with connect_client(Slow(intents=discord.Intents.default(), guild_ready_timeout=0.05)):
        inter = emulator.run_slash_command(community.text_channel_id, community.member_ids[1], "x")
        assert await asyncio.wait_for(failures.get(), 5) == 10062
        assert inter.responses == []


async def test_forum_require_tag(emulator, community, connect_client):
    emulator.modify_channel(community.forum_channel_id, flags=16)
    async with connect_client() as client:
        forum = client.get_channel(community.forum_channel_id)
        with pytest.raises(discord.HTTPException) as info:
            await forum.create_thread(name="untagged", content="body")
        assert "applied_tags" in info.value.text
        created = await forum.create_thread(name="tagged", content="body",
                                            applied_tags=forum.available_tags[:1])
        assert created.thread.applied_tags
