"""Comments and the people who write them."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.store.database import Store
from bot.store.models import Author, Comment, CommentStatus, Source


@dataclass(frozen=True, slots=True)
class NewComment:
    post_id: int
    author_id: int
    author_name: str
    body: str
    source: Source
    created_at: datetime
    parent_id: int | None = None
    external_id: str | None = None
    discord_message_id: int | None = None
    status: CommentStatus = CommentStatus.VISIBLE


def author_from_row(row: sqlite3.Row) -> Author:
    return Author(
        id=row["id"],
        source=Source(row["source"]),
        external_id=row["external_id"],
        name=row["name"],
        url=row["url"],
        is_bot=bool(row["is_bot"]),
        opted_out_at=from_db_optional(row["opted_out_at"]),
        first_seen_at=from_db(row["first_seen_at"]),
    )


def comment_from_row(row: sqlite3.Row) -> Comment:
    return Comment(
        id=row["id"],
        post_id=row["post_id"],
        parent_id=row["parent_id"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        body=row["body"],
        status=CommentStatus(row["status"]),
        status_reason=row["status_reason"],
        source=Source(row["source"]),
        external_id=row["external_id"],
        discord_message_id=row["discord_message_id"],
        created_at=from_db(row["created_at"]),
        edited_at=from_db_optional(row["edited_at"]),
    )


async def upsert_author(
    store: Store,
    source: Source,
    external_id: str,
    name: str,
    *,
    url: str | None = None,
    is_bot: bool = False,
) -> Author:
    """Create the author, or refresh the name and url of the one already known."""
    async with store.transaction() as db:
        return await upsert_author_in(db, source, external_id, name, url=url, is_bot=is_bot)


async def upsert_author_in(
    db: aiosqlite.Connection,
    source: Source,
    external_id: str,
    name: str,
    *,
    url: str | None = None,
    is_bot: bool = False,
) -> Author:
    """upsert_author inside a transaction the caller already holds."""
    async with db.execute(
        """
        INSERT INTO authors (source, external_id, name, url, is_bot, first_seen_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, external_id) DO UPDATE SET
            name = excluded.name, url = coalesce(excluded.url, url), is_bot = excluded.is_bot
        RETURNING *
        """,
        (source.value, external_id, name, url, int(is_bot), to_db(utcnow())),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return author_from_row(row)


async def add_comment(store: Store, new: NewComment) -> tuple[Comment, bool]:
    """Store a comment once: a second arrival of the same Discord message or web comment id
    returns the stored row unchanged, with False."""
    async with store.transaction() as db:
        return await add_comment_in(db, new)


async def add_comment_in(db: aiosqlite.Connection, new: NewComment) -> tuple[Comment, bool]:
    existing = await _find_same(db, new)
    if existing is not None:
        return existing, False
    async with db.execute(
        """
        INSERT INTO comments (post_id, parent_id, author_id, author_name, body, status, source,
                              external_id, discord_message_id, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        RETURNING *
        """,
        (
            new.post_id,
            new.parent_id,
            new.author_id,
            new.author_name,
            new.body,
            new.status.value,
            new.source.value,
            new.external_id,
            new.discord_message_id,
            to_db(new.created_at),
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return comment_from_row(row), True


async def _find_same(db: aiosqlite.Connection, new: NewComment) -> Comment | None:
    key: tuple[object, ...]
    if new.discord_message_id is not None:
        sql, key = "SELECT * FROM comments WHERE discord_message_id = ?", (new.discord_message_id,)
    elif new.external_id is not None:
        sql = "SELECT * FROM comments WHERE post_id = ? AND source = ? AND external_id = ?"
        key = (new.post_id, new.source.value, new.external_id)
    else:
        return None
    async with db.execute(sql, key) as cursor:
        row = await cursor.fetchone()
    return None if row is None else comment_from_row(row)


async def get_comment(store: Store, comment_id: int) -> Comment | None:
    row = await store.fetch_one("SELECT * FROM comments WHERE id = ?", (comment_id,))
    return None if row is None else comment_from_row(row)


async def find_comment_by_message(store: Store, message_id: int) -> Comment | None:
    row = await store.fetch_one(
        "SELECT * FROM comments WHERE discord_message_id = ?", (message_id,)
    )
    return None if row is None else comment_from_row(row)


async def list_comments(store: Store, post_id: int) -> list[Comment]:
    rows = await store.fetch_all(
        "SELECT * FROM comments WHERE post_id = ? ORDER BY created_at, id", (post_id,)
    )
    return [comment_from_row(row) for row in rows]


async def edit_comment(store: Store, comment_id: int, body: str, edited_at: datetime) -> Comment:
    """Replace a comment's body, keeping the previous one as a revision. Same body: no change."""
    async with store.transaction() as db:
        async with db.execute("SELECT * FROM comments WHERE id = ?", (comment_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise LookupError(f"no comment {comment_id}")
        if row["body"] == body:
            return comment_from_row(row)
        await db.execute(
            "INSERT INTO comment_revisions (comment_id, body, replaced_at) VALUES (?, ?, ?)",
            (comment_id, row["body"], to_db(edited_at)),
        )
        async with db.execute(
            "UPDATE comments SET body = ?, edited_at = ? WHERE id = ? RETURNING *",
            (body, to_db(edited_at), comment_id),
        ) as cursor:
            updated = await cursor.fetchone()
    assert updated is not None
    return comment_from_row(updated)


async def list_revisions(store: Store, comment_id: int) -> list[str]:
    rows = await store.fetch_all(
        "SELECT body FROM comment_revisions WHERE comment_id = ? ORDER BY id", (comment_id,)
    )
    return [row["body"] for row in rows]


async def set_comment_status(
    store: Store, comment_id: int, status: CommentStatus, reason: str | None = None
) -> Comment:
    async with store.transaction() as db:
        cursor = await db.execute(
            "UPDATE comments SET status = ?, status_reason = ? WHERE id = ? RETURNING *",
            (status.value, reason, comment_id),
        )
        row = await cursor.fetchone()
        await cursor.close()
    if row is None:
        raise LookupError(f"no comment {comment_id}")
    return comment_from_row(row)


async def count_comments(store: Store, *, status: CommentStatus | None = None) -> int:
    if status is None:
        return int(await store.fetch_value("SELECT count(*) FROM comments"))
    return int(
        await store.fetch_value("SELECT count(*) FROM comments WHERE status = ?", (status.value,))
    )


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
