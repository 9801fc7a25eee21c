"""The Emulator: starts the HTTP+websocket server and exposes the driver API tests use."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from . import driver_interactions as builders
from . import routes_channels, routes_messages, routes_webhooks
from .community import BotAccount, Community, seed
from .config import EmulatorConfig
from .core import Core, parse_emoji
from .faults import FaultRegistry, RestFault
from .gateway import Gateway, Session
from .interactions import base_payload
from .journal import EventRecord, Journal, RequestRecord
from .permissions import DEFAULT_EVERYONE
from .ratelimit import RateLimiter
from .rest import RestServer, Router
from .state import (
    FORUM,
    TEXT,
    Application,
    Attachment,
    Channel,
    Guild,
    Interaction,
    Member,
    Message,
    Role,
    State,
    User,
    Webhook,
)

if TYPE_CHECKING:
    from .spec import SpecValidator

T = TypeVar("T")
CHANNEL_TYPES = {"text": TEXT, "forum": FORUM, "news": 5, "category": 4}


def _base64_id(snowflake: int) -> str:
    return base64.urlsafe_b64encode(str(snowflake).encode()).decode().rstrip("=")


class Emulator:
    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        validator: SpecValidator | None = None,
    ) -> None:
        self.config = config or EmulatorConfig()
        self.state = State()
        self.journal = Journal(limit=self.config.journal_limit)
        self.faults = FaultRegistry()
        self._waiters: list[asyncio.Future[None]] = []
        # Counts state changes (and requests): the state file is saved when it moves.
        self.changes = 0
        self._base_http = ""
        self.gateway = Gateway(
            self.state, self.config, self.journal, self._notify, lambda: self.gateway_url
        )
        self.core = Core(self.state, self.gateway, self.journal, self.config, self._notify)
        self.limiter = RateLimiter(
            enabled=self.config.rate_limits,
            global_limit=self.config.global_limit,
            global_window=self.config.global_window,
            route_limit=self.config.route_limit,
            route_window=self.config.route_window,
            message_limit=self.config.message_limit,
            message_window=self.config.message_window,
        )
        router = Router()
        routes_messages.register(router)
        routes_channels.register(router)
        routes_webhooks.register(router)
        self.rest = RestServer(self.core, router, self.limiter, self.faults, self.journal,
                               validator)
        self._runner: web.AppRunner | None = None
        self.bot: BotAccount | None = None
        self.community: Community | None = None

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def validator(self) -> SpecValidator | None:
        return self.rest.validator

    @validator.setter
    def validator(self, value: SpecValidator | None) -> None:
        self.rest.validator = value

    def _make_app(self) -> web.Application:
        from .http_driver import register as register_driver

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self._root)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}",
                           self._attachment)
        register_driver(app, self)
        self._add_routes(app)
        app.router.add_route("*", "/api/{tail:.*}", self.rest.handle)
        app.router.add_route("*", "/{tail:.*}", self.rest.handle)
        return app

    def _add_routes(self, app: web.Application) -> None:
        """For subclasses: routes of their own, ahead of the catch-all REST routes."""

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Emulator:
        app = self._make_app()
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound_host, bound_port = self._runner.addresses[0][:2]
        self._base_http = f"http://{bound_host}:{bound_port}"
        self.state.attachment_base = self._base_http
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        if self._runner is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return self._base_http

    @property
    def api_base_url(self) -> str:
        return f"{self._base_http}/api/v10"

    @property
    def gateway_url(self) -> str:
        return self._base_http.replace("http://", "ws://", 1) + "/"

    async def _root(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self.gateway.handle(request)
        return web.Response(
            body=b'{"emulator":"threadbridge","message":"discord emulator"}',
            headers={"Content-Type": "application/json"},
        )

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        message_attachments = (
            a for m in self.state.messages.values() for a in m.attachments
            if str(a.id) == request.match_info["attachment_id"]
        )
        found = next(message_attachments, None)
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found.data,
                            content_type=found.content_type or "application/octet-stream")

    # --- waiting ----------------------------------------------------------------------------

    def _notify(self) -> None:
        self.changes += 1
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 5.0
    ) -> T:
        """Wait until `predicate()` is truthy (re-checked on every state change); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            # A bounded sleep also lets time-based predicates (silence ending) be re-checked.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, min(remaining, 0.25))

    async def wait_for_event(
        self, name: str, predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0, since: int = 0,
    ) -> EventRecord:
        def find() -> EventRecord | None:
            for record in self.journal.events[since:]:
                if record.name == name and (predicate is None or predicate(record.data)):
                    return record
            return None

        return await self.wait_for(find, timeout)

    async def wait_for_request(
        self, method: str, path_regex: str, timeout: float = 5.0, since: int = 0,
        status: int | None = None,
    ) -> RequestRecord:
        import re

        pattern = re.compile(path_regex)

        def find() -> RequestRecord | None:
            for record in self.journal.requests[since:]:
                if record.method == method.upper() and pattern.search(record.path) and (
                    status is None or record.status == status
                ):
                    return record
            return None

        return await self.wait_for(find, timeout)

    def connected_sessions(self) -> list[Session]:
        return [s for s in self.gateway.sessions.values() if s.connection is not None]

    async def wait_for_session(self, timeout: float = 5.0) -> Session:
        return (await self.wait_for(lambda: self.connected_sessions(), timeout))[0]

    # --- building the world ------------------------------------------------------------------

    def create_user(
        self, username: str, *, bot: bool = False, global_name: str | None = None
    ) -> User:
        user = User(self.state.ids.next(), username, global_name, None, bot)
        self.state.users[user.id] = user
        self._notify()
        return user

    def create_guild(self, name: str = "Emulated Guild", *, owner_id: int | None = None) -> Guild:
        if owner_id is None:
            owner_id = self.create_user(f"{name.lower().replace(' ', '-')}-owner").id
        guild = Guild(self.state.ids.next(), name, owner_id)
        guild.roles[guild.id] = Role(guild.id, guild.id, "@everyone", int(DEFAULT_EVERYONE))
        guild.members[owner_id] = Member(guild.id, owner_id)
        self.state.guilds[guild.id] = guild
        self._notify()
        return guild

    def create_role(
        self, guild_id: int, name: str, *, permissions: int = 0, position: int | None = None,
        color: int = 0, hoist: bool = False, mentionable: bool = False,
    ) -> Role:
        guild = self.state.guilds[guild_id]
        role = Role(self.state.ids.next(), guild_id, name, int(permissions),
                    position if position is not None else len(guild.roles), color, hoist,
                    mentionable)
        guild.roles[role.id] = role
        self.gateway.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild_id),
                                                    "role": role.payload()})
        return role

    def rename_role(self, guild_id: int, role_id: int, name: str) -> Role:
        role = self.state.guilds[guild_id].roles[role_id]
        role.name = name
        self.gateway.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild_id),
                                                    "role": role.payload()})
        return role

    def delete_role(self, guild_id: int, role_id: int) -> None:
        guild = self.state.guilds[guild_id]
        del guild.roles[role_id]
        for member in guild.members.values():
            if role_id in member.roles:
                member.roles.remove(role_id)
        self.gateway.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild_id),
                                                    "role_id": str(role_id)})

    def create_member(
        self, guild_id: int, user_id: int | None = None, *, username: str | None = None,
        roles: Iterable[int] = (), nick: str | None = None,
    ) -> Member:
        if user_id is None:
            user_id = self.create_user(username or f"user{len(self.state.users)}").id
        guild = self.state.guilds[guild_id]
        member = Member(guild_id, user_id, list(roles), nick)
        guild.members[user_id] = member
        self.gateway.dispatch("GUILD_MEMBER_ADD", {
            **self.state.member_payload(member), "guild_id": str(guild_id)
        })
        return member

    def remove_member(self, guild_id: int, user_id: int) -> None:
        self.core.remove_member(self.state.guilds[guild_id], user_id)

    def create_channel(
        self, guild_id: int, name: str, type: str | int = "text", *,
        available_tags: Iterable[str | dict[str, Any]] = (), topic: str | None = None,
        permission_overwrites: list[dict[str, Any]] | None = None,
        parent_id: int | None = None, position: int | None = None,
    ) -> Channel:
        guild = self.state.guilds[guild_id]
        kind = CHANNEL_TYPES[type] if isinstance(type, str) else int(type)
        tags = []
        for tag in available_tags:
            raw = {"name": tag} if isinstance(tag, str) else tag
            tags.append(self.core.make_tag(raw))
        overwrites = [
            {"id": str(o["id"]), "type": int(o.get("type", 0)), "allow": str(o.get("allow", 0)),
             "deny": str(o.get("deny", 0))}
            for o in permission_overwrites or []
        ]
        channel = Channel(
            id=self.state.ids.next(), type=kind, guild_id=guild_id, name=name,
            position=position if position is not None else len(guild.channel_ids),
            topic=topic, parent_id=parent_id, permission_overwrites=overwrites,
            available_tags=tags,
        )
        self.state.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        self.gateway.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def create_bot_user(
        self, token: str | None = None, *, username: str = "threadbridge",
        owner_id: int | None = None,
    ) -> BotAccount:
        user = self.create_user(username, bot=True)
        if owner_id is None:
            owner_id = self.create_user(f"{username}-owner").id
        app_id = self.state.ids.next()
        # Shaped like Discord's: the first part is the id in base64, which is where
        # `threadbridge invite-url` reads the application id from.
        token = token or f"{_base64_id(app_id)}.{secrets.token_urlsafe(24)}"
        app = Application(app_id, username, user.id, owner_id, token)
        self.state.applications[app.id] = app
        self.state.tokens[token] = app
        account = BotAccount(user, app, token)
        if self.bot is None:
            self.bot = account
        return account

    def seed_community(self, token: str | None = None) -> Community:
        """Build the ready community (see community.seed) and remember it."""
        self.community = seed(self, token)
        return self.community

    # --- acting as users ---------------------------------------------------------------------

    def _attachments(self, items: Iterable[Any] | None) -> list[Attachment]:
        result = []
        for item in items or []:
            if isinstance(item, Attachment):
                result.append(item)
            elif isinstance(item, tuple):
                filename, data = item[0], item[1]
                content_type = item[2] if len(item) > 2 else None
                result.append(Attachment(0, filename, content_type, len(data), data))
            else:
                data = item.get("data", b"")
                result.append(Attachment(0, item["filename"], item.get("content_type"),
                                         int(item.get("size", len(data))), data,
                                         item.get("description")))
        return result

    def send_message(
        self,
        channel_id: int,
        author_id: int,
        content: str = "",
        *,
        reply_to: int | None = None,
        attachments: Iterable[Any] | None = None,
        stickers: Iterable[dict[str, Any] | int] | None = None,
        embeds: list[dict[str, Any]] | None = None,
        components: list[dict[str, Any]] | None = None,
        allowed_mentions: dict[str, Any] | None = None,
        check_permissions: bool = False,
    ) -> Message:
        """Post as a user; fires MESSAGE_CREATE. Attachments: (filename, bytes[, type]) or dicts.

        Channel permissions are checked only with `check_permissions`; a locked thread refuses
        anyone without Manage Threads either way (ApiError 403, code 160005), as Discord does.
        """
        channel = self.core.channel(channel_id)
        self.core.check_thread_lock(channel, author_id)
        sticker_items = [
            {"id": str(s), "name": f"sticker-{s}", "format_type": 1} if isinstance(s, int)
            else s for s in stickers or []
        ]
        reference = None
        if reply_to is not None:
            reference = {"message_id": reply_to, "channel_id": channel_id}
        return self.core.create_message(
            channel, author_id, content=content, embeds=embeds,
            attachments=self._attachments(attachments), components=components,
            allowed_mentions=allowed_mentions, reference=reference, stickers=sticker_items,
            check_as=author_id if check_permissions else None,
        )

    def send_dm(self, user_id: int, content: str, *, bot_user_id: int | None = None) -> Message:
        """A user writes to the bot in DMs."""
        bot_id = bot_user_id or self._bot().user.id
        channel = self.core.dm_channel(bot_id, user_id)
        return self.core.create_message(channel, user_id, content=content)

    def edit_message(
        self, message_id: int, content: str | None = None, *,
        embeds: list[dict[str, Any]] | None = None,
    ) -> Message:
        message = self.state.messages[message_id]
        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = content
        if embeds is not None:
            changes["embeds"] = embeds
        return self.core.edit_message(message, changes)

    def delete_message(self, message_id: int) -> None:
        self.core.delete_message(self.state.messages[message_id])

    def bulk_delete(self, channel_id: int, message_ids: list[int]) -> list[int]:
        return self.core.bulk_delete(self.core.channel(channel_id), list(message_ids))

    def add_reaction(self, message_id: int, user_id: int, emoji: str) -> None:
        self.core.add_reaction(self.state.messages[message_id], user_id, parse_emoji(emoji))

    def remove_reaction(self, message_id: int, user_id: int, emoji: str) -> None:
        self.core.remove_reaction(self.state.messages[message_id], user_id, parse_emoji(emoji))

    def create_thread(
        self, channel_id: int, user_id: int, name: str, *, message_id: int | None = None
    ) -> Channel:
        channel = self.core.channel(channel_id)
        if message_id is not None:
            message = self.core.message(channel, message_id)
            return self.core.thread_from_message(channel, message, {"name": name}, user_id,
                                                 check=False)
        thread, _ = self.core.thread_in_channel(channel, {"name": name, "type": 11}, user_id,
                                                check=False)
        return thread

    def create_forum_post(
        self, forum_id: int, author_id: int, name: str, content: str, *,
        applied_tags: Iterable[int] = (), attachments: Iterable[Any] | None = None,
        embeds: list[dict[str, Any]] | None = None,
    ) -> tuple[Channel, Message]:
        forum = self.core.channel(forum_id)
        body = {"name": name, "applied_tags": list(applied_tags),
                "message": {"content": content, "embeds": embeds or []}}
        thread, starter = self.core.thread_in_channel(
            forum, body, author_id, check=False, attachments=self._attachments(attachments)
        )
        assert starter is not None
        return thread, starter

    def modify_channel(
        self, channel_id: int, *, as_user: int | None = None, **changes: Any
    ) -> Channel:
        """Change a channel or thread, as a moderator would; with `as_user`, as that member,
        with their permissions checked (a member cannot unarchive a locked thread)."""
        return self.core.modify_channel(self.core.channel(channel_id), changes, check_as=as_user)

    def delete_channel(self, channel_id: int) -> None:
        """Delete a channel or thread (fires CHANNEL_DELETE / THREAD_DELETE)."""
        self.core.delete_channel(self.core.channel(channel_id))

    def archive_thread(self, thread_id: int, *, locked: bool = False) -> Channel:
        return self.modify_channel(thread_id, archived=True, locked=locked)

    # --- interactions ------------------------------------------------------------------------

    def _bot(self) -> BotAccount:
        if self.bot is None:
            raise RuntimeError("create_bot_user() or seed_community() first")
        return self.bot

    def _interaction(
        self, kind: int, channel_id: int, user_id: int, data: dict[str, Any],
        message: Message | None = None,
    ) -> Interaction:
        bot = self._bot()
        channel = self.core.channel(channel_id)
        interaction_id = self.state.ids.next()
        token = f"itok.{secrets.token_urlsafe(32)}"
        payload = base_payload(self.core, interaction_id, token, kind, bot.application.id,
                               channel, user_id, data)
        if message is not None:
            payload["message"] = self.state.message_payload(message)
        interaction = Interaction(interaction_id, token, kind, bot.application.id, channel.id,
                                  channel.guild_id, user_id, payload)
        self.state.interactions[interaction_id] = interaction
        self.state.interactions_by_token[token] = interaction
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        return interaction

    def run_slash_command(
        self, channel_id: int, user_id: int, name: str, options: dict[str, Any] | None = None,
        *, subcommand: str | None = None, group: str | None = None,
    ) -> Interaction:
        channel = self.core.channel(channel_id)
        data = builders.slash_data(self.state, self._bot().application, channel, name, options,
                                   subcommand, group)
        return self._interaction(2, channel_id, user_id, data)

    def run_autocomplete(
        self, channel_id: int, user_id: int, name: str, options: dict[str, Any], focused: str,
        *, subcommand: str | None = None, group: str | None = None,
    ) -> Interaction:
        """A member typing into option `focused` (its partial text in `options`)."""
        channel = self.core.channel(channel_id)
        data = builders.slash_data(self.state, self._bot().application, channel, name, options,
                                   subcommand, group)
        builders.mark_focused(data, focused)
        return self._interaction(4, channel_id, user_id, data)

    def run_message_command(
        self, channel_id: int, user_id: int, name: str, message_id: int
    ) -> Interaction:
        channel = self.core.channel(channel_id)
        data = builders.context_menu_data(self.state, self._bot().application, channel, name,
                                          3, message_id)
        return self._interaction(2, channel_id, user_id, data)

    def run_user_command(
        self, channel_id: int, user_id: int, name: str, target_user_id: int
    ) -> Interaction:
        channel = self.core.channel(channel_id)
        data = builders.context_menu_data(self.state, self._bot().application, channel, name,
                                          2, target_user_id)
        return self._interaction(2, channel_id, user_id, data)

    def click_button(
        self, message_id: int, user_id: int, custom_id: str, *, component_type: int = 2,
        values: list[str] | None = None,
    ) -> Interaction:
        message = self.state.messages[message_id]
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        return self._interaction(3, message.channel_id, user_id, data, message)

    def select_option(
        self, message_id: int, user_id: int, custom_id: str, values: list[str]
    ) -> Interaction:
        return self.click_button(message_id, user_id, custom_id, component_type=3,
                                 values=values)

    def submit_modal(
        self, opened_by: Interaction, values: dict[str, Any], *, user_id: int | None = None,
    ) -> Interaction:
        """Submit the modal the client opened in response to `opened_by`."""
        if opened_by.modal is None:
            raise ValueError("that interaction was not answered with a modal")
        data = {
            "custom_id": opened_by.modal.get("custom_id"),
            "components": builders.modal_components(opened_by.modal, values),
        }
        message_id = opened_by.payload.get("message", {}).get("id")
        message = self.state.messages.get(int(message_id)) if message_id else None
        interaction = self._interaction(5, opened_by.channel_id, user_id or opened_by.user_id,
                                        data, message)
        interaction.triggered_by = opened_by.id
        return interaction

    async def wait_for_response(
        self, interaction: Interaction, count: int = 1, timeout: float = 5.0
    ) -> Interaction:
        await self.wait_for(lambda: len(interaction.responses) >= count, timeout)
        return interaction

    # --- reading state -------------------------------------------------------------------------

    def messages(self, channel_id: int) -> list[Message]:
        """Messages in a channel or thread, oldest first."""
        return self.state.messages_in(channel_id)

    def message(self, message_id: int) -> Message:
        return self.state.messages[message_id]

    def message_payload(self, message_id: int) -> dict[str, Any]:
        return self.state.message_payload(self.state.messages[message_id])

    def channel(self, channel_id: int) -> Channel:
        return self.state.channels[channel_id]

    def threads(self, *, guild_id: int | None = None, parent_id: int | None = None,
                include_archived: bool = True) -> list[Channel]:
        result = [
            c for c in self.state.channels.values()
            if c.is_thread and not c.deleted
            and (guild_id is None or c.guild_id == guild_id)
            and (parent_id is None or c.parent_id == parent_id)
            and (include_archived or not c.archived)
        ]
        return sorted(result, key=lambda c: c.id)

    def webhooks(self, channel_id: int | None = None) -> list[Webhook]:
        return [w for w in self.state.webhooks.values()
                if channel_id is None or w.channel_id == channel_id]

    def webhook_messages(self, webhook_id: int) -> list[Message]:
        return sorted((m for m in self.state.messages.values() if m.webhook_id == webhook_id
                       and self.state.is_listed(m)), key=lambda m: m.id)

    def dms_to(self, user_id: int, *, from_user_id: int | None = None) -> list[Message]:
        """Messages the bot (or `from_user_id`) sent to `user_id` in their DM channel."""
        sender = from_user_id or self._bot().user.id
        key = (min(sender, user_id), max(sender, user_id))
        channel_id = self.state.dm_channels.get(key)
        if channel_id is None:
            return []
        return [m for m in self.state.messages_in(channel_id) if m.author_id == sender]

    def member(self, guild_id: int, user_id: int) -> Member:
        return self.state.guilds[guild_id].members[user_id]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        app = self._bot().application
        pool = app.guild_commands.get(guild_id, {}) if guild_id else app.commands
        return list(pool.values())

    # --- faults ----------------------------------------------------------------------------------

    def inject(
        self, method: str, path_pattern: str, *, status: int | None = None, body: Any = None,
        delay: float = 0.0, drop: bool = False, times: int | None = 1,
        retry_after: float = 1.0, is_global: bool = False, after: bool = False,
    ) -> RestFault:
        """Make the next `times` matching REST requests fail (path regex, no /api/vN prefix).

        With `after=True` the request is carried out first and only its answer is delayed,
        dropped or replaced, as when Discord acted but the client never heard back.
        """
        return self.faults.add_rest(method, path_pattern, status=status, body=body,
                                    delay=delay, drop=drop, times=times,
                                    retry_after=retry_after, is_global=is_global, after=after)

    def gateway_reconnect(self) -> int:
        return self.gateway.send_reconnect()

    def gateway_invalidate(self, resumable: bool = False) -> int:
        return self.gateway.send_invalid_session(resumable)

    async def gateway_close(self, code: int = 4000) -> int:
        return await self.gateway.close_connections(code)

    def gateway_silence(self, seconds: float) -> int:
        return self.gateway.silence(seconds)

    def gateway_withhold_acks(self, count: int | None = None) -> int:
        return self.gateway.withhold_acks(count)

    def replace_token(self, token: str) -> None:
        """Give the bot a new token; the old one stops working."""
        bot = self._bot()
        self.state.tokens.pop(bot.token, None)
        bot.token = bot.application.token = token
        self.state.tokens[token] = bot.application
        if self.community is not None:
            self.community.token = token

    def revoke_token(self, token: str) -> None:
        """Invalidate a bot token (REST answers 401, IDENTIFY gets close 4004)."""
        self.state.tokens.pop(token, None)

    async def reset_token(self, token: str) -> int:
        """What Discord does when a bot's token is reset in the developer portal: the token
        is revoked and every gateway session using it is closed with 4004. Returns how many."""
        application = self.state.tokens.pop(token, None)
        if application is None:
            return 0
        return await self.gateway.close_sessions_of(application, 4004)
