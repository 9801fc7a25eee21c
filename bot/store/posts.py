"""Posts of the community."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import datetime

import aiosqlite

from bot.clock import from_db, from_db_optional, to_db, utcnow
from bot.store.comments import NewComment, add_comment_in, upsert_author_in
from bot.store.database import ReadStore, Store
from bot.store.models import Post, Source, SourceComment, SourcePost


@dataclass(frozen=True, slots=True)
class NewPost:
    source: str
    external_id: str
    title: str
    url: str | None = None
    author_name: str | None = None
    content_html: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments_closed: bool = False


def _optional_time(moment: datetime | None) -> str | None:
    return None if moment is None else to_db(moment)


def post_from_row(row: sqlite3.Row) -> Post:
    return Post(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        title=row["title"],
        url=row["url"],
        author_name=row["author_name"],
        content_html=row["content_html"],
        image_url=row["image_url"],
        categories=tuple(json.loads(row["categories"])),
        published_at=from_db_optional(row["published_at"]),
        updated_at=from_db_optional(row["updated_at"]),
        created_at=from_db(row["created_at"]),
        comments_closed=bool(row["comments_closed"]),
    )


async def add_post(store: Store, new: NewPost) -> tuple[Post, bool]:
    """Store a post unless one with the same source and external id exists.

    Returns the stored post and whether it was created now.
    """
    if not new.source or not new.external_id:
        raise ValueError("a post needs a source and an external id")
    async with store.transaction() as db:
        return await _insert_post(db, new)


async def get_post(store: Store, post_id: int) -> Post | None:
    row = await store.fetch_one("SELECT * FROM posts WHERE id = ?", (post_id,))
    return None if row is None else post_from_row(row)


async def find_post(store: Store, source: str, external_id: str) -> Post | None:
    row = await store.fetch_one(
        "SELECT * FROM posts WHERE source = ? AND external_id = ?", (source, external_id)
    )
    return None if row is None else post_from_row(row)


async def count_posts(store: Store | ReadStore) -> int:
    return int(await store.fetch_value("SELECT count(*) FROM posts"))


@dataclass(frozen=True, slots=True)
class SavedPost:
    post: Post
    created: bool
    edited: bool
    comments_added: int
    rekeyed: bool = False  # found under one of its former keys, and given its new one


def _web_author_key(comment: SourceComment) -> str:
    if comment.author_email:
        return comment.author_email.strip().lower()
    return f"name:{comment.author_name.strip()}"


async def save_source_post(
    store: Store, source_post: SourcePost, *, mirror: bool = True
) -> SavedPost:
    """Store a post read from a source, with its web comments, all in one transaction.

    A post already stored is updated when its text changed at the source (a post edit: its
    starter message is then marked stale); comments already stored are left as they are. A post
    whose comments are closed at the source is stored closed; once stored, whether its comments
    are closed is decided in Discord (a moderator's lock or unlock), not by later imports.
    Running the same import twice changes nothing. With `mirror=False` a new post is stored as
    already seen (a feed's backlog): it never gets a thread. A post not stored under its key but
    under one of its `former_keys` is given its key, and keeps its thread and comments.
    """
    if not source_post.source or not source_post.external_id:
        raise ValueError("a post needs a source and an external id")
    new = NewPost(
        source=source_post.source,
        external_id=source_post.external_id,
        title=source_post.title,
        url=source_post.url,
        author_name=source_post.author_name,
        content_html=source_post.content_html,
        image_url=source_post.image_url,
        categories=source_post.categories,
        published_at=source_post.published_at,
        updated_at=source_post.updated_at,
        comments_closed=source_post.comments_closed,
    )
    async with store.transaction() as db:
        rekeyed = await _take_former_key(db, new, source_post.former_keys)
        post, created = await _insert_post(db, new)
        if created and not mirror:
            await db.execute(
                "INSERT INTO mirrors (post_id, state, updated_at) VALUES (?, 'skipped', ?)",
                (post.id, to_db(utcnow())),
            )
        edited = False
        if not created and _differs(post, new):
            post = await _update_post(db, post.id, new)
            edited = True
        added = await _save_web_comments(db, post.id, source_post.comments)
    return SavedPost(
        post=post, created=created, edited=edited, comments_added=added, rekeyed=rekeyed
    )


async def _take_former_key(
    db: aiosqlite.Connection, new: NewPost, former_keys: tuple[tuple[str, str], ...]
) -> bool:
    """Give a post stored under a former key its new one; False if there is none to take.

    A key that already exists is left alone, and a former key is taken once: when two posts
    were stored as one under it, the first takes the row and the second becomes a new post.
    """
    if not former_keys:
        return False
    async with db.execute(
        "SELECT 1 FROM posts WHERE source = ? AND external_id = ?",
        (new.source, new.external_id),
    ) as cursor:
        if await cursor.fetchone() is not None:
            return False
    for source, external_id in former_keys:
        async with db.execute(
            "UPDATE posts SET source = ?, external_id = ? "
            "WHERE source = ? AND external_id = ? RETURNING id",
            (new.source, new.external_id, source, external_id),
        ) as cursor:
            if await cursor.fetchone() is not None:
                return True
    return False


def _differs(post: Post, new: NewPost) -> bool:
    return (post.title, post.url, post.content_html, post.image_url, post.categories) != (
        new.title,
        new.url,
        new.content_html,
        new.image_url,
        new.categories,
    )


async def _insert_post(db: aiosqlite.Connection, new: NewPost) -> tuple[Post, bool]:
    cursor = await db.execute(
        """
        INSERT INTO posts (source, external_id, title, url, author_name, content_html,
                           image_url, categories, published_at, updated_at, created_at,
                           comments_closed)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (source, external_id) DO NOTHING
        """,
        (
            new.source,
            new.external_id,
            new.title,
            new.url,
            new.author_name,
            new.content_html,
            new.image_url,
            json.dumps(list(new.categories)),
            _optional_time(new.published_at),
            _optional_time(new.updated_at),
            to_db(utcnow()),
            int(new.comments_closed),
        ),
    )
    created = cursor.rowcount == 1
    await cursor.close()
    async with db.execute(
        "SELECT * FROM posts WHERE source = ? AND external_id = ?",
        (new.source, new.external_id),
    ) as select:
        row = await select.fetchone()
    assert row is not None
    return post_from_row(row), created


async def _update_post(db: aiosqlite.Connection, post_id: int, new: NewPost) -> Post:
    async with db.execute(
        """
        UPDATE posts SET title = ?, url = ?, author_name = ?, content_html = ?, image_url = ?,
               categories = ?, updated_at = ?
        WHERE id = ? RETURNING *
        """,
        (
            new.title,
            new.url,
            new.author_name,
            new.content_html,
            new.image_url,
            json.dumps(list(new.categories)),
            to_db(new.updated_at or utcnow()),
            post_id,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await db.execute(
        "UPDATE mirrors SET starter_stale = 1 WHERE post_id = ? AND starter_message_id IS NOT NULL",
        (post_id,),
    )
    return post_from_row(row)


async def _save_web_comments(
    db: aiosqlite.Connection, post_id: int, comments: tuple[SourceComment, ...]
) -> int:
    if not comments:
        return 0
    async with db.execute(
        "SELECT external_id, id FROM comments WHERE post_id = ? AND source = 'web'", (post_id,)
    ) as cursor:
        known: dict[str, int] = {row[0]: row[1] for row in await cursor.fetchall()}
    added = 0
    # Parents first: a comment waits until its parent is stored (or is known to be missing).
    remaining = [c for c in comments if c.external_id not in known]
    wanted = {c.external_id for c in remaining}
    while remaining:
        progress = False
        later: list[SourceComment] = []
        for comment in remaining:
            parent = comment.parent_external_id
            if parent is not None and parent not in known and parent in wanted:
                later.append(comment)
                continue
            author = await upsert_author_in(
                db,
                Source.WEB,
                _web_author_key(comment),
                comment.author_name or "Anonymous",
                url=comment.author_url,
            )
            stored, _ = await add_comment_in(
                db,
                NewComment(
                    post_id=post_id,
                    author_id=author.id,
                    author_name=author.name,
                    body=comment.content_html,
                    source=Source.WEB,
                    created_at=comment.created_at,
                    parent_id=known.get(parent) if parent is not None else None,
                    external_id=comment.external_id,
                ),
            )
            known[comment.external_id] = stored.id
            wanted.discard(comment.external_id)
            added += 1
            progress = True
        if not progress:  # a parent cycle in the source: store the rest at the top level
            later = [replace(c, parent_external_id=None) for c in later]
        remaining = later
    return added


async def search_posts(store: Store, text: str, *, limit: int = 25) -> list[Post]:
    """Posts whose title contains `text` (case-insensitive), newest first; all if text is empty."""
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await store.fetch_all(
        """
        SELECT * FROM posts WHERE title LIKE ? ESCAPE '\\'
        ORDER BY coalesce(published_at, created_at) DESC, id DESC LIMIT ?
        """,
        (pattern, limit),
    )
    return [post_from_row(row) for row in rows]
