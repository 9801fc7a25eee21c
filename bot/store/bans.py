"""Comment bans: who may not comment, until when, and the cases that started and ended them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db_optional, to_db
from bot.store.cases import case_from_row, open_case_in
from bot.store.database import Store
from bot.store.models import Case, CaseAction


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


async def next_ban_end(store: Store, guild_id: int) -> datetime | None:
    """When the next timed comment ban of the guild ends (None: no timed ban)."""
    value = await store.fetch_value(
        "SELECT min(until) FROM comment_bans WHERE guild_id = ? AND until IS NOT NULL",
        (guild_id,),
    )
    return from_db_optional(value)


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
    *,
    first_comment_hold: bool,
    comment_id: int | None = None,
) -> AuthorRecord:
    """Read the author's record; `comment_id`, the comment being judged (stored visible until
    judged), does not count as approved."""
    ban = db.execute(
        "SELECT until FROM comment_bans WHERE guild_id = ? AND user_id = ?",
        (guild_id, author_user_id),
    ).fetchone()
    approved = False
    if first_comment_hold:
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
