"""Channel, thread, guild, member and user endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .errors import (
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_USER,
    ApiError,
    FormErrors,
    forbidden,
    not_found,
)
from .permissions import Perm
from .rest import Ctx, Reply, Router
from .state import DM, Guild, iso


def _channel_payload(ctx: Ctx, channel_id: str) -> dict[str, Any]:
    channel = ctx.core.channel(channel_id)
    if channel.type == DM:
        return ctx.core.dm_payload(channel, ctx.bot_id)
    ctx.core.require(channel, ctx.bot_id, Perm.VIEW_CHANNEL)
    return channel.payload()


async def get_channel(ctx: Ctx) -> Reply:
    return 200, _channel_payload(ctx, ctx.params["channel_id"])


async def modify_channel(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.modify_channel(channel, ctx.json(), check_as=ctx.bot_id)
    return 200, channel.payload()


async def delete_channel(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    perm = Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS
    ctx.core.require(channel, ctx.bot_id, perm)
    ctx.core.delete_channel(channel)
    return 200, channel.payload()


async def thread_from_message(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    message = ctx.core.message(channel, ctx.params["message_id"])
    thread = ctx.core.thread_from_message(channel, message, ctx.json(), ctx.bot_id)
    return 201, thread.payload()


async def thread_in_channel(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    thread, starter = ctx.core.thread_in_channel(
        channel, ctx.json(), ctx.bot_id, attachments=ctx.files
    )
    data = thread.payload()
    if starter is not None:
        data["message"] = ctx.state.message_payload(starter, viewer_id=ctx.bot_id)
    return 201, data


def _thread_member(ctx: Ctx, thread_id: int, user_id: int) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "user_id": str(user_id),
        "join_timestamp": iso(datetime.now().astimezone()),
        "flags": 0,
    }


def _thread_member_id(ctx: Ctx) -> int:
    """The user of a thread-members route: "@me" (or no user in the path) is the caller."""
    user = ctx.params.get("user_id", "@me")
    return ctx.bot_id if user == "@me" else int(user)


async def join_thread(ctx: Ctx) -> Reply:
    ctx.core.channel(ctx.params["channel_id"]).member_ids.add(_thread_member_id(ctx))
    return 204, None


async def leave_thread(ctx: Ctx) -> Reply:
    ctx.core.channel(ctx.params["channel_id"]).member_ids.discard(_thread_member_id(ctx))
    return 204, None


async def thread_members(ctx: Ctx) -> Reply:
    thread = ctx.core.channel(ctx.params["channel_id"])
    return 200, [_thread_member(ctx, thread.id, u) for u in sorted(thread.member_ids)]


def _guild(ctx: Ctx) -> Guild:
    try:
        guild: Guild = ctx.state.guilds[int(ctx.params["guild_id"])]
    except (KeyError, ValueError):
        raise not_found(UNKNOWN_GUILD, "Guild") from None
    if ctx.bot_id not in guild.members:
        raise ApiError(403, 50001, "Missing Access")
    return guild


async def active_threads(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    threads = [t for t in ctx.state.threads_of(guild.id) if not t.archived]
    members = [
        _thread_member(ctx, t.id, ctx.bot_id) for t in threads if ctx.bot_id in t.member_ids
    ]
    return 200, {"threads": [t.payload() for t in threads], "members": members,
                 "has_more": False}


async def archived_threads(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.VIEW_CHANNEL, Perm.READ_MESSAGE_HISTORY)
    if channel.guild_id is None:
        raise ApiError(400, 50024, "Cannot execute action on this channel type")
    threads = [
        t for t in ctx.state.threads_of(channel.guild_id)
        if t.parent_id == channel.id and t.archived and t.type == 11
    ]
    threads.sort(key=lambda t: t.archive_timestamp, reverse=True)
    before = ctx.query.get("before")
    if before:
        try:
            cutoff = datetime.fromisoformat(before)
        except ValueError:
            errors = FormErrors()
            errors.add(("before",), "DATE_TYPE_PARSE", "Could not parse date.")
            errors.raise_if_any()
            raise
        threads = [t for t in threads if t.archive_timestamp < cutoff]
    limit = int(ctx.query.get("limit") or 50)
    page = threads[:limit]
    return 200, {
        "threads": [t.payload() for t in page],
        "members": [],
        "has_more": len(threads) > limit,
    }


async def get_guild(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    data = ctx.state.guild_payload(guild)
    for key in ("channels", "threads", "members", "voice_states", "presences", "joined_at"):
        data.pop(key, None)
    data["approximate_member_count"] = len(guild.members)
    return 200, data


async def guild_channels(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    return 200, [
        ctx.state.channels[c].payload() for c in guild.channel_ids
        if not ctx.state.channels[c].deleted
    ]


async def guild_roles(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    return 200, [r.payload() for r in sorted(guild.roles.values(), key=lambda r: r.position)]


async def get_member(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    member = guild.members.get(int(ctx.params["user_id"]))
    if member is None:
        raise not_found(UNKNOWN_MEMBER, "Member")
    return 200, ctx.state.member_payload(member)


async def list_members(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    limit = int(ctx.query.get("limit") or 1)
    after = int(ctx.query.get("after") or 0)
    members = sorted((m for m in guild.members.values() if m.user_id > after),
                     key=lambda m: m.user_id)[:limit]
    return 200, [ctx.state.member_payload(m) for m in members]


async def modify_member(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    member = guild.members.get(int(ctx.params["user_id"]))
    if member is None:
        raise not_found(UNKNOWN_MEMBER, "Member")
    body = ctx.json()
    if "communication_disabled_until" in body:
        ctx.core.require_guild(guild, ctx.bot_id, Perm.MODERATE_MEMBERS)
        target_perms = ctx.state.member_permissions(guild, member.user_id)
        if member.user_id == guild.owner_id or target_perms & Perm.ADMINISTRATOR:
            raise forbidden()
        raw = body["communication_disabled_until"]
        member.communication_disabled_until = datetime.fromisoformat(raw) if raw else None
    if "nick" in body:
        member.nick = body["nick"]
    if "roles" in body:
        ctx.core.require_guild(guild, ctx.bot_id, Perm.MANAGE_ROLES)
        member.roles = [int(r) for r in body["roles"] or []]
    data = ctx.state.member_payload(member)
    ctx.core.gateway.dispatch("GUILD_MEMBER_UPDATE", {**data, "guild_id": str(guild.id)})
    return 200, data


def _moderate(ctx: Ctx, guild: Guild, user_id: int, perm: Perm) -> None:
    ctx.core.require_guild(guild, ctx.bot_id, perm)
    if user_id == guild.owner_id or ctx.state.member_permissions(guild, user_id) & (
        Perm.ADMINISTRATOR
    ):
        raise forbidden()


async def kick_member(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    user_id = int(ctx.params["user_id"])
    if user_id not in guild.members:
        raise not_found(UNKNOWN_MEMBER, "Member")
    _moderate(ctx, guild, user_id, Perm.KICK_MEMBERS)
    ctx.core.remove_member(guild, user_id)
    return 204, None


async def ban_member(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    user_id = int(ctx.params["user_id"])
    if user_id not in ctx.state.users:
        raise not_found(UNKNOWN_USER, "User")
    _moderate(ctx, guild, user_id, Perm.BAN_MEMBERS)
    guild.bans[user_id] = ctx.request.headers.get("X-Audit-Log-Reason")
    ctx.core.gateway.dispatch("GUILD_BAN_ADD", {
        "guild_id": str(guild.id), "user": ctx.state.users[user_id].payload()
    })
    if user_id in guild.members:
        ctx.core.remove_member(guild, user_id)
    return 204, None


async def unban_member(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    ctx.core.require_guild(guild, ctx.bot_id, Perm.BAN_MEMBERS)
    user_id = int(ctx.params["user_id"])
    if guild.bans.pop(user_id, "missing") == "missing":
        raise not_found(10026, "Ban")
    ctx.core.gateway.dispatch("GUILD_BAN_REMOVE", {
        "guild_id": str(guild.id), "user": ctx.state.users[user_id].payload()
    })
    return 204, None


async def get_ban(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    ctx.core.require_guild(guild, ctx.bot_id, Perm.BAN_MEMBERS)
    user_id = int(ctx.params["user_id"])
    if user_id not in guild.bans:
        raise not_found(10026, "Ban")
    return 200, {"user": ctx.state.users[user_id].payload(), "reason": guild.bans[user_id]}


async def member_role(ctx: Ctx) -> Reply:
    guild = _guild(ctx)
    member = guild.members.get(int(ctx.params["user_id"]))
    if member is None:
        raise not_found(UNKNOWN_MEMBER, "Member")
    role_id = int(ctx.params["role_id"])
    if role_id not in guild.roles:
        raise not_found(10011, "Role")
    ctx.core.require_guild(guild, ctx.bot_id, Perm.MANAGE_ROLES)
    bot_top = max((guild.roles[r].position for r in guild.members[ctx.bot_id].roles), default=0)
    if guild.roles[role_id].position >= bot_top and ctx.bot_id != guild.owner_id:
        raise forbidden()
    if ctx.request.method == "PUT" and role_id not in member.roles:
        member.roles.append(role_id)
    elif ctx.request.method == "DELETE" and role_id in member.roles:
        member.roles.remove(role_id)
    data = ctx.state.member_payload(member)
    ctx.core.gateway.dispatch("GUILD_MEMBER_UPDATE", {**data, "guild_id": str(guild.id)})
    return 204, None


async def current_user(ctx: Ctx) -> Reply:
    user = ctx.state.users[ctx.bot_id]
    return 200, {**user.payload(), "verified": True, "mfa_enabled": False, "email": None,
                 "locale": "en-US", "premium_type": 0}


async def get_user(ctx: Ctx) -> Reply:
    try:
        user = ctx.state.users[int(ctx.params["user_id"])]
    except (KeyError, ValueError):
        raise not_found(UNKNOWN_USER, "User") from None
    return 200, user.payload()


async def current_application(ctx: Ctx) -> Reply:
    assert ctx.app is not None
    return 200, ctx.state.application_payload(ctx.app)


async def create_dm(ctx: Ctx) -> Reply:
    body = ctx.json()
    try:
        recipient = int(body["recipient_id"])
    except (KeyError, TypeError, ValueError):
        errors = FormErrors()
        errors.add(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
        raise
    if recipient not in ctx.state.users:
        raise not_found(UNKNOWN_USER, "User")
    channel = ctx.core.dm_channel(ctx.bot_id, recipient)
    return 200, ctx.core.dm_payload(channel, ctx.bot_id)


async def current_user_guilds(ctx: Ctx) -> Reply:
    return 200, [
        {"id": str(g.id), "name": g.name, "icon": None, "owner": g.owner_id == ctx.bot_id,
         "permissions": str(ctx.state.member_permissions(g, ctx.bot_id)), "features": []}
        for g in ctx.state.guilds.values() if ctx.bot_id in g.members
    ]


def register(router: Router) -> None:
    router.add("GET", "/channels/{channel_id}", get_channel)
    router.add("PATCH", "/channels/{channel_id}", modify_channel)
    router.add("DELETE", "/channels/{channel_id}", delete_channel)
    router.add("POST", "/channels/{channel_id}/messages/{message_id}/threads", thread_from_message)
    router.add("POST", "/channels/{channel_id}/threads", thread_in_channel)
    router.add("GET", "/channels/{channel_id}/threads/archived/public", archived_threads)
    router.add("PUT", "/channels/{channel_id}/thread-members/@me", join_thread)
    router.add("DELETE", "/channels/{channel_id}/thread-members/@me", leave_thread)
    router.add("PUT", "/channels/{channel_id}/thread-members/{user_id}", join_thread)
    router.add("DELETE", "/channels/{channel_id}/thread-members/{user_id}", leave_thread)
    router.add("GET", "/channels/{channel_id}/thread-members", thread_members)
    router.add("GET", "/guilds/{guild_id}/threads/active", active_threads)
    router.add("GET", "/guilds/{guild_id}", get_guild)
    router.add("GET", "/guilds/{guild_id}/channels", guild_channels)
    router.add("GET", "/guilds/{guild_id}/roles", guild_roles)
    router.add("GET", "/guilds/{guild_id}/members", list_members)
    router.add("GET", "/guilds/{guild_id}/members/{user_id}", get_member)
    router.add("PATCH", "/guilds/{guild_id}/members/{user_id}", modify_member)
    router.add("DELETE", "/guilds/{guild_id}/members/{user_id}", kick_member)
    router.add("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", member_role)
    router.add("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", member_role)
    router.add("PUT", "/guilds/{guild_id}/bans/{user_id}", ban_member)
    router.add("DELETE", "/guilds/{guild_id}/bans/{user_id}", unban_member)
    router.add("GET", "/guilds/{guild_id}/bans/{user_id}", get_ban)
    router.add("GET", "/users/@me", current_user)
    router.add("GET", "/users/@me/guilds", current_user_guilds)
    router.add("POST", "/users/@me/channels", create_dm)
    router.add("GET", "/users/{user_id}", get_user)
    router.add("GET", "/oauth2/applications/@me", current_application)
    router.add("GET", "/applications/@me", current_application)
