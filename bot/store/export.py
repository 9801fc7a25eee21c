"""Posts and their comment trees as plain data (`threadbridge export`): Discord ids as strings,
times as ISO-8601 UTC."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from bot.clock import from_db
from bot.store.database import Store

# Posts read per query: the export of a large store is written post by post, never held whole.
PAGE = 100


async def export_posts(store: Store, post_id: int | None = None) -> list[dict[str, Any]]:
    """Posts with their comments as a tree, ready for json.dumps (see `stream_posts`)."""
    return [post async for post in stream_posts(store, post_id)]


async def stream_posts(store: Store, post_id: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """Posts in id order, each with its comments as a tree, one at a time. Discord ids are
    strings (JavaScript cannot hold them as numbers). Raises LookupError for an unknown
    `post_id` before giving anything."""
    after = 0
    parameters: tuple[int, ...]
    while True:
        if post_id is None:
            where, parameters = "WHERE posts.id > ? ORDER BY posts.id LIMIT ?", (after, PAGE)
        else:
            where, parameters = "WHERE posts.id = ?", (post_id,)
        posts = await store.fetch_all(
            "SELECT posts.id, posts.title, posts.url, mirrors.thread_id FROM posts "  # noqa: S608
            f"LEFT JOIN mirrors ON mirrors.post_id = posts.id {where}",
            parameters,
        )
        if post_id is not None and not posts:
            raise LookupError(f"no post {post_id}")
        for post in posts:
            yield {
                "id": post["id"],
                "title": post["title"],
                "url": post["url"],
                "thread_id": _id_text(post["thread_id"]),
                "comments": await _comment_tree(store, post["id"]),
            }
        if post_id is not None or len(posts) < PAGE:
            return
        after = posts[-1]["id"]


async def _comment_tree(store: Store, post_id: int) -> list[dict[str, Any]]:
    rows = await store.fetch_all(
        """
        SELECT comments.*, authors.source AS author_source, authors.external_id AS author_key
        FROM comments JOIN authors ON authors.id = comments.author_id
        WHERE comments.post_id = ? ORDER BY comments.created_at, comments.id
        """,
        (post_id,),
    )
    reactions: dict[int, dict[str, int]] = {}
    for row in await store.fetch_all(
        """
        SELECT comment_reactions.comment_id, emoji, count FROM comment_reactions
        JOIN comments ON comments.id = comment_reactions.comment_id
        WHERE comments.post_id = ? AND count > 0 ORDER BY comment_reactions.comment_id, emoji
        """,
        (post_id,),
    ):
        reactions.setdefault(row["comment_id"], {})[row["emoji"]] = row["count"]

    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for row in rows:
        nodes[row["id"]] = {
            "id": row["id"],
            "author": row["author_name"],
            "author_id": row["author_key"] if row["author_source"] == "discord" else None,
            "body": row["body"],
            "status": row["status"],
            "source": row["source"],
            "discord_message_id": _id_text(row["discord_message_id"]),
            "created_at": from_db(row["created_at"]).isoformat(),
            "edited_at": None
            if row["edited_at"] is None
            else from_db(row["edited_at"]).isoformat(),
            "attachments": json.loads(row["attachments"]),
            "reactions": reactions.get(row["id"], {}),
            "replies": [],
        }
        parents[row["id"]] = row["parent_id"]
    return _nest(nodes, parents)


def _nest(nodes: dict[int, dict[str, Any]], parents: dict[int, int | None]) -> list[dict[str, Any]]:
    """Each node under its parent, in the nodes' order; every node exactly once, even when a
    parent is missing or parents form a cycle (such nodes go to the top level)."""
    children: dict[int | None, list[int]] = {}
    for comment_id, parent_id in parents.items():
        key = parent_id if parent_id in nodes else None
        children.setdefault(key, []).append(comment_id)
    placed: set[int] = set()

    def place(comment_id: int) -> dict[str, Any]:
        stack = [comment_id]
        placed.add(comment_id)
        while stack:
            current = stack.pop()
            for child in children.get(current, []):
                if child not in placed:
                    placed.add(child)
                    nodes[current]["replies"].append(nodes[child])
                    stack.append(child)
        return nodes[comment_id]

    tree = [place(comment_id) for comment_id in children.get(None, [])]
    for comment_id in nodes:
        if comment_id not in placed:
            tree.append(place(comment_id))
    return tree


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)
