from datetime import UTC, datetime, timedelta

import pytest

from bot.store.closing import close_comments_in
from bot.store.comments import list_comments, set_comment_status
from bot.store.feeds import get_feed, record_feed_error, record_feed_success
from bot.store.mirrors import (
    count_unmirrored_posts,
    forget_thread,
    get_mirror,
    posts_to_mirror,
    record_mirror,
    stale_starters,
)
from bot.store.models import CommentStatus, MirrorState, SourceComment, SourcePost
from bot.store.posts import save_source_post, search_posts
from bot.store.web_comments import (
    begin_posting,
    changed_web_comments,
    comment_message_ids,
    is_comment_message,
    posts_with_waiting_comments,
    record_posted,
    record_withdrawn,
    web_comments_to_post,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def web(external_id, parent=None, minutes=0, author="bill ritter", body="<p>Hi</p>"):
    return SourceComment(
        external_id=external_id,
        author_name=author,
        content_html=body,
        created_at=T0 + timedelta(minutes=minutes),
        parent_external_id=parent,
        author_email=f"{author.replace(' ', '.')}@example.org",
    )


def source_post(external_id="p1", comments=(), title="A post", minutes=0, **changes):
    return SourcePost(
        source="wxr:example.org",
        external_id=external_id,
        title=title,
        url=f"https://example.org/{external_id}",
        content_html="<p>Body</p>",
        categories=("Art",),
        published_at=T0 + timedelta(minutes=minutes),
        comments=tuple(comments),
        **changes,
    )


async def test_save_source_post_with_nested_comments_is_idempotent(store):
    # Children listed before their parents must still nest correctly.
    comments = [web("3", parent="2", minutes=3), web("2", parent="1", minutes=2), web("1")]
    first = await save_source_post(store, source_post(comments=comments))
    assert (first.created, first.edited, first.comments_added) == (True, False, 3)
    stored = {c.external_id: c for c in await list_comments(store, first.post.id)}
    assert stored["1"].parent_id is None
    assert stored["2"].parent_id == stored["1"].id
    assert stored["3"].parent_id == stored["2"].id
    again = await save_source_post(store, source_post(comments=comments))
    assert (again.created, again.edited, again.comments_added) == (False, False, 0)
    assert len(await list_comments(store, first.post.id)) == 3


async def test_a_post_stored_under_a_former_key_takes_its_new_one(store):
    """An export imported before posts were known by their WordPress id: its posts keep their
    row (thread, comments) instead of coming back as new posts with new threads."""
    old = await save_source_post(store, source_post("https://example.org/?p=1", [web("1")]))
    await record_mirror(store, old.post.id, MirrorState.MIRRORED, thread_id=5)
    renamed = source_post(
        "wp:1",
        [web("1"), web("2", "1", 1)],
        former_keys=(("wxr:example.org", "https://example.org/?p=1"),),
    )
    saved = await save_source_post(store, renamed)
    assert saved.post.id == old.post.id
    assert (saved.post.source, saved.post.external_id) == ("wxr:example.org", "wp:1")
    assert (saved.created, saved.rekeyed, saved.comments_added) == (False, True, 1)
    assert (await get_mirror(store, old.post.id)).thread_id == 5
    again = await save_source_post(store, renamed)
    assert (again.post.id, again.created, again.rekeyed, again.edited) == (
        old.post.id,
        False,
        False,
        False,
    )


async def test_two_posts_merged_under_one_former_key_come_apart(store):
    # Before, two WordPress posts with the same guid were stored as one: the first takes it
    # over, the second becomes a post of its own.
    merged = await save_source_post(store, source_post("guid-568"))
    former = (("wxr:example.org", "guid-568"),)
    first = await save_source_post(store, source_post("wp:568", former_keys=former))
    second = await save_source_post(store, source_post("wp:1158", former_keys=former))
    assert first.post.id == merged.post.id and not first.created
    assert second.created and second.post.id != merged.post.id


async def test_a_post_closed_at_its_source_is_stored_closed_when_first_imported(store):
    saved = await save_source_post(store, source_post(comments_closed=True))
    assert saved.post.comments_closed
    # After that Discord decides: a moderator's unlock is not undone by the next import ...
    await store.write_in_thread(lambda db: close_comments_in(db, saved.post.id, False))
    again = await save_source_post(store, source_post(comments_closed=True))
    assert not again.post.comments_closed and not again.edited
    # ... nor is a post stored open closed by it.
    other = await save_source_post(store, source_post("p2"))
    assert not (
        await save_source_post(store, source_post("p2", comments_closed=True))
    ).post.comments_closed
    assert not other.post.comments_closed


async def test_parent_cycle_in_source_does_not_lose_comments(store):
    saved = await save_source_post(store, source_post(comments=[web("a", "b"), web("b", "a")]))
    assert saved.comments_added == 2


async def test_source_edit_updates_post_and_marks_starter_stale(store):
    saved = await save_source_post(store, source_post())
    await record_mirror(
        store, saved.post.id, MirrorState.MIRRORED, thread_id=5, starter_message_id=5
    )
    edited = await save_source_post(store, source_post(title="A better title"))
    assert edited.edited and edited.post.title == "A better title"
    (stale,) = await stale_starters(store)
    assert stale[0].title == "A better title"


async def test_backlog_is_stored_as_skipped(store):
    saved = await save_source_post(store, source_post(), mirror=False)
    assert (await get_mirror(store, saved.post.id)).state is MirrorState.SKIPPED
    assert await posts_to_mirror(store, T0) == []
    assert await count_unmirrored_posts(store) == 0


async def test_posts_to_mirror_order_and_retry_time(store):
    later = await save_source_post(store, source_post("late", minutes=10))
    early = await save_source_post(store, source_post("early", minutes=1))
    waiting = await posts_to_mirror(store, T0)
    assert [post.external_id for post, _ in waiting] == ["early", "late"]
    await record_mirror(
        store,
        early.post.id,
        MirrorState.FAILED,
        error="nope",
        retry_after=T0 + timedelta(minutes=5),
    )
    await record_mirror(store, later.post.id, MirrorState.MIRRORED, thread_id=1)
    assert await posts_to_mirror(store, T0) == []
    ((post, mirror),) = await posts_to_mirror(store, T0 + timedelta(minutes=5))
    assert post.id == early.post.id and mirror.last_error == "nope"


async def test_web_comment_posting_cycle(store):
    saved = await save_source_post(store, source_post(comments=[web("1"), web("2", "1", 1)]))
    post_id = saved.post.id
    assert await posts_with_waiting_comments(store) == [post_id]
    (first, interrupted), (second, _) = await web_comments_to_post(store, post_id)
    assert not interrupted
    await begin_posting(store, first.id, thread_id=900)
    assert (await web_comments_to_post(store, post_id))[0] == (first, True)
    await record_posted(store, first, 900, [1001, 1002])
    assert await comment_message_ids(store, first.id) == [1001, 1002]
    assert await is_comment_message(store, 1002)
    assert not await is_comment_message(store, 5555)
    assert [c.id for c, _ in await web_comments_to_post(store, post_id)] == [second.id]
    assert await changed_web_comments(store) == []

    removed = await set_comment_status(store, first.id, CommentStatus.REMOVED, "spam")
    (change,) = await changed_web_comments(store)
    assert change.comment == removed and change.message_ids == (1001, 1002)
    await record_withdrawn(store, removed)
    assert await changed_web_comments(store) == []
    assert not await is_comment_message(store, 1001)
    # Withdrawn and visible again: it is waiting to be posted once more.
    await set_comment_status(store, first.id, CommentStatus.VISIBLE)
    assert first.id in [c.id for c, _ in await web_comments_to_post(store, post_id)]


async def test_record_posted_needs_messages(store):
    saved = await save_source_post(store, source_post(comments=[web("1")]))
    ((comment, _),) = await web_comments_to_post(store, saved.post.id)
    with pytest.raises(ValueError):
        await record_posted(store, comment, 1, [])


async def test_forget_thread_makes_comments_wait_again(store):
    saved = await save_source_post(store, source_post(comments=[web("1")]))
    await record_mirror(store, saved.post.id, MirrorState.MIRRORED, thread_id=7)
    ((comment, _),) = await web_comments_to_post(store, saved.post.id)
    await record_posted(store, comment, 7, [70])
    mirror = await forget_thread(store, saved.post.id)
    assert (mirror.state, mirror.thread_id) == (MirrorState.NEW, None)
    assert [c.id for c, _ in await web_comments_to_post(store, saved.post.id)] == [comment.id]
    with pytest.raises(LookupError):
        await forget_thread(store, 424242)


async def test_feed_state_success_and_errors(store):
    url = "https://example.org/feed"
    assert await get_feed(store, url) is None
    failed = await record_feed_error(
        store, url, now=T0, error="HTTP 500", retry_after=T0 + timedelta(minutes=30)
    )
    assert (failed.consecutive_errors, failed.first_polled_at) == (1, None)
    failed = await record_feed_error(store, url, now=T0, error="timeout", retry_after=T0)
    assert failed.consecutive_errors == 2 and failed.last_error == "timeout"
    ok = await record_feed_success(store, url, now=T0, etag='"v1"', last_modified=None)
    assert (ok.consecutive_errors, ok.last_error, ok.retry_after) == (0, None, None)
    assert ok.first_polled_at == T0
    later = await record_feed_success(
        store, url, now=T0 + timedelta(hours=1), etag='"v2"', last_modified=None
    )
    assert later.first_polled_at == T0 and later.etag == '"v2"'


async def test_search_posts_treats_wildcards_literally(store):
    await save_source_post(store, source_post("a", title="100% art"))
    await save_source_post(store, source_post("b", title="1000 artists"))
    assert [p.title for p in await search_posts(store, "100%")] == ["100% art"]
    assert len(await search_posts(store, "")) == 2
