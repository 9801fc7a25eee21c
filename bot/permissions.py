"""Who may do what: the rules, kept apart from the commands that apply them."""

from __future__ import annotations

from collections.abc import Iterable

import discord

# What the bot asks for in its invite URL, and why:
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the mirror, digest and mod-log channels
    send_messages=True,  # starter messages, digests, mod-log cases
    send_messages_in_threads=True,  # replies and notices inside post threads
    create_public_threads=True,  # a thread per post in a text channel
    manage_threads=True,  # lock, archive and rename post threads; post in locked ones
    manage_messages=True,  # remove comments that break the rules
    embed_links=True,  # post excerpts, digests and cases are embeds
    attach_files=True,  # the digest's chart
    read_message_history=True,  # catch up on replies written while the bot was away
    add_reactions=True,  # mark held comments
    manage_webhooks=True,  # post web comments under their authors' names
)
BOT_SCOPES = ("bot", "applications.commands")


def is_admin(member: discord.Member | discord.User) -> bool:
    if not isinstance(member, discord.Member):
        return False
    return member.guild_permissions.manage_guild or member.guild_permissions.administrator


def is_moderator(member: discord.Member | discord.User, moderator_role_ids: Iterable[int]) -> bool:
    """Manage Messages (or admin) in the server, or one of the configured moderator roles."""
    if not isinstance(member, discord.Member):
        return False
    permissions = member.guild_permissions
    if permissions.manage_messages or permissions.administrator:
        return True
    wanted = set(moderator_role_ids)
    return any(role.id in wanted for role in member.roles)
