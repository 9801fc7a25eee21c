"""Interaction callbacks and follow-ups, and the payloads the driver sends as INTERACTION_CREATE."""

from __future__ import annotations

import time
from typing import Any

from .core import Core
from .errors import ALREADY_ACKNOWLEDGED, UNKNOWN_INTERACTION, ApiError, FormErrors, not_found
from .state import (
    CHAT_INPUT_COMMAND_MESSAGE,
    Attachment,
    Channel,
    Interaction,
    InteractionResponse,
    Message,
)
from .validation import check_message_body

EPHEMERAL = 64
LOADING = 128
PONG, CHANNEL_MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
CONTEXT_MENU_COMMAND_MESSAGE = 23


def interaction_by_id(core: Core, interaction_id: str, token: str) -> Interaction:
    try:
        interaction = core.state.interactions[int(interaction_id)]
    except (KeyError, ValueError):
        raise not_found(UNKNOWN_INTERACTION, "interaction") from None
    if interaction.token != token:
        raise not_found(UNKNOWN_INTERACTION, "interaction")
    return interaction


def interaction_by_token(core: Core, application_id: str, token: str) -> Interaction | None:
    interaction = core.state.interactions_by_token.get(token)
    if interaction is None or str(interaction.application_id) != str(application_id):
        return None
    return interaction


def _message_type(interaction: Interaction) -> int:
    if interaction.type == 2:
        command_type = int(interaction.payload.get("data", {}).get("type", 1))
        return CHAT_INPUT_COMMAND_MESSAGE if command_type == 1 else CONTEXT_MENU_COMMAND_MESSAGE
    return 0


def _interaction_metadata(core: Core, interaction: Interaction) -> dict[str, Any]:
    payload = interaction.payload
    data = payload.get("data", {})
    metadata: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": payload.get("member", {}).get("user") or payload.get("user"),
        "authorizing_integration_owners": payload.get("authorizing_integration_owners", {}),
    }
    if interaction.original_message_id is not None:
        metadata["original_response_message_id"] = str(interaction.original_message_id)
    if interaction.type == 2:
        metadata["name"] = data.get("name")
        if data.get("type") == 2:
            metadata["target_user"] = data["resolved"]["users"][data["target_id"]]
        elif data.get("type") == 3:
            metadata["target_message_id"] = data["target_id"]
    elif interaction.type == 3:
        metadata["interacted_message_id"] = payload.get("message", {}).get("id")
    elif interaction.type == 5:
        opener = core.state.interactions.get(interaction.triggered_by or 0)
        metadata["triggering_interaction_metadata"] = (
            _interaction_metadata(core, opener) if opener else None
        )
    return metadata


def _new_message(
    core: Core, interaction: Interaction, body: dict[str, Any], files: list[Attachment],
    *, loading: bool = False,
) -> Message:
    channel = core.channel(interaction.channel_id)
    flags = int(body.get("flags") or 0)
    ephemeral = bool(flags & EPHEMERAL)
    if loading:
        flags |= LOADING
    message = core.create_message(
        channel,
        core.state.applications[interaction.application_id].bot_user_id,
        content="" if loading else body.get("content") or "",
        embeds=None if loading else body.get("embeds"),
        attachments=None if loading else files,
        components=None if loading else body.get("components"),
        allowed_mentions=body.get("allowed_mentions"),
        flags=flags,
        application_id=interaction.application_id,
        message_type=_message_type(interaction),
        store_in_channel=not ephemeral,
    )
    return message


def _payload_with_metadata(core: Core, interaction: Interaction, message: Message) -> Any:
    data = core.state.message_payload(message)
    data["interaction_metadata"] = _interaction_metadata(core, interaction)
    data["webhook_id"] = str(interaction.application_id)
    return data


def callback(
    core: Core, interaction: Interaction, body: dict[str, Any], files: list[Attachment],
    with_response: bool,
) -> tuple[int, Any]:
    kind = int(body.get("type") or 0)
    data = body.get("data") or {}
    timeout = core.config.interaction_ack_timeout
    if timeout is not None and time.monotonic() - interaction.created_at > timeout:
        raise not_found(UNKNOWN_INTERACTION, "interaction")
    if interaction.acknowledged:
        raise ApiError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    flags = int(data.get("flags") or 0)
    ephemeral = bool(flags & EPHEMERAL)
    message: Message | None = None
    if kind == CHANNEL_MESSAGE:
        check_message_body(data, max_content=core.config.max_content_length,
                           has_files=bool(files), prefix=("data",))
        message = _new_message(core, interaction, data, files)
    elif kind == DEFERRED_MESSAGE:
        message = _new_message(core, interaction, data, files, loading=True)
    elif kind in (DEFERRED_UPDATE, UPDATE_MESSAGE):
        target_id = interaction.payload.get("message", {}).get("id")
        target = core.state.messages.get(int(target_id)) if target_id else None
        if target is None:
            raise ApiError(400, 50035, "Invalid Form Body")
        interaction.original_message_id = target.id
        if kind == UPDATE_MESSAGE:
            core.edit_message(target, data, attachments=files)
            message = target
    elif kind == MODAL:
        interaction.modal = data
    elif kind not in (PONG, AUTOCOMPLETE_RESULT):
        errors = FormErrors()
        errors.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of (1, 4, 5, 6, 7, 8, 9).")
        errors.raise_if_any()
    if message is not None:
        interaction.original_message_id = message.id
    interaction.acknowledged = True
    interaction.responses.append(InteractionResponse(
        "callback", kind, data, ephemeral, message.id if message else None
    ))
    core.notify()
    if not with_response:
        return 204, None
    reply: dict[str, Any] = {
        "interaction": {
            "id": str(interaction.id),
            "type": interaction.type,
            "response_message_loading": kind == DEFERRED_MESSAGE,
            "response_message_ephemeral": ephemeral,
        },
    }
    if message is not None:
        reply["interaction"]["response_message_id"] = str(message.id)
    # Discord's schema only has a resource for messages sent (4) or updated (7).
    if message is not None and kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
        reply["resource"] = {
            "type": kind, "message": _payload_with_metadata(core, interaction, message)
        }
    return 200, reply


def followup(
    core: Core, interaction: Interaction, body: dict[str, Any], files: list[Attachment]
) -> tuple[int, Any]:
    if not interaction.acknowledged:
        raise not_found(UNKNOWN_INTERACTION, "Webhook")
    check_message_body(body, max_content=core.config.max_content_length, has_files=bool(files))
    message = _new_message(core, interaction, body, files)
    interaction.followup_ids.append(message.id)
    interaction.responses.append(InteractionResponse(
        "followup", None, body, bool(message.flags & EPHEMERAL), message.id
    ))
    core.notify()
    return 200, _payload_with_metadata(core, interaction, message)


def _target(core: Core, interaction: Interaction, message_id: str) -> Message:
    if message_id == "@original":
        mid = interaction.original_message_id
    else:
        mid = int(message_id)
        if mid not in interaction.followup_ids and mid != interaction.original_message_id:
            mid = None
    message = core.state.messages.get(mid) if mid is not None else None
    if message is None:
        raise not_found(10008, "Message")
    return message


def get_message(core: Core, interaction: Interaction, message_id: str) -> tuple[int, Any]:
    message = _target(core, interaction, message_id)
    return 200, _payload_with_metadata(core, interaction, message)


def edit_message(
    core: Core, interaction: Interaction, message_id: str, body: dict[str, Any],
    files: list[Attachment],
) -> tuple[int, Any]:
    message = _target(core, interaction, message_id)
    check_message_body(body, max_content=core.config.max_content_length,
                       has_files=bool(files), require_content=False)
    message.flags &= ~LOADING
    core.edit_message(message, body, attachments=files)
    kind = "edit_original" if message_id == "@original" else "edit_followup"
    interaction.responses.append(InteractionResponse(
        kind, None, body, bool(message.flags & EPHEMERAL), message.id
    ))
    core.notify()
    return 200, _payload_with_metadata(core, interaction, message)


def delete_message(core: Core, interaction: Interaction, message_id: str) -> tuple[int, Any]:
    message = _target(core, interaction, message_id)
    if core.state.is_listed(message):
        core.delete_message(message)
    else:
        core.state.messages.pop(message.id, None)
    kind = "delete_original" if message_id == "@original" else "delete_followup"
    interaction.responses.append(InteractionResponse(kind, None, None, False, message.id))
    core.notify()
    return 204, None


# --- payloads for INTERACTION_CREATE ------------------------------------------------------


def base_payload(
    core: Core, interaction_id: int, token: str, kind: int, application_id: int,
    channel: Channel, user_id: int, data: dict[str, Any],
) -> dict[str, Any]:
    state = core.state
    app = state.applications[application_id]
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": kind,
        "data": data,
        "channel_id": str(channel.id),
        "channel": channel.payload(),
        "token": token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(channel.guild_id or "0")},
        "attachment_size_limit": core.config.attachment_size_limit,
        "app_permissions": str(state.channel_permissions(channel, app.bot_user_id)),
    }
    if channel.guild_id is not None:
        guild = state.guilds[channel.guild_id]
        member = guild.members[user_id]
        payload["guild_id"] = str(guild.id)
        payload["guild_locale"] = "en-US"
        payload["guild"] = {"id": str(guild.id), "locale": "en-US", "features": []}
        payload["context"] = 0
        payload["member"] = {
            **state.member_payload(member),
            "permissions": str(state.channel_permissions(channel, user_id)),
        }
    else:
        payload["context"] = 1
        payload["user"] = state.users[user_id].payload()
    return payload
