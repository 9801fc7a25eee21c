"""Reply sync in the store: thread events become comments, cursors move with the rows they
cover, and what was synced can be read back (export)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.comments.events import (
    Created,
    Deleted,
    Edited,
    IncomingAttachment,
    IncomingMessage,
    Moderation,
    ReactionChanged,
    ReactionsSet,
    Standing,
    SyncEvent,
    SyncPolicy,
    ThreadLocked,
    decide,
)
from bot.moderation.rules import Outcome, Verdict, judge
from bot.store.database import Store
from bot.store.models import CaseAction, CommentStatus, Source
from bot.store.moderation import (
    AuthorRecord,
    author_record_in,
    comment_facts_in,
    judged_in,
    open_case_in,
)

REMOVED_AUTHOR_NAME = "(removed at the author's request)"
# The comment of the post (?1) that a message (?2) shows: a Discord comment, or a web comment
# posted by our webhook. Two indexed lookups; an OR of both would scan the post's comments.
_COMMENT_OF_MESSAGE = """
    SELECT id FROM comments WHERE discord_message_id = ?2 AND post_id = ?1
    UNION ALL
    SELECT comments.id FROM comment_messages
    JOIN comments ON comments.id = comment_messages.comment_id
    WHERE comment_messages.message_id = ?2 AND comments.post_id = ?1
    LIMIT 1
"""
# From that comment (?1, ?2) up to the top level, at most ?3 steps.
_PATH_TO_SQL = f"""
    WITH RECURSIVE chain (id, parent_id, n) AS (
        SELECT id, parent_id, 0 FROM comments WHERE id = ({_COMMENT_OF_MESSAGE})
        UNION ALL
        SELECT comments.id, comments.parent_id, chain.n + 1
        FROM comments JOIN chain ON comments.id = chain.parent_id
        WHERE chain.n < ?3
    )
    SELECT id FROM chain ORDER BY n DESC
"""  # noqa: S608 - two constants, no input
# Bounds the walk up a parent chain, so that a cycle written into the table by hand cannot hang it.
_MAX_ANCESTRY = 10_000


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
    cases: tuple[int, ...] = ()  # ids of the cases the rules opened, for the moderation cog


@dataclass(frozen=True, slots=True)
class MirrorRef:
    post_id: int
    thread_id: int
    sync_cursor: int | None


async def apply_batch(store: Store, events: Sequence[SyncEvent], policy: SyncPolicy) -> BatchResult:
    """Apply the events in order, all in one transaction: all of them or none.

    The whole batch runs on the writer connection's thread (`Store.write_in_thread`): one hop
    there and back per batch rather than one per statement."""
    if not events:
        return BatchResult()
    return await store.write_in_thread(lambda db: _apply_sync(db, events, policy))


def _apply_sync(
    db: sqlite3.Connection, events: Sequence[SyncEvent], policy: SyncPolicy
) -> BatchResult:
    """apply_batch's body, inside the transaction that write_in_thread holds."""
    batch = _Batch(policy)
    batch.load_posts(db, {event.thread_id for event in events})
    for event in events:
        post_id = batch.post_of_thread(event.thread_id)
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
            found = _delete(db, post_id, event)
            batch.tally["deleted"] += found
            batch.tally["unknown"] += len(event.message_ids) - found
        elif isinstance(event, ReactionChanged | ReactionsSet):
            batch.tally[_react(db, post_id, event)] += 1
        elif isinstance(event, ThreadLocked):
            db.execute(
                "UPDATE posts SET comments_closed = ? WHERE id = ?",
                (int(event.locked), post_id),
            )
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
        cases=tuple(batch.cases),
    )


class _Batch:
    """What one batch learns as it goes, so that each thread's mirror and each author is
    written once per batch rather than once per message."""

    def __init__(self, policy: SyncPolicy) -> None:
        self.policy = policy
        self.tally: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.posts: dict[int, int | None] = {}
        self.authors: dict[tuple[int, str, bool], int] = {}
        self.activity: dict[int, datetime] = {}
        self.cursors: dict[int, int] = {}
        self.cases: list[int] = []
        # The rules' reading of each author's ban and approval, once per batch.
        self.records: dict[int, AuthorRecord] = {}

    def load_posts(self, db: sqlite3.Connection, thread_ids: Iterable[int]) -> None:
        """The posts of all the batch's threads in one query (no event in a batch changes
        which post a thread mirrors)."""
        wanted = [thread_id for thread_id in thread_ids if thread_id not in self.posts]
        if not wanted:
            return
        self.posts.update(dict.fromkeys(wanted))
        rows = db.execute(
            "SELECT thread_id, post_id FROM mirrors "
            "WHERE thread_id IN (SELECT value FROM json_each(?))",
            (json.dumps(wanted),),
        ).fetchall()
        for row in rows:
            self.posts[row["thread_id"]] = row["post_id"]

    def post_of_thread(self, thread_id: int) -> int | None:
        return self.posts.get(thread_id)

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
            self.authors[key] = _upsert_discord_author(
                db, str(message.author_id), message.author_name, is_bot=message.author_is_bot
            )
        return self.authors[key]

    def save_progress(self, db: sqlite3.Connection) -> None:
        """In the batch's transaction: the cursor never covers rows that were not committed."""
        db.executemany(
            """
            UPDATE mirrors SET
                last_activity_at = max(coalesce(last_activity_at, ''), ?),
                sync_cursor = CASE WHEN ? IS NULL THEN sync_cursor
                                   ELSE max(coalesce(sync_cursor, 0), ?) END
            WHERE post_id = ?
            """,
            [
                (to_db(moment), self.cursors.get(post_id), self.cursors.get(post_id), post_id)
                for post_id, moment in self.activity.items()
            ],
        )


def _upsert_discord_author(
    db: sqlite3.Connection, external_id: str, name: str, *, is_bot: bool
) -> int:
    """bot.store.comments.upsert_author_in for a Discord author without a url, synchronously:
    the author's id."""
    rows = db.execute(
        """
        INSERT INTO authors (source, external_id, name, url, is_bot, first_seen_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, external_id) DO UPDATE SET
            name = excluded.name, url = coalesce(excluded.url, url), is_bot = excluded.is_bot
        RETURNING id
        """,
        (Source.DISCORD.value, external_id, name, None, int(is_bot), to_db(utcnow())),
    ).fetchall()
    return int(rows[0]["id"])


def _create(db: sqlite3.Connection, post_id: int, event: Created, batch: _Batch) -> str:
    """'created', 'already_stored', or why the message is not stored."""
    message = event.message
    batch.seen(post_id, message, event.advance_cursor)
    reason = decide(message, batch.policy)
    if reason is not None:
        return reason
    known = db.execute(
        """
        SELECT
            EXISTS (SELECT 1 FROM comment_messages WHERE message_id = ?1) AS ours,
            EXISTS (SELECT 1 FROM authors
                    WHERE source = 'discord' AND external_id = ?2
                      AND opted_out_at IS NOT NULL) AS opted_out,
            EXISTS (SELECT 1 FROM comments WHERE discord_message_id = ?1) AS stored,
            EXISTS (SELECT 1 FROM deleted_messages WHERE message_id = ?1) AS tombstoned,
            EXISTS (SELECT 1 FROM comments
                    WHERE reply_to_message_id = ?1 AND post_id = ?3
                      AND parent_id IS NULL) AS has_orphans,
            EXISTS (SELECT 1 FROM early_edits WHERE message_id = ?1) AS edited_early
        """,
        (message.message_id, str(message.author_id), post_id),
    ).fetchone()
    if known["ours"]:
        return "threadbridge webhook"
    if known["opted_out"]:
        _judge_unstored(db, batch, post_id, message)
        return "opted out"
    if known["stored"]:
        return "already_stored"
    author_id = batch.author_id(db, message)
    parent_id = _parent_for(db, post_id, message.reply_to, batch.policy.max_depth)
    inserted = db.execute(
        """
        INSERT INTO comments (post_id, parent_id, author_id, author_name, body, status, source,
                              discord_message_id, created_at, edited_at, attachments,
                              has_stickers, reply_to_message_id)
        VALUES (?, ?, ?, ?, ?, ?, 'discord', ?, ?, ?, ?, ?, ?)
        """,
        (
            post_id,
            parent_id,
            author_id,
            message.author_name,
            message.content,
            # A deletion that overtook its creation (live and catch-up at once) still wins.
            "deleted" if known["tombstoned"] else "visible",
            message.message_id,
            to_db(message.created_at),
            None if message.edited_at is None else to_db(message.edited_at),
            _attachments_json(message.attachments),
            int(message.has_stickers),
            message.reply_to,
        ),
    )
    # lastrowid, not RETURNING: RETURNING makes SQLite stage the row, a cost on the hot path.
    comment_id = int(inserted.lastrowid or 0)
    if not known["tombstoned"]:
        _judge(
            db,
            batch,
            post_id=post_id,
            comment_id=comment_id,
            author_row_id=author_id,
            author_user_id=message.author_id,
            standing=message.standing,
            thread_id=message.thread_id,
            text=message.content,
            created_at=message.created_at,
        )
    if known["has_orphans"]:
        _adopt_orphans(db, post_id, message.message_id, batch.policy.max_depth)
    # Checked above with the rest: nothing in between writes early_edits.
    if known["edited_early"]:
        _apply_early_edit(db, post_id, message.message_id, batch)
    return "created"


def _verdict(
    db: sqlite3.Connection,
    moderation: Moderation,
    batch: _Batch,
    *,
    author_row_id: int,
    author_user_id: int,
    standing: Standing,
    thread_id: int,
    text: str,
    created_at: datetime,
    comment_id: int | None = None,
) -> Verdict:
    """What the rules say of a comment (or of an opted-out member's message)."""
    record = batch.records.get(author_row_id)
    if record is None:
        record = batch.records[author_row_id] = author_record_in(
            db, moderation.guild_id, author_row_id, author_user_id, moderation.rules, comment_id
        )
    facts = comment_facts_in(
        db,
        guild_id=moderation.guild_id,
        rules=moderation.rules,
        author_row_id=author_row_id,
        author_user_id=author_user_id,
        author_role_ids=standing.role_ids,
        author_is_moderator=standing.manages_messages
        or not moderation.moderator_role_ids.isdisjoint(standing.role_ids),
        thread_id=thread_id,
        text=text,
        created_at=created_at,
        comment_id=comment_id,
        record=record,
    )
    return judge(facts, moderation.rules)


def _judge_unstored(
    db: sqlite3.Connection, batch: _Batch, post_id: int, message: IncomingMessage
) -> None:
    """A member who opted out is not stored, but is held to the rules all the same (or opting
    out would lift a comment ban): what the rules would remove is removed, under a case that
    names the message. What they would hold passes, since nothing is kept to review."""
    moderation = batch.policy.moderation
    if moderation is None:
        return
    author = db.execute(
        "SELECT id FROM authors WHERE source = 'discord' AND external_id = ?",
        (str(message.author_id),),
    ).fetchone()
    seen = db.execute("SELECT 1 FROM cases WHERE message_id = ?", (message.message_id,))
    if author is None or seen.fetchone() is not None:
        return  # the same message again (live and from catch-up): judged once
    verdict = _verdict(
        db,
        moderation,
        batch,
        author_row_id=author["id"],
        author_user_id=message.author_id,
        standing=message.standing,
        thread_id=message.thread_id,
        text=message.content,
        created_at=message.created_at,
    )
    if verdict.outcome is not Outcome.REMOVE:
        return
    case = open_case_in(
        db,
        guild_id=moderation.guild_id,
        action=CaseAction.REMOVE,
        now=utcnow(),
        target_user_id=message.author_id,
        post_id=post_id,
        rule=verdict.rule,
        reason=verdict.reason,
        channel_id=message.thread_id,
        message_id=message.message_id,
    )
    batch.cases.append(case.id)


def _judge(
    db: sqlite3.Connection,
    batch: _Batch,
    *,
    post_id: int,
    comment_id: int,
    author_row_id: int,
    author_user_id: int,
    standing: Standing,
    thread_id: int,
    text: str,
    created_at: datetime,
) -> None:
    """Run the rules on a new or edited visible comment; a hold or removal opens its case in
    this transaction, so the comment is never seen published before it is judged."""
    moderation = batch.policy.moderation
    if moderation is None:
        return
    verdict = _verdict(
        db,
        moderation,
        batch,
        author_row_id=author_row_id,
        author_user_id=author_user_id,
        standing=standing,
        thread_id=thread_id,
        text=text,
        created_at=created_at,
        comment_id=comment_id,
    )
    if verdict.outcome is Outcome.ALLOW:
        return
    held = verdict.outcome is Outcome.HOLD
    now = utcnow()
    case = open_case_in(
        db,
        guild_id=moderation.guild_id,
        action=CaseAction.HOLD if held else CaseAction.REMOVE,
        now=now,
        target_user_id=author_user_id,
        comment_id=comment_id,
        post_id=post_id,
        rule=verdict.rule,
        reason=verdict.reason,
    )
    judged_in(db, comment_id, CommentStatus.HELD if held else CommentStatus.REMOVED, case, now)
    batch.cases.append(case.id)


def _keep_early_edit(db: sqlite3.Connection, event: Edited) -> None:
    """An edit of a message not stored yet: catch-up may be holding an older copy of it in a
    history page. Keep the newest such edit until the message arrives."""
    attachments = None if event.attachments is None else _attachments_json(event.attachments)
    db.execute(
        """
        INSERT INTO early_edits (message_id, thread_id, content, edited_at, attachments)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (message_id) DO UPDATE SET
            content = excluded.content, edited_at = excluded.edited_at,
            attachments = excluded.attachments
        WHERE excluded.edited_at > early_edits.edited_at
        """,
        (event.message_id, event.thread_id, event.content, to_db(event.edited_at), attachments),
    )


def _apply_early_edit(
    db: sqlite3.Connection, post_id: int, message_id: int, batch: _Batch
) -> None:
    rows = db.execute(
        "DELETE FROM early_edits WHERE message_id = ? RETURNING *", (message_id,)
    ).fetchall()
    if not rows:
        return
    early = rows[0]
    attachments = (
        None
        if early["attachments"] is None
        else tuple(IncomingAttachment(**a) for a in json.loads(early["attachments"]))
    )
    # _edit keeps whichever is newer: the stored copy's edit or this one.
    _edit(
        db,
        post_id,
        Edited(
            message_id,
            early["thread_id"],
            early["content"],
            from_db(early["edited_at"]),
            attachments,
        ),
        batch,
    )


def _parent_for(
    db: sqlite3.Connection, post_id: int, reply_to: int | None, max_depth: int
) -> int | None:
    """The comment a reply nests under: the replied-to comment of the same post, or, when that
    is already as deep as nesting goes, its ancestor one level above the limit (as WordPress
    does). None (top level) for the starter, a bot's message, or a message never stored."""
    if reply_to is None or max_depth < 2:
        return None
    path = _within_depth(_path_to(db, post_id, reply_to), max_depth)
    return path[-1] if path else None


def _path_to(db: sqlite3.Connection, post_id: int, message_id: int) -> list[int]:
    """The ids from the top-level comment down to the comment shown by this message."""
    rows = db.execute(_PATH_TO_SQL, (post_id, message_id, _MAX_ANCESTRY)).fetchall()
    return [int(row["id"]) for row in rows]


def _within_depth(path: list[int], max_depth: int) -> list[int]:
    """The part of a would-be parent's path that a child can hang from: a child of the last
    one is then at most `max_depth` deep."""
    return path[: max_depth - 1]


def _adopt_orphans(db: sqlite3.Connection, post_id: int, message_id: int, max_depth: int) -> None:
    """Nest the replies to this message that were stored before it (live replies arrive while
    catch-up has not yet stored what they reply to): they were put at the top level."""
    if max_depth < 2:
        return
    orphans = [
        int(row["id"])
        for row in db.execute(
            """
            SELECT id FROM comments
            WHERE reply_to_message_id = ?1 AND post_id = ?2 AND parent_id IS NULL
              AND discord_message_id IS NOT ?1  -- a (crafted) reply to itself stays on top
            ORDER BY id
            """,
            (message_id, post_id),
        ).fetchall()
    ]
    if not orphans:
        return
    parent_path = _path_to(db, post_id, message_id)
    for orphan in orphans:
        _rehang(db, orphan, parent_path, max_depth)


def _rehang(db: sqlite3.Connection, root_id: int, parent_path: list[int], max_depth: int) -> None:
    """Hang a top-level comment under the end of `parent_path`, and pull up the replies under
    it that would now nest deeper than the limit."""
    rows = [
        (int(row["id"]), row["parent_id"])
        for row in db.execute(
            """
            WITH RECURSIVE subtree (id, parent_id, n) AS (
                SELECT id, parent_id, 0 FROM comments WHERE id = ?1
                UNION ALL
                SELECT comments.id, comments.parent_id, subtree.n + 1
                FROM comments JOIN subtree ON comments.parent_id = subtree.id
                WHERE subtree.n < ?2
            )
            SELECT id, parent_id FROM subtree ORDER BY n, id
            """,
            (root_id, _MAX_ANCESTRY),
        ).fetchall()
    ]
    paths: dict[int, list[int]] = {}
    for comment_id, parent_id in rows:
        above = _within_depth(parent_path if comment_id == root_id else paths[parent_id], max_depth)
        if above[-1] != parent_id:
            db.execute("UPDATE comments SET parent_id = ? WHERE id = ?", (above[-1], comment_id))
        paths[comment_id] = [*above, comment_id]


def _edit(db: sqlite3.Connection, post_id: int, event: Edited, batch: _Batch) -> str:
    rows = db.execute(
        """
        SELECT comments.id, body, attachments, status, edited_at, created_at, author_id,
               authors.external_id AS author_user_id
        FROM comments JOIN authors ON authors.id = comments.author_id
        WHERE discord_message_id = ? AND post_id = ? AND comments.source = 'discord'
        """,
        (event.message_id, post_id),
    ).fetchall()
    row = rows[0] if rows else None
    if row is None:
        _keep_early_edit(db, event)
        return "unknown"
    # Deleted covers opted-out authors too: an edit must not bring their words back. A removed
    # comment's message is being deleted; its stored text stays what the moderator saw.
    if row["status"] in ("deleted", "removed"):
        return "unknown"
    previous_edit = from_db_optional(row["edited_at"])
    if previous_edit is not None and event.edited_at < previous_edit:
        return "unchanged"  # an older edit arriving late
    attachments = (
        row["attachments"] if event.attachments is None else _attachments_json(event.attachments)
    )
    body_changed = row["body"] != event.content
    if not body_changed and json.loads(attachments) == json.loads(row["attachments"]):
        return "unchanged"
    if body_changed:
        db.execute(
            "INSERT INTO comment_revisions (comment_id, body, replaced_at) VALUES (?, ?, ?)",
            (row["id"], row["body"], to_db(event.edited_at)),
        )
    db.execute(
        "UPDATE comments SET body = ?, attachments = ?, edited_at = ? WHERE id = ?",
        (event.content, attachments, to_db(event.edited_at), row["id"]),
    )
    # A held comment stays held (a moderator decides); a visible one is judged again.
    if body_changed and row["status"] == "visible":
        _judge(
            db,
            batch,
            post_id=post_id,
            comment_id=row["id"],
            author_row_id=row["author_id"],
            author_user_id=int(row["author_user_id"]),
            standing=event.standing,
            thread_id=event.thread_id,
            text=event.content,
            created_at=from_db(row["created_at"]),
        )
    return "edited"


def _delete(db: sqlite3.Connection, post_id: int, event: Deleted) -> int:
    """How many of the messages were stored comments (now marked deleted)."""
    found = 0
    now = to_db(utcnow())
    for message_id in event.message_ids:
        # Only Discord comments: deleting a web comment's webhook message is our own doing.
        # A removed comment stays removed: its message was deleted by the bot enforcing that.
        marked = db.execute(
            """
            UPDATE comments SET status = 'deleted', status_at = ?
            WHERE discord_message_id = ? AND post_id = ? AND source = 'discord'
              AND status != 'removed'
            RETURNING id
            """,
            (now, message_id, post_id),
        ).fetchall()
        found += len(marked)
        db.execute(
            "INSERT OR IGNORE INTO deleted_messages (message_id, thread_id, deleted_at) "
            "VALUES (?, ?, ?)",
            (message_id, event.thread_id, now),
        )
    return found


def _react(db: sqlite3.Connection, post_id: int, event: ReactionChanged | ReactionsSet) -> str:
    # Web comments' webhook messages count too: members react to them in the thread.
    rows = db.execute(_COMMENT_OF_MESSAGE, (post_id, event.message_id)).fetchall()
    if not rows:
        return "unknown"
    comment_id = rows[0]["id"]
    if isinstance(event, ReactionsSet):
        db.execute("DELETE FROM comment_reactions WHERE comment_id = ?", (comment_id,))
        db.executemany(
            "INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?, ?, ?)",
            [(comment_id, emoji, n) for emoji, n in event.counts.items() if n > 0 and emoji],
        )
        return "reactions"
    if not event.emoji:
        return "unknown"
    db.execute(
        """
        INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?1, ?2, max(?3, 0))
        ON CONFLICT (comment_id, emoji) DO UPDATE SET count = max(count + ?3, 0)
        """,
        (comment_id, event.emoji, event.delta),
    )
    db.execute(
        "DELETE FROM comment_reactions WHERE comment_id = ? AND emoji = ? AND count = 0",
        (comment_id, event.emoji),
    )
    return "reactions"


def _attachments_json(attachments: Sequence[IncomingAttachment]) -> str:
    if not attachments:
        return "[]"  # what json.dumps gives, without its cost on the hot path
    return json.dumps(
        [
            {
                "url": a.url,
                "filename": a.filename,
                "size": a.size,
                "content_type": a.content_type,
            }
            for a in attachments
        ],
        ensure_ascii=False,
    )


async def cursor_of(store: Store, thread_id: int) -> int | None:
    """The newest message id synced from the thread; None if never synced or not mirrored."""
    value = await store.fetch_value(
        "SELECT sync_cursor FROM mirrors WHERE thread_id = ?", (thread_id,)
    )
    return None if value is None else int(value)


async def advance_cursor(store: Store, thread_id: int, message_id: int) -> None:
    """Move the cursor forward to `message_id` (never back): e.g. after an empty history page."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE mirrors SET sync_cursor = max(coalesce(sync_cursor, 0), ?) WHERE thread_id = ?",
            (message_id, thread_id),
        )


async def threads_to_catch_up(store: Store, since: datetime) -> list[MirrorRef]:
    """Mirrored threads that may have missed messages: active or mirrored since `since`, or
    never synced. Most recently active first."""
    rows = await store.fetch_all(
        """
        SELECT post_id, thread_id, sync_cursor FROM mirrors
        WHERE state = 'mirrored' AND thread_id IS NOT NULL
          AND (last_activity_at >= ?1 OR updated_at >= ?1 OR sync_cursor IS NULL)
        ORDER BY coalesce(last_activity_at, updated_at) DESC, post_id
        """,
        (to_db(since),),
    )
    return [MirrorRef(row["post_id"], row["thread_id"], row["sync_cursor"]) for row in rows]


async def stored_message_ids(store: Store, thread_id: int, from_id: int, to_id: int) -> set[int]:
    """Message ids of the thread's live Discord comments within [from_id, to_id]."""
    rows = await store.fetch_all(
        """
        SELECT comments.discord_message_id FROM comments
        JOIN mirrors ON mirrors.post_id = comments.post_id
        WHERE mirrors.thread_id = ? AND comments.source = 'discord'
          AND comments.status != 'deleted'
          AND comments.discord_message_id BETWEEN ? AND ?
        """,
        (thread_id, from_id, to_id),
    )
    return {row["discord_message_id"] for row in rows}


async def opt_out(store: Store, user_id: int) -> int:
    """From now on the user's messages are not stored, and the stored ones lose their content
    (the rows stay, so that replies keep their parent). Returns how many comments were removed."""
    now = to_db(utcnow())
    async with store.transaction() as db:
        async with db.execute(
            """
            INSERT INTO authors (source, external_id, name, opted_out_at, first_seen_at)
            VALUES ('discord', ?1, ?2, ?3, ?3)
            ON CONFLICT (source, external_id) DO UPDATE SET
                name = excluded.name, opted_out_at = coalesce(opted_out_at, excluded.opted_out_at)
            RETURNING id
            """,
            (str(user_id), REMOVED_AUTHOR_NAME, now),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        author_id = row["id"]
        for table in ("comment_revisions", "comment_reactions"):
            await db.execute(
                f"DELETE FROM {table} WHERE comment_id IN "  # noqa: S608 - table is ours
                "(SELECT id FROM comments WHERE author_id = ?)",
                (author_id,),
            )
        async with db.execute(
            """
            UPDATE comments SET body = '', author_name = ?1, status = 'deleted',
                   status_reason = 'author opted out', attachments = '[]', has_stickers = 0
            WHERE author_id = ?2
              AND NOT (body = '' AND author_name = ?1 AND status = 'deleted'
                       AND attachments = '[]')
            RETURNING id
            """,
            (REMOVED_AUTHOR_NAME, author_id),
        ) as cursor:
            return len(list(await cursor.fetchall()))


async def opt_in(store: Store, user_id: int) -> None:
    """The user's messages are stored again from now on; removed comments stay removed."""
    async with store.transaction() as db:
        await db.execute(
            "UPDATE authors SET opted_out_at = NULL WHERE source = 'discord' AND external_id = ?",
            (str(user_id),),
        )


async def is_opted_out(store: Store, user_id: int) -> bool:
    value = await store.fetch_value(
        "SELECT opted_out_at FROM authors WHERE source = 'discord' AND external_id = ?",
        (str(user_id),),
    )
    return value is not None


async def export_posts(store: Store, post_id: int | None = None) -> list[dict[str, Any]]:
    """Posts with their comments as a tree, ready for json.dumps. Discord ids are strings
    (JavaScript cannot hold them as numbers). Raises LookupError for an unknown `post_id`."""
    where, parameters = ("WHERE posts.id = ?", (post_id,)) if post_id is not None else ("", ())
    posts = await store.fetch_all(
        "SELECT posts.id, posts.title, posts.url, mirrors.thread_id FROM posts "  # noqa: S608
        f"LEFT JOIN mirrors ON mirrors.post_id = posts.id {where} ORDER BY posts.id",
        parameters,
    )
    if post_id is not None and not posts:
        raise LookupError(f"no post {post_id}")
    exported: list[dict[str, Any]] = []
    for post in posts:
        exported.append(
            {
                "id": post["id"],
                "title": post["title"],
                "url": post["url"],
                "thread_id": _id_text(post["thread_id"]),
                "comments": await _comment_tree(store, post["id"]),
            }
        )
    return exported


async def _comment_tree(store: Store, post_id: int) -> list[dict[str, Any]]:
    rows = await store.fetch_all(
        """
        SELECT comments.*, authors.source AS author_source, authors.external_id AS author_key
        FROM comments JOIN authors ON authors.id = comments.author_id
        WHERE comments.post_id = ? ORDER BY comments.created_at, comments.id
        """,
        (post_id,),
    )
    reactions: dict[int, dict[str, int]] = {}
    for row in await store.fetch_all(
        """
        SELECT comment_reactions.comment_id, emoji, count FROM comment_reactions
        JOIN comments ON comments.id = comment_reactions.comment_id
        WHERE comments.post_id = ? AND count > 0 ORDER BY comment_reactions.comment_id, emoji
        """,
        (post_id,),
    ):
        reactions.setdefault(row["comment_id"], {})[row["emoji"]] = row["count"]

    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for row in rows:
        nodes[row["id"]] = {
            "id": row["id"],
            "author": row["author_name"],
            "author_id": row["author_key"] if row["author_source"] == "discord" else None,
            "body": row["body"],
            "status": row["status"],
            "source": row["source"],
            "discord_message_id": _id_text(row["discord_message_id"]),
            "created_at": from_db(row["created_at"]).isoformat(),
            "edited_at": None
            if row["edited_at"] is None
            else from_db(row["edited_at"]).isoformat(),
            "attachments": json.loads(row["attachments"]),
            "reactions": reactions.get(row["id"], {}),
            "replies": [],
        }
        parents[row["id"]] = row["parent_id"]
    return _nest(nodes, parents)


def _nest(nodes: dict[int, dict[str, Any]], parents: dict[int, int | None]) -> list[dict[str, Any]]:
    """Each node under its parent, in the nodes' order; every node exactly once, even when a
    parent is missing or parents form a cycle (such nodes go to the top level)."""
    children: dict[int | None, list[int]] = {}
    for comment_id, parent_id in parents.items():
        key = parent_id if parent_id in nodes else None
        children.setdefault(key, []).append(comment_id)
    placed: set[int] = set()

    def place(comment_id: int) -> dict[str, Any]:
        stack = [comment_id]
        placed.add(comment_id)
        while stack:
            current = stack.pop()
            for child in children.get(current, []):
                if child not in placed:
                    placed.add(child)
                    nodes[current]["replies"].append(nodes[child])
                    stack.append(child)
        return nodes[comment_id]

    tree = [place(comment_id) for comment_id in children.get(None, [])]
    for comment_id in nodes:
        if comment_id not in placed:
            tree.append(place(comment_id))
    return tree


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)
