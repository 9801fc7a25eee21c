"""Comments judged by the rules in the comment writer's transaction, against a real database:
flood and duplicates within a batch, bans, first comments, exemptions, edits, opted-out members."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.comments.apply import apply_batch
from bot.comments.events import Created, Deleted, Edited, RulesInForce, Standing, SyncPolicy
from bot.moderation.rules import RuleSet
from bot.store.authors import opt_out
from bot.store.bans import active_ban, ban_commenter
from bot.store.cases import (
    decide_comment,
    list_cases,
)
from bot.store.models import CaseAction, CommentStatus
from tests.comments.test_apply import (
    OTHER_THREAD,
    POLICY,
    T0,
    by_message,
    mirrored_post,
    msg,
    sid,
)

GUILD = 5_000
QUIET = RuleSet(max_links=None, flood_count=None, duplicate_window=None, max_mentions=None)


def policy(rules: RuleSet) -> SyncPolicy:
    return SyncPolicy(
        own_user_id=POLICY.own_user_id,
        own_webhook_ids=POLICY.own_webhook_ids,
        rules=RulesInForce(GUILD, rules),
    )


@pytest.fixture
async def post_id(store):
    return await mirrored_post(store)


async def statuses(store, *numbers):
    return [(await by_message(store, n)).status for n in numbers]


async def test_flood_is_counted_within_one_batch(store, post_id):
    rules = RuleSet(flood_count=3, flood_window=timedelta(seconds=10), duplicate_window=None)
    result = await apply_batch(
        store, [Created(msg(n, f"comment {n}")) for n in range(1, 5)], policy(rules)
    )
    assert await statuses(store, 1, 2, 3, 4) == [CommentStatus.VISIBLE] * 3 + [CommentStatus.HELD]
    (case,) = (await list_cases(store, GUILD))[0]
    assert [c.id for c in result.cases] == [case.id]
    assert (case.action, case.rule, case.number) == (CaseAction.HOLD, "flood", 1)
    assert case.comment_id == (await by_message(store, 4)).id
    assert case.target_user_id == 100 and case.moderator_id is None and case.enforced_at is None


async def test_the_same_text_in_another_thread_is_held(store, post_id):
    await mirrored_post(store, OTHER_THREAD, external_id="p2")
    text = "Buy my course at a great price today"
    await apply_batch(
        store,
        [Created(msg(1, text)), Created(msg(30, text.upper(), thread=OTHER_THREAD))],
        policy(RuleSet(flood_count=None)),
    )
    assert await statuses(store, 1, 30) == [CommentStatus.VISIBLE, CommentStatus.HELD]


async def test_a_ban_removes_comments_only_while_it_lasts(store, post_id):
    await ban_commenter(
        store,
        guild_id=GUILD,
        user_id=100,
        until=T0 + timedelta(seconds=5),
        moderator_id=7,
        reason="cool off",
        now=T0,
    )
    await apply_batch(store, [Created(msg(1, "a")), Created(msg(9, "b"))], policy(QUIET))
    assert await statuses(store, 1, 9) == [CommentStatus.REMOVED, CommentStatus.VISIBLE]
    assert (await active_ban(store, GUILD, 100, T0)).reason == "cool off"
    assert await active_ban(store, GUILD, 100, T0 + timedelta(seconds=5)) is None


async def test_first_comment_is_held_until_one_is_approved(store, post_id):
    rules = RuleSet(first_comment_hold=True, flood_count=None, duplicate_window=None)
    await apply_batch(store, [Created(msg(1, "hello")), Created(msg(2, "again"))], policy(rules))
    assert await statuses(store, 1, 2) == [CommentStatus.HELD, CommentStatus.HELD]
    first = await by_message(store, 1)
    await decide_comment(
        store,
        guild_id=GUILD,
        comment_id=first.id,
        action=CaseAction.APPROVE,
        moderator_id=7,
        reason=None,
        now=T0,
    )
    await apply_batch(store, [Created(msg(3, "third"))], policy(rules))
    assert await statuses(store, 1, 3) == [CommentStatus.VISIBLE, CommentStatus.VISIBLE]


async def test_moderators_and_exempt_roles_are_not_judged(store, post_id):
    rules = RuleSet(disallowed_words=["scam"], exempt_role_ids=frozenset({42}))
    await apply_batch(
        store,
        [
            Created(msg(1, "scam", standing=Standing(manages_messages=True))),
            Created(msg(2, "scam", author=101, standing=Standing(role_ids=frozenset({42})))),
            Created(msg(3, "scam", author=102, standing=Standing(role_ids=frozenset({41})))),
        ],
        policy(rules),
    )
    assert await statuses(store, 1, 2, 3) == [
        CommentStatus.VISIBLE,
        CommentStatus.VISIBLE,
        CommentStatus.REMOVED,
    ]


async def test_a_message_arriving_twice_opens_one_case(store, post_id):
    rules = RuleSet(disallowed_words=["scam"])
    first = await apply_batch(store, [Created(msg(1, "scam"))], policy(rules))
    second = await apply_batch(store, [Created(msg(1, "scam"))], policy(rules))
    assert len(first.cases) == 1 and second.cases == ()
    assert (await list_cases(store, GUILD))[1] == 1


async def test_edits_are_judged_but_a_held_comment_stays_held(store, post_id):
    rules = RuleSet(disallowed_words=["scam"], moderation_words=["refund"])
    await apply_batch(store, [Created(msg(1, "fine")), Created(msg(2, "refund?"))], policy(rules))
    later = T0 + timedelta(minutes=1)
    await apply_batch(
        store,
        [Edited(sid(1), 9_000, "fine, a scam", later), Edited(sid(2), 9_000, "refund pls", later)],
        policy(rules),
    )
    assert await statuses(store, 1, 2) == [CommentStatus.REMOVED, CommentStatus.HELD]
    _, total = await list_cases(store, GUILD)
    assert total == 2  # the hold and the removal; the held comment's edit opened nothing


async def test_deleting_a_removed_comments_message_keeps_it_removed(store, post_id):
    await apply_batch(store, [Created(msg(1, "scam"))], policy(RuleSet(disallowed_words=["scam"])))
    await apply_batch(store, [Deleted((sid(1),), 9_000)], POLICY)
    assert await statuses(store, 1) == [CommentStatus.REMOVED]


async def test_opting_out_does_not_escape_the_rules(store, post_id):
    await apply_batch(store, [Created(msg(1, "before opting out"))], POLICY)
    await opt_out(store, 100)
    rules = RuleSet(disallowed_words=["scam"], moderation_words=["refund"])
    await ban_commenter(
        store, guild_id=GUILD, user_id=100, until=None, moderator_id=7, reason=None, now=T0
    )
    events = [Created(msg(2, "harmless")), Created(msg(3, "refund?"))]
    result = await apply_batch(store, events, policy(rules))
    # Banned: each message is removed, though none is stored; the same message twice, once.
    again = await apply_batch(store, [Created(msg(2, "harmless"))], policy(rules))
    assert result.skipped == {"opted out": 2} and again.cases == ()
    cases = [c for c in (await list_cases(store, GUILD))[0] if c.action is CaseAction.REMOVE]
    assert sorted(c.message_id for c in cases) == [sid(2), sid(3)]
    assert all(c.comment_id is None and c.channel_id == 9_000 for c in cases)
    assert all(c.rule == "banned" for c in cases)


async def test_an_opted_out_members_message_is_removed_only_for_what_removes(store, post_id):
    await apply_batch(store, [Created(msg(1, "hello"))], POLICY)
    await opt_out(store, 100)
    rules = RuleSet(disallowed_words=["scam"], moderation_words=["refund"])
    result = await apply_batch(
        store, [Created(msg(2, "a scam")), Created(msg(3, "refund?"))], policy(rules)
    )
    (case,) = (await list_cases(store, GUILD))[0]
    assert [c.id for c in result.cases] == [case.id]
    assert (case.message_id, case.rule, case.action) == (
        sid(2),
        "disallowed_word",
        CaseAction.REMOVE,
    )
