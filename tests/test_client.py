"""The bot object end to end: the real discord.py client against the emulator."""

import importlib
import pkgutil

import discord
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

import cogs
from bot.client import EXTENSIONS, bot_intents
from bot.tree import UNEXPECTED


def guild_command_puts(emulator, community):
    path = f"/applications/{community.application_id}/guilds/{community.guild_id}/commands"
    return [r for r in emulator.journal.requests if r.method == "PUT" and r.path.endswith(path)]


async def test_connects_and_loads_every_listed_cog(start_bot, community):
    async with start_bot() as bot:
        assert bot.user.id == community.bot_user_id
        assert bot.get_guild(community.guild_id) is not None
        assert sorted(bot.extensions) == sorted(EXTENSIONS)
        assert bot.failed_extensions == []
        assert bot.scheduler.running
    assert not bot.scheduler.running


async def test_rest_and_gateway_urls_come_from_settings(start_bot, emulator, community):
    async with start_bot():
        pass
    paths = [r.path for r in emulator.journal.requests]
    assert any(path.endswith("/users/@me") for path in paths)
    assert emulator.journal.events_named("READY")


async def test_commands_are_registered_once_then_only_when_changed(start_bot, emulator, community):
    async with start_bot():
        pass
    assert len(guild_command_puts(emulator, community)) == 1
    names = {command["name"] for command in emulator.commands(community.guild_id)}
    assert "status" in names

    async with start_bot():
        pass
    assert len(guild_command_puts(emulator, community)) == 1, "unchanged tree registered again"

    async with start_bot(extensions=()):
        pass
    assert len(guild_command_puts(emulator, community)) == 2
    assert emulator.commands(community.guild_id) == []


async def test_nothing_the_bot_sends_can_ping(start_bot, emulator, community):
    async with start_bot() as bot:
        channel = bot.get_channel(community.text_channel_id)
        sent = await channel.send(f"@everyone hello <@{community.moderator_id}>")
    request = emulator.journal.requests_matching("POST", f"/channels/{channel.id}/messages")[-1]
    assert request.body["allowed_mentions"] == {"parse": []}
    stored = emulator.message_payload(sent.id)
    assert stored["mentions"] == [] and stored["mention_everyone"] is False


def test_intents_are_only_what_is_used():
    intents = bot_intents()
    assert intents.message_content and intents.guild_messages and intents.guilds
    assert not intents.members and not intents.presences
    assert not intents.dm_messages and not intents.typing


async def test_failing_extension_is_logged_by_name(start_bot):
    with capture_logs() as logs:
        async with start_bot(extensions=("cogs.admin", "cogs.no_such_capability")) as bot:
            assert "cogs.admin" in bot.extensions
            assert bot.failed_extensions == ["cogs.no_such_capability"]
    failures = [entry for entry in logs if entry["event"] == "extension failed to load"]
    assert [entry["extension"] for entry in failures] == ["cogs.no_such_capability"]


async def test_status_for_an_admin(start_bot, emulator, community):
    async with start_bot():
        interaction = emulator.run_slash_command(
            community.text_channel_id, community.owner_id, "status"
        )
        await emulator.wait_for_response(interaction)
    (response,) = interaction.responses
    assert response.ephemeral
    embed = response.data["embeds"][0]
    assert embed["title"] == "threadbridge status"
    assert "0 stored" in embed["fields"][0]["value"]


async def test_status_refused_to_a_member(start_bot, emulator, community):
    member = next(m for m in community.member_ids if m != community.moderator_id)
    async with start_bot():
        interaction = emulator.run_slash_command(community.text_channel_id, member, "status")
        await emulator.wait_for_response(interaction)
    (response,) = interaction.responses
    assert response.ephemeral
    assert response.data["content"] == "Only admins (Manage Server) can see the bot's status."


async def test_unexpected_error_is_logged_not_shown(start_bot, emulator, community):
    async with start_bot() as bot:
        await bot.store._reader.close()  # the next read fails like a broken disk would
        with capture_logs() as logs:
            interaction = emulator.run_slash_command(
                community.text_channel_id, community.owner_id, "status"
            )
            await emulator.wait_for_response(interaction)
    (response,) = interaction.responses
    assert response.data["content"] == UNEXPECTED
    assert "Traceback" not in response.data["content"]
    failures = [entry for entry in logs if entry["event"] == "command failed"]
    assert failures and failures[0]["command"] == "status"


async def test_every_cog_loads_and_command_names_do_not_collide(start_bot):
    names = sorted(f"cogs.{m.name}" for m in pkgutil.iter_modules(cogs.__path__))
    assert sorted(EXTENSIONS) == names, "a cog exists that the bot does not load (or vice versa)"
    for name in names:
        importlib.import_module(name)
    async with start_bot(register_commands_on_start=False) as bot:
        seen = [(command.name, type(command).__name__) for command in bot.tree.get_commands()]
    assert len(seen) == len(set(seen))


async def test_wrong_token_is_a_login_failure(start_bot, bot_settings):
    settings = bot_settings.model_copy(update={"discord_token": SecretStr("not-the-token")})
    with pytest.raises(discord.LoginFailure):
        async with start_bot(settings):
            pass
