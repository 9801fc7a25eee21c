"""Moderation in the store: rules judged in the sync writer's transaction, cases numbered per
guild, moderator decisions, comment bans, purges, erasure and the rule lists."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import utcnow
from bot.comments.events import Created, Deleted, Edited, Moderation, Standing, SyncPolicy
from bot.moderation.rules import RuleSet
from bot.store.comments import NewComment, add_comment, list_revisions, upsert_author
from bot.store.models import CaseAction, CommentStatus, Source
from bot.store.moderation import (
    StatusConflict,
    active_ban,
    add_rule_entry,
    ban_commenter,
    decide_comment,
    erase_old_bodies,
    lift_expired_bans,
    list_cases,
    load_rules,
    open_case,
    remove_comments_of,
    remove_rule_entry,
    set_rule_limit,
)
from bot.store.sync import apply_batch, opt_out
from tests.store.test_sync_store import (
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
        moderation=Moderation(GUILD, rules),
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
    assert result.cases == (case.id,)
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
    assert result.cases == (case.id,)
    assert (case.message_id, case.rule, case.action) == (
        sid(2),
        "disallowed_word",
        CaseAction.REMOVE,
    )
