"""Moderation in the store: cases numbered per guild, moderator decisions, comment bans,
purges, erasure and the rule lists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import utcnow
from bot.comments.apply import apply_batch
from bot.comments.events import Created, Deleted, Edited
from bot.moderation.rules import RuleSet
from bot.store.bans import active_ban, ban_commenter, lift_expired_bans
from bot.store.cases import (
    StatusConflict,
    decide_comment,
    list_cases,
    open_case,
    remove_comments_of,
)
from bot.store.comments import (
    NewComment,
    add_comment,
    erase_old_bodies,
    list_revisions,
    upsert_author,
)
from bot.store.models import CaseAction, CommentStatus, Source
from bot.store.rules import add_rule_entry, load_rules, remove_rule_entry, set_rule_limit
from tests.comments.test_apply import (
    OTHER_THREAD,
    POLICY,
    T0,
    by_message,
    mirrored_post,
    msg,
    sid,
)
from tests.comments.test_judging import GUILD, policy, statuses


@pytest.fixture
async def post_id(store):
    return await mirrored_post(store)


async def test_case_numbers_are_unique_and_per_guild_under_concurrency(store, post_id):
    async def one(guild: int) -> int:
        case = await open_case(store, guild_id=guild, action=CaseAction.WARN, now=T0)
        return case.number

    rules = RuleSet(disallowed_words=["scam"])
    ingest = apply_batch(
        store, [Created(msg(n, "scam", author=200 + n)) for n in range(1, 11)], policy(rules)
    )
    numbers = await asyncio.gather(*(one(GUILD) for _ in range(30)), ingest, one(GUILD + 1))
    cases, total = await list_cases(store, GUILD, limit=100)
    assert total == 40
    assert sorted(case.number for case in cases) == list(range(1, 41))
    assert numbers[-1] == 1  # another guild counts from 1


async def test_decisions_apply_only_from_the_right_status(store, post_id):
    await apply_batch(store, [Created(msg(1, "hello"))], POLICY)
    comment = await by_message(store, 1)

    async def decide(action: CaseAction):
        return await decide_comment(
            store,
            guild_id=GUILD,
            comment_id=comment.id,
            action=action,
            moderator_id=7,
            reason="why",
            now=T0,
        )

    with pytest.raises(StatusConflict) as conflict:
        await decide(CaseAction.APPROVE)
    assert conflict.value.status is CommentStatus.VISIBLE
    held = await decide(CaseAction.HOLD)
    assert held.action is CaseAction.HOLD and held.moderator_id == 7
    removed = await decide(CaseAction.REMOVE)
    assert removed.number == held.number + 1
    with pytest.raises(StatusConflict):
        await decide(CaseAction.APPROVE)
    row = await store.fetch_one("SELECT * FROM comments WHERE id = ?", (comment.id,))
    assert (row["status"], row["status_reason"], row["status_case_id"]) == (
        "removed",
        "why",
        removed.id,
    )
    with pytest.raises(StatusConflict) as missing:
        await decide_comment(
            store,
            guild_id=GUILD,
            comment_id=10_000,
            action=CaseAction.HOLD,
            moderator_id=7,
            reason=None,
            now=T0,
        )
    assert missing.value.status is None


async def test_web_comments_are_moderated_on_the_site(store, post_id):
    author = await upsert_author(store, Source.WEB, "w1", "Web Person")
    web, _ = await add_comment(
        store,
        NewComment(
            post_id=post_id,
            author_id=author.id,
            author_name="Web Person",
            body="hi",
            source=Source.WEB,
            external_id="c1",
            created_at=T0,
        ),
    )
    with pytest.raises(StatusConflict) as conflict:
        await decide_comment(
            store,
            guild_id=GUILD,
            comment_id=web.id,
            action=CaseAction.REMOVE,
            moderator_id=7,
            reason=None,
            now=T0,
        )
    assert conflict.value.source == "web"


async def test_purge_removes_one_members_comments_of_one_post(store, post_id):
    other_post = await mirrored_post(store, OTHER_THREAD, external_id="p2")
    await apply_batch(
        store,
        [
            Created(msg(1, "a")),
            Created(msg(2, "b", thread=OTHER_THREAD)),
            Created(msg(3, "c", author=101)),
        ],
        POLICY,
    )
    case, removed = await remove_comments_of(
        store, guild_id=GUILD, user_id=100, post_id=post_id, moderator_id=7, reason=None, now=T0
    )
    assert removed == 1 and case.action is CaseAction.PURGE
    assert await statuses(store, 1, 2, 3) == [
        CommentStatus.REMOVED,
        CommentStatus.VISIBLE,
        CommentStatus.VISIBLE,
    ]
    _, everywhere = await remove_comments_of(
        store, guild_id=GUILD, user_id=100, post_id=None, moderator_id=7, reason=None, now=T0
    )
    assert everywhere == 1
    assert other_post != post_id


async def test_expired_bans_are_lifted_once_each(store):
    for user, until in ((1, T0), (2, T0 + timedelta(days=1)), (3, None)):
        await ban_commenter(
            store, guild_id=GUILD, user_id=user, until=until, moderator_id=7, reason=None, now=T0
        )
    lifted = await lift_expired_bans(store, GUILD, T0 + timedelta(hours=1))
    assert [(c.action, c.target_user_id, c.moderator_id) for c in lifted] == [
        (CaseAction.UNBAN, 1, None)
    ]
    assert await lift_expired_bans(store, GUILD, T0 + timedelta(hours=1)) == []
    assert await active_ban(store, GUILD, 3, T0 + timedelta(days=999)) is not None


async def test_erasure_keeps_the_row_and_the_case(store, post_id):
    rules = RuleSet(disallowed_words=["scam"])
    await apply_batch(store, [Created(msg(1, "scam here")), Created(msg(2, "kept"))], policy(rules))
    await apply_batch(
        store, [Edited(sid(2), 9_000, "kept, edited", T0 + timedelta(seconds=3))], POLICY
    )
    await apply_batch(store, [Deleted((sid(2),), 9_000)], POLICY)
    removed, deleted = await by_message(store, 1), await by_message(store, 2)
    now = utcnow() + timedelta(days=1)  # the statuses changed at the real time, just now
    assert await erase_old_bodies(store, now - timedelta(days=10_000), now) == 0
    erased = await erase_old_bodies(store, now, now)
    assert erased == 2
    assert (await by_message(store, 1)).body == "" and (await by_message(store, 2)).body == ""
    assert await list_revisions(store, deleted.id) == []
    assert (await list_cases(store, GUILD))[0][0].comment_id == removed.id
    assert await erase_old_bodies(store, now, now) == 0


async def test_rule_lists_and_limits(store):
    assert await add_rule_entry(store, GUILD, "moderation_words", "spoiler", moderator_id=7, now=T0)
    assert not await add_rule_entry(
        store, GUILD, "moderation_words", "spoiler", moderator_id=7, now=T0
    )
    await add_rule_entry(store, GUILD + 1, "disallowed_words", "other", moderator_id=7, now=T0)
    await set_rule_limit(store, GUILD, "links", None, moderator_id=7, now=T0)
    await set_rule_limit(store, GUILD, "flood_count", 9, moderator_id=7, now=T0)
    stored = await load_rules(store, GUILD)
    assert stored.lists["moderation_words"] == ("spoiler",)
    assert stored.lists["disallowed_words"] == ()
    assert stored.limits == {"links": None, "flood_count": 9}
    assert await remove_rule_entry(store, GUILD, "moderation_words", "spoiler")
    assert not await remove_rule_entry(store, GUILD, "moderation_words", "spoiler")


