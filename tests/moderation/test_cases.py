"""The case lifecycle (bot.moderation.cases) against a real store: each decision opens its case
with the guild's next number and hands exactly that case to the enforcer; a decision that does
not apply opens and hands over nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import pytest

from bot.comments.apply import apply_batch
from bot.comments.events import Created
from bot.errors import UserFacingError
from bot.moderation.cases import Cases
from bot.store.bans import active_ban, next_ban_end
from bot.store.cases import list_cases
from bot.store.comments import NewComment, add_comment, upsert_author
from bot.store.mirrors import record_mirror
from bot.store.models import Case, CaseAction, CommentStatus, MirrorState, Source
from bot.store.posts import NewPost, add_post, get_post
from tests.comments.test_apply import OTHER_THREAD, POLICY, T0, by_message, mirrored_post, msg

GUILD = 5_000
MODERATOR = 7
MEMBER = 100  # who msg() writes as, unless told otherwise


class RecordingEnforcer:
    """Stands in for the enforcer: remembers which cases it was given to settle."""

    def __init__(self) -> None:
        self.submitted: list[int] = []

    def submit(self, case_ids: Iterable[int]) -> None:
        self.submitted.extend(case_ids)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def enforcer():
    return RecordingEnforcer()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cases(store, enforcer, clock):
    return Cases(store, guild_id=GUILD, clock=clock, enforcer=enforcer)


@pytest.fixture
async def post_id(store):
    return await mirrored_post(store)


async def stored_cases(store) -> list[Case]:
    found, _ = await list_cases(store, GUILD, limit=100)
    return sorted(found, key=lambda case: case.number)


async def assert_opened(store, enforcer, case, action, number):
    """`case` is the newest of the guild's cases, numbered `number`, and the last one handed to
    the enforcer; every case the store holds was handed over exactly once, in order."""
    everything = await stored_cases(store)
    assert everything[-1] == case
    assert (case.action, case.number, case.created_at) == (action, number, T0)
    assert enforcer.submitted == [each.id for each in everything]


async def assert_nothing_opened(store, enforcer, before):
    assert len(await stored_cases(store)) == before
    assert len(enforcer.submitted) == before


async def test_a_warning_is_a_case_of_its_own(store, enforcer, cases):
    first = await cases.warn(MEMBER, moderator_id=MODERATOR, reason="be kind")
    await assert_opened(store, enforcer, first, CaseAction.WARN, 1)
    second = await cases.warn(MEMBER + 1, moderator_id=MODERATOR, reason="again")
    await assert_opened(store, enforcer, second, CaseAction.WARN, 2)
    assert (first.target_user_id, first.moderator_id) == (MEMBER, MODERATOR)
    assert (first.reason, second.target_user_id) == ("be kind", MEMBER + 1)


async def test_hold_approve_and_remove_move_a_comment_under_their_cases(
    store, enforcer, cases, post_id
):
    await apply_batch(store, [Created(msg(1, "hello"))], POLICY)
    comment = await by_message(store, 1)
    steps = (
        (CaseAction.HOLD, CommentStatus.HELD),
        (CaseAction.APPROVE, CommentStatus.VISIBLE),
        (CaseAction.REMOVE, CommentStatus.REMOVED),
    )
    for number, (action, status) in enumerate(steps, start=1):
        case = await cases.decide(comment.id, action, moderator_id=MODERATOR, reason="why")
        await assert_opened(store, enforcer, case, action, number)
        assert (case.comment_id, case.post_id, case.target_user_id) == (
            comment.id,
            post_id,
            MEMBER,
        )
        assert (await by_message(store, 1)).status is status


async def test_a_decision_that_does_not_apply_is_explained_and_opens_nothing(
    store, enforcer, cases, post_id
):
    await apply_batch(store, [Created(msg(1, "hello"))], POLICY)
    visible = await by_message(store, 1)
    author = await upsert_author(store, Source.WEB, "w1", "Web Person")
    web, _ = await add_comment(
        store, NewComment(post_id, author.id, "Web Person", "hi", Source.WEB, T0, external_id="w")
    )
    refused = (
        (
            visible.id,
            CaseAction.APPROVE,
            f"Comment #{visible.id} is visible, so that does not apply to it.",
        ),
        (web.id, CaseAction.REMOVE, f"Comment #{web.id} came from the site: moderate it there."),
        (10_000, CaseAction.HOLD, "There is no comment #10000."),
    )
    for comment_id, action, problem in refused:
        with pytest.raises(UserFacingError) as error:
            await cases.decide(comment_id, action, moderator_id=MODERATOR, reason=None)
        assert str(error.value) == problem
    await assert_nothing_opened(store, enforcer, 0)
    assert (await by_message(store, 1)).status is CommentStatus.VISIBLE


async def test_a_timed_ban_ends_when_its_time_is_up(store, enforcer, cases, clock):
    ban = await cases.ban(
        MEMBER, duration=timedelta(hours=1), moderator_id=MODERATOR, reason="cool off"
    )
    await assert_opened(store, enforcer, ban, CaseAction.BAN, 1)
    assert ban.expires_at == T0 + timedelta(hours=1)
    assert await next_ban_end(store, GUILD) == T0 + timedelta(hours=1)
    assert await cases.lift_expired_bans() == []
    await assert_nothing_opened(store, enforcer, 1)

    clock.now = T0 + timedelta(hours=1)
    (lifted,) = await cases.lift_expired_bans()
    assert (lifted.action, lifted.number, lifted.target_user_id) == (CaseAction.UNBAN, 2, MEMBER)
    assert (lifted.moderator_id, lifted.reason) == (None, "comment ban expired")
    assert enforcer.submitted == [ban.id, lifted.id]
    assert await active_ban(store, GUILD, MEMBER, clock.now) is None
    assert await cases.lift_expired_bans() == []
    assert enforcer.submitted == [ban.id, lifted.id]


async def test_a_ban_without_a_duration_lasts_until_unbanned(store, enforcer, cases):
    ban = await cases.ban(MEMBER, duration=None, moderator_id=MODERATOR, reason=None)
    await assert_opened(store, enforcer, ban, CaseAction.BAN, 1)
    assert ban.expires_at is None and await next_ban_end(store, GUILD) is None
    assert await active_ban(store, GUILD, MEMBER, T0 + timedelta(days=999)) == ban

    unban = await cases.unban(MEMBER, moderator_id=MODERATOR, reason="served")
    assert unban is not None
    await assert_opened(store, enforcer, unban, CaseAction.UNBAN, 2)
    assert await active_ban(store, GUILD, MEMBER, T0) is None


async def test_unbanning_someone_not_banned_opens_nothing(store, enforcer, cases):
    assert await cases.unban(MEMBER, moderator_id=MODERATOR, reason=None) is None
    await assert_nothing_opened(store, enforcer, 0)


async def test_closing_and_reopening_comments_each_open_a_case_once(
    store, enforcer, cases, post_id
):
    closed = await cases.set_comments_closed(
        post_id, closed=True, moderator_id=MODERATOR, reason="heated"
    )
    assert closed is not None and closed.post_id == post_id
    await assert_opened(store, enforcer, closed, CaseAction.LOCK, 1)
    assert (await get_post(store, post_id)).comments_closed
    again = await cases.set_comments_closed(post_id, closed=True, moderator_id=None, reason=None)
    assert again is None
    await assert_nothing_opened(store, enforcer, 1)

    reopened = await cases.set_comments_closed(
        post_id, closed=False, moderator_id=MODERATOR, reason=None
    )
    assert reopened is not None
    await assert_opened(store, enforcer, reopened, CaseAction.UNLOCK, 2)
    assert not (await get_post(store, post_id)).comments_closed
    assert await cases.set_comments_closed(
        post_id, closed=False, moderator_id=MODERATOR, reason=None
    ) is None
    await assert_nothing_opened(store, enforcer, 2)


async def test_a_purge_removes_a_members_comments_under_one_case(store, enforcer, cases, post_id):
    await mirrored_post(store, OTHER_THREAD, external_id="p2")
    batch = [
        Created(msg(1, "a")),
        Created(msg(2, "b")),
        Created(msg(3, "elsewhere", thread=OTHER_THREAD)),
        Created(msg(4, "someone else", author=MEMBER + 1)),
    ]
    await apply_batch(store, batch, POLICY)
    case, removed = await cases.purge(MEMBER, post_id=post_id, moderator_id=MODERATOR, reason=None)
    assert removed == 2 and (case.target_user_id, case.post_id) == (MEMBER, post_id)
    await assert_opened(store, enforcer, case, CaseAction.PURGE, 1)
    found = [(await by_message(store, n)).status for n in (1, 2, 3, 4)]
    assert found == [CommentStatus.REMOVED] * 2 + [CommentStatus.VISIBLE] * 2

    # A purge is a moderator's decision even when nothing is left to remove.
    case, removed = await cases.purge(MEMBER + 2, post_id=None, moderator_id=MODERATOR, reason=None)
    assert removed == 0
    await assert_opened(store, enforcer, case, CaseAction.PURGE, 2)


async def published_post(store, external_id, published_at):
    new = NewPost(source="test", external_id=external_id, title="Post", published_at=published_at)
    post, _ = await add_post(store, new)
    await record_mirror(store, post.id, MirrorState.MIRRORED, thread_id=post.id)
    return post.id


async def test_old_posts_are_closed_once_each(store, enforcer, cases):
    old = await published_post(store, "old", T0 - timedelta(days=31))
    recent = await published_post(store, "recent", T0 - timedelta(days=29))
    (closed,) = await cases.close_old_posts(30)
    await assert_opened(store, enforcer, closed, CaseAction.LOCK, 1)
    assert (closed.post_id, closed.moderator_id, closed.reason) == (
        old,
        None,
        "comments close 30 days after a post is published",
    )
    assert not (await get_post(store, recent)).comments_closed
    assert await cases.close_old_posts(30) == []
    await assert_nothing_opened(store, enforcer, 1)
