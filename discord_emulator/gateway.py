"""The websocket gateway: sessions, sequence numbers, resume with replay, and gateway faults."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import intents as intent_bits
from .config import EmulatorConfig
from .intents import privileged_allowed
from .journal import EventRecord, Journal
from .state import Application, State

HELLO, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME = 10, 1, 2, 3, 4, 6
RECONNECT, REQUEST_MEMBERS, INVALID_SESSION, HEARTBEAT_ACK = 7, 8, 9, 11


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class MessageVisibility:
    """What a session needs to know to decide whether it may see a message's content."""

    in_guild: bool
    author_id: int
    mention_ids: frozenset[int]


@dataclass
class Session:
    id: str
    application: Application
    intents: int
    seq: int = 0
    buffer: deque[tuple[int, str]] = field(default_factory=deque)
    connection: Connection | None = None
    identifies: int = 1
    resumes: int = 0
    detached_at: float | None = None

    def wants(self, event: str, in_guild: bool) -> bool:
        needed = intent_bits.required_intent(event, in_guild)
        return needed == 0 or bool(self.intents & needed)

    def sees_content(self, vis: MessageVisibility) -> bool:
        if self.intents & intent_bits.MESSAGE_CONTENT or not vis.in_guild:
            return True
        bot_id = self.application.bot_user_id
        return vis.author_id == bot_id or bot_id in vis.mention_ids


class Connection:
    """One websocket; frames go out through a queue so a stalled client never blocks dispatch."""

    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.session: Session | None = None
        self._compressor = zlib.compressobj() if compress else None
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._running = asyncio.Event()
        self._running.set()
        self.withheld_acks: int | None = 0
        self.closed = False
        self.writer = asyncio.get_running_loop().create_task(self._write_loop())

    @property
    def compressed(self) -> bool:
        return self._compressor is not None

    def enqueue(self, frame: str) -> None:
        if self.closed:
            return
        self._queue.append(frame)
        self._wake.set()

    def send_op(self, op: int, data: Any) -> None:
        self.enqueue(_dumps({"op": op, "d": data, "s": None, "t": None}))

    def silence(self, seconds: float) -> None:
        self._running.clear()
        asyncio.get_running_loop().call_later(seconds, self._running.set)

    async def _write_loop(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._running.wait()
                while self._queue:
                    await self._send_frame(self._queue.popleft())
                    if not self._running.is_set():
                        await self._running.wait()
        except (ConnectionError, RuntimeError):
            self.closed = True

    async def _send_frame(self, frame: str) -> None:
        if self._compressor is not None:
            data = self._compressor.compress(frame.encode())
            data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(frame)

    async def close(self, code: int) -> None:
        self.closed = True
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            await self.writer
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code)

    async def flush_and_close(self, code: int) -> None:
        """Send whatever is queued, then close (used for fatal closes such as 4004)."""
        self.writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
            await self.writer
        with contextlib.suppress(ConnectionError, RuntimeError):
            while self._queue:
                await self._send_frame(self._queue.popleft())
        await self.close(code)


class Gateway:
    def __init__(
        self,
        state: State,
        config: EmulatorConfig,
        journal: Journal,
        on_change: Callable[[], None],
        url: Callable[[], str],
    ) -> None:
        self.state = state
        self.config = config
        self.journal = journal
        self.on_change = on_change
        self.url = url
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- dispatch -------------------------------------------------------------------------

    def dispatch(
        self,
        name: str,
        data: dict[str, Any],
        *,
        in_guild: bool = True,
        stripped: dict[str, Any] | None = None,
        visibility: MessageVisibility | None = None,
    ) -> None:
        self.journal.add_event(EventRecord(name, data))
        full_json: str | None = None
        stripped_json: str | None = None
        self._expire_sessions()
        for session in self.sessions.values():
            if not session.wants(name, in_guild) or not self._audience(session, name, data):
                continue
            if stripped is not None and visibility is not None and not session.sees_content(
                visibility
            ):
                if stripped_json is None:
                    stripped_json = _dumps(stripped)
                self._send(session, name, stripped_json)
            else:
                if full_json is None:
                    full_json = _dumps(data)
                self._send(session, name, full_json)
        self.on_change()

    def _audience(self, session: Session, name: str, data: dict[str, Any]) -> bool:
        """Discord only tells a bot about guilds it is in and channels it can view."""
        app = session.application
        if name == "INTERACTION_CREATE":
            return data.get("application_id") == str(app.id)
        channel_key = data.get("id") if name.startswith("THREAD_") else data.get("channel_id")
        if channel_key is not None and not name.startswith("CHANNEL_"):
            channel = self.state.channels.get(int(channel_key))
            if channel is not None:
                return self.state.can_view(channel, app.bot_user_id)
        guild_id = data.get("guild_id")
        if guild_id:
            guild = self.state.guilds.get(int(guild_id))
            return guild is None or app.bot_user_id in guild.members
        return True

    def someone_lacks_content(self, vis: MessageVisibility) -> bool:
        return any(not s.sees_content(vis) for s in self.sessions.values())

    def _expire_sessions(self) -> None:
        """Forget sessions nobody resumed in time, so dead clients stop costing every dispatch."""
        cutoff = time.monotonic() - self.config.resume_window
        expired = [
            s.id for s in self.sessions.values()
            if s.connection is None and s.detached_at is not None and s.detached_at < cutoff
        ]
        for session_id in expired:
            del self.sessions[session_id]

    def _send(self, session: Session, name: str, data_json: str) -> None:
        session.seq += 1
        frame = f'{{"op":0,"s":{session.seq},"t":"{name}","d":{data_json}}}'
        session.buffer.append((session.seq, frame))
        if len(session.buffer) > self.config.replay_buffer:
            session.buffer.popleft()
        if session.connection is not None:
            session.connection.enqueue(frame)

    def _send_to(self, session: Session, name: str, data: dict[str, Any]) -> None:
        self.journal.add_event(EventRecord(name, data))
        self._send(session, name, _dumps(data))

    # --- websocket handling ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # A short close timeout keeps stop() quick when a client never answers the close frame.
        ws = web.WebSocketResponse(compress=False, max_msg_size=0, autoping=True, timeout=2.0)
        await ws.prepare(request)
        compress = (
            request.query.get("compress") == "zlib-stream" and self.config.honour_zlib_stream
        )
        conn = Connection(ws, compress)
        self.connections.add(conn)
        conn.send_op(HELLO, {"heartbeat_interval": self.config.heartbeat_interval_ms})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    await conn.close(4002)
                    break
                await self._on_payload(conn, payload)
                if conn.closed:
                    break
        finally:
            self.connections.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
                conn.session.detached_at = time.monotonic()
            await conn.close(ws.close_code or 1000)
            self.on_change()
        return ws

    async def _on_payload(self, conn: Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        self.journal.gateway_ops.append(("recv", int(op or -1), data))
        if op == HEARTBEAT:
            if conn.withheld_acks is None:
                return
            if conn.withheld_acks > 0:
                conn.withheld_acks -= 1
                return
            self._acknowledge(conn)
        elif op == IDENTIFY:
            await self._identify(conn, data or {})
        elif op == RESUME:
            await self._resume(conn, data or {})
        elif op == REQUEST_MEMBERS:
            self._members_chunk(conn, data or {})
        self.on_change()

    def _acknowledge(self, conn: Connection) -> None:
        """HEARTBEAT_ACK after a realistic round trip (see EmulatorConfig.heartbeat_ack_delay)."""
        delay = self.config.heartbeat_ack_delay
        if delay <= 0:
            conn.send_op(HEARTBEAT_ACK, None)
        else:
            asyncio.get_running_loop().call_later(delay, conn.send_op, HEARTBEAT_ACK, None)

    def _application_for(self, token: Any) -> Application | None:
        if not isinstance(token, str):
            return None
        return self.state.tokens.get(token.removeprefix("Bot "))

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        app = self._application_for(data.get("token"))
        if app is None:
            await conn.flush_and_close(4004)
            return
        if conn.session is not None:
            await conn.close(4005)
            return
        intents = int(data.get("intents", 0) or 0)
        if intents & ~privileged_allowed(app.flags) & intent_bits.PRIVILEGED:
            await conn.flush_and_close(4014)  # Disallowed intent(s)
            return
        session = Session(secrets.token_hex(16), app, intents)
        self.sessions[session.id] = session
        session.connection = conn
        conn.session = session
        bot = self.state.users[app.bot_user_id]
        guilds = [g for g in self.state.guilds.values() if app.bot_user_id in g.members]
        ready = {
            "v": 10,
            "user": {**bot.payload(), "verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.url(),
            "application": {"id": str(app.id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        shard = data.get("shard")
        if shard is not None:
            ready["shard"] = shard
        self._send_to(session, "READY", ready)
        for guild in guilds:
            member_ids = None
            if not intents & intent_bits.GUILD_MEMBERS:
                member_ids = [app.bot_user_id]
            if intents & intent_bits.GUILDS:
                self._send_to(session, "GUILD_CREATE", self.state.guild_payload(guild, member_ids))

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        app = self._application_for(data.get("token"))
        if session is None or app is None or session.application is not app:
            conn.send_op(INVALID_SESSION, False)
            return
        seq = int(data.get("seq") or 0)
        if session.buffer and session.buffer[0][0] > seq + 1:
            # The events the client missed are no longer buffered; Discord says start over.
            conn.send_op(INVALID_SESSION, False)
            self.sessions.pop(session.id, None)
            return
        old = session.connection
        if old is not None and old is not conn:
            old.session = None
            self._spawn(old.close(4000))
        session.connection = conn
        session.detached_at = None
        conn.session = session
        session.resumes += 1
        for frame_seq, frame in session.buffer:
            if frame_seq > seq:
                conn.enqueue(frame)
        self._send_to(session, "RESUMED", {})

    def _members_chunk(self, conn: Connection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild = self.state.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in user_ids}
            members = [m for m in members if m.user_id in wanted]
        query = data.get("query")
        if query:
            members = [
                m for m in members
                if self.state.users[m.user_id].username.lower().startswith(str(query).lower())
            ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [self.state.member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self._send_to(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- faults -----------------------------------------------------------------------------

    def _live(self) -> list[Connection]:
        return [c for c in self.connections if c.session is not None and not c.closed]

    def send_reconnect(self) -> int:
        conns = self._live()
        for conn in conns:
            conn.send_op(RECONNECT, None)
        return len(conns)

    def send_invalid_session(self, resumable: bool) -> int:
        conns = self._live()
        for conn in conns:
            conn.send_op(INVALID_SESSION, resumable)
            if not resumable and conn.session is not None:
                self.sessions.pop(conn.session.id, None)
        return len(conns)

    async def close_connections(self, code: int) -> int:
        conns = self._live()
        for conn in conns:
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
                conn.session.detached_at = time.monotonic()
            await conn.close(code)
        return len(conns)

    async def close_sessions_of(self, application: Application, code: int) -> int:
        """Close, not resumably, every live connection whose session belongs to `application`."""
        conns = [
            conn
            for conn in self._live()
            if conn.session is not None and conn.session.application is application
        ]
        for conn in conns:
            assert conn.session is not None
            self.sessions.pop(conn.session.id, None)
            await conn.flush_and_close(code)
        return len(conns)

    def silence(self, seconds: float) -> int:
        conns = self._live()
        for conn in conns:
            conn.silence(seconds)
        return len(conns)

    def withhold_acks(self, count: int | None) -> int:
        """Skip the next `count` ACKs on each live connection; None withholds all of them."""
        conns = self._live()
        for conn in conns:
            conn.withheld_acks = count
        return len(conns)

    def restore_acks(self) -> None:
        for conn in self.connections:
            conn.withheld_acks = 0

    async def close(self) -> None:
        await asyncio.gather(*(conn.close(1001) for conn in list(self.connections)))
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
