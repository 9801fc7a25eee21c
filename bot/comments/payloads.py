"""discord.py messages and raw payloads turned into the plain shapes the sync works with."""

from __future__ import annotations

import dataclasses
import sys
from datetime import datetime
from typing import Any, Literal

import discord

from bot.comments.events import Attachment, IncomingMessage, Standing, snowflake_time


def valid_text(text: str) -> str:
    """Lone surrogates (a JSON escape like \\ud800 decodes to one) cannot be stored: they
    become U+FFFD; proper pairs become the characters they encode."""
    if text.isascii():
        return text  # the common case, and surrogates are never ASCII
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def standing_of(author: discord.abc.User) -> Standing:
    """A Member's roles and Manage Messages. History pages carry users, not members: unless the
    member is cached, their roles are unknown and the rules treat them as any member."""
    if not isinstance(author, discord.Member):
        return Standing()
    permissions = author.guild_permissions
    return Standing(
        role_ids=frozenset(role.id for role in author.roles),
        manages_messages=permissions.manage_messages or permissions.administrator,
    )


def standing_from_payload(guild: discord.Guild | None, data: dict[str, Any]) -> Standing:
    """The author's standing from a raw MESSAGE_CREATE or MESSAGE_UPDATE: its partial member's
    roles (which roles let a member moderate is the moderation policy's business)."""
    member = data.get("member")
    if not isinstance(member, dict):
        return Standing()
    author = data.get("author") or {}
    owner = guild is not None and str(guild.owner_id) == str(author.get("id"))
    key = (tuple(member.get("roles") or ()), owner)
    standing = _STANDINGS.get(key)
    if standing is None:
        if len(_STANDINGS) >= _STANDINGS_KEPT:
            _STANDINGS.clear()
        standing = _STANDINGS[key] = Standing(frozenset(int(role) for role in key[0]), owner)
    return standing


# Members share a few sets of roles: one Standing for each, not one per message (a set of roles
# is the largest part of a reply waiting in the writer's queue). Bounded; cleared when full.
_STANDINGS: dict[tuple[tuple[str, ...], bool], Standing] = {}
_STANDINGS_KEPT = 1024


Kind = Literal["default", "reply", "system"]
_KINDS: dict[int, Kind] = {
    discord.MessageType.default.value: "default",
    discord.MessageType.reply.value: "reply",
}


def incoming_from_payload(data: dict[str, Any], guild: discord.Guild | None) -> IncomingMessage:
    """A MESSAGE_CREATE payload read directly, as the discord.Message that discord.py would
    build from it shows it (see CommentsCog's fast path)."""
    author = data["author"]
    member = data.get("member") or {}
    message_id = int(data["id"])
    kind: Kind = _KINDS.get(int(data.get("type") or 0), "system")
    reference = data.get("message_reference") or {}
    reply_to = reference.get("message_id") if kind == "reply" else None
    edited = data.get("edited_timestamp")
    webhook_id = data.get("webhook_id")
    name = member.get("nick") or author.get("global_name") or author.get("username") or ""
    return IncomingMessage(
        message_id=message_id,
        thread_id=int(data["channel_id"]),
        author_id=int(author["id"]),
        # Interned: a few members write most replies, and each waits in the writer's queue.
        author_name=sys.intern(valid_text(str(name))),
        author_is_bot=bool(author.get("bot")),
        webhook_id=int(webhook_id) if webhook_id else None,
        kind=kind,
        content=valid_text(str(data.get("content") or "")),
        attachments=tuple(attachment_from_payload(a) for a in data.get("attachments") or ()),
        has_stickers=bool(data.get("sticker_items") or data.get("stickers")),
        reply_to=int(reply_to) if reply_to else None,
        created_at=snowflake_time(message_id),
        edited_at=datetime.fromisoformat(edited) if edited else None,
        standing=standing_from_payload(guild, data),
    )


def incoming_from_history(data: dict[str, Any], guild: discord.Guild | None) -> IncomingMessage:
    """A message of a history page read directly, as the discord.Message that discord.py
    would build from it shows it. History pages carry users, not members: discord.py takes the
    author's cached member, if any, for the name and roles."""
    incoming = incoming_from_payload(data, guild)
    member = guild.get_member(incoming.author_id) if guild is not None else None
    if member is None:
        return incoming
    return dataclasses.replace(
        incoming, author_name=valid_text(member.display_name), standing=standing_of(member)
    )


def reaction_counts_from_payload(data: dict[str, Any]) -> dict[str, int]:
    """Members' reactions to a message read from history, emoji named as discord.py names
    them: the bot's own (its held marker) are not counted, as they are not live."""
    counts = {
        str(discord.PartialEmoji.from_dict(reaction["emoji"])): int(reaction.get("count", 1))
        - (1 if reaction.get("me") else 0)
        for reaction in data.get("reactions") or ()
    }
    return {emoji: count for emoji, count in counts.items() if count > 0}


def edited_content(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None] | None:
    """Content and attachments of a MESSAGE_UPDATE payload that is a real edit, else None.

    Discord also sends MESSAGE_UPDATE when it adds link previews; those carry no edited time.
    """
    if "content" not in data or not data.get("edited_timestamp"):
        return None
    attachments = data.get("attachments")
    content = valid_text(str(data["content"]))
    return content, attachments if isinstance(attachments, list) else None


def attachment_from_payload(payload: dict[str, Any]) -> Attachment:
    return Attachment(
        url=str(payload.get("url", "")),
        filename=str(payload.get("filename", "")),
        size=int(payload.get("size", 0) or 0),
        content_type=payload.get("content_type"),
    )
