"""A post's public conversation: its comments as a tree the site can show, page by page.

Built from the store's rows once per change of the database and shared by the API, the pages,
the feed and the export, so that they cannot disagree about what is public.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import from_db, to_db
from bot.store.models import Attachment
from bot.store.public import CommentRow, PublicPost

# Deeper replies are shown under their ancestor at this depth: a page (and a JSON parser) must
# not have to follow a chain thousands of levels deep.
MAX_DEPTH = 24


class BadCursor(ValueError):
    """A cursor this server did not make."""


@dataclass(slots=True)
class Comment:
    id: int
    parent_id: int | None
    placeholder: bool
    source: str
    author_name: str | None
    avatar_path: str | None  # on this server; pages link it as is, the API in full
    created_at: datetime
    edited_at: datetime | None
    html: str | None
    text: str | None
    attachments: tuple[Attachment, ...]
    reactions: tuple[tuple[str, int], ...]
    discord_url: str | None
    replies: list[Comment] = field(default_factory=list)

    def walk(self) -> Iterator[Comment]:
        """This comment and all its replies, in reading order."""
        stack = [self]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(reversed(current.replies))

    def as_json(self, base_url: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "placeholder": self.placeholder,
            "author": None
            if self.author_name is None
            else {
                "name": self.author_name,
                "avatar_url": None if self.avatar_path is None else base_url + self.avatar_path,
            },
            "created_at": iso(self.created_at),
            "edited_at": None if self.edited_at is None else iso(self.edited_at),
            "html": self.html,
            "text": self.text,
            "attachments": [
                {
                    "filename": attachment.filename,
                    "url": attachment.url,
                    "content_type": attachment.content_type,
                    "size": attachment.size or None,
                }
                for attachment in self.attachments
            ],
            "reactions": [{"emoji": emoji, "count": count} for emoji, count in self.reactions],
            "source": self.source,
            "discord_url": self.discord_url,
            "replies": [reply.as_json(base_url) for reply in self.replies],
        }


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text: str


@dataclass(frozen=True, slots=True)
class Links:
    """How a comment links out: to its message in Discord, and to its author's picture (a path
    on this server)."""

    message: Callable[[CommentRow], str | None]
    avatar: Callable[[CommentRow], str | None]


@dataclass(frozen=True, slots=True)
class Conversation:
    post: PublicPost
    top: tuple[Comment, ...]  # top-level comments (and placeholders), oldest first
    count: int  # public comments, placeholders not counted
    _keys: tuple[tuple[str, int], ...]  # (created_at, id) of `top`, for cursors

    def page(self, cursor: str | None, limit: int) -> tuple[tuple[Comment, ...], str | None]:
        """`limit` top-level comments after `cursor`, each with all its replies, and the cursor
        of the next page (None on the last)."""
        start = 0 if cursor is None else bisect.bisect_right(self._keys, decode_cursor(cursor))
        page = self.top[start : start + limit]
        more = start + limit < len(self.top)
        return page, encode_cursor(page[-1].created_at, page[-1].id) if more and page else None

    def newest(self, limit: int) -> list[Comment]:
        """The newest public comments, newest first (the feed)."""
        public = [c for top in self.top for c in top.walk() if not c.placeholder]
        public.sort(key=lambda c: (c.created_at, c.id), reverse=True)
        return public[:limit]


def build_conversation(
    post: PublicPost,
    rows: list[CommentRow],
    render: Callable[[CommentRow], Rendered],
    links: Links,
) -> Conversation:
    """The public tree of `rows` (a post's comments, oldest first): public comments with their
    rendered bodies, and a placeholder for each hidden comment that has public replies, so that
    the tree keeps its shape. Hidden comments without public replies leave no trace."""
    by_id = {row.id: row for row in rows}
    children: dict[int | None, list[int]] = {}
    for row in rows:
        parent = row.parent_id if row.parent_id in by_id else None
        children.setdefault(parent, []).append(row.id)

    depth: dict[int, int] = {}
    shown_under: dict[int, int | None] = {}  # the comment each one is shown under
    order: list[int] = []  # parents before their replies
    stack: list[tuple[int, int | None, int]] = [
        (comment_id, None, 0) for comment_id in reversed(children.get(None, []))
    ]
    while stack:
        comment_id, parent, level = stack.pop()
        if comment_id in depth:
            continue  # a cycle in the data: each comment is placed once
        depth[comment_id] = level
        if level > MAX_DEPTH:
            while parent is not None and depth[parent] >= MAX_DEPTH:
                parent = shown_under[parent]
        shown_under[comment_id] = parent
        order.append(comment_id)
        for child in reversed(children.get(comment_id, [])):
            stack.append((child, comment_id, level + 1))
    # Comments caught in a parent cycle never reached from the top: shown at the top level.
    for row in rows:
        if row.id not in depth:
            depth[row.id] = 0
            shown_under[row.id] = None
            order.append(row.id)

    # A hidden comment is kept only when something public hangs below it.
    needed = {row.id for row in rows if row.public}
    for comment_id in reversed(order):
        parent = shown_under[comment_id]
        if comment_id in needed and parent is not None:
            needed.add(parent)

    nodes: dict[int, Comment] = {}
    top: list[Comment] = []
    for comment_id in order:
        if comment_id not in needed:
            continue
        node = _node(by_id[comment_id], render, links)
        nodes[comment_id] = node
        parent = shown_under[comment_id]
        (top if parent is None else nodes[parent].replies).append(node)
    # A reply may be older than the comment it was placed under (a catch-up, or a depth limit):
    # each list reads oldest first.
    for node in nodes.values():
        node.replies.sort(key=lambda c: (c.created_at, c.id))
    top.sort(key=lambda c: (c.created_at, c.id))
    return Conversation(
        post=post,
        top=tuple(top),
        count=sum(1 for row in rows if row.public),
        _keys=tuple((to_db(c.created_at), c.id) for c in top),
    )


def _node(row: CommentRow, render: Callable[[CommentRow], Rendered], links: Links) -> Comment:
    if not row.public:
        return Comment(
            id=row.id,
            parent_id=row.parent_id,
            placeholder=True,
            source=row.source,
            author_name=None,
            avatar_path=None,
            created_at=row.created_at,
            edited_at=None,
            html=None,
            text=None,
            attachments=(),
            reactions=(),
            discord_url=None,
        )
    rendered = render(row)
    return Comment(
        id=row.id,
        parent_id=row.parent_id,
        placeholder=False,
        source=row.source,
        author_name=row.author_name,
        avatar_path=links.avatar(row),
        created_at=row.created_at,
        edited_at=row.edited_at,
        html=rendered.html,
        text=rendered.text,
        attachments=row.attachments,
        reactions=row.reactions,
        discord_url=links.message(row),
    )


def iso(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z, as the API writes every time (the store's own form)."""
    return to_db(moment)


def encode_cursor(created_at: datetime, comment_id: int) -> str:
    raw = f"{to_db(created_at)}|{comment_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, number = raw.partition("|")
        return to_db(from_db(moment)), int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor("the cursor is not one this server gave") from error


def avatar_hue(source: str, author_key: int) -> int:
    """A stable colour for an author's picture, from nothing that identifies them outside."""
    digest = hashlib.blake2b(f"{source}:{author_key}".encode(), digest_size=2).digest()
    return int.from_bytes(digest, "big") % 360
