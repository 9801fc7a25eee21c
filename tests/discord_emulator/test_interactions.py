"""Slash commands, context menus, buttons and modals through a bare client's CommandTree / View."""

import asyncio

import discord
from discord import app_commands


class Modal(discord.ui.Modal, title="Report"):
    reason = discord.ui.TextInput(label="Reason", custom_id="reason")

    async def on_submit(self, interaction):
        await interaction.response.send_message(f"reported: {self.reason.value}")


class Confirm(discord.ui.View):
    def __init__(self):
        super().__init__(timeout=30)
        self.clicked_by = None

    @discord.ui.button(label="Confirm", custom_id="confirm")
    async def confirm(self, interaction, button):
        self.clicked_by = interaction.user.id
        await interaction.response.edit_message(content="confirmed", view=None)


class Bot(discord.Client):
    def __init__(self, guild_id):
        intents = discord.Intents.default()
        super().__init__(intents=intents, guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.guild_id = guild_id
        self.calls = []
        self.view = None
        tree = self.tree

        @tree.command(name="ping", description="ping")
        async def ping(interaction, text: str, times: int = 1):
            self.calls.append(("ping", text, times))
            await interaction.response.send_message(f"pong {text} x{times}", ephemeral=True)

        admin = app_commands.Group(name="admin", description="admin tools")
        config = app_commands.Group(name="config", description="config", parent=admin)

        @config.command(name="set", description="set a value")
        async def config_set(interaction, key: str, value: int):
            self.calls.append(("admin config set", key, value))
            await interaction.response.defer(thinking=True)
            await interaction.followup.send(f"{key}={value}")

        tree.add_command(admin)

        @tree.command(name="report", description="open a modal")
        async def report(interaction):
            await interaction.response.send_modal(Modal())

        @tree.command(name="confirm", description="send a button", guild=discord.Object(guild_id))
        async def confirm(interaction):
            self.view = Confirm()
            await interaction.response.send_message("please confirm", view=self.view)

        @tree.context_menu(name="Flag message")
        async def flag(interaction, message: discord.Message):
            self.calls.append(("flag", message.id, message.content))
            await interaction.response.send_message("flagged", ephemeral=True)
            await interaction.edit_original_response(content="flagged (edited)")

        @tree.context_menu(name="Inspect user")
        async def inspect(interaction, member: discord.Member):
            self.calls.append(("inspect", member.id))
            await interaction.response.send_message(f"user {member.name}")

    async def setup_hook(self):
        await self.tree.sync()
        await self.tree.sync(guild=discord.Object(self.guild_id))


async def test_slash_and_subcommand_group(emulator, community, connect_client):
    async with connect_client(Bot(community.guild_id)) as bot:
        names = {c["name"] for c in emulator.commands()}
        assert names == {"ping", "admin", "report", "Flag message", "Inspect user"}
        assert [c["name"] for c in emulator.commands(community.guild_id)] == ["confirm"]
        member = community.member_ids[1]
        ping = emulator.run_slash_command(community.text_channel_id, member, "ping",
                                          {"text": "hi", "times": 3})
        await emulator.wait_for_response(ping)
        assert bot.calls == [("ping", "hi", 3)]
        response = ping.responses[0]
        assert response.type == 4 and response.ephemeral
        assert response.data["content"] == "pong hi x3"
        listed = [m.id for m in emulator.messages(community.text_channel_id)]
        assert response.message_id not in listed

        nested = emulator.run_slash_command(community.text_channel_id, member, "admin",
                                            {"key": "limit", "value": 7},
                                            group="config", subcommand="set")
        await emulator.wait_for_response(nested, count=2)
        assert bot.calls[-1] == ("admin config set", "limit", 7)
        assert [r.kind for r in nested.responses] == ["callback", "followup"]
        assert nested.responses[0].type == 5
        followup = emulator.message(nested.responses[1].message_id)
        assert followup.content == "limit=7"


async def test_context_menus(emulator, community, connect_client):
    async with connect_client(Bot(community.guild_id)) as bot:
        target = emulator.send_message(community.text_channel_id, community.member_ids[2], "bad")
        flag = emulator.run_message_command(community.text_channel_id, community.moderator_id,
                                            "Flag message", target.id)
        await emulator.wait_for_response(flag, count=2)
        assert bot.calls == [("flag", target.id, "bad")]
        assert flag.responses[0].ephemeral and flag.responses[1].kind == "edit_original"
        assert emulator.message(flag.original_message_id).content == "flagged (edited)"

        inspect = emulator.run_user_command(community.text_channel_id, community.moderator_id,
                                            "Inspect user", community.member_ids[3])
        await emulator.wait_for_response(inspect)
        assert bot.calls[-1] == ("inspect", community.member_ids[3])
        assert inspect.responses[0].data["content"] == "user carol"


async def test_button_click_updates_message(emulator, community, connect_client):
    async with connect_client(Bot(community.guild_id)) as bot:
        user = community.member_ids[1]
        command = emulator.run_slash_command(community.text_channel_id, user, "confirm")
        await emulator.wait_for_response(command)
        message_id = command.original_message_id
        message = emulator.message(message_id)
        assert message.components[0]["components"][0]["custom_id"] == "confirm"
        click = emulator.click_button(message_id, user, "confirm")
        await emulator.wait_for_response(click)
        assert bot.view.clicked_by == user
        assert click.responses[0].type == 7
        assert emulator.message(message_id).content == "confirmed"
        assert emulator.message(message_id).components == []


async def test_modal_round_trip(emulator, community, connect_client):
    async with connect_client(Bot(community.guild_id)):
        user = community.member_ids[1]
        opener = emulator.run_slash_command(community.text_channel_id, user, "report")
        await emulator.wait_for_response(opener)
        assert opener.responses[0].type == 9 and opener.modal["title"] == "Report"
        submitted = emulator.submit_modal(opener, {"reason": "spam"})
        await emulator.wait_for_response(submitted)
        assert submitted.responses[0].data["content"] == "reported: spam"
        await emulator.wait_for(lambda: any(
            m.content == "reported: spam" for m in emulator.messages(community.text_channel_id)))


async def test_interaction_create_reaches_on_interaction(emulator, community, connect_client):
    seen = asyncio.Queue()

    class Client(discord.Client):
        async def on_interaction(self, interaction):
            await seen.put(interaction)
            await interaction.response.send_message("raw", ephemeral=True)

    async with connect_client(Client(intents=discord.Intents.default(),
                                     guild_ready_timeout=0.05)):
        inter = emulator.run_slash_command(community.text_channel_id, community.member_ids[1],
                                           "unregistered", {"flag": True})
        got = await asyncio.wait_for(seen.get(), 5)
        assert got.id == inter.id and got.user.id == community.member_ids[1]
        assert got.data["options"][0] == {"name": "flag", "type": 5, "value": True}
        await emulator.wait_for_response(inter)
        assert inter.responses[0].ephemeral
