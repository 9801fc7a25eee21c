"""A WordPress export imported and mirrored, end to end: a post whose comments are closed on
the site gets a thread locked in Discord, with the comments it had."""

from datetime import timedelta

from bot.clock import utcnow
from bot.mirror.sources.wxr import parse_wxr
from bot.store.mirrors import get_mirror
from bot.store.models import MirrorState
from bot.store.posts import get_post, save_source_post
from tests.mirror.sources.test_wxr import comment, item, wxr
from tests.mirror.test_mirroring import MIRROR_EXTENSIONS, mirror_now, webhook_messages

CLOSED = "<wp:comment_status>closed</wp:comment_status>"


def export_posts():
    closed, open_ = parse_wxr(
        wxr(
            item(1, extra=CLOSED + comment(10) + comment(11, parent=10, date="2015-01-03 10:00:00"))
            + item(2, date="2015-02-01 10:00:00", extra=comment(20))
        )
    )
    assert closed.comments_closed and not open_.comments_closed
    return closed, open_


async def test_a_post_closed_on_the_site_gets_a_locked_thread_with_its_comments(
    start_bot, forum_settings, forum, emulator
):
    closed, open_ = export_posts()
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        closed_id = (await save_source_post(bot.store, closed)).post.id
        open_id = (await save_source_post(bot.store, open_)).post.id
        result = await mirror_now(bot)
        again = await mirror_now(bot)
        closed_mirror = await get_mirror(bot.store, closed_id)
        open_mirror = await get_mirror(bot.store, open_id)
        stored = await get_post(bot.store, closed_id)

    assert result.failed == {} and sorted(result.mirrored) == sorted([closed_id, open_id])
    assert (again.mirrored, again.failed) == ([], {})
    assert closed_mirror.state is open_mirror.state is MirrorState.MIRRORED
    locked = emulator.channel(closed_mirror.thread_id)
    assert (locked.locked, locked.archived) == (True, True)
    # its comments were posted before it was locked
    assert len(webhook_messages(emulator, locked.id)) == 2
    assert stored.comments_closed
    still_open = emulator.channel(open_mirror.thread_id)
    assert (still_open.locked, still_open.archived) == (False, False)
    assert len(webhook_messages(emulator, still_open.id)) == 1


async def test_a_refused_lock_is_tried_again_on_the_same_thread(
    start_bot, forum_settings, forum, emulator
):
    closed, _ = export_posts()
    emulator.inject("PATCH", r"^/channels/\d+$", status=403, times=1)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        post_id = (await save_source_post(bot.store, closed)).post.id
        first = await mirror_now(bot)
        failed = await get_mirror(bot.store, post_id)
        second = await mirror_now(bot, now=utcnow() + timedelta(hours=1))
        mirror = await get_mirror(bot.store, post_id)

    assert post_id in first.failed and post_id not in first.mirrored
    assert failed.state is MirrorState.FAILED
    assert "could not be locked" in (failed.last_error or "")
    assert second.mirrored == [post_id] and second.failed == {}
    (thread,) = emulator.threads(parent_id=forum.id)
    assert mirror.state is MirrorState.MIRRORED and mirror.thread_id == thread.id
    assert (thread.locked, thread.archived) == (True, True)
    assert len(webhook_messages(emulator, thread.id)) == 2  # not posted twice
