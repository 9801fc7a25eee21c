"""Comments as moderators see them: with their post, thread and author, for the review queue,
autocomplete and a member's history."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db
from bot.store.database import Store
from bot.store.models import CommentStatus


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
