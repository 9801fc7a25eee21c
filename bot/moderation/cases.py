"""The case lifecycle: every moderation decision that opens a case (a warning, a decision on a
comment, a comment ban and its lifting, closing or reopening a post's comments, a purge, and the
scheduled lifting of expired bans and closing of old posts) is made here, in one store
transaction, and its case handed to the enforcer to settle in Discord. The one other place
cases are opened is bot.comments.judging, by `open_case_in`: a case the rules open must commit
in the comment writer's transaction, with the comment it judges (the writer's `on_cases` hands
those to the enforcer)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.errors import UserFacingError
from bot.log import get_logger
from bot.store.bans import ban_commenter, lift_expired_bans, unban_commenter
from bot.store.cases import StatusConflict, decide_comment, open_case, remove_comments_of
from bot.store.closing import posts_to_close, set_comments_closed
from bot.store.database import Store
from bot.store.models import Case, CaseAction

log = get_logger("threadbridge.moderation")


def audit(case: Case, **extra: int) -> None:
    """The audit line of a case, written once, when it is committed: "case opened" with its
    ids (never a member's text, nor the reason, which may quote one). `moderator` is the
    moderator's id, "rules" for the rules' holds and removals, "schedule" for scheduled work."""
    moderator: int | str = case.moderator_id or ("rules" if case.rule else "schedule")
    fields = {
        "case": case.number,
        "action": case.action.value,
        "guild": case.guild_id,
        "post": case.post_id,
        "comment": case.comment_id,
        "user": case.target_user_id,
        "moderator": moderator,
        "rule": case.rule,
        "channel": case.channel_id,
        "message": case.message_id,
        "until": case.expires_at.isoformat() if case.expires_at else None,
    }
    log.info("case opened", **{k: v for k, v in fields.items() if v is not None}, **extra)


class CaseQueue(Protocol):
    """Where opened cases go to be settled in Discord: the enforcer."""

    def submit(self, case_ids: Iterable[int]) -> None: ...


def _status_problem(conflict: StatusConflict, comment_id: int) -> str:
    """What a moderator is told when a decision does not apply to the comment."""
    if conflict.status is None:
        return f"There is no comment #{comment_id}."
    if conflict.source == "web":
        return f"Comment #{comment_id} came from the site: moderate it there."
    return f"Comment #{comment_id} is {conflict.status.value}, so that does not apply to it."


@dataclass(frozen=True, slots=True)
class Cases:
    """Opens one guild's cases, at the clock's time, and submits each to the enforcer once it
    is committed. A decision that does not apply opens and submits nothing."""

    store: Store
    guild_id: int
    clock: Callable[[], datetime]
    enforcer: CaseQueue

    def _submitted(self, case: Case, **extra: int) -> Case:
        audit(case, **extra)
        self.enforcer.submit([case.id])
        return case

    async def warn(self, user_id: int, *, moderator_id: int, reason: str) -> Case:
        case = await open_case(
            self.store, guild_id=self.guild_id, action=CaseAction.WARN, now=self.clock(),
            target_user_id=user_id, moderator_id=moderator_id, reason=reason,
        )
        return self._submitted(case)

    async def decide(
        self, comment_id: int, action: CaseAction, *, moderator_id: int, reason: str | None
    ) -> Case:
        """Hold, remove or approve a Discord comment; UserFacingError, saying why, when the
        decision does not apply to it (no such comment, a site comment, the wrong status)."""
        try:
            case = await decide_comment(
                self.store, guild_id=self.guild_id, comment_id=comment_id, action=action,
                moderator_id=moderator_id, reason=reason, now=self.clock(),
            )
        except StatusConflict as conflict:
            raise UserFacingError(_status_problem(conflict, comment_id)) from None
        return self._submitted(case)

    async def ban(
        self, user_id: int, *, duration: timedelta | None, moderator_id: int, reason: str | None
    ) -> Case:
        """Ban a member from commenting, for `duration` or (None) until unbanned."""
        now = self.clock()
        until = None if duration is None else now + duration
        case = await ban_commenter(
            self.store, guild_id=self.guild_id, user_id=user_id, until=until,
            moderator_id=moderator_id, reason=reason, now=now,
        )
        return self._submitted(case)

    async def unban(self, user_id: int, *, moderator_id: int, reason: str | None) -> Case | None:
        """Lift a member's comment ban; None if they were not banned."""
        case = await unban_commenter(
            self.store, guild_id=self.guild_id, user_id=user_id,
            moderator_id=moderator_id, reason=reason, now=self.clock(),
        )
        return None if case is None else self._submitted(case)

    async def set_comments_closed(
        self, post_id: int, *, closed: bool, moderator_id: int | None, reason: str | None
    ) -> Case | None:
        """Close (lock) or reopen a post's comments; None if they already are."""
        case = await set_comments_closed(
            self.store, guild_id=self.guild_id, post_id=post_id, closed=closed,
            moderator_id=moderator_id, reason=reason, now=self.clock(),
        )
        return None if case is None else self._submitted(case)

    async def purge(
        self, user_id: int, *, post_id: int | None, moderator_id: int, reason: str | None
    ) -> tuple[Case, int]:
        """Remove a member's visible and held comments (of one post, or all) under one case,
        even when there are none; the case and how many comments it removed."""
        case, removed = await remove_comments_of(
            self.store, guild_id=self.guild_id, user_id=user_id, post_id=post_id,
            moderator_id=moderator_id, reason=reason, now=self.clock(),
        )
        return self._submitted(case, removed=removed), removed

    async def lift_expired_bans(self) -> list[Case]:
        """Scheduled: end the comment bans whose time is up, each with an unban case."""
        opened = await lift_expired_bans(self.store, self.guild_id, self.clock())
        for case in opened:
            audit(case)
        self.enforcer.submit(case.id for case in opened)
        return opened

    async def close_old_posts(self, days: int) -> list[Case]:
        """Scheduled: close the comments of mirrored posts published over `days` days ago, each
        post in a transaction of its own; the cases are submitted together at the end."""
        now = self.clock()
        reason = f"comments close {days} days after a post is published"
        opened: list[Case] = []
        for post_id in await posts_to_close(self.store, now - timedelta(days=days)):
            case = await set_comments_closed(
                self.store, guild_id=self.guild_id, post_id=post_id, closed=True,
                moderator_id=None, reason=reason, now=now,
            )
            if case is not None:
                audit(case)
                opened.append(case)
        self.enforcer.submit(case.id for case in opened)
        return opened
