"""Cases: every moderation decision, numbered per guild, with what is left to do in Discord
for it; and the decisions that change a comment's status under a case."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from bot.clock import from_db, from_db_optional, to_db
from bot.store.database import Store
from bot.store.models import Case, CaseAction, CommentStatus


class StatusConflict(Exception):
    """The comment is not in a state the decision applies to (e.g. approving a visible one)."""

    def __init__(self, status: CommentStatus | None, source: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.source = source


def case_from_row(row: sqlite3.Row) -> Case:
    return Case(
        id=row["id"],
        guild_id=row["guild_id"],
        number=row["number"],
        action=CaseAction(row["action"]),
        target_user_id=row["target_user_id"],
        comment_id=row["comment_id"],
        post_id=row["post_id"],
        moderator_id=row["moderator_id"],
        rule=row["rule"],
        reason=row["reason"],
        created_at=from_db(row["created_at"]),
        expires_at=from_db_optional(row["expires_at"]),
        modlog_message_id=row["modlog_message_id"],
        enforced_at=from_db_optional(row["enforced_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
    )


def open_case_in(
    db: sqlite3.Connection,
    *,
    guild_id: int,
    action: CaseAction,
    now: datetime,
    target_user_id: int | None = None,
    comment_id: int | None = None,
    post_id: int | None = None,
    moderator_id: int | None = None,
    rule: str | None = None,
    reason: str | None = None,
    expires_at: datetime | None = None,
    channel_id: int | None = None,
    message_id: int | None = None,
) -> Case:
    """A new case with the guild's next number. Inside the caller's write transaction, so two
    decisions can never take the same number."""
    rows = db.execute(
        """
        INSERT INTO cases (guild_id, number, action, target_user_id, comment_id, post_id,
                           moderator_id, rule, reason, created_at, expires_at, channel_id,
                           message_id)
        VALUES (?1, (SELECT coalesce(max(number), 0) + 1 FROM cases WHERE guild_id = ?1),
                ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        RETURNING *
        """,
        (
            guild_id,
            action.value,
            target_user_id,
            comment_id,
            post_id,
            moderator_id,
            rule,
            reason,
            to_db(now),
            None if expires_at is None else to_db(expires_at),
            channel_id,
            message_id,
        ),
    ).fetchall()
    return case_from_row(rows[0])


async def open_case(store: Store, **fields: Any) -> Case:
    """open_case_in in a transaction of its own (a warning: nothing else changes)."""
    return await store.write_in_thread(lambda db: open_case_in(db, **fields))


async def get_case(store: Store, guild_id: int, number: int) -> Case | None:
    row = await store.fetch_one(
        "SELECT * FROM cases WHERE guild_id = ? AND number = ?", (guild_id, number)
    )
    return None if row is None else case_from_row(row)


async def get_case_by_id(store: Store, case_id: int) -> Case | None:
    row = await store.fetch_one("SELECT * FROM cases WHERE id = ?", (case_id,))
    return None if row is None else case_from_row(row)


async def list_cases(
    store: Store, guild_id: int, *, target_user_id: int | None = None, limit: int = 10
) -> tuple[list[Case], int]:
    """The newest cases (of one member, if given), and how many there are in all."""
    where = "guild_id = ?" + (" AND target_user_id = ?" if target_user_id is not None else "")
    parameters: tuple[int, ...] = (
        (guild_id,) if target_user_id is None else (guild_id, target_user_id)
    )
    rows = await store.fetch_all(
        f"SELECT * FROM cases WHERE {where} ORDER BY number DESC LIMIT ?",  # noqa: S608
        (*parameters, limit),
    )
    total = await store.fetch_value(
        f"SELECT count(*) FROM cases WHERE {where}",  # noqa: S608
        parameters,
    )
    return [case_from_row(row) for row in rows], int(total)


async def set_case_reason(store: Store, guild_id: int, number: int, reason: str) -> Case | None:
    def work(db: sqlite3.Connection) -> Case | None:
        rows = db.execute(
            "UPDATE cases SET reason = ? WHERE guild_id = ? AND number = ? RETURNING *",
            (reason, guild_id, number),
        ).fetchall()
        return case_from_row(rows[0]) if rows else None

    return await store.write_in_thread(work)


async def owed_cases(store: Store, guild_id: int, *, modlog: bool, limit: int = 50) -> list[Case]:
    """Cases whose Discord side is not done, or (with `modlog`) not posted to the mod-log,
    oldest first."""
    modlog_clause = " OR modlog_message_id IS NULL" if modlog else ""
    rows = await store.fetch_all(
        f"""
        SELECT * FROM cases
        WHERE guild_id = ? AND (enforced_at IS NULL{modlog_clause})
        ORDER BY id LIMIT ?
        """,  # noqa: S608 - a constant clause
        (guild_id, limit),
    )
    return [case_from_row(row) for row in rows]


async def mark_enforced(store: Store, case_id: int, now: datetime) -> None:
    await store.write_in_thread(
        lambda db: db.execute(
            "UPDATE cases SET enforced_at = ?, last_error = NULL WHERE id = ?",
            (to_db(now), case_id),
        )
    )


async def record_case_failure(store: Store, case_id: int, error: str) -> None:
    await store.write_in_thread(
        lambda db: db.execute(
            "UPDATE cases SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error[:500], case_id),
        )
    )


async def set_modlog_message(store: Store, case_id: int, message_id: int) -> None:
    await store.write_in_thread(
        lambda db: db.execute(
            "UPDATE cases SET modlog_message_id = ? WHERE id = ?", (message_id, case_id)
        )
    )


def case_for_message_exists_in(db: sqlite3.Connection, message_id: int) -> bool:
    """Whether a case already names this message (a message judged without being stored)."""
    found = db.execute("SELECT 1 FROM cases WHERE message_id = ?", (message_id,))
    return found.fetchone() is not None


# Which statuses each moderator decision starts from, and where it leaves the comment.
_TRANSITIONS: dict[CaseAction, tuple[frozenset[CommentStatus], CommentStatus]] = {
    CaseAction.HOLD: (frozenset({CommentStatus.VISIBLE}), CommentStatus.HELD),
    CaseAction.REMOVE: (
        frozenset({CommentStatus.VISIBLE, CommentStatus.HELD}),
        CommentStatus.REMOVED,
    ),
    CaseAction.APPROVE: (frozenset({CommentStatus.HELD}), CommentStatus.VISIBLE),
}


async def decide_comment(
    store: Store,
    *,
    guild_id: int,
    comment_id: int,
    action: CaseAction,
    moderator_id: int | None,
    reason: str | None,
    now: datetime,
    rule: str | None = None,
) -> Case:
    """Hold, remove or approve a Discord comment and open its case, atomically.

    Raises StatusConflict when the comment is missing, not a Discord comment, or not in a status
    the decision applies to (two moderators clicking at once: the second one learns it)."""
    allowed, target = _TRANSITIONS[action]

    def work(db: sqlite3.Connection) -> Case:
        rows = db.execute(
            """
            SELECT comments.status, comments.source, comments.post_id, authors.external_id
            FROM comments JOIN authors ON authors.id = comments.author_id
            WHERE comments.id = ?
            """,
            (comment_id,),
        ).fetchall()
        if not rows:
            raise StatusConflict(None)
        row = rows[0]
        status = CommentStatus(row["status"])
        if row["source"] != "discord" or status not in allowed:
            raise StatusConflict(status, row["source"])
        case = open_case_in(
            db,
            guild_id=guild_id,
            action=action,
            now=now,
            target_user_id=int(row["external_id"]),
            comment_id=comment_id,
            post_id=row["post_id"],
            moderator_id=moderator_id,
            rule=rule,
            reason=reason,
        )
        db.execute(
            """
            UPDATE comments SET status = ?, status_reason = ?, status_case_id = ?, status_at = ?
            WHERE id = ?
            """,
            (target.value, reason, case.id, to_db(now), comment_id),
        )
        return case

    return await store.write_in_thread(work)


def set_judged_status_in(
    db: sqlite3.Connection, comment_id: int, status: CommentStatus, case: Case, now: datetime
) -> None:
    """Give a comment the status the rules decided, with the case that says why."""
    db.execute(
        """
        UPDATE comments SET status = ?, status_reason = ?, status_case_id = ?, status_at = ?
        WHERE id = ?
        """,
        (status.value, case.reason, case.id, to_db(now), comment_id),
    )


async def remove_comments_of(
    store: Store,
    *,
    guild_id: int,
    user_id: int,
    post_id: int | None,
    moderator_id: int,
    reason: str | None,
    now: datetime,
) -> tuple[Case, int]:
    """Purge: remove a member's visible and held comments (of one post, or all), under one case.
    Returns the case and how many comments it removed."""

    def work(db: sqlite3.Connection) -> tuple[Case, int]:
        case = open_case_in(
            db,
            guild_id=guild_id,
            action=CaseAction.PURGE,
            now=now,
            target_user_id=user_id,
            post_id=post_id,
            moderator_id=moderator_id,
            reason=reason,
        )
        removed = db.execute(
            """
            UPDATE comments SET status = 'removed', status_reason = ?, status_case_id = ?,
                                status_at = ?
            WHERE source = 'discord' AND status IN ('visible', 'held')
              AND author_id = (SELECT id FROM authors
                               WHERE source = 'discord' AND external_id = ?)
              AND (? IS NULL OR post_id = ?)
            RETURNING id
            """,
            (reason, case.id, to_db(now), str(user_id), post_id, post_id),
        ).fetchall()
        return case, len(removed)

    return await store.write_in_thread(work)


async def review_posts_of(store: Store, comment_id: int) -> list[int]:
    """Mod-log messages of the comment's hold cases: they carry its Approve/Remove buttons."""
    rows = await store.fetch_all(
        """
        SELECT modlog_message_id FROM cases
        WHERE comment_id = ? AND action = 'hold' AND modlog_message_id IS NOT NULL
        """,
        (comment_id,),
    )
    return [int(row["modlog_message_id"]) for row in rows]


async def messages_of_case(store: Store, case_id: int) -> list[tuple[int, int]]:
    """(thread id, message id) of the comments a case removed: what is left to delete."""
    rows = await store.fetch_all(
        """
        SELECT mirrors.thread_id, comments.discord_message_id FROM comments
        JOIN mirrors ON mirrors.post_id = comments.post_id
        WHERE comments.status_case_id = ? AND comments.discord_message_id IS NOT NULL
          AND mirrors.thread_id IS NOT NULL
        ORDER BY comments.id
        """,
        (case_id,),
    )
    return [(row["thread_id"], row["discord_message_id"]) for row in rows]
