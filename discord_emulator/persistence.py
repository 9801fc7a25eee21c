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
import functools
import json
import os
import sys
import tempfile
import types
import typing
from collections.abc import Callable
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
# After a change, the world is written within this many seconds (what a kill can lose),
# longer for a world so large that copying it takes more than a fifth of that.
SAVE_DELAY = 1.0


class StateFileError(Exception):
    """The state file cannot be read or does not hold a world this emulator can load."""


# --- dataclasses to JSON and back, led by their annotations ---------------------------------


_PLAIN = (str, int, bool, float, type(None))


def to_json(value: Any) -> Any:
    kind: Any = type(value)
    if kind in _PLAIN:
        return value
    if kind is list or kind is tuple:
        return [to_json(v) for v in value]
    if kind is dict:
        return {str(k): to_json(v) for k, v in value.items()}
    if is_dataclass(value):
        return {name: to_json(getattr(value, name)) for name, _ in _field_types(kind)}
    if kind is datetime:
        return value.isoformat()
    if kind is bytes:
        return base64.b64encode(value).decode("ascii")
    if kind is set:
        return [to_json(v) for v in sorted(value)]
    return value


@functools.cache
def _field_types(kind: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(kind)
    return tuple((f.name, hints[f.name]) for f in fields(kind))


class _Bad(ValueError):
    """A value that does not fit its annotation; `path` is filled in on the way out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []


Reader = Callable[[Any], Any]


def from_json(kind: Any, raw: Any, where: str = "") -> Any:
    """`raw` read back as `kind` (a dataclass or an annotation); ValueError says where not."""
    try:
        return reader(kind)(raw)
    except _Bad as bad:
        place = where + "".join(reversed(bad.path))
        raise ValueError(f"{place.lstrip('.') or 'value'}: {bad.message}") from None


def _same(raw: Any) -> Any:
    return raw


def _read_int(raw: Any) -> int:
    # Dictionary keys come back as strings: "123" is an int there.
    if type(raw) is int:
        return raw
    if isinstance(raw, str) and raw.lstrip("-").isdigit():
        return int(raw)
    raise _Bad(f"expected an integer, not {raw!r}")


def _read_datetime(raw: Any) -> datetime:
    if not isinstance(raw, str):
        raise _Bad(f"expected a date, not {raw!r}")
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise _Bad(f"expected a date, not {raw!r}") from None


def _read_bytes(raw: Any) -> bytes:
    try:
        return base64.b64decode(raw, validate=True)
    except (TypeError, ValueError):
        raise _Bad("expected base64 text") from None


def _read_float(raw: Any) -> float:
    if type(raw) in (int, float):
        return float(raw)
    raise _Bad(f"expected a number, not {raw!r}")


def _read_exactly(kind: type) -> Reader:
    def read(raw: Any) -> Any:
        if type(raw) is not kind:
            raise _Bad(f"expected {kind.__name__}, not {raw!r}")
        return raw

    return read


@functools.cache
def reader(kind: Any) -> Reader:
    """A function that reads JSON as `kind`, built once per annotation."""
    if kind is Any:
        return _same
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        return _union_reader(kind)
    if isinstance(kind, type) and is_dataclass(kind):
        return _object_reader(kind)
    if origin is dict:
        key_type, value_type = typing.get_args(kind)
        return _dict_reader(reader(key_type), reader(value_type))
    if origin in (list, set):
        return _list_reader(reader(typing.get_args(kind)[0]), origin)
    simple: dict[Any, Reader] = {
        int: _read_int,
        datetime: _read_datetime,
        bytes: _read_bytes,
        float: _read_float,
    }
    if kind in simple:
        return simple[kind]
    if isinstance(kind, type):
        return _read_exactly(kind)
    raise TypeError(f"no reader for {kind}")


def _union_reader(kind: Any) -> Reader:
    args = typing.get_args(kind)
    options = [reader(a) for a in args if a is not type(None)]
    nullable = len(options) < len(args)

    def read(raw: Any) -> Any:
        if raw is None and nullable:
            return None
        for option in options:
            with contextlib.suppress(_Bad):
                return option(raw)
        raise _Bad(f"{raw!r} is not {kind}")

    return read


def _object_reader(kind: type) -> Reader:
    parts = [(name, reader(hint)) for name, hint in _field_types(kind)]

    def read(raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise _Bad(f"expected an object for {kind.__name__}")
        values = {}
        for name, read_field in parts:
            if name in raw:
                try:
                    values[name] = read_field(raw[name])
                except _Bad as bad:
                    bad.path.append(f".{name}")
                    raise
        try:
            return kind(**values)
        except TypeError as exc:
            raise _Bad(str(exc)) from None

    return read


def _dict_reader(read_key: Reader, read_value: Reader) -> Reader:
    def read(raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise _Bad("expected an object")
        result = {}
        for key, value in raw.items():
            try:
                result[read_key(key)] = read_value(value)
            except _Bad as bad:
                bad.path.append(f"[{key}]")
                raise
        return result

    return read


def _list_reader(read_item: Reader, container: type) -> Reader:
    def read(raw: Any) -> Any:
        if not isinstance(raw, list):
            raise _Bad("expected a list")
        items = []
        for index, value in enumerate(raw):
            try:
                items.append(read_item(value))
            except _Bad as bad:
                bad.path.append(f"[{index}]")
                raise
        return set(items) if container is set else items

    return read


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
    stop. The world is copied into plain JSON values on the event loop (so it does not move
    while being copied); encoding and writing happen in a thread. A large world takes a while
    to copy, so saves then come less often: never more than a fifth of the time goes to it."""

    def __init__(
        self, emu: Emulator, path: Path, port: int | None, delay: float = SAVE_DELAY
    ) -> None:
        self.emu = emu
        self.path = path
        self.port = port
        self.delay = delay
        self._written: bytes | None = None
        self._seen = -1
        self._pause = delay
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _write_if_new(self, world: dict[str, Any]) -> None:
        body = json.dumps(world, separators=(",", ":")).encode()
        if body != self._written:
            write(self.path, body)
            self._written = body

    def save_now(self) -> None:
        """Write synchronously (at start and on a clean stop)."""
        self._seen = self.emu.changes
        self._write_if_new(snapshot(self.emu, self.port))

    async def _save_changes(self) -> None:
        if self.emu.changes == self._seen:
            return
        self._seen = self.emu.changes
        loop = asyncio.get_running_loop()
        began = loop.time()
        world = snapshot(self.emu, self.port)
        self._pause = max(self.delay, 4 * (loop.time() - began))
        await asyncio.to_thread(self._write_if_new, world)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._pause)
            if self._stopping.is_set():
                return
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
        """Let a save under way finish (two writers could land out of order), then write the
        world one last time."""
        self._stopping.set()
        if self._task is not None:
            with contextlib.suppress(OSError):
                await self._task
            self._task = None
        self.save_now()
