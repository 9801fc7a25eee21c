"""The driver API over HTTP under /_emulator, for processes that are not Python tests."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import ApiError
from .state import Interaction

if TYPE_CHECKING:
    from .emulator import Emulator

DriverHandler = Callable[[web.Request, dict[str, Any]], Awaitable[Any]]


def _reply(status: int, body: Any) -> web.Response:
    return web.Response(
        status=status, body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


def _interaction_json(interaction: Interaction) -> dict[str, Any]:
    return {
        "id": str(interaction.id),
        "type": interaction.type,
        "token": interaction.token,
        "responses": [
            {"kind": r.kind, "type": r.type, "data": r.data, "ephemeral": r.ephemeral,
             "message_id": str(r.message_id) if r.message_id else None}
            for r in interaction.responses
        ],
        "modal": interaction.modal,
    }


def register(app: web.Application, emu: Emulator) -> None:
    def route(method: str, path: str) -> Callable[[DriverHandler], DriverHandler]:
        def decorate(func: DriverHandler) -> DriverHandler:
            async def handler(request: web.Request) -> web.StreamResponse:
                body: dict[str, Any] = {}
                if request.body_exists:
                    try:
                        body = await request.json()
                    except ValueError:
                        return _reply(400, {"error": "invalid JSON"})
                try:
                    result = await func(request, body)
                except ApiError as exc:
                    return _reply(exc.status, exc.body())
                except (KeyError, LookupError) as exc:
                    return _reply(404, {"error": f"not found: {exc}"})
                except (TypeError, ValueError) as exc:
                    return _reply(400, {"error": str(exc)})
                return _reply(200, result)

            app.router.add_route(method, f"/_emulator{path}", handler)
            return func

        return decorate

    def ident(request: web.Request, name: str) -> int:
        return int(request.match_info[name])

    def msg(message_id: int) -> dict[str, Any]:
        return emu.state.message_payload(emu.state.messages[message_id])

    @route("GET", "/community")
    async def community(request: web.Request, body: dict[str, Any]) -> Any:
        if emu.community is None:
            raise LookupError("no community seeded")
        data = asdict(emu.community)
        return {k: str(v) if isinstance(v, int) else v for k, v in data.items()} | {
            "env": emu.community.env(emu.api_base_url, emu.gateway_url)
        }

    @route("POST", "/guilds")
    async def create_guild(request: web.Request, body: dict[str, Any]) -> Any:
        guild = emu.create_guild(body.get("name", "Emulated Guild"),
                                 owner_id=int(body["owner_id"]) if "owner_id" in body else None)
        return {"id": str(guild.id)}

    @route("POST", "/guilds/{guild_id}/channels")
    async def create_channel(request: web.Request, body: dict[str, Any]) -> Any:
        channel = emu.create_channel(ident(request, "guild_id"), body["name"],
                                     body.get("type", "text"),
                                     available_tags=body.get("available_tags", []),
                                     topic=body.get("topic"))
        return channel.payload()

    @route("POST", "/guilds/{guild_id}/roles")
    async def create_role(request: web.Request, body: dict[str, Any]) -> Any:
        role = emu.create_role(ident(request, "guild_id"), body["name"],
                               permissions=int(body.get("permissions", 0)))
        return role.payload()

    @route("POST", "/guilds/{guild_id}/members")
    async def create_member(request: web.Request, body: dict[str, Any]) -> Any:
        member = emu.create_member(
            ident(request, "guild_id"),
            int(body["user_id"]) if "user_id" in body else None,
            username=body.get("username"),
            roles=[int(r) for r in body.get("roles", [])],
        )
        return emu.state.member_payload(member)

    @route("POST", "/channels/{channel_id}/messages")
    async def send(request: web.Request, body: dict[str, Any]) -> Any:
        channel_id = ident(request, "channel_id")
        count = int(body.get("count", 1))
        message = None
        for index in range(count):
            content = body.get("content", "")
            if count > 1:
                content = f"{content}{index}"
            message = emu.send_message(
                channel_id, int(body["author_id"]), content,
                reply_to=int(body["reply_to"]) if body.get("reply_to") else None,
                embeds=body.get("embeds"),
            )
        assert message is not None
        return msg(message.id)

    @route("GET", "/channels/{channel_id}/messages")
    async def read_messages(request: web.Request, body: dict[str, Any]) -> Any:
        return [emu.state.message_payload(m) for m in emu.messages(ident(request, "channel_id"))]

    @route("PATCH", "/messages/{message_id}")
    async def edit(request: web.Request, body: dict[str, Any]) -> Any:
        message = emu.edit_message(ident(request, "message_id"), body.get("content"),
                                   embeds=body.get("embeds"))
        return msg(message.id)

    @route("DELETE", "/messages/{message_id}")
    async def delete(request: web.Request, body: dict[str, Any]) -> Any:
        emu.delete_message(ident(request, "message_id"))
        return {"deleted": True}

    @route("POST", "/messages/{message_id}/reactions")
    async def react(request: web.Request, body: dict[str, Any]) -> Any:
        emu.add_reaction(ident(request, "message_id"), int(body["user_id"]), body["emoji"])
        return msg(ident(request, "message_id"))

    @route("DELETE", "/messages/{message_id}/reactions")
    async def unreact(request: web.Request, body: dict[str, Any]) -> Any:
        emu.remove_reaction(ident(request, "message_id"), int(body["user_id"]), body["emoji"])
        return msg(ident(request, "message_id"))

    @route("GET", "/threads")
    async def threads(request: web.Request, body: dict[str, Any]) -> Any:
        query = request.query
        return [t.payload() for t in emu.threads(
            guild_id=int(query["guild_id"]) if "guild_id" in query else None,
            parent_id=int(query["parent_id"]) if "parent_id" in query else None,
        )]

    @route("POST", "/channels/{channel_id}/threads")
    async def create_thread(request: web.Request, body: dict[str, Any]) -> Any:
        thread = emu.create_thread(
            ident(request, "channel_id"), int(body["user_id"]), body["name"],
            message_id=int(body["message_id"]) if body.get("message_id") else None,
        )
        return thread.payload()

    @route("POST", "/forums/{channel_id}/posts")
    async def forum_post(request: web.Request, body: dict[str, Any]) -> Any:
        thread, starter = emu.create_forum_post(
            ident(request, "channel_id"), int(body["author_id"]), body["name"],
            body.get("content", ""), applied_tags=[int(t) for t in body.get("applied_tags", [])],
        )
        return {**thread.payload(), "message": msg(starter.id)}

    @route("POST", "/commands/slash")
    async def slash(request: web.Request, body: dict[str, Any]) -> Any:
        interaction = emu.run_slash_command(
            int(body["channel_id"]), int(body["user_id"]), body["name"], body.get("options"),
            subcommand=body.get("subcommand"), group=body.get("group"),
        )
        return _interaction_json(interaction)

    @route("POST", "/commands/message")
    async def message_command(request: web.Request, body: dict[str, Any]) -> Any:
        interaction = emu.run_message_command(int(body["channel_id"]), int(body["user_id"]),
                                              body["name"], int(body["message_id"]))
        return _interaction_json(interaction)

    @route("POST", "/commands/user")
    async def user_command(request: web.Request, body: dict[str, Any]) -> Any:
        interaction = emu.run_user_command(int(body["channel_id"]), int(body["user_id"]),
                                           body["name"], int(body["target_user_id"]))
        return _interaction_json(interaction)

    @route("POST", "/buttons")
    async def button(request: web.Request, body: dict[str, Any]) -> Any:
        interaction = emu.click_button(int(body["message_id"]), int(body["user_id"]),
                                       body["custom_id"])
        return _interaction_json(interaction)

    @route("POST", "/modals")
    async def modal(request: web.Request, body: dict[str, Any]) -> Any:
        opened_by = emu.state.interactions[int(body["interaction_id"])]
        interaction = emu.submit_modal(opened_by, body.get("values", {}))
        return _interaction_json(interaction)

    @route("GET", "/interactions/{interaction_id}")
    async def interaction(request: web.Request, body: dict[str, Any]) -> Any:
        return _interaction_json(emu.state.interactions[ident(request, "interaction_id")])

    @route("GET", "/dms/{user_id}")
    async def dms(request: web.Request, body: dict[str, Any]) -> Any:
        return [emu.state.message_payload(m) for m in emu.dms_to(ident(request, "user_id"))]

    @route("GET", "/journal")
    async def journal(request: web.Request, body: dict[str, Any]) -> Any:
        return emu.journal.summary()

    @route("POST", "/faults")
    async def fault(request: web.Request, body: dict[str, Any]) -> Any:
        emu.inject(body["method"], body["path"], status=body.get("status"),
                   body=body.get("body"), delay=float(body.get("delay", 0)),
                   drop=bool(body.get("drop", False)), times=body.get("times", 1),
                   retry_after=float(body.get("retry_after", 1.0)))
        return {"ok": True}

    @route("POST", "/gateway/{action}")
    async def gateway(request: web.Request, body: dict[str, Any]) -> Any:
        action = request.match_info["action"]
        if action == "reconnect":
            count = emu.gateway_reconnect()
        elif action == "invalidate":
            count = emu.gateway_invalidate(bool(body.get("resumable", False)))
        elif action == "close":
            count = await emu.gateway_close(int(body.get("code", 4000)))
        elif action == "silence":
            count = emu.gateway_silence(float(body.get("seconds", 1.0)))
        else:
            raise LookupError(action)
        return {"connections": count}
