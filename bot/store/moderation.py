"""Moderation in the store: cases (numbered per guild), comment decisions, comment bans, the
rules moderators keep, and what the scheduled jobs look for.

Writes are plain functions on a sqlite3 connection (`..._in`), so that the sync writer can open
a case in the same transaction as the comment it judges; the async wrappers run them through
`Store.write_in_thread`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import from_db, from_db_optional, to_db
from bot.moderation.rules import CommentFacts, PastComment, RuleSet
from bot.moderation.text import normalise
from bot.store.database import Store
from bot.store.models import Case, CaseAction, CommentStatus

# How many of an author's recent comments the flood and duplicate rules look at: enough for any
# sensible flood limit, and a bound on the work a prolific author costs per comment.
RECENT_LIMIT = 25

RULE_LISTS = ("disallowed_words", "disallowed_patterns", "moderation_words", "moderation_patterns")


class StatusConflict(Exception):
    """The comment is not in a state the decision applies to (e.g. approving a visible one)."""

    def __init__(self, status: CommentStatus | None, source: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.source = source


@dataclass(frozen=True, slots=True)
class CommentRef:
    """A comment with what moderation needs to act on it in Discord and to describe it."""

    id: int
    post_id: int
    post_title: str
    thread_id: int | None
    discord_message_id: int | None
    author_user_id: int | None  # the Discord user, for Discord comments
    author_name: str
    body: str
    status: CommentStatus
    status_reason: str | None
    source: str
    created_at: datetime


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


_COMMENT_REF_SQL = """
    SELECT comments.id, comments.post_id, posts.title AS post_title, mirrors.thread_id,
           comments.discord_message_id, authors.source AS author_source,
           authors.external_id AS author_external_id, comments.author_name, comments.body,
           comments.status, comments.status_reason, comments.source, comments.created_at
    FROM comments
    JOIN posts ON posts.id = comments.post_id
    JOIN authors ON authors.id = comments.author_id
    LEFT JOIN mirrors ON mirrors.post_id = comments.post_id
"""


def _comment_ref(row: sqlite3.Row) -> CommentRef:
    user = row["author_external_id"] if row["author_source"] == "discord" else None
    return CommentRef(
        id=row["id"],
        post_id=row["post_id"],
        post_title=row["post_title"],
        thread_id=row["thread_id"],
        discord_message_id=row["discord_message_id"],
        author_user_id=int(user) if user is not None and user.isdigit() else None,
        author_name=row["author_name"],
        body=row["body"],
        status=CommentStatus(row["status"]),
        status_reason=row["status_reason"],
        source=row["source"],
        created_at=from_db(row["created_at"]),
    )


# --- cases --------------------------------------------------------------------------------------


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


# --- comments -----------------------------------------------------------------------------------


async def get_comment_ref(store: Store, comment_id: int) -> CommentRef | None:
    row = await store.fetch_one(f"{_COMMENT_REF_SQL} WHERE comments.id = ?", (comment_id,))
    return None if row is None else _comment_ref(row)


async def comment_by_message(store: Store, message_id: int) -> CommentRef | None:
    row = await store.fetch_one(
        f"{_COMMENT_REF_SQL} WHERE comments.discord_message_id = ?", (message_id,)
    )
    return None if row is None else _comment_ref(row)


async def held_comments(
    store: Store, *, offset: int = 0, limit: int = 5
) -> tuple[list[CommentRef], int]:
    """The review queue, oldest first, and its length."""
    rows = await store.fetch_all(
        f"""{_COMMENT_REF_SQL} WHERE comments.status = 'held'
        ORDER BY comments.created_at, comments.id LIMIT ? OFFSET ?""",
        (limit, offset),
    )
    total = await store.fetch_value("SELECT count(*) FROM comments WHERE status = 'held'")
    return [_comment_ref(row) for row in rows], int(total)


async def search_comments(
    store: Store, text: str, *, statuses: Sequence[CommentStatus], limit: int = 25
) -> list[CommentRef]:
    """Discord comments in these statuses whose body or author contains `text` (or whose id is
    `text`), newest first: what autocomplete offers."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await store.fetch_all(
        f"""{_COMMENT_REF_SQL}
        WHERE comments.source = 'discord'
          AND comments.status IN (SELECT value FROM json_each(?))
          AND (comments.id = ? OR comments.body LIKE ? ESCAPE '\\'
               OR comments.author_name LIKE ? ESCAPE '\\')
        ORDER BY comments.created_at DESC, comments.id DESC LIMIT ?""",  # noqa: S608 - constant
        (
            json.dumps([status.value for status in statuses]),
            int(text) if text.isdigit() else -1,
            pattern,
            pattern,
            limit,
        ),
    )
    return [_comment_ref(row) for row in rows]


async def comments_of_user(
    store: Store, user_id: int, *, limit: int = 10
) -> tuple[list[CommentRef], dict[CommentStatus, int]]:
    """A member's newest comments and their count by status."""
    rows = await store.fetch_all(
        f"""{_COMMENT_REF_SQL}
        WHERE authors.source = 'discord' AND authors.external_id = ?
        ORDER BY comments.created_at DESC, comments.id DESC LIMIT ?""",
        (str(user_id), limit),
    )
    counts = await store.fetch_all(
        """
        SELECT comments.status, count(*) AS n FROM comments
        JOIN authors ON authors.id = comments.author_id
        WHERE authors.source = 'discord' AND authors.external_id = ?
        GROUP BY comments.status
        """,
        (str(user_id),),
    )
    return (
        [_comment_ref(row) for row in rows],
        {CommentStatus(row["status"]): int(row["n"]) for row in counts},
    )


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


def judged_in(
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


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """An author's comment ban and whether one of their comments is approved (visible): what
    cannot change within one write transaction, since moderators' decisions are others."""

    banned: bool
    ban_until: datetime | None
    approved: bool


def author_record_in(
    db: sqlite3.Connection,
    guild_id: int,
    author_row_id: int,
    author_user_id: int,
    rules: RuleSet,
    comment_id: int | None = None,
) -> AuthorRecord:
    """Read the author's record; `comment_id`, the comment being judged (stored visible until
    judged), does not count as approved."""
    ban = db.execute(
        "SELECT until FROM comment_bans WHERE guild_id = ? AND user_id = ?",
        (guild_id, author_user_id),
    ).fetchone()
    approved = False
    if rules.first_comment_hold:
        approved = bool(
            db.execute(
                "SELECT EXISTS (SELECT 1 FROM comments WHERE author_id = ? AND status = 'visible' "
                "AND id != ?)",
                (author_row_id, comment_id or -1),
            ).fetchone()[0]
        )
    return AuthorRecord(
        banned=ban is not None,
        ban_until=None if ban is None else from_db_optional(ban["until"]),
        approved=approved,
    )


# normalise() of the recent comments the flood and duplicate rules compare with: the same bodies
# come back for every comment their author writes within the window. Bounded, cleared when full.
_FOLDED: dict[str, str] = {}
_FOLDED_ENTRIES = 4096


def _folded(body: str) -> str:
    folded = _FOLDED.get(body)
    if folded is None:
        folded = normalise(body)
        if len(_FOLDED) >= _FOLDED_ENTRIES:
            _FOLDED.clear()
        _FOLDED[body] = folded
    return folded


def comment_facts_in(
    db: sqlite3.Connection,
    *,
    guild_id: int,
    rules: RuleSet,
    author_row_id: int,
    author_user_id: int,
    author_role_ids: Iterable[int],
    author_is_moderator: bool,
    thread_id: int,
    text: str,
    created_at: datetime,
    comment_id: int | None = None,
    record: AuthorRecord,
) -> CommentFacts:
    """What the rules need to know about a comment, read inside the sync writer's transaction
    (so comments earlier in the same batch count). `record` is the author's, from
    `author_record_in`, which the caller reads once per batch."""
    banned = record.banned and (record.ban_until is None or record.ban_until > created_at)
    approved = record.approved or not rules.first_comment_hold
    recent: list[PastComment] = []
    window = max(
        rules.flood_window if rules.flood_count is not None else timedelta(0),
        rules.duplicate_window or timedelta(0),
    )
    if window > timedelta(0):
        rows = db.execute(
            """
            SELECT comments.created_at, mirrors.thread_id, comments.body FROM comments
            JOIN mirrors ON mirrors.post_id = comments.post_id
            WHERE comments.author_id = ? AND comments.created_at > ? AND comments.created_at <= ?
              AND comments.id != ?
            ORDER BY comments.created_at DESC LIMIT ?
            """,
            (
                author_row_id,
                to_db(created_at - window),
                to_db(created_at),
                comment_id or -1,
                RECENT_LIMIT,
            ),
        ).fetchall()
        recent = [
            PastComment(from_db(row["created_at"]), row["thread_id"] or 0, _folded(row["body"]))
            for row in rows
        ]
    return CommentFacts(
        author_id=author_user_id,
        author_role_ids=tuple(author_role_ids),
        author_is_moderator=author_is_moderator,
        author_banned=bool(banned),
        author_has_approved_comment=bool(approved),
        thread_id=thread_id,
        text=text,
        created_at=created_at,
        recent_by_author=recent,
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


# --- comment bans -------------------------------------------------------------------------------


async def ban_commenter(
    store: Store,
    *,
    guild_id: int,
    user_id: int,
    until: datetime | None,
    moderator_id: int,
    reason: str | None,
    now: datetime,
) -> Case:
    """Ban a member from commenting (a new ban replaces an older one) and open its case."""

    def work(db: sqlite3.Connection) -> Case:
        case = open_case_in(
            db,
            guild_id=guild_id,
            action=CaseAction.BAN,
            now=now,
            target_user_id=user_id,
            moderator_id=moderator_id,
            reason=reason,
            expires_at=until,
        )
        db.execute(
            """
            INSERT INTO comment_bans (guild_id, user_id, case_id, until, created_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (guild_id, user_id) DO UPDATE SET
                case_id = excluded.case_id, until = excluded.until,
                created_at = excluded.created_at
            """,
            (guild_id, user_id, case.id, None if until is None else to_db(until), to_db(now)),
        )
        return case

    return await store.write_in_thread(work)


async def unban_commenter(
    store: Store,
    *,
    guild_id: int,
    user_id: int,
    moderator_id: int | None,
    reason: str | None,
    now: datetime,
) -> Case | None:
    """Lift a member's comment ban and open its case; None if they were not banned."""

    def work(db: sqlite3.Connection) -> Case | None:
        lifted = db.execute(
            "DELETE FROM comment_bans WHERE guild_id = ? AND user_id = ? RETURNING user_id",
            (guild_id, user_id),
        ).fetchall()
        if not lifted:
            return None
        return open_case_in(
            db,
            guild_id=guild_id,
            action=CaseAction.UNBAN,
            now=now,
            target_user_id=user_id,
            moderator_id=moderator_id,
            reason=reason,
        )

    return await store.write_in_thread(work)


async def active_ban(store: Store, guild_id: int, user_id: int, now: datetime) -> Case | None:
    """The case of a member's comment ban in force now, if any."""
    row = await store.fetch_one(
        """
        SELECT cases.* FROM comment_bans JOIN cases ON cases.id = comment_bans.case_id
        WHERE comment_bans.guild_id = ? AND comment_bans.user_id = ?
          AND (comment_bans.until IS NULL OR comment_bans.until > ?)
        """,
        (guild_id, user_id, to_db(now)),
    )
    return None if row is None else case_from_row(row)


async def lift_expired_bans(store: Store, guild_id: int, now: datetime) -> list[Case]:
    """Scheduled job: end the comment bans whose time is up, each with an unban case."""

    def work(db: sqlite3.Connection) -> list[Case]:
        expired = db.execute(
            """
            DELETE FROM comment_bans WHERE guild_id = ? AND until IS NOT NULL AND until <= ?
            RETURNING user_id
            """,
            (guild_id, to_db(now)),
        ).fetchall()
        return [
            open_case_in(
                db,
                guild_id=guild_id,
                action=CaseAction.UNBAN,
                now=now,
                target_user_id=row["user_id"],
                reason="comment ban expired",
            )
            for row in sorted(expired, key=lambda row: int(row["user_id"]))
        ]

    return await store.write_in_thread(work)


# --- closing comments ---------------------------------------------------------------------------


async def set_comments_closed(
    store: Store,
    *,
    guild_id: int,
    post_id: int,
    closed: bool,
    moderator_id: int | None,
    reason: str | None,
    now: datetime,
) -> Case | None:
    """Close (lock) or reopen a post's comments and open its case; None if already so."""

    def work(db: sqlite3.Connection) -> Case | None:
        changed = db.execute(
            "UPDATE posts SET comments_closed = ? WHERE id = ? AND comments_closed != ? "
            "RETURNING id",
            (int(closed), post_id, int(closed)),
        ).fetchall()
        if not changed:
            return None
        return open_case_in(
            db,
            guild_id=guild_id,
            action=CaseAction.LOCK if closed else CaseAction.UNLOCK,
            now=now,
            post_id=post_id,
            moderator_id=moderator_id,
            reason=reason,
        )

    return await store.write_in_thread(work)


async def posts_to_close(store: Store, published_before: datetime, *, limit: int = 50) -> list[int]:
    """Mirrored posts older than the cut-off whose comments are still open, oldest first."""
    rows = await store.fetch_all(
        """
        SELECT posts.id FROM posts JOIN mirrors ON mirrors.post_id = posts.id
        WHERE posts.comments_closed = 0 AND mirrors.state = 'mirrored'
          AND coalesce(posts.published_at, posts.created_at) < ?
          -- A moderator who reopened an old post's comments meant it: the job leaves it open.
          AND NOT EXISTS (SELECT 1 FROM cases
                          WHERE cases.post_id = posts.id AND cases.action = 'unlock')
        ORDER BY coalesce(posts.published_at, posts.created_at), posts.id LIMIT ?
        """,
        (to_db(published_before), limit),
    )
    return [int(row["id"]) for row in rows]


async def erase_old_bodies(store: Store, before: datetime, now: datetime) -> int:
    """Scheduled job: erase the text of comments removed or deleted before the cut-off (the row,
    its place in the tree and its case stay). Returns how many were erased."""

    def work(db: sqlite3.Connection) -> int:
        erased = db.execute(
            """
            UPDATE comments SET body = '', attachments = '[]', erased_at = ?
            WHERE status IN ('removed', 'deleted') AND erased_at IS NULL
              AND coalesce(status_at, created_at) < ?
            RETURNING id
            """,
            (to_db(now), to_db(before)),
        ).fetchall()
        db.executemany(
            "DELETE FROM comment_revisions WHERE comment_id = ?",
            [(row["id"],) for row in erased],
        )
        return len(erased)

    return await store.write_in_thread(work)


# --- rules moderators keep ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredRules:
    """The guild's rule lists and the limits moderators changed (name -> value, None = off)."""

    lists: dict[str, tuple[str, ...]]
    limits: dict[str, int | None]


async def load_rules(store: Store, guild_id: int) -> StoredRules:
    entries = await store.fetch_all(
        "SELECT list, value FROM rule_entries WHERE guild_id = ? ORDER BY list, value",
        (guild_id,),
    )
    lists: dict[str, list[str]] = {name: [] for name in RULE_LISTS}
    for row in entries:
        lists[row["list"]].append(row["value"])
    limits = await store.fetch_all(
        "SELECT name, value FROM rule_limits WHERE guild_id = ?", (guild_id,)
    )
    return StoredRules(
        lists={name: tuple(values) for name, values in lists.items()},
        limits={row["name"]: row["value"] for row in limits},
    )


async def add_rule_entry(
    store: Store, guild_id: int, list_name: str, value: str, *, moderator_id: int, now: datetime
) -> bool:
    """False if the entry was already listed."""

    def work(db: sqlite3.Connection) -> bool:
        rows = db.execute(
            """
            INSERT INTO rule_entries (guild_id, list, value, added_by, added_at)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id
            """,
            (guild_id, list_name, value, moderator_id, to_db(now)),
        ).fetchall()
        return bool(rows)

    return await store.write_in_thread(work)


async def remove_rule_entry(store: Store, guild_id: int, list_name: str, value: str) -> bool:
    """False if the entry was not listed."""

    def work(db: sqlite3.Connection) -> bool:
        rows = db.execute(
            "DELETE FROM rule_entries WHERE guild_id = ? AND list = ? AND value = ? RETURNING id",
            (guild_id, list_name, value),
        ).fetchall()
        return bool(rows)

    return await store.write_in_thread(work)


async def set_rule_limit(
    store: Store,
    guild_id: int,
    name: str,
    value: int | None,
    *,
    moderator_id: int,
    now: datetime,
) -> None:
    await store.write_in_thread(
        lambda db: db.execute(
            """
            INSERT INTO rule_limits (guild_id, name, value, changed_by, changed_at)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (guild_id, name) DO UPDATE SET
                value = excluded.value, changed_by = excluded.changed_by,
                changed_at = excluded.changed_at
            """,
            (guild_id, name, value, moderator_id, to_db(now)),
        )
    )
