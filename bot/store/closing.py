"""Closing a post's comments (its thread locked) and reopening them, by moderators, by the
thread's lock in Discord, and by the job that closes old posts."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.clock import to_db
from bot.store.cases import open_case_in
from bot.store.database import Store
from bot.store.models import Case, CaseAction


def close_comments_in(db: sqlite3.Connection, post_id: int, closed: bool) -> None:
    """Follow the thread's lock in Discord (a moderator locked or unlocked it there)."""
    db.execute("UPDATE posts SET comments_closed = ? WHERE id = ?", (int(closed), post_id))


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
