"""Comments synced from replies in post threads: the rows the comment writer inserts, edits,
marks deleted and counts reactions on, all on its own connection inside its transaction.

Plain functions on a sqlite3 connection (`..._in`): `bot.comments.apply` calls them from the
writer's thread, one batch per transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db, from_db_optional, to_db
from bot.store.models import Attachment

# The comment of the post (?1) that a message (?2) shows: a Discord comment, or a web comment
# posted by our webhook. Two indexed lookups; an OR of both would scan the post's comments.
COMMENT_OF_MESSAGE = """
    SELECT id FROM comments WHERE discord_message_id = ?2 AND post_id = ?1
    UNION ALL
    SELECT comments.id FROM comment_messages
    JOIN comments ON comments.id = comment_messages.comment_id
    WHERE comment_messages.message_id = ?2 AND comments.post_id = ?1
    LIMIT 1
"""


def attachments_json(attachments: Sequence[Attachment]) -> str:
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


def attachments_from_json(text: str) -> tuple[Attachment, ...]:
    return tuple(Attachment(**item) for item in json.loads(text))


@dataclass(slots=True)
class KnownMessages:
    """What the store knows about the messages a batch brings, read for all of them at once
    when the batch starts (six queries per batch, not six per message). The batch keeps the
    sets true as it writes: see `bot.comments.apply`."""

    ours: set[int]  # posted by our webhook for a web comment
    opted_out: set[int]  # Discord users who opted out of being kept
    stored: set[int]  # already a comment
    tombstoned: set[int]  # its deletion arrived first
    # (post, message) with replies stored before it, at the top level: they wait to be nested.
    awaited: set[tuple[int, int]]
    edited_early: set[int]  # an edit of it arrived first


# Each takes its list as one JSON array: the index of the column is probed once per value.
_OURS = (
    "SELECT message_id FROM comment_messages WHERE message_id IN (SELECT value FROM json_each(?))"
)
_OPTED_OUT = """
    SELECT external_id FROM authors
    WHERE source = 'discord' AND opted_out_at IS NOT NULL
      AND external_id IN (SELECT value FROM json_each(?))
"""
_STORED = """
    SELECT discord_message_id FROM comments
    WHERE discord_message_id IN (SELECT value FROM json_each(?))
"""
_TOMBSTONED = (
    "SELECT message_id FROM deleted_messages WHERE message_id IN (SELECT value FROM json_each(?))"
)
# Through the index of replies (partial: it needs the IS NOT NULL); the "+" keeps SQLite from
# walking every top-level comment through the parent index instead.
_AWAITED = """
    SELECT DISTINCT post_id, reply_to_message_id FROM comments
    WHERE reply_to_message_id IN (SELECT value FROM json_each(?))
      AND reply_to_message_id IS NOT NULL AND +parent_id IS NULL
"""
_EDITED_EARLY = (
    "SELECT message_id FROM early_edits WHERE message_id IN (SELECT value FROM json_each(?))"
)


def known_messages_in(
    db: sqlite3.Connection, message_ids: Collection[int], author_user_ids: Collection[int]
) -> KnownMessages:
    ids = json.dumps(sorted(message_ids))
    users = json.dumps(sorted({str(user) for user in author_user_ids}))

    def found(sql: str, values: str) -> set[int]:
        return {int(row[0]) for row in db.execute(sql, (values,))}

    return KnownMessages(
        ours=found(_OURS, ids),
        opted_out=found(_OPTED_OUT, users),
        stored=found(_STORED, ids),
        tombstoned=found(_TOMBSTONED, ids),
        awaited={(int(row[0]), int(row[1])) for row in db.execute(_AWAITED, (ids,))},
        edited_early=found(_EDITED_EARLY, ids),
    )


def insert_reply_in(
    db: sqlite3.Connection,
    *,
    post_id: int,
    thread_id: int,
    parent_id: int | None,
    author_id: int,
    author_name: str,
    body: str,
    deleted: bool,
    message_id: int,
    created_at: datetime,
    edited_at: datetime | None,
    attachments: Sequence[Attachment],
    has_stickers: bool,
    reply_to: int | None,
) -> int:
    """A new Discord comment written in the thread, visible (or deleted, when its deletion
    came first): its id."""
    inserted = db.execute(
        """
        INSERT INTO comments (post_id, thread_id, parent_id, author_id, author_name, body, status,
                              source, discord_message_id, created_at, edited_at, attachments,
                              has_stickers, reply_to_message_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, 'discord', ?, ?, ?, ?, ?, ?)
        """,
        (
            post_id,
            thread_id,
            parent_id,
            author_id,
            author_name,
            body,
            "deleted" if deleted else "visible",
            message_id,
            to_db(created_at),
            None if edited_at is None else to_db(edited_at),
            attachments_json(attachments),
            int(has_stickers),
            reply_to,
        ),
    )
    # lastrowid, not RETURNING: RETURNING makes SQLite stage the row, a cost on the hot path.
    return int(inserted.lastrowid or 0)


@dataclass(frozen=True, slots=True)
class StoredReply:
    """A Discord comment as an edit of its message finds it."""

    id: int
    body: str
    attachments: tuple[Attachment, ...]
    status: str
    edited_at: datetime | None
    created_at: datetime
    author_id: int
    author_user_id: int


def reply_of_message_in(
    db: sqlite3.Connection, post_id: int, message_id: int
) -> StoredReply | None:
    rows = db.execute(
        """
        SELECT comments.id, body, attachments, status, edited_at, created_at, author_id,
               authors.external_id AS author_user_id
        FROM comments JOIN authors ON authors.id = comments.author_id
        WHERE discord_message_id = ? AND post_id = ? AND comments.source = 'discord'
        """,
        (message_id, post_id),
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return StoredReply(
        id=row["id"],
        body=row["body"],
        attachments=attachments_from_json(row["attachments"]),
        status=row["status"],
        edited_at=from_db_optional(row["edited_at"]),
        created_at=from_db(row["created_at"]),
        author_id=row["author_id"],
        author_user_id=int(row["author_user_id"]),
    )


def revise_reply_in(
    db: sqlite3.Connection,
    reply: StoredReply,
    body: str,
    attachments: Sequence[Attachment],
    edited_at: datetime,
) -> None:
    """The comment's new text and attachments; a changed text keeps the previous one as a
    revision."""
    if body != reply.body:
        db.execute(
            "INSERT INTO comment_revisions (comment_id, body, replaced_at) VALUES (?, ?, ?)",
            (reply.id, reply.body, to_db(edited_at)),
        )
    db.execute(
        "UPDATE comments SET body = ?, attachments = ?, edited_at = ? WHERE id = ?",
        (body, attachments_json(attachments), to_db(edited_at), reply.id),
    )


@dataclass(frozen=True, slots=True)
class EarlyEdit:
    thread_id: int
    content: str
    edited_at: datetime
    attachments: tuple[Attachment, ...] | None  # None: unchanged or unknown


def keep_early_edit_in(db: sqlite3.Connection, message_id: int, edit: EarlyEdit) -> None:
    """Keep the newest edit of a message not stored yet, until the message arrives."""
    db.execute(
        """
        INSERT INTO early_edits (message_id, thread_id, content, edited_at, attachments)
        VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (message_id) DO UPDATE SET
            content = excluded.content, edited_at = excluded.edited_at,
            attachments = excluded.attachments
        WHERE excluded.edited_at > early_edits.edited_at
        """,
        (
            message_id,
            edit.thread_id,
            edit.content,
            to_db(edit.edited_at),
            None if edit.attachments is None else attachments_json(edit.attachments),
        ),
    )


def take_early_edit_in(db: sqlite3.Connection, message_id: int) -> EarlyEdit | None:
    rows = db.execute(
        "DELETE FROM early_edits WHERE message_id = ? RETURNING *", (message_id,)
    ).fetchall()
    if not rows:
        return None
    early = rows[0]
    return EarlyEdit(
        thread_id=early["thread_id"],
        content=early["content"],
        edited_at=from_db(early["edited_at"]),
        attachments=None
        if early["attachments"] is None
        else attachments_from_json(early["attachments"]),
    )


def mark_deleted_in(
    db: sqlite3.Connection, post_id: int, thread_id: int, message_id: int, now: datetime
) -> bool:
    """Mark the message's comment deleted and remember the deletion (it may overtake the
    message's creation). True if a comment was marked."""
    moment = to_db(now)
    # Only Discord comments: deleting a web comment's webhook message is our own doing.
    # A removed comment stays removed: its message was deleted by the bot enforcing that.
    marked = db.execute(
        """
        UPDATE comments SET status = 'deleted', status_at = ?
        WHERE discord_message_id = ? AND post_id = ? AND source = 'discord'
          AND status != 'removed'
        RETURNING id
        """,
        (moment, message_id, post_id),
    ).fetchall()
    db.execute(
        "INSERT OR IGNORE INTO deleted_messages (message_id, thread_id, deleted_at) "
        "VALUES (?, ?, ?)",
        (message_id, thread_id, moment),
    )
    return bool(marked)


def comment_of_message_in(db: sqlite3.Connection, post_id: int, message_id: int) -> int | None:
    """The comment a message in the post's thread shows (Discord or web), if any."""
    rows = db.execute(COMMENT_OF_MESSAGE, (post_id, message_id)).fetchall()
    return int(rows[0]["id"]) if rows else None


def set_reactions_in(db: sqlite3.Connection, comment_id: int, counts: Mapping[str, int]) -> None:
    """Replace the comment's reaction counts."""
    db.execute("DELETE FROM comment_reactions WHERE comment_id = ?", (comment_id,))
    db.executemany(
        "INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?, ?, ?)",
        [(comment_id, emoji, n) for emoji, n in counts.items() if n > 0 and emoji],
    )


def change_reaction_in(db: sqlite3.Connection, comment_id: int, emoji: str, delta: int) -> None:
    """Count one reaction more or less (never below zero; a zero count is no row)."""
    db.execute(
        """
        INSERT INTO comment_reactions (comment_id, emoji, count) VALUES (?1, ?2, max(?3, 0))
        ON CONFLICT (comment_id, emoji) DO UPDATE SET count = max(count + ?3, 0)
        """,
        (comment_id, emoji, delta),
    )
    db.execute(
        "DELETE FROM comment_reactions WHERE comment_id = ? AND emoji = ? AND count = 0",
        (comment_id, emoji),
    )


@dataclass(frozen=True, slots=True)
class RecentComment:
    created_at: datetime
    thread_id: int
    body: str


def recent_comments_in(
    db: sqlite3.Connection,
    author_id: int,
    after: datetime,
    until: datetime,
    *,
    other_than: int | None,
    limit: int,
) -> list[RecentComment]:
    """An author's comments written in (after, until], newest first, the comment `other_than`
    left out: what the flood and duplicate rules compare with."""
    rows = db.execute(
        """
        SELECT comments.created_at, mirrors.thread_id, comments.body FROM comments
        JOIN mirrors ON mirrors.post_id = comments.post_id
        WHERE comments.author_id = ? AND comments.created_at > ? AND comments.created_at <= ?
          AND comments.id != ?
        ORDER BY comments.created_at DESC LIMIT ?
        """,
        (author_id, to_db(after), to_db(until), other_than or -1, limit),
    ).fetchall()
    return [
        RecentComment(from_db(row["created_at"]), row["thread_id"] or 0, row["body"])
        for row in rows
    ]
