"""Which gateway intent each dispatched event needs."""

from __future__ import annotations

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MODERATION = 1 << 2
GUILD_WEBHOOKS = 1 << 5
GUILD_MESSAGES = 1 << 9
GUILD_MESSAGE_REACTIONS = 1 << 10
DIRECT_MESSAGES = 1 << 12
DIRECT_MESSAGE_REACTIONS = 1 << 13
MESSAGE_CONTENT = 1 << 15
PRESENCES = 1 << 8
PRIVILEGED = GUILD_MEMBERS | PRESENCES | MESSAGE_CONTENT

# Application flags (GATEWAY_*) that enable each privileged intent.
_APP_FLAGS = {
    PRESENCES: (1 << 12) | (1 << 13),
    GUILD_MEMBERS: (1 << 14) | (1 << 15),
    MESSAGE_CONTENT: (1 << 18) | (1 << 19),
}


def privileged_allowed(app_flags: int) -> int:
    """The privileged intents an application with these flags may ask for."""
    return sum(intent for intent, flags in _APP_FLAGS.items() if app_flags & flags)

_GUILD_EVENTS = {
    "GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE", "GUILD_ROLE_CREATE", "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE", "CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE",
    "CHANNEL_PINS_UPDATE", "THREAD_CREATE", "THREAD_UPDATE", "THREAD_DELETE",
    "THREAD_LIST_SYNC", "THREAD_MEMBER_UPDATE",
}
_MEMBER_EVENTS = {
    "GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE", "THREAD_MEMBERS_UPDATE",
}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE", "MESSAGE_DELETE_BULK"}
_REACTION_EVENTS = {
    "MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE", "MESSAGE_REACTION_REMOVE_ALL",
    "MESSAGE_REACTION_REMOVE_EMOJI",
}


def required_intent(event: str, in_guild: bool) -> int:
    """0 means the event is always delivered."""
    if event in _GUILD_EVENTS:
        return GUILDS
    if event in _MEMBER_EVENTS:
        return GUILD_MEMBERS
    if event in _MESSAGE_EVENTS:
        return GUILD_MESSAGES if in_guild else DIRECT_MESSAGES
    if event in _REACTION_EVENTS:
        return GUILD_MESSAGE_REACTIONS if in_guild else DIRECT_MESSAGE_REACTIONS
    if event in ("GUILD_BAN_ADD", "GUILD_BAN_REMOVE", "GUILD_AUDIT_LOG_ENTRY_CREATE"):
        return GUILD_MODERATION
    if event == "WEBHOOKS_UPDATE":
        return GUILD_WEBHOOKS
    return 0
