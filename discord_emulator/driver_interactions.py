"""Builders for the `data` part of application command, component and modal interactions."""

from __future__ import annotations

from typing import Any

from .permissions import ALL_PERMISSIONS
from .state import Application, Channel, State

OPTION_STRING, OPTION_INTEGER, OPTION_BOOLEAN, OPTION_USER = 3, 4, 5, 6
OPTION_CHANNEL, OPTION_ROLE, OPTION_MENTIONABLE, OPTION_NUMBER = 7, 8, 9, 10
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


def find_command(
    app: Application, guild_id: int | None, name: str, kind: int
) -> dict[str, Any] | None:
    pools: list[dict[int, dict[str, Any]]] = []
    if guild_id is not None:
        pools.append(app.guild_commands.get(guild_id, {}))
    pools.append(app.commands)
    for pool in pools:
        for command in pool.values():
            if command["name"] == name and int(command.get("type", 1)) == kind:
                return command
    return None


def _infer_type(value: Any) -> int:
    if isinstance(value, bool):
        return OPTION_BOOLEAN
    if isinstance(value, int):
        return OPTION_INTEGER
    if isinstance(value, float):
        return OPTION_NUMBER
    return OPTION_STRING


def _child(defs: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((o for o in defs if o.get("name") == name), None)


def build_options(
    state: State,
    guild_id: int | None,
    defs: list[dict[str, Any]],
    values: dict[str, Any],
    resolved: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    options = []
    for name, value in values.items():
        definition = _child(defs, name)
        kind = int(definition["type"]) if definition else _infer_type(value)
        if kind in (OPTION_USER, OPTION_MENTIONABLE) and int(value) in state.users:
            user_id = int(value)
            resolved.setdefault("users", {})[str(user_id)] = state.users[user_id].payload()
            guild = state.guilds.get(guild_id) if guild_id else None
            if guild is not None and user_id in guild.members:
                member = state.member_payload(guild.members[user_id], with_user=False)
                member["permissions"] = str(state.member_permissions(guild, user_id))
                resolved.setdefault("members", {})[str(user_id)] = member
            value = str(user_id)
        elif kind == OPTION_CHANNEL:
            channel = state.channels[int(value)]
            resolved.setdefault("channels", {})[str(channel.id)] = {
                **channel.payload(), "permissions": str(ALL_PERMISSIONS)
            }
            value = str(channel.id)
        elif kind == OPTION_ROLE and guild_id is not None:
            role = state.guilds[guild_id].roles[int(value)]
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
            value = str(role.id)
        options.append({"name": name, "type": kind, "value": value})
    return options


def slash_data(
    state: State,
    app: Application,
    channel: Channel,
    name: str,
    options: dict[str, Any] | None,
    subcommand: str | None,
    group: str | None,
) -> dict[str, Any]:
    command = find_command(app, channel.guild_id, name, 1)
    defs: list[dict[str, Any]] = (command or {}).get("options") or []
    resolved: dict[str, dict[str, Any]] = {}
    group_def = _child(defs, group) if group else None
    sub_defs = (group_def or {}).get("options") or [] if group else defs
    sub_def = _child(sub_defs, subcommand) if subcommand else None
    leaf_defs = (sub_def or {}).get("options") or [] if subcommand else defs
    leaf = build_options(state, channel.guild_id, leaf_defs, options or {}, resolved)
    top: list[dict[str, Any]] = leaf
    if subcommand:
        top = [{"name": subcommand, "type": SUB_COMMAND, "options": leaf}]
    if group:
        top = [{"name": group, "type": SUB_COMMAND_GROUP, "options": top}]
    data: dict[str, Any] = {
        "id": command["id"] if command else str(state.ids.next()),
        "name": name,
        "type": 1,
        "options": top,
    }
    if resolved:
        data["resolved"] = resolved
    if command and command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def mark_focused(data: dict[str, Any], focused: str) -> None:
    """Turn slash-command data into autocomplete data: the option being typed is `focused`,
    its value the partial text (Discord sends it as a string whatever the option's type)."""
    options = data["options"]
    while options and options[0]["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
        options = options[0]["options"]
    for option in options:
        if option["name"] == focused:
            option["focused"] = True
            option["value"] = str(option["value"])
            return
    raise ValueError(f"no option {focused!r} given")


def context_menu_data(
    state: State, app: Application, channel: Channel, name: str, kind: int, target_id: int,
) -> dict[str, Any]:
    command = find_command(app, channel.guild_id, name, kind)
    resolved: dict[str, Any] = {}
    if kind == 3:
        message = state.messages[target_id]
        resolved["messages"] = {str(target_id): state.message_payload(message)}
    else:
        resolved["users"] = {str(target_id): state.users[target_id].payload()}
        guild = state.guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None and target_id in guild.members:
            member = state.member_payload(guild.members[target_id], with_user=False)
            member["permissions"] = str(state.member_permissions(guild, target_id))
            resolved["members"] = {str(target_id): member}
    data: dict[str, Any] = {
        "id": command["id"] if command else str(state.ids.next()),
        "name": name,
        "type": kind,
        "target_id": str(target_id),
        "resolved": resolved,
    }
    if command and command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    return data


def modal_components(
    modal: dict[str, Any], values: dict[str, str]
) -> list[dict[str, Any]]:
    """Mirror the modal's layout back with the submitted values, as Discord does."""

    def field(component: dict[str, Any]) -> dict[str, Any]:
        custom_id = component.get("custom_id")
        result: dict[str, Any] = {"type": component.get("type", 4), "custom_id": custom_id}
        if component.get("id") is not None:
            result["id"] = component["id"]
        if result["type"] == 4:
            result["value"] = values.get(str(custom_id), component.get("value") or "")
        else:
            raw: Any = values.get(str(custom_id), [])
            result["values"] = raw if isinstance(raw, list) else [raw]
        return result

    rows = []
    for component in modal.get("components") or []:
        kind = component.get("type")
        if kind == 1:
            rows.append({"type": 1, "components": [field(c) for c in component["components"]]})
        elif kind == 18:
            rows.append({"type": 18, "id": component.get("id"),
                         "component": field(component["component"])})
        elif kind == 4:
            rows.append({"type": 1, "components": [field(component)]})
    return rows
