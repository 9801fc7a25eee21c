"""The comment tree's shape in SQL: the path from a comment up to the top, the replies stored
before what they answer, and re-hanging a comment. Where a reply may hang is decided in
`bot.comments.nesting`."""

from __future__ import annotations

import sqlite3

from bot.store.replies import COMMENT_OF_MESSAGE

# Bounds the walk along a parent chain, so that a cycle written into the table by hand cannot
# hang it.
MAX_ANCESTRY = 10_000

# From the comment a message shows (?1 post, ?2 message) up to the top level, at most ?3 steps.
_PATH_TO_SQL = f"""
    WITH RECURSIVE chain (id, parent_id, n) AS (
        SELECT id, parent_id, 0 FROM comments WHERE id = ({COMMENT_OF_MESSAGE})
        UNION ALL
        SELECT comments.id, comments.parent_id, chain.n + 1
        FROM comments JOIN chain ON comments.id = chain.parent_id
        WHERE chain.n < ?3
    )
    SELECT id FROM chain ORDER BY n DESC
"""  # noqa: S608 - two constants, no input


def path_to_message_in(db: sqlite3.Connection, post_id: int, message_id: int) -> list[int]:
    """The ids from the top-level comment down to the comment shown by this message."""
    rows = db.execute(_PATH_TO_SQL, (post_id, message_id, MAX_ANCESTRY)).fetchall()
    return [int(row["id"]) for row in rows]


def orphan_replies_in(db: sqlite3.Connection, post_id: int, message_id: int) -> list[int]:
    """Top-level comments of the post that reply to this message, oldest first."""
    return [
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


def subtree_in(db: sqlite3.Connection, root_id: int) -> list[tuple[int, int | None]]:
    """(id, parent id) of a comment and everything under it, top down."""
    return [
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
            (root_id, MAX_ANCESTRY),
        ).fetchall()
    ]


def set_parent_in(db: sqlite3.Connection, comment_id: int, parent_id: int) -> None:
    db.execute("UPDATE comments SET parent_id = ? WHERE id = ?", (parent_id, comment_id))
