"""Web comments (written on the site) and the Discord messages that show them in threads."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import to_db, utcnow
from bot.store.comments import comment_from_row
from bot.store.database import Store
from bot.store.models import Comment, CommentStatus


@dataclass(frozen=True, slots=True)
class PostedComment:
    """A web comment as it was last shown in Discord."""

    comment: Comment
    thread_id: int
    posted_body: str | None
    posted_status: CommentStatus | None
    message_ids: tuple[int, ...]


async def web_comments_to_post(store: Store, post_id: int) -> list[tuple[Comment, bool]]:
    """Visible web comments of a post not yet shown in its thread, oldest first.

    The flag says whether a previous attempt was interrupted during the webhook call, in which
    case the thread must be checked for the message before posting again.
    """
    rows = await store.fetch_all(
        """
        SELECT comments.*, web_comment_mirrors.state AS mirror_state
        FROM comments
        LEFT JOIN web_comment_mirrors ON web_comment_mirrors.comment_id = comments.id
        WHERE comments.post_id = ? AND comments.source = 'web' AND comments.status = 'visible'
          AND (web_comment_mirrors.state IS NULL
               OR web_comment_mirrors.state IN ('posting', 'withdrawn'))
        ORDER BY comments.created_at, comments.id
        """,
        (post_id,),
    )
    return [(comment_from_row(row), row["mirror_state"] == "posting") for row in rows]


async def begin_posting(store: Store, comment_id: int, thread_id: int) -> None:
    async with store.transaction() as db:
        await db.execute(
            """
            INSERT INTO web_comment_mirrors (comment_id, state, thread_id, updated_at)
            VALUES (?, 'posting', ?, ?)
            ON CONFLICT (comment_id) DO UPDATE SET
                state = 'posting', thread_id = excluded.thread_id, updated_at = excluded.updated_at
            """,
            (comment_id, thread_id, to_db(utcnow())),
        )


async def record_posted(
    store: Store, comment: Comment, thread_id: int, message_ids: list[int]
) -> None:
    """The comment is in the thread as these messages, in order."""
    if not message_ids:
        raise ValueError("a posted comment has at least one message")
    async with store.transaction() as db:
        await db.execute("DELETE FROM comment_messages WHERE comment_id = ?", (comment.id,))
        await db.executemany(
            "INSERT INTO comment_messages (message_id, comment_id, part) VALUES (?, ?, ?)",
            [(message_id, comment.id, part) for part, message_id in enumerate(message_ids)],
        )
        await db.execute(
            "UPDATE comments SET discord_message_id = ? WHERE id = ?",
            (message_ids[0], comment.id),
        )
        await db.execute(
            """
            INSERT INTO web_comment_mirrors
                (comment_id, state, thread_id, posted_body, posted_status, updated_at)
            VALUES (?, 'posted', ?, ?, ?, ?)
            ON CONFLICT (comment_id) DO UPDATE SET
                state = 'posted', thread_id = excluded.thread_id,
                posted_body = excluded.posted_body, posted_status = excluded.posted_status,
                updated_at = excluded.updated_at
            """,
            (comment.id, thread_id, comment.body, comment.status.value, to_db(utcnow())),
        )


async def record_withdrawn(store: Store, comment: Comment) -> None:
    """The comment's messages were deleted from the thread (it was removed or deleted)."""
    async with store.transaction() as db:
        await db.execute("DELETE FROM comment_messages WHERE comment_id = ?", (comment.id,))
        await db.execute(
            "UPDATE comments SET discord_message_id = NULL WHERE id = ?", (comment.id,)
        )
        await db.execute(
            """
            UPDATE web_comment_mirrors SET state = 'withdrawn', posted_status = ?, updated_at = ?
            WHERE comment_id = ?
            """,
            (comment.status.value, to_db(utcnow()), comment.id),
        )


async def comment_message_ids(store: Store, comment_id: int) -> list[int]:
    rows = await store.fetch_all(
        "SELECT message_id FROM comment_messages WHERE comment_id = ? ORDER BY part",
        (comment_id,),
    )
    return [row["message_id"] for row in rows]


async def is_comment_message(store: Store, message_id: int) -> bool:
    """Whether threadbridge itself posted this message to show a comment."""
    found = await store.fetch_value(
        "SELECT 1 FROM comment_messages WHERE message_id = ?", (message_id,)
    )
    return found is not None


async def changed_web_comments(store: Store) -> list[PostedComment]:
    """Posted web comments whose body or status changed in the store since they were posted."""
    rows = await store.fetch_all(
        """
        SELECT comments.*, m.thread_id AS mirror_thread_id, m.posted_body AS mirror_body,
               m.posted_status AS mirror_status
        FROM web_comment_mirrors AS m JOIN comments ON comments.id = m.comment_id
        WHERE m.state = 'posted'
          AND (m.posted_body IS NOT comments.body OR m.posted_status IS NOT comments.status)
        ORDER BY comments.id
        """
    )
    changed: list[PostedComment] = []
    for row in rows:
        comment = comment_from_row(row)
        changed.append(
            PostedComment(
                comment=comment,
                thread_id=row["mirror_thread_id"],
                posted_body=row["mirror_body"],
                posted_status=CommentStatus(row["mirror_status"]) if row["mirror_status"] else None,
                message_ids=tuple(await comment_message_ids(store, comment.id)),
            )
        )
    return changed


async def posts_with_waiting_comments(store: Store) -> list[int]:
    """Posts with visible web comments not shown in their thread yet."""
    rows = await store.fetch_all(
        """
        SELECT DISTINCT comments.post_id FROM comments
        LEFT JOIN web_comment_mirrors AS m ON m.comment_id = comments.id
        WHERE comments.source = 'web' AND comments.status = 'visible'
          AND (m.state IS NULL OR m.state != 'posted')
        ORDER BY comments.post_id
        """
    )
    return [row["post_id"] for row in rows]
