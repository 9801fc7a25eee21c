"""A representative bare-client scenario in spec mode: every body must match Discord's OpenAPI."""

import io
from datetime import timedelta

import aiohttp
import discord
import pytest
from discord import app_commands

from discord_emulator import Emulator, EmulatorConfig
from tests.emulator_fixtures import FIXED_TOKEN, point_discord_at, run_client
from tests.shared_files import shared_file

spec_module = pytest.importorskip("discord_emulator.spec")

pytestmark = pytest.mark.spec


@pytest.fixture(scope="module")
def validator():
    path = shared_file("discord", "api-spec", "openapi.json", override=spec_module.ENV_VAR)
    loader = getattr(spec_module, "load_cached", spec_module.SpecValidator.load)
    return loader(path)


async def test_bare_client_scenario_conforms_to_spec(validator):
    emu = Emulator(EmulatorConfig(rate_limits=False), validator=validator)
    await emu.start()
    community = emu.seed_community(FIXED_TOKEN)
    client = discord.Client(intents=discord.Intents.default(), guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(name="ping", description="ping")
    async def ping(interaction: discord.Interaction, text: str):
        await interaction.response.send_message(f"pong {text}", ephemeral=True)

    try:
        with point_discord_at(emu.api_base_url, emu.gateway_url):
            async with run_client(emu, client):
                await tree.sync()
                channel = client.get_channel(community.text_channel_id)
                first = await channel.send("hello", embed=discord.Embed(title="t", description="d"))
                reply = await channel.send("reply", reference=first)
                await reply.edit(content="edited reply")
                history = [m async for m in channel.history(limit=10)]
                assert len(history) == 2
                thread = await first.create_thread(name="from message")
                await thread.send("in thread")
                forum = client.get_channel(community.forum_channel_id)
                post = await forum.create_thread(name="post", content="body",
                                                 applied_tags=forum.available_tags[:1])
                await post.thread.edit(archived=True)
                hook = await channel.create_webhook(name="mirror")
                async with aiohttp.ClientSession() as session:
                    partial = discord.Webhook.partial(hook.id, hook.token, session=session)
                    await partial.send("via webhook", username="Someone",
                                       thread=discord.Object(thread.id), wait=True)
                interaction = emu.run_slash_command(community.text_channel_id,
                                                    community.member_ids[1], "ping",
                                                    {"text": "x"})
                await emu.wait_for_response(interaction)
    finally:
        await emu.stop()
    checked = {r.path for r in emu.journal.requests}
    assert any("/callback" in p for p in checked)
    assert emu.journal.spec_problems == [], "\n".join(emu.journal.spec_problems)


async def test_wider_endpoint_coverage_conforms_to_spec(validator):
    emu = Emulator(EmulatorConfig(rate_limits=False), validator=validator)
    await emu.start()
    community = emu.seed_community(FIXED_TOKEN)
    intents = discord.Intents.default()
    intents.members = True
    client = discord.Client(intents=intents, guild_ready_timeout=0.05)
    tree = app_commands.CommandTree(client)

    @tree.command(name="later", description="deferred")
    async def later(interaction: discord.Interaction):
        await interaction.response.defer(thinking=True)
        followup = await interaction.followup.send("done", wait=True)
        await followup.edit(content="done!")
        await interaction.edit_original_response(content="finished")
        await interaction.original_response()

    try:
        with point_discord_at(emu.api_base_url, emu.gateway_url):
            async with run_client(emu, client):
                await tree.sync(guild=discord.Object(community.guild_id))
                guild = client.get_guild(community.guild_id)
                channel = guild.get_channel(community.text_channel_id)
                message = await channel.send("react", file=discord.File(
                    io.BytesIO(b"abc"), filename="a.txt"))
                await message.add_reaction("👍")
                _ = [u async for u in message.reactions[0].users()] if message.reactions else []
                await message.remove_reaction("👍", guild.me)
                await message.pin()
                _ = [m async for m in channel.pins()]
                await message.unpin()
                member = guild.get_member(community.member_ids[1])
                await member.send("dm")
                await member.timeout(timedelta(minutes=5))
                await guild.fetch_member(member.id)
                await guild.fetch_roles()
                await guild.fetch_channels()
                await guild.active_threads()
                forum = guild.get_channel(community.forum_channel_id)
                _ = [t async for t in forum.archived_threads()]
                await client.fetch_channel(channel.id)
                await channel.webhooks()
                ids = [(await channel.send(f"bulk {i}")).id for i in range(2)]
                await channel.delete_messages([discord.Object(i) for i in ids])
                await message.delete()
                interaction = emu.run_slash_command(community.text_channel_id,
                                                    community.member_ids[1], "later")
                await emu.wait_for_response(interaction, count=4)
    finally:
        await emu.stop()
    assert emu.journal.spec_problems == [], "\n".join(emu.journal.spec_problems)
