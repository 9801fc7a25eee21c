"""Permission bits and the channel permission computation Discord performs."""

from __future__ import annotations

from enum import IntFlag


class Perm(IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40


ALL_PERMISSIONS = (1 << 51) - 1

DEFAULT_EVERYONE = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
)

BOT_PERMISSIONS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.MANAGE_THREADS
    | Perm.MANAGE_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.MANAGE_WEBHOOKS
    | Perm.MODERATE_MEMBERS
)


def apply_overwrites(
    base: int,
    overwrites: list[dict[str, object]],
    everyone_id: int,
    role_ids: set[int],
    user_id: int,
) -> int:
    """Apply @everyone, then combined role, then member overwrites, in Discord's order."""
    perms = base
    by_id = {int(str(o["id"])): o for o in overwrites}
    everyone = by_id.get(everyone_id)
    if everyone is not None:
        perms &= ~int(str(everyone.get("deny", 0)))
        perms |= int(str(everyone.get("allow", 0)))
    allow = deny = 0
    for role_id in role_ids:
        ow = by_id.get(role_id)
        if ow is not None and ow.get("type", 0) == 0:
            allow |= int(str(ow.get("allow", 0)))
            deny |= int(str(ow.get("deny", 0)))
    perms &= ~deny
    perms |= allow
    member = by_id.get(user_id)
    if member is not None and member.get("type", 1) == 1:
        perms &= ~int(str(member.get("deny", 0)))
        perms |= int(str(member.get("allow", 0)))
    return perms
