"""The set-up check: what operators most often get wrong, found before it causes failures.

Used by `threadbridge check-config --online` and at every start of the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import discord

from bot.settings import Settings

# What each configured channel needs, by its role. Threads inherit the mirror channel's.
MIRROR_NEEDS = (
    "view_channel",
    "send_messages",
    "send_messages_in_threads",
    "embed_links",
    "attach_files",
    "create_public_threads",
    "manage_threads",
    "manage_messages",
    "manage_webhooks",
    "read_message_history",
    "add_reactions",
)
REPORT_NEEDS = ("view_channel", "send_messages", "embed_links", "attach_files")
MODLOG_NEEDS = ("view_channel", "send_messages", "embed_links")


@dataclass(frozen=True, slots=True)
class Problem:
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}. Fix: {self.fix}"


def _label(permission: str) -> str:
    return permission.replace("_", " ").title()


def check_intents(application: discord.AppInfo | None) -> list[Problem]:
    if application is None:
        return []
    flags = application.flags
    if flags.gateway_message_content or flags.gateway_message_content_limited:
        return []
    return [
        Problem(
            "the Message Content intent is off, so replies would arrive without their text",
            "developer portal > your application > Bot > Privileged Gateway Intents > "
            "enable Message Content Intent",
        )
    ]


def check_channel(
    name: str,
    channel_id: int,
    channel: discord.abc.GuildChannel | None,
    member: discord.Member,
    needs: tuple[str, ...],
    *,
    kinds: tuple[type, ...],
    kind_text: str,
) -> list[Problem]:
    if channel is None:
        return [
            Problem(
                f"{name} {channel_id} is not a channel of the server (or the bot cannot see it)",
                f"copy the channel's id again into {name}, and give the bot's role View Channel",
            )
        ]
    if not isinstance(channel, kinds):
        return [
            Problem(
                f"{name} #{channel.name} is a {channel.type} channel",
                f"point {name} at a {kind_text}",
            )
        ]
    granted = channel.permissions_for(member)
    missing = [permission for permission in needs if not getattr(granted, permission)]
    if not missing:
        return []
    return [
        Problem(
            f"in #{channel.name} ({name}) the bot lacks: {', '.join(map(_label, missing))}",
            "grant these to the bot's role in the channel's permissions (or re-invite it with "
            "`threadbridge invite-url`)",
        )
    ]


def check_guild(
    settings: Settings,
    guild: discord.Guild | None,
    member: discord.Member | None,
    channels: Mapping[int, discord.abc.GuildChannel],
) -> list[Problem]:
    """Every configured channel exists, has a usable type, and grants what the bot needs."""
    if guild is None or member is None:
        return [
            Problem(
                f"the bot is not in the server GUILD_ID {settings.guild_id}",
                "invite it with the URL from `threadbridge invite-url`, or correct GUILD_ID",
            )
        ]
    problems: list[Problem] = []
    assert settings.mirror_channel_id is not None
    problems += check_channel(
        "MIRROR_CHANNEL_ID",
        settings.mirror_channel_id,
        channels.get(settings.mirror_channel_id),
        member,
        MIRROR_NEEDS,
        kinds=(discord.ForumChannel, discord.TextChannel),
        kind_text="forum or text channel",
    )
    for name, channel_id, needs in (
        ("DIGEST_CHANNEL_ID", settings.digest_channel_id, REPORT_NEEDS),
        ("MODLOG_CHANNEL_ID", settings.modlog_channel_id, MODLOG_NEEDS),
    ):
        if channel_id is not None:
            problems += check_channel(
                name,
                channel_id,
                channels.get(channel_id),
                member,
                needs,
                kinds=(discord.TextChannel,),
                kind_text="text channel",
            )
    known_roles = {role.id for role in guild.roles}
    for role_id in settings.moderator_role_ids:
        if role_id not in known_roles:
            problems.append(
                Problem(
                    f"MODERATOR_ROLE_IDS has {role_id}, which is not a role of the server",
                    "copy the role's id again (Server Settings > Roles > right-click)",
                )
            )
    return problems


async def check_online(client: discord.Client, settings: Settings) -> list[Problem]:
    """Fetch what the check needs over REST (no gateway): used before the bot is connected."""
    assert settings.guild_id is not None and client.user is not None
    problems = check_intents(client.application)
    try:
        guild = await client.fetch_guild(settings.guild_id)
        member = await guild.fetch_member(client.user.id)
        fetched = await guild.fetch_channels()
    except (discord.NotFound, discord.Forbidden):
        return [*problems, *check_guild(settings, None, None, {})]
    return [*problems, *check_guild(settings, guild, member, {c.id: c for c in fetched})]


def check_connected(client: discord.Client, settings: Settings) -> list[Problem]:
    """The same check from the gateway's cache, once the bot is ready."""
    assert settings.guild_id is not None
    guild = client.get_guild(settings.guild_id)
    member = guild.me if guild is not None else None
    channels = {channel.id: channel for channel in guild.channels} if guild else {}
    return [*check_intents(client.application), *check_guild(settings, guild, member, channels)]
