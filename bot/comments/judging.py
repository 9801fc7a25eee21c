"""Judging a comment by the rules as it is stored: the facts the rules need, read inside the
comment writer's transaction (so comments earlier in the same batch count), the verdict, and
the case a hold or removal opens with the comment's new status, in that same transaction."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.comments.events import IncomingMessage, RulesInForce, Standing
from bot.moderation.rules import CommentFacts, Outcome, PastComment, Verdict, judge
from bot.moderation.text import normalise
from bot.store.authors import discord_author_id_in
from bot.store.bans import AuthorRecord, author_record_in
from bot.store.cases import case_for_message_exists_in, open_case_in, set_judged_status_in
from bot.store.models import Case, CaseAction, CommentStatus
from bot.store.replies import recent_comments_in

# How many of an author's recent comments the flood and duplicate rules look at: enough for any
# sensible flood limit, and a bound on the work a prolific author costs per comment.
RECENT_LIMIT = 25

# normalise() of the recent comments the flood and duplicate rules compare with: the same bodies
# come back for every comment their author writes within the window. Bounded, cleared when full.
_FOLDED: dict[str, str] = {}
_FOLDED_ENTRIES = 4096


def _folded(body: str) -> str:
    folded = _FOLDED.get(body)
    if folded is None:
        folded = normalise(body)
        if len(_FOLDED) >= _FOLDED_ENTRIES:
            _FOLDED.clear()
        _FOLDED[body] = folded
    return folded


@dataclass(frozen=True, slots=True)
class Written:
    """What the rules read of a comment: who wrote what, where and when."""

    author_row_id: int  # the authors table's id
    author_user_id: int  # the Discord user
    standing: Standing
    thread_id: int
    text: str
    created_at: datetime


@dataclass
class Judge:
    """Judges the comments of one batch by the rules in force, and keeps the cases it opened.
    An author's ban and approval are read once per batch: moderators' decisions are other
    transactions, so they cannot change within this one."""

    rules: RulesInForce
    cases: list[Case] = field(default_factory=list)
    _records: dict[int, AuthorRecord] = field(default_factory=dict)

    def comment(
        self, db: sqlite3.Connection, post_id: int, comment_id: int, written: Written
    ) -> None:
        """Judge a new or edited visible comment; a hold or removal opens its case in this
        transaction, so the comment is never seen published before it is judged."""
        verdict = self._verdict(db, written, comment_id)
        if verdict.outcome is Outcome.ALLOW:
            return
        held = verdict.outcome is Outcome.HOLD
        now = utcnow()
        case = open_case_in(
            db,
            guild_id=self.rules.guild_id,
            action=CaseAction.HOLD if held else CaseAction.REMOVE,
            now=now,
            target_user_id=written.author_user_id,
            comment_id=comment_id,
            post_id=post_id,
            rule=verdict.rule,
            reason=verdict.reason,
        )
        status = CommentStatus.HELD if held else CommentStatus.REMOVED
        set_judged_status_in(db, comment_id, status, case, now)
        self.cases.append(case)

    def unstored(self, db: sqlite3.Connection, post_id: int, message: IncomingMessage) -> None:
        """A member who opted out is not stored, but is held to the rules all the same (or
        opting out would lift a comment ban): what the rules would remove is removed, under a
        case that names the message. What they would hold passes: nothing is kept to review."""
        author_row_id = discord_author_id_in(db, message.author_id)
        if author_row_id is None or case_for_message_exists_in(db, message.message_id):
            return  # the same message again (live and from catch-up): judged once
        verdict = self._verdict(db, written_by(author_row_id, message), None)
        if verdict.outcome is not Outcome.REMOVE:
            return
        case = open_case_in(
            db,
            guild_id=self.rules.guild_id,
            action=CaseAction.REMOVE,
            now=utcnow(),
            target_user_id=message.author_id,
            post_id=post_id,
            rule=verdict.rule,
            reason=verdict.reason,
            channel_id=message.thread_id,
            message_id=message.message_id,
        )
        self.cases.append(case)

    def _verdict(
        self, db: sqlite3.Connection, written: Written, comment_id: int | None
    ) -> Verdict:
        author_row_id, author_user_id = written.author_row_id, written.author_user_id
        standing, created_at = written.standing, written.created_at
        rules = self.rules.rules
        record = self._records.get(author_row_id)
        if record is None:
            record = self._records[author_row_id] = author_record_in(
                db,
                self.rules.guild_id,
                author_row_id,
                author_user_id,
                first_comment_hold=rules.first_comment_hold,
                comment_id=comment_id,
            )
        banned = record.banned and (record.ban_until is None or record.ban_until > created_at)
        window = rules.look_back
        recent = (
            [
                PastComment(past.created_at, past.thread_id, _folded(past.body))
                for past in recent_comments_in(
                    db,
                    author_row_id,
                    created_at - window,
                    created_at,
                    other_than=comment_id,
                    limit=RECENT_LIMIT,
                )
            ]
            if window > timedelta(0)
            else []
        )
        facts = CommentFacts(
            author_id=author_user_id,
            author_role_ids=tuple(standing.role_ids),
            author_is_moderator=standing.manages_messages
            or not self.rules.moderator_role_ids.isdisjoint(standing.role_ids),
            author_banned=bool(banned),
            author_has_approved_comment=record.approved or not rules.first_comment_hold,
            thread_id=written.thread_id,
            text=written.text,
            created_at=created_at,
            recent_by_author=recent,
        )
        return judge(facts, rules)


def written_by(author_row_id: int, message: IncomingMessage) -> Written:
    return Written(
        author_row_id,
        message.author_id,
        message.standing,
        message.thread_id,
        message.content,
        message.created_at,
    )
