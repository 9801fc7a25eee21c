"""Keeping the emulator's world in a file, so a restarted `serve --state FILE` is the same Discord.

The file is JSON: `{"format": "threadbridge-discord-emulator", "version": 1, "port": ...,
"ids": {...}, "users": [...], "guilds": [...], "channels": [...], "messages": [...],
"channel_messages": {...}, "webhooks": [...], "applications": [...], "tokens": {...},
"dm_channels": [...], "bot_application_id": ..., "community": {...}}`. Objects are the fields of
the dataclasses in state.py, written and read by their type annotations, so a field added there
is kept without touching this module (a field missing from an older file takes its default).
Datetimes are ISO 8601 strings, attachment bytes base64, snowflakes plain JSON integers.

Not kept: interactions (their tokens expire in 15 minutes on Discord too), gateway sessions
(clients identify again), the journal, injected faults and rate-limit windows.

It is written whole to a temporary file beside FILE, flushed to disk, then renamed over FILE:
a reader (or a crash) sees the old world or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import tempfile
import types
import typing
from dataclasses import fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .community import BotAccount, Community
from .state import Application, Channel, Guild, Message, User, Webhook

if TYPE_CHECKING:
    from .emulator import Emulator

FORMAT = "threadbridge-discord-emulator"
VERSION = 1
# After a change, the world is written within this many seconds (what a kill can lose).
SAVE_DELAY = 1.0


class StateFileError(Exception):
    """The state file cannot be read or does not hold a world this emulator can load."""


# --- dataclasses to JSON and back, led by their annotations ---------------------------------


def to_json(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set):
        return [to_json(v) for v in sorted(value)]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def from_json(kind: Any, raw: Any, where: str = "") -> Any:
    """`raw` read back as `kind` (a dataclass or an annotation); ValueError says where not."""
    if kind is Any:
        return raw
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(kind) if a is not type(None)]
        if raw is None and len(options) < len(typing.get_args(kind)):
            return None
        for option in options:
            with contextlib.suppress(ValueError):
                return from_json(option, raw, where)
        raise ValueError(f"{where or 'value'}: {raw!r} is not {kind}")
    if isinstance(kind, type) and is_dataclass(kind):
        if not isinstance(raw, dict):
            raise ValueError(f"{where or 'value'}: expected an object for {kind.__name__}")
        hints = typing.get_type_hints(kind)
        known = {f.name for f in fields(kind)}
        values = {
            name: from_json(hints[name], raw[name], f"{where}.{name}")
            for name in known
            if name in raw
        }
        try:
            return kind(**values)
        except TypeError as exc:
            raise ValueError(f"{where or 'value'}: {exc}") from None
    if origin in (list, set, dict):
        args = typing.get_args(kind)
        if origin is dict:
            if not isinstance(raw, dict):
                raise ValueError(f"{where or 'value'}: expected an object")
            return {
                from_json(args[0], k, f"{where}[{k}]"): from_json(args[1], v, f"{where}[{k}]")
                for k, v in raw.items()
            }
        if not isinstance(raw, list):
            raise ValueError(f"{where or 'value'}: expected a list")
        items = [from_json(args[0], v, f"{where}[{i}]") for i, v in enumerate(raw)]
        return set(items) if origin is set else items
    if kind is datetime:
        if not isinstance(raw, str):
            raise ValueError(f"{where or 'value'}: expected a date")
        return datetime.fromisoformat(raw)
    if kind is bytes:
        if not isinstance(raw, str):
            raise ValueError(f"{where or 'value'}: expected base64 text")
        return base64.b64decode(raw, validate=True)
    if kind is int:
        # Dictionary keys come back as strings: "123" is an int there.
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            return int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"{where or 'value'}: expected an integer, not {raw!r}")
        return raw
    if kind is float and isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if isinstance(kind, type) and isinstance(raw, kind):
        return raw
    raise ValueError(f"{where or 'value'}: expected {getattr(kind, '__name__', kind)}")


# --- the world ------------------------------------------------------------------------------


def snapshot(emu: Emulator, port: int | None) -> dict[str, Any]:
    state = emu.state
    return {
        "format": FORMAT,
        "version": VERSION,
        "port": port,
        "ids": dict(zip(("last_ms", "increment"), state.ids.position(), strict=True)),
        "users": [to_json(u) for u in state.users.values()],
        "guilds": [to_json(g) for g in state.guilds.values()],
        "channels": [to_json(c) for c in state.channels.values()],
        "messages": [to_json(m) for m in state.messages.values()],
        "channel_messages": to_json(state.channel_message_ids),
        "webhooks": [to_json(w) for w in state.webhooks.values()],
        "applications": [to_json(a) for a in state.applications.values()],
        "tokens": {token: app.id for token, app in state.tokens.items()},
        "dm_channels": [[a, b, channel] for (a, b), channel in state.dm_channels.items()],
        "bot_application_id": emu.bot.application.id if emu.bot else None,
        "community": to_json(emu.community) if emu.community else None,
    }


def restore(emu: Emulator, data: Any) -> int | None:
    """Put the world in `data` into `emu` (before it starts); return the port it was served on.

    Raises StateFileError when `data` is not a world of this format.
    """
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StateFileError("not a discord_emulator state file")
    if data.get("version") != VERSION:
        raise StateFileError(f"state file version {data.get('version')!r}, expected {VERSION}")
    try:
        return _restore(emu, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"damaged: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    return f"missing {exc}" if isinstance(exc, KeyError) else str(exc)


def _restore(emu: Emulator, data: dict[str, Any]) -> int | None:
    state = emu.state

    def many(kind: type, key: str) -> list[Any]:
        return [from_json(kind, item, f"{key}[{i}]") for i, item in enumerate(data[key])]

    users = many(User, "users")
    guilds = many(Guild, "guilds")
    channels = many(Channel, "channels")
    messages = many(Message, "messages")
    webhooks = many(Webhook, "webhooks")
    applications = {a.id: a for a in many(Application, "applications")}
    listed = from_json(dict[int, list[int]], data["channel_messages"], "channel_messages")
    tokens = {str(t): applications[from_json(int, a, "tokens")] for t, a in data["tokens"].items()}
    dm_channels = {(int(a), int(b)): int(c) for a, b, c in data["dm_channels"]}
    community = (
        from_json(Community, data["community"], "community")
        if data.get("community") is not None
        else None
    )
    ids = data["ids"]
    last_ms = from_json(int, ids["last_ms"], "ids.last_ms")
    increment = from_json(int, ids["increment"], "ids.increment")
    port = from_json(int | None, data.get("port"), "port")

    state.users = {u.id: u for u in users}
    state.guilds = {g.id: g for g in guilds}
    state.channels = {c.id: c for c in channels}
    state.messages = {m.id: m for m in messages}
    state.channel_message_ids = {c: sorted(ids) for c, ids in listed.items()}
    state.webhooks = {w.id: w for w in webhooks}
    state.applications = applications
    state.tokens = tokens
    state.dm_channels = dm_channels
    state.ids.continue_from(last_ms, increment)
    bot_app = data.get("bot_application_id")
    if bot_app is not None:
        app = applications[from_json(int, bot_app, "bot_application_id")]
        emu.bot = BotAccount(state.users[app.bot_user_id], app, app.token)
    emu.community = community
    return port


def read(path: Path, emu: Emulator) -> int | None:
    """Load the world saved at `path` into `emu`; return its port. StateFileError if unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateFileError(f"cannot read it: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"not valid JSON ({exc})") from None
    return restore(emu, data)


def write(path: Path, body: bytes) -> None:
    """Replace `path` with `body` atomically: a temporary file beside it, synced, renamed."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class Saver:
    """Writes the world to its file: at once, then within SAVE_DELAY of every change, and on
    stop. Building the JSON happens on the event loop (the world does not move under it);
    writing it happens in a thread."""

    def __init__(
        self, emu: Emulator, path: Path, port: int | None, delay: float = SAVE_DELAY
    ) -> None:
        self.emu = emu
        self.path = path
        self.port = port
        self.delay = delay
        self._written: bytes | None = None
        self._seen = -1
        self._task: asyncio.Task[None] | None = None

    def _body(self) -> bytes:
        return json.dumps(snapshot(self.emu, self.port), separators=(",", ":")).encode()

    def save_now(self) -> None:
        """Write synchronously (at start and on a clean stop)."""
        self._seen = self.emu.changes
        body = self._body()
        if body != self._written:
            write(self.path, body)
            self._written = body

    async def _save_changes(self) -> None:
        if self.emu.changes == self._seen:
            return
        self._seen = self.emu.changes
        body = self._body()
        if body != self._written:
            await asyncio.to_thread(write, self.path, body)
            self._written = body

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.delay)
            try:
                await self._save_changes()
            except OSError as exc:
                # A full disk or a removed folder: say so, keep serving, try again later.
                self._seen = -1
                sys.stderr.write(f"discord_emulator: cannot save the state file: {exc}\n")

    def start(self) -> None:
        self.save_now()
        self._task = asyncio.create_task(self._run(), name="discord_emulator state saver")

    async def stop(self) -> None:
        """Stop saving in the background and write the world one last time."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.save_now()
