"""What the comment writer works with: a message read from a thread, which messages count as
comments, and the events applied in order by `bot.comments.apply`.

No discord.py here: `bot.comments.payloads` turns gateway payloads and history into these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.discord_text import shows_nothing
from bot.moderation.rules import RuleSet
from bot.store.models import Attachment

DISCORD_EPOCH_MS = 1_420_070_400_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def snowflake_time(snowflake: int) -> datetime:
    """When Discord created the object with this id (aware UTC, millisecond precision)."""
    if snowflake < 0:
        raise ValueError(f"not a snowflake: {snowflake}")
    return _EPOCH + timedelta(milliseconds=(snowflake >> 22) + DISCORD_EPOCH_MS)


@dataclass(frozen=True, slots=True)
class Standing:
    """What the rules' exemptions need to know about an author: their roles, and whether they
    may manage messages (moderators are never judged)."""

    role_ids: frozenset[int] = frozenset()
    manages_messages: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class IncomingMessage:
    message_id: int
    thread_id: int
    author_id: int
    author_name: str  # the display name at the time of writing
    author_is_bot: bool
    webhook_id: int | None
    kind: Literal["default", "reply", "system"]
    content: str
    attachments: tuple[Attachment, ...] = ()
    has_stickers: bool = False
    reply_to: int | None = None  # the id of the message this one replies to
    created_at: datetime  # snowflake_time(message_id)
    edited_at: datetime | None = None
    standing: Standing = Standing()


@dataclass(frozen=True, slots=True)
class RulesInForce:
    """The rules every new and edited comment of this guild is judged by as it is stored."""

    guild_id: int
    rules: RuleSet
    # Roles whose holders moderate (Manage Messages, admin, or configured): never judged.
    moderator_role_ids: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncPolicy:
    own_user_id: int
    own_webhook_ids: frozenset[int] = frozenset()
    max_depth: int = 5
    include_other_bots: bool = False
    rules: RulesInForce | None = None  # None: comments are stored unjudged

    def __post_init__(self) -> None:
        if self.max_depth < 1:
            raise ValueError(f"max_depth must be at least 1, not {self.max_depth}")


def decide(message: IncomingMessage, policy: SyncPolicy) -> str | None:
    """Why this message is not a comment, or None when it is one."""
    if message.author_id == policy.own_user_id:
        return "own message"
    if message.webhook_id is not None and message.webhook_id in policy.own_webhook_ids:
        return "threadbridge webhook"
    if message.kind == "system":
        return "system message"
    if message.author_is_bot and not policy.include_other_bots:
        return "other bot"
    if not message.attachments and not message.has_stickers and shows_nothing(message.content):
        return "empty"  # nothing to see: no text with a visible glyph, no file, no sticker
    return None


# Events, applied in order by bot.comments.apply.apply_batch, all in one transaction.


@dataclass(frozen=True, slots=True)
class Created:
    """A message seen in a thread, live or from history.

    `advance_cursor` is set by catch-up, which reads history oldest first: every message up to
    this one has then been seen. Live messages may arrive while a gap before them is unread.
    """

    message: IncomingMessage
    advance_cursor: bool = False

    @property
    def thread_id(self) -> int:
        return self.message.thread_id


@dataclass(frozen=True, slots=True)
class Edited:
    message_id: int
    thread_id: int
    content: str
    edited_at: datetime
    attachments: tuple[Attachment, ...] | None = None  # None: unchanged or unknown
    standing: Standing = Standing()


@dataclass(frozen=True, slots=True)
class Deleted:
    message_ids: tuple[int, ...]
    thread_id: int


@dataclass(frozen=True, slots=True)
class ReactionChanged:
    message_id: int
    thread_id: int
    emoji: str
    delta: Literal[1, -1]


@dataclass(frozen=True, slots=True)
class ReactionsSet:
    """Authoritative counts read from history: they replace whatever was counted live."""

    message_id: int
    thread_id: int
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class ThreadLocked:
    thread_id: int
    locked: bool


SyncEvent = Created | Edited | Deleted | ReactionChanged | ReactionsSet | ThreadLocked


def reconcile_window(stored_ids: set[int], seen_ids: set[int]) -> tuple[int, ...]:
    """Comment messages stored for a re-read window of history but no longer in it: deleted
    while the bot was away. Oldest first."""
    return tuple(sorted(stored_ids - seen_ids))
