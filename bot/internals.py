"""Every place threadbridge reaches into a library's private API, in one module.

Each reach saves real work on a hot path or stops a library behaviour that is wrong for
threadbridge (see the functions), and each was written against the versions in LIBRARY_VERSIONS.
`check_library_versions()` runs at start and refuses a version it was not written for;
tests/test_internals.py exercises every reach against the installed libraries, so an upgrade
that breaks one fails loudly there before it can fail quietly in use.
When raising a bound in pyproject.toml, recheck the reaches and widen LIBRARY_VERSIONS with it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextvars import ContextVar
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import aiohttp
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


# --- discord.py: history as payloads ------------------------------------------------------------

HISTORY_PAGE = 100  # the most Discord returns in one page


async def history_payloads(
    channel: discord.TextChannel | discord.Thread,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """The channel's messages as raw payloads, read the way Messageable.history reads them:
    after `after`, oldest first (pages read forwards), or else before `before`, newest first.

    Catch-up reads whole histories; Messageable.history builds a discord.Message for every
    message (its author, attachments, reactions...) only for catch-up to read a few fields of
    it, which cost more CPU than storing the message. The same requests are made:
    HTTPClient.logs_from, through the channel's ConnectionState (`_state`, private). Discord
    answers newest first; a page shorter than asked for is the last."""
    http = channel._state.http
    while limit is None or limit > 0:
        asked = HISTORY_PAGE if limit is None else min(limit, HISTORY_PAGE)
        if before is None:
            page = await http.logs_from(channel.id, asked, after=after or 0)
            if page:
                after = int(page[0]["id"])
            page.reverse()
        else:
            page = await http.logs_from(channel.id, asked, before=before)
            if page:
                before = int(page[-1]["id"])
        if limit is not None:
            limit -= len(page)
        for data in page:
            yield cast(dict[str, Any], data)  # the TypedDict discord.py declares, read as JSON
        if len(page) < HISTORY_PAGE:
            return


# --- discord.py: its retries of a 5xx ------------------------------------------------------------

_SINGLE_ATTEMPT: ContextVar[bool] = ContextVar("threadbridge_single_attempt", default=False)


class UnretriedServerError(discord.DiscordServerError):
    """A 5xx answer to a call made under `single_attempt()`: Discord may have acted or not."""


@contextlib.contextmanager
def single_attempt() -> Iterator[None]:
    """Calls to Discord made inside are tried once: a 5xx answer raises UnretriedServerError
    instead of being retried by discord.py. Needs the client built with `single_attempt_trace()`.

    For calls that create something: discord.py repeats a call answered 500/502/504/524
    (HTTPClient.request) and its webhook adapter any 5xx (AsyncWebhookAdapter.request), without
    asking whether the first try made the thing, so a 5xx given after Discord acted doubles it.
    The caller looks for what the call made before trying again. Other calls keep the retries.
    """
    token = _SINGLE_ATTEMPT.set(True)
    try:
        yield
    finally:
        _SINGLE_ATTEMPT.reset(token)


def single_attempt_trace() -> aiohttp.TraceConfig:
    """The trace to build the client with (`Client(http_trace=...)`) for `single_attempt()`.

    Both retry loops read the answer inside `async with session.request(...)` on the client's
    aiohttp session: the one HTTPClient makes with this trace, which webhooks bound to the client
    also use (Webhook.from_state takes `http._HTTPClient__session`, private). An exception raised
    by an on_request_end callback comes out of `session.request` (aiohttp closes the answer), and
    neither loop catches it: the call ends after the one attempt. The contextvar keeps this to
    the task inside `single_attempt()`, so every other call is retried as before.
    """
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_end_single_attempt)
    return trace


async def _end_single_attempt(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    response = params.response
    if response.status < 500 or not _SINGLE_ATTEMPT.get():
        return
    text = await response.text(errors="replace")
    detail: dict[str, Any] | str = text
    with contextlib.suppress(ValueError):
        parsed = json.loads(text)
        if isinstance(parsed, dict):
            detail = parsed
    raise UnretriedServerError(response, detail)


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
