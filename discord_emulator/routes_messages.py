"""Message, reaction and history endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from .core import emoji_key, parse_emoji
from .errors import UNKNOWN_EMOJI, FormErrors, not_found
from .permissions import Perm
from .rest import Ctx, Reply, Router
from .state import Message
from .validation import check_message_body, message_fields


def _sticker_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": str(s), "name": f"sticker-{s}", "format_type": 1}
        for s in body.get("sticker_ids") or []
    ]


async def create_message(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    body = ctx.json()
    check_message_body(body, max_content=ctx.core.config.max_content_length,
                       has_files=bool(ctx.files))
    message = ctx.core.create_message(
        channel,
        ctx.bot_id,
        **message_fields(body),
        attachments=ctx.files,
        reference=body.get("message_reference"),
        stickers=_sticker_items(body),
        nonce=body.get("nonce"),
        check_as=ctx.bot_id,
    )
    return 200, ctx.state.message_payload(message, viewer_id=ctx.bot_id)


def _snowflake_query(ctx: Ctx, name: str, errors: FormErrors) -> int | None:
    raw = ctx.query.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.add((name,), "NUMBER_TYPE_COERCE", f"Value \"{raw}\" is not snowflake.")
        return None


async def history(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.VIEW_CHANNEL, Perm.READ_MESSAGE_HISTORY)
    errors = FormErrors()
    limit = 50
    if "limit" in ctx.query:
        try:
            limit = int(ctx.query["limit"])
        except ValueError:
            errors.add(("limit",), "NUMBER_TYPE_COERCE", "Value is not int.")
        else:
            if limit < 1:
                errors.add(("limit",), "NUMBER_TYPE_MIN",
                           "int value should be greater than or equal to 1.")
            elif limit > 100:
                errors.add(("limit",), "NUMBER_TYPE_MAX",
                           "int value should be less than or equal to 100.")
    before = _snowflake_query(ctx, "before", errors)
    after = _snowflake_query(ctx, "after", errors)
    around = _snowflake_query(ctx, "around", errors)
    errors.raise_if_any()
    messages = ctx.state.history(channel.id, limit, before, after, around)
    return 200, [ctx.state.message_payload(m, viewer_id=ctx.bot_id) for m in messages]


async def get_message(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.VIEW_CHANNEL, Perm.READ_MESSAGE_HISTORY)
    message = ctx.core.message(channel, ctx.params["message_id"])
    if not ctx.state.is_listed(message):
        raise not_found(10008, "Message")
    return 200, ctx.state.message_payload(message, viewer_id=ctx.bot_id)


def _listed_message(ctx: Ctx) -> Message:
    channel = ctx.core.channel(ctx.params["channel_id"])
    message = ctx.core.message(channel, ctx.params["message_id"])
    if not ctx.state.is_listed(message):
        raise not_found(10008, "Message")
    return message


async def edit_message(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    body = ctx.json()
    check_message_body(body, max_content=ctx.core.config.max_content_length,
                       has_files=bool(ctx.files), require_content=False)
    ctx.core.edit_message(message, body, check_as=ctx.bot_id, attachments=ctx.files)
    return 200, ctx.state.message_payload(message, viewer_id=ctx.bot_id)


async def delete_message(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    ctx.core.delete_message(message, check_as=ctx.bot_id)
    return 204, None


async def bulk_delete(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ids = ctx.json().get("messages")
    if not isinstance(ids, list):
        errors = FormErrors()
        errors.add(("messages",), "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
    ctx.core.bulk_delete(channel, list(ids or []), check_as=ctx.bot_id)
    return 204, None


def _emoji(ctx: Ctx) -> dict[str, Any]:
    text = unquote(ctx.params["emoji"])
    if not text:
        raise not_found(UNKNOWN_EMOJI, "Emoji")
    return parse_emoji(text)


async def add_reaction(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    ctx.core.add_reaction(message, ctx.bot_id, _emoji(ctx), check=True)
    return 204, None


async def remove_own_reaction(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    ctx.core.remove_reaction(message, ctx.bot_id, _emoji(ctx))
    return 204, None


async def remove_user_reaction(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    channel = ctx.core.channel(message.channel_id)
    ctx.core.require(channel, ctx.bot_id, Perm.MANAGE_MESSAGES)
    ctx.core.remove_reaction(message, int(ctx.params["user_id"]), _emoji(ctx))
    return 204, None


async def reaction_users(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    reaction = message.reactions.get(emoji_key(_emoji(ctx)))
    if reaction is None:
        return 200, []
    limit = max(1, min(100, int(ctx.query.get("limit", 25))))
    after = int(ctx.query.get("after", 0))
    ids = sorted(u for u in reaction.user_ids if u > after)[:limit]
    return 200, [ctx.state.users[u].payload() for u in ids]


async def clear_reactions(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    ctx.core.require(ctx.core.channel(message.channel_id), ctx.bot_id, Perm.MANAGE_MESSAGES)
    emoji = _emoji(ctx) if "emoji" in ctx.params else None
    ctx.core.clear_reactions(message, emoji)
    return 204, None


async def pin(ctx: Ctx) -> Reply:
    message = _listed_message(ctx)
    ctx.core.require(ctx.core.channel(message.channel_id), ctx.bot_id, Perm.MANAGE_MESSAGES)
    ctx.core.set_pinned(message, ctx.request.method == "PUT")
    return 204, None


async def pins(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.VIEW_CHANNEL, Perm.READ_MESSAGE_HISTORY)
    pinned = sorted(
        ((m.pinned_at, m) for m in ctx.state.messages_in(channel.id) if m.pinned_at),
        key=lambda pair: pair[0], reverse=True,
    )
    before = ctx.query.get("before")
    if before:
        cutoff = datetime.fromisoformat(before)
        pinned = [(at, m) for at, m in pinned if at < cutoff]
    limit = max(1, min(50, int(ctx.query.get("limit") or 50)))
    return 200, {
        "items": [{"pinned_at": at.isoformat(),
                   "message": ctx.state.message_payload(m, viewer_id=ctx.bot_id)}
                  for at, m in pinned[:limit]],
        "has_more": len(pinned) > limit,
    }


async def typing(ctx: Ctx) -> Reply:
    ctx.core.channel(ctx.params["channel_id"])
    return 204, None


def register(router: Router) -> None:
    base = "/channels/{channel_id}/messages"
    router.add("POST", f"{base}/bulk-delete", bulk_delete)
    router.add("GET", f"{base}/pins", pins)
    router.add("PUT", f"{base}/pins/{{message_id}}", pin)
    router.add("DELETE", f"{base}/pins/{{message_id}}", pin)
    router.add("POST", base, create_message, message_create=True)
    router.add("GET", base, history)
    router.add("GET", f"{base}/{{message_id}}", get_message)
    router.add("PATCH", f"{base}/{{message_id}}", edit_message)
    router.add("DELETE", f"{base}/{{message_id}}", delete_message)
    reactions = f"{base}/{{message_id}}/reactions/{{emoji}}"
    router.add("PUT", f"{reactions}/@me", add_reaction)
    router.add("DELETE", f"{reactions}/@me", remove_own_reaction)
    router.add("DELETE", f"{reactions}/{{user_id}}", remove_user_reaction)
    router.add("GET", reactions, reaction_users)
    router.add("DELETE", reactions, clear_reactions)
    router.add("DELETE", f"{base}/{{message_id}}/reactions", clear_reactions)
    router.add("POST", "/channels/{channel_id}/typing", typing)
