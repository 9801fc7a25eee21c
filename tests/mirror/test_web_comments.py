"""Web comments in their post's thread, end to end: edits and removals on the site reach the
thread, and a comment whose answer was lost is not posted twice."""

from dataclasses import replace

from bot.clock import utcnow
from bot.store.comments import list_comments, set_comment_status
from bot.store.mirrors import get_mirror
from bot.store.models import CommentStatus, MirrorState, SourceComment
from bot.store.posts import save_source_post
from tests.mirror.test_mirroring import MIRROR_EXTENSIONS, mirror_now, seed_post, webhook_messages


async def test_web_comment_edits_and_removals_reach_the_thread(
    start_bot, forum_settings, forum, emulator
):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, seed_post())
        await mirror_now(bot)
        first, second = (await list_comments(bot.store, saved.post.id))[:2]
        async with bot.store.transaction() as db:
            await db.execute(
                "UPDATE comments SET body = ? WHERE id = ?",
                ("<p>Edited on the site.</p>", first.id),
            )
        await set_comment_status(bot.store, second.id, CommentStatus.REMOVED, "spam")
        later = SourceComment(
            external_id="web-late",
            author_name="Late Reader",
            content_html="<p>Arrived after the thread.</p>",
            created_at=utcnow(),
            parent_external_id=first.external_id,
        )
        source = seed_post()
        await save_source_post(bot.store, replace(source, comments=(*source.comments, later)))
        result = await mirror_now(bot)
    assert (result.comments_updated, result.comments_posted) == (2, 1)
    newest = emulator.messages(saved_thread(emulator, forum))[-1]
    assert newest.webhook_name == "Late Reader"
    assert "Arrived after the thread." in newest.content
    # under the line with its date on the site, the quote of the comment it answers
    assert f"/{first.discord_message_id}" in newest.content.splitlines()[1]
    assert "Edited on the site." in emulator.message(first.discord_message_id).content
    assert second.discord_message_id not in {
        m.id for m in emulator.messages(saved_thread(emulator, forum))
    }


def saved_thread(emulator, forum):
    (thread,) = emulator.threads(parent_id=forum.id)
    return thread.id


async def test_comment_whose_answer_was_lost_is_not_posted_twice(
    start_bot, forum_settings, forum, emulator
):
    # The first comment reaches the thread, but the bot never hears back.
    emulator.inject("POST", r"/webhooks/\d+/[^/]+$", drop=True, after=True, times=1)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, seed_post())
        # The same round goes on with the comments still waiting, that one first.
        first = await mirror_now(bot)
        assert (await get_mirror(bot.store, saved.post.id)).state is MirrorState.MIRRORED
        second = await mirror_now(bot)
        comments = await list_comments(bot.store, saved.post.id)
    assert (first.comments_posted, second.comments_posted) == (24, 0)
    posted = webhook_messages(emulator, saved_thread(emulator, forum))
    assert len(posted) == 24
    contents = [m.content for m in posted]
    assert len(contents) == len(set(contents)), "a comment was posted twice"
    assert {c.discord_message_id for c in comments} <= {m.id for m in posted}


async def test_imported_comments_show_the_date_they_were_written_on_the_site(
    start_bot, forum_settings, forum, emulator
):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, seed_post())
        result = await mirror_now(bot)
        comments = await list_comments(bot.store, saved.post.id)
    assert result.comments_posted == len(comments) == 24
    posted = {m.id: m for m in webhook_messages(emulator, saved_thread(emulator, forum))}
    for comment in comments:
        first_line = posted[comment.discord_message_id].content.splitlines()[0]
        assert first_line == f"-# written on the site <t:{int(comment.created_at.timestamp())}:f>"
    # the export's first comment, written 2015-03-10 21:47 GMT
    oldest = posted[comments[0].discord_message_id]
    assert oldest.content.startswith("-# written on the site <t:1426024020:f>\n")
