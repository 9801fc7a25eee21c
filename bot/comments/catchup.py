"""Catching up on a thread after downtime: what was written, edited and deleted meanwhile.

History after the stored cursor is read oldest first, 100 messages a page; every page is
committed with the cursor at its newest message, so an interrupted catch-up resumes where it
stopped. Then a recent window is re-read to catch edits and deletions of older messages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import discord

from bot.clock import utcnow
from bot.comments.apply import BatchResult
from bot.comments.events import Created, Deleted, Edited, ReactionsSet, SyncEvent, reconcile_window
from bot.comments.payloads import incoming_from_history, reaction_counts_from_payload
from bot.comments.writer import CommentWriter
from bot.internals import history_payloads
from bot.log import get_logger
from bot.store import Store
from bot.store.cursors import cursor_of, stored_message_ids

log = get_logger("threadbridge.comments.catchup")

PAGE = 100
# How many of the newest messages are re-read for edits and deletions made while away.
RECENT_WINDOW = 200
CLOCK_MARGIN = timedelta(seconds=2)


@dataclass(frozen=True, slots=True)
class CatchUp:
    thread_id: int
    read: int = 0
    created: int = 0
    edited: int = 0
    deleted: int = 0


async def catch_up_thread(
    thread: discord.Thread,
    store: Store,
    writer: CommentWriter,
    *,
    full: bool = False,
    recent_window: int = RECENT_WINDOW,
) -> CatchUp:
    """Sync one thread from its cursor (or from its start when `full`)."""
    cursor = None if full else await cursor_of(store, thread.id)
    # Messages created after this moment may be stored live while we read: they are not
    # judged deleted. The margin absorbs a clock that runs ahead of Discord's.
    upper = discord.utils.time_snowflake(utcnow() - CLOCK_MARGIN)
    seen: set[int] = set()
    # Pages are committed in order by the writer while the next one is fetched: each commit
    # moves the cursor only over its own rows.
    commits: list[asyncio.Future[BatchResult]] = []
    page: list[SyncEvent] = []
    # Where the thread stood when this session saw it: anything newer arrives live, so reading
    # stops there rather than asking for one more, empty, page.
    newest = thread.last_message_id
    async for message in history_payloads(thread, after=cursor):
        message_id = int(message["id"])
        seen.add(message_id)
        page.extend(_events_for(message, thread, advance=True))
        if newest is not None and message_id >= newest:
            break
        if len(page) >= PAGE:
            commits.append(writer.enqueue(page))
            page = []
    commits.append(writer.enqueue(page))
    results = await asyncio.gather(*commits)
    created = sum(result.created for result in results)
    edited = sum(result.edited for result in results)
    read = len(seen)

    # The messages just before the cursor were synced earlier: re-read them for edits and
    # deletions made while the bot was away.
    lowest = 0
    if cursor is not None and await stored_message_ids(store, thread.id, 0, cursor):
        window = [
            m async for m in history_payloads(thread, before=cursor + 1, limit=recent_window)
        ]
        seen.update(int(message["id"]) for message in window)
        if len(window) >= recent_window:
            lowest = min(int(message["id"]) for message in window)
        edits: list[SyncEvent] = [
            event
            for message in window
            for event in _events_for(message, thread)
            if not isinstance(event, Created)
        ]
        edited += (await writer.apply(edits)).edited
    # Up to the newest message read, what was not read is gone; beyond it, only what is older
    # than the start of this catch-up can be judged.
    upper = max(upper, max(seen, default=0))
    gone = reconcile_window(await stored_message_ids(store, thread.id, lowest, upper), seen)
    deleted = (await writer.apply([Deleted(gone, thread.id)])).deleted if gone else 0

    if read or edited or deleted:
        log.info(
            "thread caught up",
            thread=thread.id,
            read=read,
            created=created,
            edited=edited,
            deleted=deleted,
        )
    return CatchUp(thread.id, read=read, created=created, edited=edited, deleted=deleted)


def _events_for(
    message: dict[str, Any], thread: discord.Thread, *, advance: bool = False
) -> list[SyncEvent]:
    """What a message of a history page says: it exists, its current text, its reactions."""
    incoming = incoming_from_history(message, thread.guild)
    events: list[SyncEvent] = [Created(incoming, advance_cursor=advance)]
    if incoming.edited_at is not None:
        events.append(
            Edited(
                incoming.message_id,
                thread.id,
                message["content"],
                incoming.edited_at,
                incoming.attachments,
            )
        )
    if message.get("reactions"):
        events.append(
            ReactionsSet(incoming.message_id, thread.id, reaction_counts_from_payload(message))
        )
    return events
