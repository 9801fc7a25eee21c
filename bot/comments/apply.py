"""Applying a batch of thread events to the store, in order, in one transaction: a new message
becomes a comment (nested, judged by the rules), an edit revises it, a deletion marks it
deleted, reactions are counted, a lock closes the post's comments. Each thread's cursor and
activity move in the same transaction, so the cursor never covers an uncommitted comment."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import utcnow
from bot.comments.events import (
    Created,
    Deleted,
    Edited,
    IncomingMessage,
    ReactionChanged,
    ReactionsSet,
    SyncEvent,
    SyncPolicy,
    ThreadLocked,
    decide,
)
from bot.comments.judging import Judge, Written, written_by
from bot.comments.nesting import TreePaths
from bot.store import Store
from bot.store.authors import upsert_discord_author_in
from bot.store.closing import close_comments_in
from bot.store.cursors import posts_of_threads_in, save_progress_in
from bot.store.models import Case
from bot.store.replies import (
    EarlyEdit,
    KnownMessages,
    change_reaction_in,
    comment_of_message_in,
    insert_reply_in,
    keep_early_edit_in,
    known_messages_in,
    mark_deleted_in,
    reply_of_message_in,
    revise_reply_in,
    set_reactions_in,
    take_early_edit_in,
)


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What one batch did. `skipped` counts messages that are not comments, by reason."""

    created: int = 0
    already_stored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    edited: int = 0
    deleted: int = 0
    reactions: int = 0
    locks: int = 0
    unmirrored: int = 0  # events for threads that are not a post's mirror
    unknown: int = 0  # edits, deletes and reactions of messages that are not (live) comments
    cases: tuple[Case, ...] = ()  # the cases the rules opened, for the audit and the enforcer


async def apply_batch(store: Store, events: Sequence[SyncEvent], policy: SyncPolicy) -> BatchResult:
    """Apply the events in order, all in one transaction: all of them or none.

    The whole batch runs on the writer connection's thread (`Store.write_in_thread`): one hop
    there and back per batch rather than one per statement."""
    if not events:
        return BatchResult()
    return await store.write_in_thread(lambda db: _apply(db, events, policy))


async def apply_batches(
    store: Store, batches: Sequence[Sequence[SyncEvent]], policy: SyncPolicy
) -> list[BatchResult]:
    """Apply several batches in order, each with its own result, all in one transaction: all
    of them or none. A transaction costs its own work (and a hop to the writer's thread and
    back): one for five pages of catch-up took a third less time than five."""
    return await store.write_in_thread(
        lambda db: [_apply(db, events, policy) if events else BatchResult() for events in batches]
    )


def _apply(db: sqlite3.Connection, events: Sequence[SyncEvent], policy: SyncPolicy) -> BatchResult:
    batch = _Batch(policy)
    batch.load_posts(db, {event.thread_id for event in events})
    batch.load_known(db, [event.message for event in events if isinstance(event, Created)])
    for event in events:
        post_id = batch.posts.get(event.thread_id)
        if post_id is None:
            batch.tally["unmirrored"] += 1
        elif isinstance(event, Created):
            outcome = _create(db, post_id, event, batch)
            if outcome in ("created", "already_stored"):
                batch.tally[outcome] += 1
            else:
                batch.skipped[outcome] += 1
        elif isinstance(event, Edited):
            batch.tally[_edit(db, post_id, event, batch)] += 1
        elif isinstance(event, Deleted):
            now = utcnow()
            batch.known.tombstoned.update(event.message_ids)
            found = sum(
                mark_deleted_in(db, post_id, event.thread_id, message_id, now)
                for message_id in event.message_ids
            )
            batch.tally["deleted"] += found
            batch.tally["unknown"] += len(event.message_ids) - found
        elif isinstance(event, ReactionChanged | ReactionsSet):
            batch.tally[_react(db, post_id, event)] += 1
        elif isinstance(event, ThreadLocked):
            close_comments_in(db, post_id, event.locked)
            batch.tally["locks"] += 1
    batch.save_progress(db)
    tally = batch.tally
    return BatchResult(
        created=tally["created"],
        already_stored=tally["already_stored"],
        skipped=dict(batch.skipped),
        edited=tally["edited"],
        deleted=tally["deleted"],
        reactions=tally["reactions"],
        locks=tally["locks"],
        unmirrored=tally["unmirrored"],
        unknown=tally["unknown"],
        cases=tuple(batch.judge.cases) if batch.judge is not None else (),
    )


class _Batch:
    """What one batch learns as it goes, so that each thread's mirror and each author is
    written once per batch rather than once per message."""

    def __init__(self, policy: SyncPolicy) -> None:
        self.policy = policy
        self.judge = Judge(policy.rules) if policy.rules is not None else None
        self.tally: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.posts: dict[int, int] = {}
        self.authors: dict[tuple[int, str, bool], int] = {}
        self.activity: dict[int, datetime] = {}
        self.cursors: dict[int, int] = {}
        self.known = KnownMessages(set(), set(), set(), set(), set(), set())
        self.paths = TreePaths(policy.max_depth)

    def load_posts(self, db: sqlite3.Connection, thread_ids: Iterable[int]) -> None:
        """The posts of all the batch's threads in one query (no event in a batch changes
        which post a thread mirrors)."""
        self.posts.update(posts_of_threads_in(db, thread_ids))

    def load_known(self, db: sqlite3.Connection, messages: Sequence[IncomingMessage]) -> None:
        """What the store knows of the batch's new messages, read once. Every write below that
        changes one of these facts updates it too, so later events in the batch see it."""
        if messages:
            self.known = known_messages_in(
                db, {m.message_id for m in messages}, {m.author_id for m in messages}
            )

    def seen(self, post_id: int, message: IncomingMessage, advance_cursor: bool) -> None:
        # Any message, comment or not, is activity and is covered by the cursor: catch-up must
        # not read the bot's own messages again and again.
        if post_id not in self.activity or message.created_at > self.activity[post_id]:
            self.activity[post_id] = message.created_at
        if advance_cursor:
            self.cursors[post_id] = max(self.cursors.get(post_id, 0), message.message_id)

    def author_id(self, db: sqlite3.Connection, message: IncomingMessage) -> int:
        key = (message.author_id, message.author_name, message.author_is_bot)
        if key not in self.authors:
            self.authors[key] = upsert_discord_author_in(
                db, str(message.author_id), message.author_name, is_bot=message.author_is_bot
            )
        return self.authors[key]

    def save_progress(self, db: sqlite3.Connection) -> None:
        """In the batch's transaction: the cursor never covers rows that were not committed."""
        save_progress_in(
            db,
            [
                (post_id, moment, self.cursors.get(post_id))
                for post_id, moment in self.activity.items()
            ],
        )


def _create(db: sqlite3.Connection, post_id: int, event: Created, batch: _Batch) -> str:
    """'created', 'already_stored', or why the message is not stored."""
    message = event.message
    batch.seen(post_id, message, event.advance_cursor)
    reason = decide(message, batch.policy)
    if reason is not None:
        return reason
    known = batch.known
    message_id = message.message_id
    if message_id in known.ours:
        return "threadbridge webhook"
    if message.author_id in known.opted_out:
        if batch.judge is not None:
            batch.judge.unstored(db, post_id, message)
        return "opted out"
    if message_id in known.stored:
        return "already_stored"
    # Read before this message is stored: its own replies were stored before it.
    awaited = (post_id, message_id) in known.awaited
    # A deletion that overtook its creation (live and catch-up at once) still wins.
    tombstoned = message_id in known.tombstoned
    author_id = batch.author_id(db, message)
    above = batch.paths.place(db, post_id, message.reply_to)
    parent_id = above[-1] if above else None
    comment_id = insert_reply_in(
        db,
        post_id=post_id,
        thread_id=event.thread_id,
        parent_id=parent_id,
        author_id=author_id,
        author_name=message.author_name,
        body=message.content,
        deleted=tombstoned,
        message_id=message_id,
        created_at=message.created_at,
        edited_at=message.edited_at,
        attachments=message.attachments,
        has_stickers=message.has_stickers,
        reply_to=message.reply_to,
    )
    known.stored.add(message_id)
    batch.paths.stored(post_id, message_id, comment_id, above)
    if parent_id is None and message.reply_to is not None:
        known.awaited.add((post_id, message.reply_to))
    if not tombstoned and batch.judge is not None:
        batch.judge.comment(db, post_id, comment_id, written_by(author_id, message))
    if awaited:
        batch.paths.adopt_orphans(db, post_id, message_id)
    if message_id in known.edited_early:
        early = take_early_edit_in(db, message_id)
        if early is not None:
            # _edit keeps whichever is newer: the stored copy's edit or this one.
            edit = Edited(
                message_id,
                early.thread_id,
                early.content,
                early.edited_at,
                early.attachments,
            )
            _edit(db, post_id, edit, batch)
    return "created"


def _edit(db: sqlite3.Connection, post_id: int, event: Edited, batch: _Batch) -> str:
    reply = reply_of_message_in(db, post_id, event.message_id)
    if reply is None:
        # Catch-up may be holding an older copy of the message in a history page: keep the
        # newest such edit until the message arrives.
        early = EarlyEdit(event.thread_id, event.content, event.edited_at, event.attachments)
        keep_early_edit_in(db, event.message_id, early)
        batch.known.edited_early.add(event.message_id)
        return "unknown"
    # Deleted covers opted-out authors too: an edit must not bring their words back. A removed
    # comment's message is being deleted; its stored text stays what the moderator saw.
    if reply.status in ("deleted", "removed"):
        return "unknown"
    if reply.edited_at is not None and event.edited_at < reply.edited_at:
        return "unchanged"  # an older edit arriving late
    attachments = reply.attachments if event.attachments is None else event.attachments
    body_changed = reply.body != event.content
    if not body_changed and attachments == reply.attachments:
        return "unchanged"
    revise_reply_in(db, reply, event.content, attachments, event.edited_at)
    # A held comment stays held (a moderator decides); a visible one is judged again.
    if body_changed and reply.status == "visible" and batch.judge is not None:
        written = Written(
            reply.author_id,
            reply.author_user_id,
            event.standing,
            event.thread_id,
            event.content,
            reply.created_at,
        )
        batch.judge.comment(db, post_id, reply.id, written)
    return "edited"


def _react(db: sqlite3.Connection, post_id: int, event: ReactionChanged | ReactionsSet) -> str:
    # Web comments' webhook messages count too: members react to them in the thread.
    comment_id = comment_of_message_in(db, post_id, event.message_id)
    if comment_id is None:
        return "unknown"
    if isinstance(event, ReactionsSet):
        set_reactions_in(db, comment_id, event.counts)
        return "reactions"
    if not event.emoji:
        return "unknown"
    change_reaction_in(db, comment_id, event.emoji, event.delta)
    return "reactions"
