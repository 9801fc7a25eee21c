"""Webhook, interaction callback/follow-up and application command endpoints."""

from __future__ import annotations

from typing import Any

from . import interactions
from .errors import ApiError, FormErrors, not_found
from .permissions import Perm
from .rest import Ctx, Reply, Router
from .state import FORUM, Application, Channel, Message, Webhook
from .validation import check_message_body, check_thread_name, message_fields


def _webhook_with_token(ctx: Ctx) -> Webhook:
    webhook = ctx.core.webhook(ctx.params["webhook_id"])
    if webhook.token != ctx.params["webhook_token"]:
        raise ApiError(401, 50027, "Invalid Webhook Token")
    return webhook


async def create_webhook(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.MANAGE_WEBHOOKS)
    body = ctx.json()
    errors = FormErrors()
    name = body.get("name")
    if name is None or not 1 <= len(str(name)) <= 80:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
    errors.raise_if_any()
    webhook = Webhook(
        id=ctx.state.ids.next(), token=ctx.state.new_token(), channel_id=channel.id,
        guild_id=channel.guild_id, name=str(name), creator_id=ctx.bot_id,
        application_id=ctx.app.id if ctx.app else None,
    )
    ctx.state.webhooks[webhook.id] = webhook
    ctx.core.gateway.dispatch("WEBHOOKS_UPDATE", {"guild_id": str(channel.guild_id),
                                                  "channel_id": str(channel.id)})
    return 200, ctx.state.webhook_payload(webhook)


async def channel_webhooks(ctx: Ctx) -> Reply:
    channel = ctx.core.channel(ctx.params["channel_id"])
    ctx.core.require(channel, ctx.bot_id, Perm.MANAGE_WEBHOOKS)
    return 200, [ctx.state.webhook_payload(w) for w in ctx.state.webhooks.values()
                 if w.channel_id == channel.id]


async def guild_webhooks(ctx: Ctx) -> Reply:
    guild_id = int(ctx.params["guild_id"])
    return 200, [ctx.state.webhook_payload(w) for w in ctx.state.webhooks.values()
                 if w.guild_id == guild_id]


async def get_webhook(ctx: Ctx) -> Reply:
    return 200, ctx.state.webhook_payload(ctx.core.webhook(ctx.params["webhook_id"]))


async def get_webhook_with_token(ctx: Ctx) -> Reply:
    return 200, ctx.state.webhook_payload(_webhook_with_token(ctx), with_token=False)


async def delete_webhook(ctx: Ctx) -> Reply:
    webhook = ctx.core.webhook(ctx.params["webhook_id"])
    if "webhook_token" in ctx.params:
        webhook = _webhook_with_token(ctx)
    else:
        ctx.core.require(ctx.core.channel(webhook.channel_id), ctx.bot_id, Perm.MANAGE_WEBHOOKS)
    del ctx.state.webhooks[webhook.id]
    return 204, None


async def modify_webhook(ctx: Ctx) -> Reply:
    webhook = ctx.core.webhook(ctx.params["webhook_id"])
    if "webhook_token" in ctx.params:
        webhook = _webhook_with_token(ctx)
    body = ctx.json()
    if body.get("name") is not None:
        webhook.name = str(body["name"])
    if "avatar" in body:
        webhook.avatar = body["avatar"]
    if body.get("channel_id") is not None:
        webhook.channel_id = int(body["channel_id"])
    return 200, ctx.state.webhook_payload(webhook)


def _interaction(ctx: Ctx) -> Any:
    return interactions.interaction_by_token(
        ctx.core, ctx.params["webhook_id"], ctx.params["webhook_token"]
    )


def _execute_target(ctx: Ctx, webhook: Webhook, body: dict[str, Any]) -> Channel:
    channel = ctx.core.channel(webhook.channel_id)
    thread_id = ctx.query.get("thread_id")
    if thread_id:
        thread = ctx.core.channel(thread_id)
        if thread.parent_id != channel.id:
            raise ApiError(400, 10003, "Unknown Channel")
        return thread
    if channel.type == FORUM:
        errors = FormErrors()
        if not body.get("thread_name"):
            raise ApiError(400, 220001, "Webhooks posted to forum channels must have a "
                           "thread_name or thread_id")
        check_thread_name(errors, body["thread_name"], ("thread_name",))
        errors.raise_if_any()
    return channel


async def execute_webhook(ctx: Ctx) -> Reply:
    interaction = _interaction(ctx)
    if interaction is not None:
        return interactions.followup(ctx.core, interaction, ctx.json(), ctx.files)
    webhook = _webhook_with_token(ctx)
    body = ctx.json()
    check_message_body(body, max_content=ctx.core.config.max_content_length,
                       has_files=bool(ctx.files))
    target = _execute_target(ctx, webhook, body)
    message_id = None
    if target.type == FORUM:
        thread = ctx.core.webhook_forum_thread(target, str(body["thread_name"]), webhook.id,
                                               body.get("applied_tags"))
        message_id = thread.id
        target = thread
    message = ctx.core.create_message(
        target,
        webhook.id,
        **message_fields(body),
        attachments=ctx.files,
        webhook=webhook,
        webhook_name=body.get("username"),
        webhook_avatar=body.get("avatar_url"),
        message_id=message_id,
    )
    if not ctx.flag("wait"):
        return 204, None
    return 200, ctx.state.message_payload(message)


def _webhook_message(ctx: Ctx, webhook: Webhook) -> Message:
    message = ctx.state.messages.get(int(ctx.params["message_id"])) if ctx.params[
        "message_id"].isdigit() else None
    if message is None or message.webhook_id != webhook.id or not ctx.state.is_listed(message):
        raise not_found(10008, "Message")
    thread_id = ctx.query.get("thread_id")
    if thread_id and str(message.channel_id) != thread_id:
        raise not_found(10008, "Message")
    return message


async def get_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction(ctx)
    if interaction is not None:
        return interactions.get_message(ctx.core, interaction, ctx.params["message_id"])
    message = _webhook_message(ctx, _webhook_with_token(ctx))
    return 200, ctx.state.message_payload(message)


async def edit_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction(ctx)
    if interaction is not None:
        return interactions.edit_message(
            ctx.core, interaction, ctx.params["message_id"], ctx.json(), ctx.files
        )
    message = _webhook_message(ctx, _webhook_with_token(ctx))
    body = ctx.json()
    check_message_body(body, max_content=ctx.core.config.max_content_length,
                       has_files=bool(ctx.files), require_content=False)
    ctx.core.edit_message(message, body, attachments=ctx.files)
    return 200, ctx.state.message_payload(message)


async def delete_webhook_message(ctx: Ctx) -> Reply:
    interaction = _interaction(ctx)
    if interaction is not None:
        return interactions.delete_message(ctx.core, interaction, ctx.params["message_id"])
    message = _webhook_message(ctx, _webhook_with_token(ctx))
    ctx.core.delete_message(message)
    return 204, None


async def interaction_callback(ctx: Ctx) -> Reply:
    interaction = interactions.interaction_by_id(
        ctx.core, ctx.params["interaction_id"], ctx.params["interaction_token"]
    )
    return interactions.callback(
        ctx.core, interaction, ctx.json(), ctx.files, ctx.flag("with_response")
    )


# --- application commands -----------------------------------------------------------------


def _application(ctx: Ctx) -> Application:
    app = ctx.state.applications.get(int(ctx.params["application_id"]))
    if app is None or app is not ctx.app:
        raise ApiError(403, 50001, "Missing Access")
    return ctx.app


def _command(ctx: Ctx, app: Application, raw: dict[str, Any], guild_id: int | None,
             existing: dict[int, dict[str, Any]]) -> dict[str, Any]:
    errors = FormErrors()
    name = raw.get("name")
    if not name or not 1 <= len(str(name)) <= 32:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    kind = int(raw.get("type") or 1)
    description = raw.get("description") or ""
    if kind == 1 and not 1 <= len(description) <= 100:
        errors.add(("description",), "BASE_TYPE_BAD_LENGTH",
                   "Must be between 1 and 100 in length.")
    errors.raise_if_any()
    previous = next((c for c in existing.values()
                     if c["name"] == name and c["type"] == kind), None)
    command: dict[str, Any] = {
        "id": previous["id"] if previous else str(ctx.state.ids.next()),
        "application_id": str(app.id),
        "version": str(ctx.state.ids.next()),
        "type": kind,
        "name": name,
        "name_localizations": raw.get("name_localizations"),
        "description": description,
        "description_localizations": raw.get("description_localizations"),
        "options": raw.get("options") or [],
        # Discord answers permission bitsets as strings, whatever form the request used.
        "default_member_permissions": _bitset(raw.get("default_member_permissions")),
        "dm_permission": raw.get("dm_permission", True),
        "nsfw": bool(raw.get("nsfw", False)),
        "contexts": raw.get("contexts"),
        "integration_types": raw.get("integration_types") or [0],
    }
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    return command


def _bitset(value: Any) -> str | None:
    if value is None:
        return None
    return str(int(value)) if str(value).isdigit() else str(value)


def _command_map(ctx: Ctx, app: Application) -> tuple[dict[int, dict[str, Any]], int | None]:
    if "guild_id" in ctx.params:
        guild_id = int(ctx.params["guild_id"])
        return app.guild_commands.setdefault(guild_id, {}), guild_id
    return app.commands, None


async def overwrite_commands(ctx: Ctx) -> Reply:
    app = _application(ctx)
    commands, guild_id = _command_map(ctx, app)
    if not isinstance(ctx.body, list):
        errors = FormErrors()
        errors.add((), "LIST_TYPE_CONVERT", "Must be an array.")
        raise ApiError(400, 50035, "Invalid Form Body", {"_errors": errors.tree.get("_errors")})
    body = ctx.body
    new = [_command(ctx, app, raw, guild_id, commands) for raw in body]
    commands.clear()
    for command in new:
        commands[int(command["id"])] = command
    ctx.core.notify()
    return 200, new


async def list_commands(ctx: Ctx) -> Reply:
    app = _application(ctx)
    commands, _ = _command_map(ctx, app)
    return 200, list(commands.values())


async def create_command(ctx: Ctx) -> Reply:
    app = _application(ctx)
    commands, guild_id = _command_map(ctx, app)
    command = _command(ctx, app, ctx.json(), guild_id, commands)
    commands[int(command["id"])] = command
    return 201, command


async def delete_command(ctx: Ctx) -> Reply:
    app = _application(ctx)
    commands, _ = _command_map(ctx, app)
    if commands.pop(int(ctx.params["command_id"]), None) is None:
        raise not_found(10063, "application command")
    return 204, None


def register(router: Router) -> None:
    router.add("POST", "/channels/{channel_id}/webhooks", create_webhook)
    router.add("GET", "/channels/{channel_id}/webhooks", channel_webhooks)
    router.add("GET", "/guilds/{guild_id}/webhooks", guild_webhooks)
    router.add("GET", "/webhooks/{webhook_id}", get_webhook)
    router.add("PATCH", "/webhooks/{webhook_id}", modify_webhook)
    router.add("DELETE", "/webhooks/{webhook_id}", delete_webhook)
    hook = "/webhooks/{webhook_id}/{webhook_token}"
    router.add("GET", hook, get_webhook_with_token, auth=False)
    router.add("PATCH", hook, modify_webhook, auth=False)
    router.add("DELETE", hook, delete_webhook, auth=False)
    router.add("POST", hook, execute_webhook, auth=False)
    router.add("GET", f"{hook}/messages/{{message_id}}", get_webhook_message, auth=False)
    router.add("PATCH", f"{hook}/messages/{{message_id}}", edit_webhook_message, auth=False)
    router.add("DELETE", f"{hook}/messages/{{message_id}}", delete_webhook_message, auth=False)
    router.add("POST", "/interactions/{interaction_id}/{interaction_token}/callback",
               interaction_callback, auth=False, exempt_global=True)
    for base in ("/applications/{application_id}/commands",
                 "/applications/{application_id}/guilds/{guild_id}/commands"):
        router.add("PUT", base, overwrite_commands)
        router.add("GET", base, list_commands)
        router.add("POST", base, create_command)
        router.add("DELETE", f"{base}/{{command_id}}", delete_command)
