"""In-memory model of the Discord objects the emulator serves, and their JSON payloads."""

from __future__ import annotations

import bisect
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .permissions import ALL_PERMISSIONS, Perm, apply_overwrites
from .snowflake import SnowflakeGenerator, snowflake_time

TEXT = 0
DM = 1
CATEGORY = 4
NEWS = 5
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
FORUM = 15
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)

DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19
THREAD_CREATED_MESSAGE = 18
THREAD_STARTER_MESSAGE = 21
CHAT_INPUT_COMMAND_MESSAGE = 20


def now() -> datetime:
    return datetime.now(UTC)


def iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None



# Application flags that say which privileged intents the portal enables.
APP_FLAG_GUILD_MEMBERS_LIMITED = 1 << 15
APP_FLAG_MESSAGE_CONTENT_LIMITED = 1 << 19

@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    avatar: str | None = None
    bot: bool = False
    accepts_dms: bool = True  # False: sending them a DM fails with 50007, as when DMs are closed

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "primary_guild": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "banner": None,
            "accent_color": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None,
                       "tertiary_color": None},
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Member:
    guild_id: int
    user_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)
    communication_disabled_until: datetime | None = None


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    bans: dict[int, str | None] = field(default_factory=dict)


@dataclass
class Channel:
    id: int
    type: int
    guild_id: int | None
    name: str | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    permission_overwrites: list[dict[str, Any]] = field(default_factory=list)
    nsfw: bool = False
    rate_limit_per_user: int = 0
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    applied_tags: list[int] = field(default_factory=list)
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 4320
    archive_timestamp: datetime = field(default_factory=now)
    message_count: int = 0
    total_message_sent: int = 0
    member_ids: set[int] = field(default_factory=set)
    recipient_ids: list[int] = field(default_factory=list)
    last_message_id: int | None = None
    flags: int = 0
    deleted: bool = False

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": self.flags,
        }
        if self.type == DM:
            return data
        data.update(
            guild_id=str(self.guild_id),
            name=self.name,
            position=self.position,
            parent_id=str(self.parent_id) if self.parent_id else None,
            rate_limit_per_user=self.rate_limit_per_user,
            nsfw=self.nsfw,
        )
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                message_count=self.message_count,
                total_message_sent=self.total_message_sent,
                member_count=len(self.member_ids),
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(self.archive_timestamp),
                    "create_timestamp": iso(snowflake_time(self.id)),
                },
            )
            del data["position"]
            return data
        data.update(permission_overwrites=self.permission_overwrites, topic=self.topic)
        if self.type == FORUM:
            data.update(
                available_tags=self.available_tags,
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data


@dataclass
class Attachment:
    id: int
    filename: str
    content_type: str | None
    size: int
    data: bytes = b""
    description: str | None = None

    def payload(self, base_url: str, channel_id: int) -> dict[str, Any]:
        url = f"{base_url}/attachments/{channel_id}/{self.id}/{self.filename}"
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": url,
            "proxy_url": url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class Reaction:
    emoji: dict[str, Any]
    user_ids: list[int] = field(default_factory=list)


@dataclass
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    sticker_items: list[dict[str, Any]] = field(default_factory=list)
    mention_ids: list[int] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    allowed_mentions: dict[str, Any] | None = None
    reference: dict[str, Any] | None = None
    reactions: dict[str, Reaction] = field(default_factory=dict)
    type: int = DEFAULT_MESSAGE
    flags: int = 0
    tts: bool = False
    nonce: str | int | None = None
    pinned: bool = False
    edited_at: datetime | None = None
    pinned_at: datetime | None = None
    webhook_id: int | None = None
    webhook_name: str | None = None
    webhook_avatar: str | None = None
    thread_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    position: int | None = None
    deleted: bool = False


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int | None
    name: str
    type: int = 1
    avatar: str | None = None
    application_id: int | None = None
    creator_id: int | None = None


@dataclass
class Application:
    id: int
    name: str
    bot_user_id: int
    owner_id: int
    token: str
    commands: dict[int, dict[str, Any]] = field(default_factory=dict)
    guild_commands: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    # Privileged intents switched on in the developer portal (GATEWAY_*_LIMITED flags).
    flags: int = APP_FLAG_GUILD_MEMBERS_LIMITED | APP_FLAG_MESSAGE_CONTENT_LIMITED


@dataclass
class InteractionResponse:
    """One thing the client did with an interaction: callback, follow-up, edit or delete."""

    kind: str
    type: int | None
    data: dict[str, Any] | None
    ephemeral: bool = False
    message_id: int | None = None


@dataclass
class Interaction:
    id: int
    token: str
    type: int
    application_id: int
    channel_id: int
    guild_id: int | None
    user_id: int
    payload: dict[str, Any]
    responses: list[InteractionResponse] = field(default_factory=list)
    acknowledged: bool = False
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    triggered_by: int | None = None
    created_at: float = field(default_factory=time.monotonic)

    @property
    def response_types(self) -> list[int | None]:
        return [r.type for r in self.responses if r.kind == "callback"]


class State:
    """Every object the emulator knows, indexed for the lookups REST and the gateway need."""

    def __init__(self, ids: SnowflakeGenerator | None = None) -> None:
        self.ids = ids or SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.messages: dict[int, Message] = {}
        self.channel_message_ids: dict[int, list[int]] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.applications: dict[int, Application] = {}
        self.tokens: dict[str, Application] = {}
        self.interactions: dict[int, Interaction] = {}
        self.interactions_by_token: dict[str, Interaction] = {}
        self.dm_channels: dict[tuple[int, int], int] = {}
        self.attachment_base = "http://127.0.0.1"

    # --- lookups --------------------------------------------------------------------------

    def thread_parent(self, channel: Channel) -> Channel:
        if channel.is_thread and channel.parent_id is not None:
            return self.channels.get(channel.parent_id, channel)
        return channel

    def member_permissions(self, guild: Guild, user_id: int) -> int:
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        everyone = guild.roles.get(guild.id)
        perms = everyone.permissions if everyone else 0
        member = guild.members.get(user_id)
        if member is not None:
            for role_id in member.roles:
                role = guild.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, channel: Channel, user_id: int) -> int:
        if channel.guild_id is None:
            return ALL_PERMISSIONS
        guild = self.guilds[channel.guild_id]
        if user_id not in guild.members:
            return 0
        base = self.member_permissions(guild, user_id)
        if base & Perm.ADMINISTRATOR or user_id == guild.owner_id:
            return ALL_PERMISSIONS
        source = self.thread_parent(channel)
        member = guild.members.get(user_id)
        roles = set(member.roles) if member else set()
        return apply_overwrites(base, source.permission_overwrites, guild.id, roles, user_id)

    def can_view(self, channel: Channel, user_id: int) -> bool:
        if channel.type == DM:
            return user_id in channel.recipient_ids
        return bool(self.channel_permissions(channel, user_id) & Perm.VIEW_CHANNEL)

    def messages_in(self, channel_id: int) -> list[Message]:
        return [self.messages[i] for i in self.channel_message_ids.get(channel_id, [])]

    def threads_of(self, guild_id: int) -> list[Channel]:
        return [
            c for c in self.channels.values()
            if c.guild_id == guild_id and c.is_thread and not c.deleted
        ]

    # --- mutations ------------------------------------------------------------------------

    def add_message(self, message: Message) -> None:
        self.messages[message.id] = message
        ids = self.channel_message_ids.setdefault(message.channel_id, [])
        if not ids or ids[-1] < message.id:
            ids.append(message.id)
        else:
            bisect.insort(ids, message.id)
        channel = self.channels.get(message.channel_id)
        if channel is not None:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
                channel.total_message_sent += 1
                message.position = channel.total_message_sent

    def is_listed(self, message: Message) -> bool:
        ids = self.channel_message_ids.get(message.channel_id, [])
        index = bisect.bisect_left(ids, message.id)
        return index < len(ids) and ids[index] == message.id

    def remove_message(self, message: Message) -> None:
        message.deleted = True
        self.messages.pop(message.id, None)
        ids = self.channel_message_ids.get(message.channel_id, [])
        index = bisect.bisect_left(ids, message.id)
        if index < len(ids) and ids[index] == message.id:
            ids.pop(index)
        channel = self.channels.get(message.channel_id)
        if channel is not None and channel.is_thread and channel.message_count > 0:
            channel.message_count -= 1

    def history(
        self, channel_id: int, limit: int, before: int | None, after: int | None,
        around: int | None,
    ) -> list[Message]:
        ids = self.channel_message_ids.get(channel_id, [])
        if around is not None:
            centre = bisect.bisect_left(ids, around)
            half = limit // 2
            start = max(0, centre - half)
            chosen = ids[start:start + limit]
        elif after is not None:
            start = bisect.bisect_right(ids, after)
            end = len(ids) if before is None else bisect.bisect_left(ids, before)
            chosen = ids[start:min(end, start + limit)]
        else:
            end = len(ids) if before is None else bisect.bisect_left(ids, before)
            chosen = ids[max(0, end - limit):end]
        return [self.messages[i] for i in reversed(chosen)]

    def new_token(self) -> str:
        return secrets.token_urlsafe(32)

    # --- payloads -------------------------------------------------------------------------

    def member_payload(self, member: Member, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": iso(member.communication_disabled_until),
        }
        if with_user:
            data["user"] = self.users[member.user_id].payload()
        return data

    def guild_payload(self, guild: Guild, member_ids: list[int] | None = None) -> dict[str, Any]:
        channels = [self.channels[c] for c in guild.channel_ids if not self.channels[c].deleted]
        threads = [t for t in self.threads_of(guild.id) if not t.archived]
        members = list(guild.members.values())
        if member_ids is not None:
            members = [m for m in members if m.user_id in member_ids]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "features": ["COMMUNITY"],
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "vanity_url_code": None,
            "premium_progress_bar_enabled": False,
            "emojis": [],
            "stickers": [],
            "roles": [r.payload() for r in sorted(guild.roles.values(), key=lambda r: r.position)],
            "channels": [c.payload() for c in channels],
            "threads": [t.payload() for t in threads],
            "members": [self.member_payload(m) for m in members],
            "member_count": len(guild.members),
            "large": False,
            "unavailable": False,
            "joined_at": iso(snowflake_time(guild.id)),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def message_author_payload(self, message: Message) -> dict[str, Any]:
        if message.webhook_id is not None:
            return {
                "id": str(message.webhook_id),
                "username": message.webhook_name or "Webhook",
                "discriminator": "0000",
                "avatar": message.webhook_avatar,
                "global_name": None,
                "bot": True,
                "public_flags": 0,
                "flags": 0,
                "primary_guild": None,
            }
        return self.users[message.author_id].payload()

    def message_payload(
        self, message: Message, *, with_member: bool = False, with_reference: bool = True,
        viewer_id: int | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "type": message.type,
            "author": self.message_author_payload(message),
            "content": message.content,
            "timestamp": iso(snowflake_time(message.id)),
            "edited_timestamp": iso(message.edited_at),
            "tts": message.tts,
            "mention_everyone": message.mention_everyone,
            "mentions": [self.users[u].payload() for u in message.mention_ids if u in self.users],
            "mention_roles": [str(r) for r in message.mention_role_ids],
            "attachments": [
                a.payload(self.attachment_base, message.channel_id) for a in message.attachments
            ],
            "embeds": message.embeds,
            "components": message.components,
            "pinned": message.pinned,
            "flags": message.flags,
        }
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        if message.reactions:
            data["reactions"] = [
                {
                    "emoji": r.emoji,
                    "count": len(r.user_ids),
                    "count_details": {"burst": 0, "normal": len(r.user_ids)},
                    "burst_colors": [],
                    "me_burst": False,
                    "burst_me": False,
                    "burst_count": 0,
                    "me": viewer_id is not None and viewer_id in r.user_ids,
                }
                for r in message.reactions.values()
                if r.user_ids
            ]
        if message.sticker_items:
            data["sticker_items"] = message.sticker_items
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.webhook_id is not None:
            data["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
        if message.position is not None:
            data["position"] = message.position
        if message.reference is not None:
            data["message_reference"] = message.reference
            if with_reference and message.type == REPLY_MESSAGE:
                ref_id = int(message.reference["message_id"])
                ref = self.messages.get(ref_id)
                data["referenced_message"] = (
                    self.message_payload(ref, with_reference=False) if ref else None
                )
        if message.thread_id is not None:
            thread = self.channels.get(message.thread_id)
            if thread is not None and not thread.deleted:
                data["thread"] = thread.payload()
        if with_member and message.guild_id is not None and message.webhook_id is None:
            guild = self.guilds.get(message.guild_id)
            member = guild.members.get(message.author_id) if guild else None
            if member is not None:
                data["member"] = self.member_payload(member, with_user=False)
        return data

    def webhook_payload(self, webhook: Webhook, with_token: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(webhook.id),
            "type": webhook.type,
            "channel_id": str(webhook.channel_id),
            "guild_id": str(webhook.guild_id) if webhook.guild_id else None,
            "name": webhook.name,
            "avatar": webhook.avatar,
            "application_id": str(webhook.application_id) if webhook.application_id else None,
        }
        if with_token:
            data["token"] = webhook.token
        if webhook.creator_id is not None and webhook.creator_id in self.users:
            data["user"] = self.users[webhook.creator_id].payload()
        return data

    def application_payload(self, app: Application) -> dict[str, Any]:
        return {
            "id": str(app.id),
            "name": app.name,
            "icon": None,
            "description": "",
            "summary": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.users[app.owner_id].payload(),
            "verify_key": "0" * 64,
            "flags": app.flags,
            "flags_new": str(app.flags),
            "type": None,
            "approximate_guild_count": sum(
                1 for g in self.guilds.values() if app.bot_user_id in g.members
            ),
            "approximate_user_authorization_count": 0,
            "approximate_user_install_count": 0,
            "eligible_oauth2_scopes": [],
            "explicit_content_filter": 0,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "role_connections_verification_url": None,
            "team": None,
            "bot": self.users[app.bot_user_id].payload(),
        }
