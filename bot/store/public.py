"""What the site may show: posts, and the comments that are visible and whose authors allow it.

Every query here decides publicity in SQL with the same condition (`_PUBLIC`), so a comment that
is held, removed or deleted, or whose author opted out (or, in consented mode, never agreed),
cannot reach a page, a count or an export by some other path.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.clock import from_db, from_db_optional
from bot.store.database import ReadStore, Store
from bot.store.models import Attachment

# `?1` is 1 when members must consent before their comments are shown (WEB_PUBLISH=consented).
_PUBLIC = """
    comments.status = 'visible' AND authors.opted_out_at IS NULL
    AND (?1 = 0 OR authors.source = 'web' OR authors.publish_consent_at IS NOT NULL)
"""

Reader = Store | ReadStore


@dataclass(frozen=True, slots=True)
class PostListing:
    """A post as the site lists it: no body, its public comment count and latest activity."""

    id: int
    title: str
    url: str | None
    published_at: datetime | None
    created_at: datetime
    closed: bool
    thread_id: int | None
    comment_count: int
    last_comment_at: datetime | None
    excerpt_html: str  # the start of the post's body, enough for an excerpt

    @property
    def last_activity_at(self) -> datetime:
        """The newest public comment, else when the post was published (or stored)."""
        return self.last_comment_at or self.published_at or self.created_at


@dataclass(frozen=True, slots=True)
class PublicPost:
    id: int
    title: str
    url: str | None
    author_name: str | None
    content_html: str
    image_url: str | None
    published_at: datetime | None
    updated_at: datetime | None
    created_at: datetime
    closed: bool
    thread_id: int | None
    # The newest change to the post or any of its comments (public or not): Last-Modified.
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class CommentRow:
    """One comment of a post. `public` False: shown at most as a placeholder, without author,
    body, attachments or reactions (those fields are then blank)."""

    id: int
    parent_id: int | None
    public: bool
    source: str
    author_key: int  # the author row's id: names no one outside this database
    author_name: str
    body: str
    attachments: tuple[Attachment, ...]
    reactions: tuple[tuple[str, int], ...]
    thread_id: int | None
    discord_message_id: int | None
    created_at: datetime
    edited_at: datetime | None


async def list_posts(store: Reader, *, consent_required: bool) -> list[PostListing]:
    """Every post with its public comment count, in no particular order."""
    rows = await store.fetch_all(
        f"""
        SELECT posts.id, posts.title, posts.url, posts.published_at, posts.created_at,
               posts.comments_closed, mirrors.thread_id,
               substr(posts.content_html, 1, 3000) AS excerpt_html,
               coalesce(counts.n, 0) AS comment_count, counts.last_at
        FROM posts
        LEFT JOIN mirrors ON mirrors.post_id = posts.id
        LEFT JOIN (
            SELECT comments.post_id, count(*) AS n, max(comments.created_at) AS last_at
            FROM comments JOIN authors ON authors.id = comments.author_id
            WHERE {_PUBLIC}
            GROUP BY comments.post_id
        ) AS counts ON counts.post_id = posts.id
        """,  # noqa: S608 - _PUBLIC is a constant
        (int(consent_required),),
    )
    return [
        PostListing(
            id=row["id"],
            title=row["title"],
            url=row["url"],
            published_at=from_db_optional(row["published_at"]),
            created_at=from_db(row["created_at"]),
            closed=bool(row["comments_closed"]),
            thread_id=row["thread_id"],
            comment_count=row["comment_count"],
            last_comment_at=from_db_optional(row["last_at"]),
            excerpt_html=row["excerpt_html"],
        )
        for row in rows
    ]


async def get_public_post(store: Reader, post_id: int) -> PublicPost | None:
    row = await store.fetch_one(
        """
        SELECT posts.*, mirrors.thread_id,
               (SELECT max(max(created_at), max(coalesce(edited_at, '')),
                           max(coalesce(status_at, '')))
                FROM comments WHERE comments.post_id = posts.id) AS comments_changed_at
        FROM posts LEFT JOIN mirrors ON mirrors.post_id = posts.id
        WHERE posts.id = ?
        """,
        (post_id,),
    )
    if row is None:
        return None
    times = [row["created_at"], row["updated_at"] or "", row["comments_changed_at"] or ""]
    return PublicPost(
        id=row["id"],
        title=row["title"],
        url=row["url"],
        author_name=row["author_name"],
        content_html=row["content_html"],
        image_url=row["image_url"],
        published_at=from_db_optional(row["published_at"]),
        updated_at=from_db_optional(row["updated_at"]),
        created_at=from_db(row["created_at"]),
        closed=bool(row["comments_closed"]),
        thread_id=row["thread_id"],
        changed_at=from_db(max(times)),
    )


async def list_comment_rows(
    store: Reader, post_id: int, *, consent_required: bool
) -> list[CommentRow]:
    """All comments of the post, oldest first, with what the public may see of each."""
    rows = await store.fetch_all(
        f"""
        SELECT comments.id, comments.parent_id, comments.source, comments.author_id,
               comments.author_name, comments.body, comments.attachments, comments.thread_id,
               comments.discord_message_id, comments.created_at, comments.edited_at,
               ({_PUBLIC}) AS public
        FROM comments JOIN authors ON authors.id = comments.author_id
        WHERE comments.post_id = ?2
        ORDER BY comments.created_at, comments.id
        """,  # noqa: S608 - _PUBLIC is a constant
        (int(consent_required), post_id),
    )
    reactions: dict[int, list[tuple[str, int]]] = {}
    for reaction in await store.fetch_all(
        """
        SELECT comment_reactions.comment_id, emoji, count FROM comment_reactions
        JOIN comments ON comments.id = comment_reactions.comment_id
        WHERE comments.post_id = ? AND count > 0
        ORDER BY comment_reactions.comment_id, count DESC, emoji
        """,
        (post_id,),
    ):
        reactions.setdefault(reaction["comment_id"], []).append(
            (reaction["emoji"], reaction["count"])
        )
    return [_comment_row(row, reactions.get(row["id"], [])) for row in rows]


def _comment_row(row: Any, reactions: list[tuple[str, int]]) -> CommentRow:
    public = bool(row["public"])
    return CommentRow(
        id=row["id"],
        parent_id=row["parent_id"],
        public=public,
        source=row["source"],
        author_key=row["author_id"] if public else 0,
        author_name=row["author_name"] if public else "",
        body=row["body"] if public else "",
        attachments=_attachments(row["attachments"]) if public else (),
        reactions=tuple(reactions) if public else (),
        thread_id=row["thread_id"],
        discord_message_id=row["discord_message_id"] if public else None,
        created_at=from_db(row["created_at"]),
        edited_at=from_db_optional(row["edited_at"]) if public else None,
    )


def _attachments(text: str) -> tuple[Attachment, ...]:
    found = []
    for item in json.loads(text):
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            found.append(
                Attachment(
                    url=item["url"],
                    filename=str(item.get("filename") or "file"),
                    size=int(item.get("size") or 0),
                    content_type=item.get("content_type"),
                )
            )
    return tuple(found)


async def discord_names(store: Reader, user_ids: Iterable[int]) -> dict[int, str]:
    """The names members wrote under, for showing their mentions as @name. Members who opted out
    are left out (their mention shows as an unknown user)."""
    rows = await _rows_for_ids(
        store,
        "SELECT external_id, name FROM authors WHERE source = 'discord' "
        "AND opted_out_at IS NULL AND external_id IN ({})",
        [str(user_id) for user_id in set(user_ids)],
    )
    return {int(row["external_id"]): row["name"] for row in rows}


async def thread_titles(store: Reader, thread_ids: Iterable[int]) -> dict[int, str]:
    """The titles of the posts whose threads are mentioned, for showing them as #title."""
    rows = await _rows_for_ids(
        store,
        "SELECT mirrors.thread_id, posts.title FROM mirrors "
        "JOIN posts ON posts.id = mirrors.post_id WHERE mirrors.thread_id IN ({})",
        list(set(thread_ids)),
    )
    return {row["thread_id"]: row["title"] for row in rows}


async def role_names(store: Reader, role_ids: Iterable[int]) -> dict[int, str]:
    """The names of the mentioned roles, for showing them as @name."""
    rows = await _rows_for_ids(
        store,
        "SELECT id, name FROM server_names WHERE kind = 'role' AND id IN ({})",
        list(set(role_ids)),
    )
    return {row["id"]: row["name"] for row in rows}


async def channel_names(store: Reader, channel_ids: Iterable[int]) -> dict[int, str]:
    """The names of the mentioned channels that everyone in the server can see, for showing
    them as #name."""
    rows = await _rows_for_ids(
        store,
        "SELECT id, name FROM server_names WHERE kind = 'channel' AND id IN ({})",
        list(set(channel_ids)),
    )
    return {row["id"]: row["name"] for row in rows}


async def _rows_for_ids(store: Reader, query: str, ids: list[Any]) -> list[sqlite3.Row]:
    """`query`'s rows, its `IN ({})` filled with ids a chunk at a time: SQLite bounds the
    parameters of one statement."""
    rows: list[sqlite3.Row] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows += await store.fetch_all(query.format(",".join("?" * len(chunk))), chunk)
    return rows
