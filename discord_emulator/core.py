"""Shared domain operations: every state change goes through here, from REST or the driver."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from .config import EmulatorConfig
from .errors import (
    CANNOT_DM,
    THREAD_LOCKED,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    FormErrors,
    forbidden,
    not_found,
)
from .gateway import Gateway, MessageVisibility
from .journal import Journal
from .permissions import Perm
from .snowflake import snowflake_time
from .state import (
    DM,
    FORUM,
    PUBLIC_THREAD,
    REPLY_MESSAGE,
    Attachment,
    Channel,
    Guild,
    Message,
    Reaction,
    State,
    Webhook,
    now,
)
from .validation import (
    check_applied_tags,
    check_message_body,
    check_thread_name,
    message_fields,
)

REQUIRE_TAG = 1 << 4
USER_MENTION = re.compile(r"<@!?(\d+)>")
ROLE_MENTION = re.compile(r"<@&(\d+)>")


def emoji_key(emoji: dict[str, Any]) -> str:
    return f"{emoji.get('name')}:{emoji['id']}" if emoji.get("id") else str(emoji.get("name"))


def parse_emoji(text: str) -> dict[str, Any]:
    """Path form: a unicode emoji, or `name:id` for a custom one."""
    if ":" in text:
        name, _, emoji_id = text.rpartition(":")
        return {"id": emoji_id, "name": name.lstrip("a:") if name.startswith("a:") else name}
    return {"id": None, "name": text}


class Core:
    def __init__(
        self,
        state: State,
        gateway: Gateway,
        journal: Journal,
        config: EmulatorConfig,
        notify: Callable[[], None],
    ) -> None:
        self.state = state
        self.gateway = gateway
        self.journal = journal
        self.config = config
        self.notify = notify

    # --- lookups that raise Discord's 404s ------------------------------------------------

    def channel(self, channel_id: int | str) -> Channel:
        try:
            channel = self.state.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_CHANNEL, "Channel") from None
        if channel.deleted:
            raise not_found(UNKNOWN_CHANNEL, "Channel")
        return channel

    def message(self, channel: Channel, message_id: int | str) -> Message:
        try:
            message = self.state.messages[int(message_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_MESSAGE, "Message") from None
        if message.channel_id != channel.id:
            raise not_found(UNKNOWN_MESSAGE, "Message")
        return message

    def webhook(self, webhook_id: int | str) -> Webhook:
        try:
            return self.state.webhooks[int(webhook_id)]
        except (KeyError, ValueError):
            raise not_found(UNKNOWN_WEBHOOK, "Webhook") from None

    def guild_of(self, channel: Channel) -> Guild | None:
        return self.state.guilds.get(channel.guild_id) if channel.guild_id else None

    def require(self, channel: Channel, user_id: int | None, *perms: Perm) -> None:
        """Raise 403 50013 unless `user_id` holds every permission in `channel`."""
        if user_id is None:
            return
        have = self.state.channel_permissions(channel, user_id)
        for perm in perms:
            if not have & perm:
                raise forbidden()

    def require_guild(self, guild: Guild, user_id: int | None, perm: Perm) -> None:
        if user_id is None:
            return
        if not self.state.member_permissions(guild, user_id) & perm:
            raise forbidden()

    # --- event payload helpers ------------------------------------------------------------

    def _message_event(self, name: str, message: Message) -> None:
        full = self.state.message_payload(message, with_member=True)
        vis = MessageVisibility(
            message.guild_id is not None, message.author_id, frozenset(message.mention_ids)
        )
        stripped = None
        if self.gateway.someone_lacks_content(vis):
            stripped = dict(full)
            stripped.update(content="", embeds=[], attachments=[], components=[])
            stripped.pop("poll", None)
            if stripped.get("referenced_message"):
                ref = dict(stripped["referenced_message"])
                ref.update(content="", embeds=[], attachments=[], components=[])
                stripped["referenced_message"] = ref
        self.gateway.dispatch(
            name, full, in_guild=message.guild_id is not None, stripped=stripped, visibility=vis
        )

    def _thread_event(self, name: str, thread: Channel, **extra: Any) -> None:
        self.gateway.dispatch(name, {**thread.payload(), **extra})

    def _channel_update(self, channel: Channel) -> None:
        if channel.is_thread:
            self._thread_event("THREAD_UPDATE", channel)
        else:
            self.gateway.dispatch("CHANNEL_UPDATE", channel.payload())

    # --- messages -------------------------------------------------------------------------

    def _mentions(
        self, content: str, allowed: dict[str, Any] | None, reply_author: int | None,
        guild: Guild | None,
    ) -> tuple[list[int], list[int], bool]:
        users = [int(u) for u in USER_MENTION.findall(content)]
        roles = [int(r) for r in ROLE_MENTION.findall(content)]
        everyone = "@everyone" in content or "@here" in content
        # Without allowed_mentions Discord pings everything it parses, replied user included.
        parse = {"users", "roles", "everyone"}
        allowed_users: set[int] = set()
        allowed_roles: set[int] = set()
        replied_ok = True
        if allowed is not None:
            parse = set(allowed.get("parse") or [])
            allowed_users = {int(u) for u in allowed.get("users") or []}
            allowed_roles = {int(r) for r in allowed.get("roles") or []}
            replied_ok = bool(allowed.get("replied_user", False))

        def user_ok(user_id: int) -> bool:
            return "users" in parse or user_id in allowed_users

        def role_ok(role_id: int) -> bool:
            return "roles" in parse or role_id in allowed_roles

        everyone_ok = "everyone" in parse
        mention_ids: list[int] = []
        for user_id in users:
            if user_ok(user_id) and user_id in self.state.users and user_id not in mention_ids:
                mention_ids.append(user_id)
        if reply_author is not None and replied_ok and reply_author not in mention_ids:
            mention_ids.append(reply_author)
        role_ids = []
        for role_id in roles:
            if role_ok(role_id) and guild is not None and role_id in guild.roles:
                role_ids.append(role_id)
        return mention_ids, role_ids, everyone and everyone_ok

    def _prepare_target(self, channel: Channel, author_id: int | None, files: bool) -> None:
        """Permission checks and the archive/lock rules for posting into `channel`."""
        if channel.type == FORUM:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.type == DM:
            # A member who closed their DMs to server members (or blocked the bot).
            for user_id in channel.recipient_ids:
                user = self.state.users.get(user_id)
                if user_id != author_id and user is not None and not user.accepts_dms:
                    raise ApiError(403, CANNOT_DM, "Cannot send messages to this user")
            return
        if channel.is_thread:
            self.require(channel, author_id, Perm.VIEW_CHANNEL, Perm.SEND_MESSAGES_IN_THREADS)
            self.check_thread_lock(channel, author_id)
        else:
            self.require(channel, author_id, Perm.VIEW_CHANNEL, Perm.SEND_MESSAGES)
        if files:
            self.require(channel, author_id, Perm.ATTACH_FILES)

    def check_thread_lock(self, channel: Channel, author_id: int | None) -> None:
        """A locked thread takes messages only from those with Manage Threads (403 160005)."""
        if channel.is_thread and channel.locked and author_id is not None and not (
            self.state.channel_permissions(channel, author_id) & Perm.MANAGE_THREADS
        ):
            raise ApiError(403, THREAD_LOCKED, "Thread is locked")

    def _unarchive_if_needed(self, channel: Channel) -> None:
        if channel.is_thread and channel.archived and not channel.locked:
            channel.archived = False
            channel.archive_timestamp = now()
            self._thread_event("THREAD_UPDATE", channel)

    def create_message(
        self,
        channel: Channel,
        author_id: int,
        *,
        content: str = "",
        embeds: list[dict[str, Any]] | None = None,
        attachments: list[Attachment] | None = None,
        components: list[dict[str, Any]] | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        reference: dict[str, Any] | None = None,
        stickers: list[dict[str, Any]] | None = None,
        flags: int = 0,
        nonce: str | int | None = None,
        tts: bool = False,
        check_as: int | None = None,
        webhook: Webhook | None = None,
        webhook_name: str | None = None,
        webhook_avatar: str | None = None,
        application_id: int | None = None,
        message_type: int | None = None,
        message_id: int | None = None,
        store_in_channel: bool = True,
        dispatch: bool = True,
    ) -> Message:
        """Create and store a message; `check_as` enforces that user's channel permissions."""
        self._prepare_target(channel, check_as, bool(attachments))
        guild = self.guild_of(channel)
        reply_author = None
        stored_ref = None
        msg_type = 0
        if reference is not None and reference.get("message_id") is not None:
            ref_channel_id = int(reference.get("channel_id") or channel.id)
            target = self.state.messages.get(int(reference["message_id"]))
            if target is None or target.channel_id != ref_channel_id:
                if reference.get("fail_if_not_exists", True):
                    errors = FormErrors()
                    errors.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                               "Unknown message")
                    errors.raise_if_any()
            else:
                reply_author = target.author_id if target.webhook_id is None else None
                stored_ref = {
                    "type": 0,
                    "message_id": str(target.id),
                    "channel_id": str(target.channel_id),
                }
                if target.guild_id:
                    stored_ref["guild_id"] = str(target.guild_id)
                msg_type = REPLY_MESSAGE
        mention_ids, role_ids, everyone = self._mentions(
            content or "", allowed_mentions, reply_author, guild
        )
        for attachment in attachments or []:
            attachment.id = attachment.id or self.state.ids.next()
        message = Message(
            id=message_id or self.state.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=content or "",
            embeds=[self._normalise_embed(e) for e in embeds or []],
            attachments=attachments or [],
            components=self.number_components(components),
            sticker_items=stickers or [],
            mention_ids=mention_ids,
            mention_role_ids=role_ids,
            mention_everyone=everyone,
            allowed_mentions=allowed_mentions,
            reference=stored_ref,
            type=message_type if message_type is not None else msg_type,
            flags=flags,
            nonce=nonce,
            tts=tts,
            webhook_id=webhook.id if webhook else None,
            webhook_name=webhook_name or (webhook.name if webhook else None),
            webhook_avatar=webhook_avatar or (webhook.avatar if webhook else None),
            application_id=application_id,
        )
        if not store_in_channel:
            self.state.messages[message.id] = message
            self.notify()
            return message
        self._unarchive_if_needed(channel)
        self.state.add_message(message)
        if dispatch:
            self._message_event("MESSAGE_CREATE", message)
        else:
            self.notify()
        return message

    @staticmethod
    def _normalise_embed(embed: dict[str, Any]) -> dict[str, Any]:
        return {"type": "rich", **embed}

    @staticmethod
    def number_components(components: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """Discord gives every component in a message a numeric id when the sender didn't."""
        counter = 0

        def walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            nonlocal counter
            result = []
            for item in items:
                item = dict(item)
                counter += 1
                item.setdefault("id", counter)
                if isinstance(item.get("components"), list):
                    item["components"] = walk(item["components"])
                if isinstance(item.get("component"), dict):
                    item["component"] = walk([item["component"]])[0]
                result.append(item)
            return result

        return walk(components or [])

    def edit_message(
        self, message: Message, changes: dict[str, Any], *, check_as: int | None = None,
        attachments: list[Attachment] | None = None,
    ) -> Message:
        if check_as is not None and message.author_id != check_as:
            raise forbidden("Cannot edit a message authored by another user", 50005)
        if "content" in changes:
            message.content = changes["content"] or ""
        if "embeds" in changes:
            message.embeds = [self._normalise_embed(e) for e in changes["embeds"] or []]
        if "components" in changes:
            message.components = self.number_components(changes["components"])
        if "flags" in changes and changes["flags"] is not None:
            # Only SUPPRESS_EMBEDS can be toggled by an edit; keep the other bits.
            message.flags = (message.flags & ~4) | (int(changes["flags"]) & 4)
        if "allowed_mentions" in changes:
            message.allowed_mentions = changes["allowed_mentions"]
        if "attachments" in changes:
            keep = {int(a["id"]) for a in changes["attachments"] or [] if "id" in a}
            message.attachments = [a for a in message.attachments if a.id in keep]
        if attachments:
            message.attachments.extend(attachments)
        guild = self.state.guilds.get(message.guild_id) if message.guild_id else None
        message.mention_ids, message.mention_role_ids, message.mention_everyone = self._mentions(
            message.content, message.allowed_mentions, None, guild
        )
        message.edited_at = now()
        if self.state.is_listed(message):
            self._message_event("MESSAGE_UPDATE", message)
        return message

    def delete_message(self, message: Message, *, check_as: int | None = None) -> None:
        channel = self.channel(message.channel_id)
        if check_as is not None and message.author_id != check_as:
            self.require(channel, check_as, Perm.MANAGE_MESSAGES)
        self.state.remove_message(message)
        data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id:
            data["guild_id"] = str(message.guild_id)
        self.gateway.dispatch("MESSAGE_DELETE", data, in_guild=message.guild_id is not None)

    def bulk_delete(
        self, channel: Channel, ids: list[Any], *, check_as: int | None = None
    ) -> list[int]:
        self.require(channel, check_as, Perm.MANAGE_MESSAGES)
        if not 2 <= len(ids) <= 100:
            errors = FormErrors()
            errors.add(("messages",), "BASE_TYPE_BAD_LENGTH",
                       "Must be between 2 and 100 in length.")
            errors.raise_if_any()
        cutoff = now() - timedelta(days=self.config.bulk_delete_max_age_days)
        deleted: list[int] = []
        for raw in ids:
            msg_id = int(raw)
            if snowflake_time(msg_id) < cutoff:
                raise ApiError(
                    400, 50034, "You can only bulk delete messages that are under 14 days old."
                )
        for raw in ids:
            message = self.state.messages.get(int(raw))
            if message is not None and message.channel_id == channel.id:
                self.state.remove_message(message)
                deleted.append(message.id)
        data: dict[str, Any] = {"ids": [str(i) for i in deleted], "channel_id": str(channel.id)}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.gateway.dispatch("MESSAGE_DELETE_BULK", data, in_guild=channel.guild_id is not None)
        return deleted

    # --- reactions ------------------------------------------------------------------------

    def add_reaction(
        self, message: Message, user_id: int, emoji: dict[str, Any], *, check: bool = False
    ) -> None:
        channel = self.channel(message.channel_id)
        if check:
            self.require(channel, user_id, Perm.VIEW_CHANNEL, Perm.READ_MESSAGE_HISTORY,
                         Perm.ADD_REACTIONS)
        reaction = message.reactions.setdefault(emoji_key(emoji), Reaction(emoji))
        if user_id in reaction.user_ids:
            return
        reaction.user_ids.append(user_id)
        data = _reaction_data(message, user_id, emoji)
        data["message_author_id"] = str(message.author_id)
        if message.guild_id:
            member = self.state.guilds[message.guild_id].members.get(user_id)
            if member is not None:
                data["member"] = self.state.member_payload(member)
        self.gateway.dispatch(
            "MESSAGE_REACTION_ADD", data, in_guild=message.guild_id is not None
        )

    def remove_reaction(self, message: Message, user_id: int, emoji: dict[str, Any]) -> None:
        reaction = message.reactions.get(emoji_key(emoji))
        if reaction is None or user_id not in reaction.user_ids:
            return
        reaction.user_ids.remove(user_id)
        if not reaction.user_ids:
            del message.reactions[emoji_key(emoji)]
        self.gateway.dispatch(
            "MESSAGE_REACTION_REMOVE", _reaction_data(message, user_id, emoji),
            in_guild=message.guild_id is not None,
        )

    def clear_reactions(self, message: Message, emoji: dict[str, Any] | None = None) -> None:
        data: dict[str, Any] = {"channel_id": str(message.channel_id),
                                "message_id": str(message.id)}
        if message.guild_id:
            data["guild_id"] = str(message.guild_id)
        if emoji is None:
            message.reactions.clear()
            name = "MESSAGE_REACTION_REMOVE_ALL"
        else:
            message.reactions.pop(emoji_key(emoji), None)
            data["emoji"] = emoji
            name = "MESSAGE_REACTION_REMOVE_EMOJI"
        self.gateway.dispatch(name, data, in_guild=message.guild_id is not None)

    def set_pinned(self, message: Message, pinned: bool) -> None:
        if message.pinned == pinned:
            return
        message.pinned = pinned
        message.pinned_at = now() if pinned else None
        channel = self.channel(message.channel_id)
        pins = [m for m in self.state.messages_in(channel.id) if m.pinned and m.pinned_at]
        last = max((m.pinned_at for m in pins if m.pinned_at), default=None)
        data: dict[str, Any] = {"channel_id": str(channel.id),
                                "last_pin_timestamp": last.isoformat() if last else None}
        if channel.guild_id:
            data["guild_id"] = str(channel.guild_id)
        self.gateway.dispatch("CHANNEL_PINS_UPDATE", data, in_guild=channel.guild_id is not None)
        self._message_event("MESSAGE_UPDATE", message)

    def remove_member(self, guild: Guild, user_id: int) -> None:
        guild.members.pop(user_id, None)
        self.gateway.dispatch("GUILD_MEMBER_REMOVE", {
            "guild_id": str(guild.id), "user": self.state.users[user_id].payload()
        })

    # --- threads --------------------------------------------------------------------------

    def _new_thread(
        self, parent: Channel, thread_id: int, name: str, owner_id: int, body: dict[str, Any],
        applied_tags: list[int] | None = None, thread_type: int = PUBLIC_THREAD,
    ) -> Channel:
        thread = Channel(
            id=thread_id,
            type=thread_type,
            guild_id=parent.guild_id,
            name=name,
            parent_id=parent.id,
            owner_id=owner_id,
            auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            applied_tags=applied_tags or [],
            member_ids={owner_id},
        )
        self.state.channels[thread.id] = thread
        return thread

    def thread_from_message(
        self, channel: Channel, message: Message, body: dict[str, Any], owner_id: int,
        *, check: bool = True,
    ) -> Channel:
        if check:
            self.require(channel, owner_id, Perm.VIEW_CHANNEL, Perm.CREATE_PUBLIC_THREADS)
        errors = FormErrors()
        check_thread_name(errors, body.get("name"))
        errors.raise_if_any()
        if channel.is_thread or channel.type not in (0, 5):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.thread_id is not None or message.id in self.state.channels:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        thread = self._new_thread(channel, message.id, str(body["name"]), owner_id, body)
        message.thread_id = thread.id
        self._thread_event("THREAD_CREATE", thread, newly_created=True)
        self._message_event("MESSAGE_UPDATE", message)
        return thread

    def thread_in_channel(
        self, channel: Channel, body: dict[str, Any], owner_id: int, *, check: bool = True,
        attachments: list[Attachment] | None = None,
    ) -> tuple[Channel, Message | None]:
        errors = FormErrors()
        check_thread_name(errors, body.get("name"))
        if channel.type == FORUM:
            valid = {int(t["id"]) for t in channel.available_tags}
            tags = check_applied_tags(errors, body.get("applied_tags"), valid)
            if channel.flags & REQUIRE_TAG and not tags:
                errors.add(("applied_tags",), "BASE_TYPE_REQUIRED",
                           "A tag is required to create a forum post in this channel")
            if not isinstance(body.get("message"), dict):
                errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
            errors.raise_if_any()
            if check:
                self.require(channel, owner_id, Perm.VIEW_CHANNEL, Perm.SEND_MESSAGES)
            msg_body = body["message"]
            check_message_body(msg_body, max_content=self.config.max_content_length,
                               has_files=bool(attachments), prefix=("message",))
            thread_id = self.state.ids.next()
            thread = self._new_thread(channel, thread_id, str(body["name"]), owner_id, body, tags)
            self._thread_event("THREAD_CREATE", thread, newly_created=True)
            starter = self.create_message(
                thread,
                owner_id,
                **message_fields(msg_body),
                attachments=attachments,
                message_id=thread_id,
            )
            return thread, starter
        errors.raise_if_any()
        if channel.is_thread or channel.type not in (0, 5):
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        thread_type = int(body.get("type") or 12)
        if check:
            needed = (
                Perm.CREATE_PUBLIC_THREADS if thread_type == PUBLIC_THREAD
                else Perm.CREATE_PRIVATE_THREADS
            )
            self.require(channel, owner_id, Perm.VIEW_CHANNEL, needed)
        thread = self._new_thread(
            channel, self.state.ids.next(), str(body["name"]), owner_id, body,
            thread_type=thread_type,
        )
        self._thread_event("THREAD_CREATE", thread, newly_created=True)
        return thread, None

    def webhook_forum_thread(
        self, forum: Channel, name: str, owner_id: int, applied_tags: Any
    ) -> Channel:
        errors = FormErrors()
        valid = {int(t["id"]) for t in forum.available_tags}
        tags = check_applied_tags(errors, applied_tags, valid)
        errors.raise_if_any()
        thread = self._new_thread(forum, self.state.ids.next(), name, owner_id, {}, tags)
        self._thread_event("THREAD_CREATE", thread, newly_created=True)
        return thread

    def modify_channel(
        self, channel: Channel, body: dict[str, Any], *, check_as: int | None = None
    ) -> Channel:
        errors = FormErrors()
        if "name" in body:
            check_thread_name(errors, body["name"])
        if channel.is_thread:
            if check_as is not None and not (
                check_as == channel.owner_id and set(body) <= {"name", "archived",
                                                              "auto_archive_duration",
                                                              "applied_tags"}
                and not channel.locked
            ):
                self.require(channel, check_as, Perm.MANAGE_THREADS)
            if "applied_tags" in body:
                parent = self.state.thread_parent(channel)
                valid = {int(t["id"]) for t in parent.available_tags}
                tags = check_applied_tags(errors, body["applied_tags"], valid)
            errors.raise_if_any()
            if "applied_tags" in body:
                channel.applied_tags = tags
            if "name" in body:
                channel.name = str(body["name"])
            if "locked" in body and body["locked"] is not None:
                channel.locked = bool(body["locked"])
            if "archived" in body and body["archived"] is not None:
                if channel.archived != bool(body["archived"]):
                    channel.archive_timestamp = now()
                channel.archived = bool(body["archived"])
            for key in ("auto_archive_duration", "rate_limit_per_user", "flags"):
                if body.get(key) is not None:
                    setattr(channel, key, int(body[key]))
        else:
            self.require(channel, check_as, Perm.MANAGE_CHANNELS)
            if "available_tags" in body:
                tags_in = body["available_tags"] or []
                if len(tags_in) > 20:
                    errors.add(("available_tags",), "BASE_TYPE_MAX_LENGTH",
                               "Must be 20 or fewer in length.")
            errors.raise_if_any()
            if "available_tags" in body:
                channel.available_tags = [self.make_tag(t) for t in body["available_tags"] or []]
            for key in ("name", "topic"):
                if key in body:
                    setattr(channel, key, body[key])
            for key in ("position", "rate_limit_per_user", "flags"):
                if body.get(key) is not None:
                    setattr(channel, key, int(body[key]))
            if "permission_overwrites" in body:
                channel.permission_overwrites = [
                    {"id": str(o["id"]), "type": int(o.get("type", 0)),
                     "allow": str(o.get("allow", 0)), "deny": str(o.get("deny", 0))}
                    for o in body["permission_overwrites"] or []
                ]
        self._channel_update(channel)
        return channel

    def make_tag(self, tag: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(tag.get("id") or self.state.ids.next()),
            "name": str(tag.get("name", "")),
            "moderated": bool(tag.get("moderated", False)),
            "emoji_id": str(tag["emoji_id"]) if tag.get("emoji_id") else None,
            "emoji_name": tag.get("emoji_name"),
        }

    def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        if channel.is_thread:
            self.gateway.dispatch("THREAD_DELETE", {
                "id": str(channel.id), "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id), "type": channel.type,
            })
        else:
            self.gateway.dispatch("CHANNEL_DELETE", channel.payload())

    def dm_channel(self, bot_id: int, user_id: int) -> Channel:
        key = (min(bot_id, user_id), max(bot_id, user_id))
        existing = self.state.dm_channels.get(key)
        if existing is not None:
            return self.state.channels[existing]
        channel = Channel(id=self.state.ids.next(), type=DM, guild_id=None,
                          recipient_ids=[bot_id, user_id])
        self.state.channels[channel.id] = channel
        self.state.dm_channels[key] = channel.id
        self.notify()
        return channel

    def dm_payload(self, channel: Channel, viewer_id: int) -> dict[str, Any]:
        data = channel.payload()
        data["recipients"] = [
            self.state.users[u].payload() for u in channel.recipient_ids if u != viewer_id
        ]
        return data


def _reaction_data(message: Message, user_id: int, emoji: dict[str, Any]) -> dict[str, Any]:
    """What MESSAGE_REACTION_ADD and _REMOVE both carry."""
    data: dict[str, Any] = {
        "user_id": str(user_id),
        "channel_id": str(message.channel_id),
        "message_id": str(message.id),
        "emoji": emoji,
        "burst": False,
        "type": 0,
    }
    if message.guild_id:
        data["guild_id"] = str(message.guild_id)
    return data
