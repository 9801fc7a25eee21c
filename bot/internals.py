"""Every place threadbridge reaches into a library's private API, in one module.

Each reach saves real work on a hot path (see the functions), and each was written against the
versions in LIBRARY_VERSIONS. `check_library_versions()` runs at start and refuses a version it
was not written for; tests/test_internals.py exercises every reach against the installed
libraries, so an upgrade that breaks one fails loudly there before it can fail quietly in use.
When raising a bound in pyproject.toml, recheck the reaches and widen LIBRARY_VERSIONS with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any, TypeVar

import aiosqlite
import discord

T = TypeVar("T")

# distribution -> (lowest, highest) major.minor this module was written and tested for.
LIBRARY_VERSIONS: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "discord.py": ((2, 7), (2, 7)),
    "aiosqlite": ((0, 20), (0, 22)),
}

Parser = Callable[[dict[str, Any]], None]


class UnsupportedLibrary(RuntimeError):
    pass


def _major_minor(text: str) -> tuple[int, int]:
    parts = text.split(".")
    return int(parts[0]), int("".join(ch for ch in parts[1] if ch.isdigit()) or 0)


def check_library_versions() -> None:
    """Raise UnsupportedLibrary naming every installed library outside LIBRARY_VERSIONS."""
    wrong = []
    for name, (lowest, highest) in LIBRARY_VERSIONS.items():
        installed = version(name)
        if not lowest <= _major_minor(installed) <= highest:
            wrong.append(f"{name} {installed}")
    if wrong:
        raise UnsupportedLibrary(
            f"threadbridge was not written for {', '.join(wrong)}: install the versions its "
            "pyproject.toml asks for"
        )


# --- discord.py: the gateway's parser table ------------------------------------------------------


def take_over_message_create(client: discord.Client, parser: Parser) -> Parser:
    """Route MESSAGE_CREATE dispatches to `parser`; return discord.py's own parser, which
    `parser` calls for every message it does not handle itself.

    Replies in post threads are stored straight from the payload: discord.py would first build
    a discord.Message (and an on_message task) for each, costing more than storing the reply.
    ConnectionState.parsers maps each dispatch name to a bound method (private).
    """
    parsers: dict[str, Parser] = client._connection.parsers
    original = parsers["MESSAGE_CREATE"]
    parsers["MESSAGE_CREATE"] = parser
    return original


def give_back_message_create(client: discord.Client, parser: Parser, original: Parser) -> None:
    """Undo take_over_message_create, if `parser` still holds MESSAGE_CREATE."""
    parsers: dict[str, Parser] = client._connection.parsers
    if parsers.get("MESSAGE_CREATE") == parser:
        parsers["MESSAGE_CREATE"] = original


# --- discord.py: HTTPClient.request --------------------------------------------------------------


def pace_requests(
    client: discord.Client, wait: Callable[[discord.http.Route], Awaitable[None]]
) -> None:
    """Make every REST call of the client await `wait(route)` first.

    HTTPClient.request is where every REST call passes (public as a method, but replacing it
    on the instance relies on discord.py calling it through `self.request`)."""
    unpaced = client.http.request

    async def paced(route: discord.http.Route, **kwargs: Any) -> Any:
        await wait(route)
        return await unpaced(route, **kwargs)

    client.http.request = paced  # type: ignore[method-assign]


# --- aiosqlite: the connection's worker thread ---------------------------------------------------


def run_on_connection_thread(
    connection: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]
) -> Awaitable[T]:
    """Run `work(raw sqlite3 connection)` on the aiosqlite connection's own worker thread.

    aiosqlite's public API hops to that thread once per statement; a batch of hundreds of
    statements is far cheaper as one hop. Connection._execute queues a callable on the thread,
    and Connection._conn is the sqlite3.Connection that thread owns (both private)."""
    raw = connection._conn
    return connection._execute(lambda: work(raw))
