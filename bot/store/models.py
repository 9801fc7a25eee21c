"""What the store takes in and hands back: plain frozen dataclasses, most one per table row."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class MirrorState(enum.StrEnum):
    NEW = "new"
    MIRRORING = "mirroring"
    MIRRORED = "mirrored"
    FAILED = "failed"
    BROKEN = "broken"
    SKIPPED = "skipped"  # feed backlog seen on a feed's first poll, deliberately not mirrored


class CommentStatus(enum.StrEnum):
    VISIBLE = "visible"
    HELD = "held"
    REMOVED = "removed"
    DELETED = "deleted"


class Source(enum.StrEnum):
    """Where a comment or author comes from."""

    DISCORD = "discord"
    WEB = "web"


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    source: str
    external_id: str
    title: str
    url: str | None
    author_name: str | None
    content_html: str
    image_url: str | None
    categories: tuple[str, ...]
    published_at: datetime | None
    updated_at: datetime | None
    created_at: datetime
    comments_closed: bool


@dataclass(frozen=True, slots=True)
class Mirror:
    post_id: int
    state: MirrorState
    channel_id: int | None
    thread_id: int | None
    starter_message_id: int | None
    attempts: int
    last_error: str | None
    sync_cursor: int | None
    last_activity_at: datetime | None
    updated_at: datetime
    retry_after: datetime | None = None
    failure_reported: bool = False
    starter_stale: bool = False


@dataclass(frozen=True, slots=True)
class Author:
    id: int
    source: Source
    external_id: str
    name: str
    url: str | None
    is_bot: bool
    opted_out_at: datetime | None
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    post_id: int
    parent_id: int | None
    author_id: int
    author_name: str
    body: str
    status: CommentStatus
    status_reason: str | None
    source: Source
    external_id: str | None
    discord_message_id: int | None
    created_at: datetime
    edited_at: datetime | None


class CaseAction(enum.StrEnum):
    """What a moderation case did. Automatic cases (moderator None) are holds, removals, lifted
    bans and closed posts."""

    HOLD = "hold"
    REMOVE = "remove"
    APPROVE = "approve"
    LOCK = "lock"
    UNLOCK = "unlock"
    BAN = "ban"
    UNBAN = "unban"
    WARN = "warn"
    PURGE = "purge"


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    guild_id: int
    number: int
    action: CaseAction
    target_user_id: int | None
    comment_id: int | None
    post_id: int | None
    moderator_id: int | None  # None: the rules or a scheduled job decided
    rule: str | None
    reason: str | None
    created_at: datetime
    expires_at: datetime | None
    modlog_message_id: int | None
    enforced_at: datetime | None
    attempts: int
    last_error: str | None
    channel_id: int | None = None  # with message_id: the message acted on, when not a comment
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a Discord comment, as Discord serves it."""

    url: str
    filename: str
    size: int
    content_type: str | None


@dataclass(frozen=True, slots=True)
class SourceComment:
    """A comment written on the site (e.g. a WordPress comment), with its parent's id there."""

    external_id: str
    author_name: str
    content_html: str
    created_at: datetime
    parent_external_id: str | None = None
    author_email: str | None = None
    author_url: str | None = None


@dataclass(frozen=True, slots=True)
class SourcePost:
    """One post of the community. (source, external_id) identifies it across re-reads.

    `former_keys` are (source, external_id) pairs an earlier version of threadbridge may have
    stored the same post under; a post found under one of them takes the new identity.
    """

    source: str
    external_id: str
    title: str
    url: str | None = None
    author_name: str | None = None
    content_html: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = ()
    published_at: datetime | None = None
    updated_at: datetime | None = None
    comments: tuple[SourceComment, ...] = field(default_factory=tuple)
    former_keys: tuple[tuple[str, str], ...] = ()
    comments_closed: bool = False  # closed at the source: the post is stored closed
