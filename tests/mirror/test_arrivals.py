"""Posts and web comments another program stores reach Discord within seconds, however long the
scheduled round's interval; the bot's own writes start no round."""

from dataclasses import replace

from structlog.testing import capture_logs

from bot.clock import utcnow
from bot.mirror.arrivals import ArrivalWatch
from bot.store import Store
from bot.store.comments import NewComment, add_comment, list_comments, upsert_author
from bot.store.mirrors import get_mirror, record_mirror
from bot.store.models import MirrorState, Source, SourceComment
from bot.store.posts import save_source_post
from tests.comments.test_live import eventually
from tests.mirror.test_mirroring import (
    MIRROR_EXTENSIONS,
    hostile_post,
    seed_post,
    webhook_messages,
)

NO_BACKSTOP = {"mirror_interval_seconds": 3600}  # only the watch can mirror within a test
WATCH_LOG = "new posts or web comments in the store: mirroring now"


def late_comment(text="Arrived after the thread."):
    return SourceComment(
        external_id="web-late",
        author_name="Late Reader",
        content_html=f"<p>{text}</p>",
        created_at=utcnow(),
    )


async def nothing_mirrors():
    return None


async def test_only_what_another_program_stores_for_mirroring_starts_a_round(tmp_path):
    path = tmp_path / "threadbridge.db"
    async with Store.open(path) as bot_store, Store.open(path) as other:
        watch = ArrivalWatch(bot_store, nothing_mirrors)
        assert not await watch.check()  # where the store stands

        # The bot's own writes (a feed's post, Discord replies) do not even move the version.
        own = await save_source_post(bot_store, hostile_post())
        version = await bot_store.others_data_version()
        assert not await watch.check()
        await record_mirror(bot_store, own.post.id, MirrorState.MIRRORED, channel_id=1, thread_id=2)
        assert await bot_store.others_data_version() == version

        # Another program's writes move it, but only waiting posts and web comments count.
        member = await upsert_author(other, Source.DISCORD, "42", "Member")
        await add_comment(
            other,
            NewComment(
                own.post.id,
                member.id,
                "Member",
                "hi",
                Source.DISCORD,
                utcnow(),
                discord_message_id=3,
            ),
        )
        assert await bot_store.others_data_version() != version
        assert not await watch.check()
        archived = hostile_post(external_id="archived", comments=(late_comment(),))
        await save_source_post(other, archived, mirror=False)
        assert not await watch.check()  # an archive's post and its comment wait for nothing

        await save_source_post(other, replace(hostile_post(), comments=(late_comment(),)))
        assert await watch.check()  # a web comment for a thread that exists
        assert not await watch.check()  # seen once

        await save_source_post(other, hostile_post(external_id="new"))
        assert await watch.check()  # a post waiting for its thread


async def test_a_post_stored_by_another_program_gets_its_thread_then_a_later_comment(
    start_bot, forum_settings, forum, emulator
):
    settings = forum_settings.model_copy(update=NO_BACKSTOP)
    source = seed_post()
    with capture_logs() as logs:
        async with (
            start_bot(settings, extensions=MIRROR_EXTENSIONS) as bot,
            Store.open(settings.database_path) as other,
        ):
            saved = await save_source_post(other, source)

            async def all_comments_posted():
                comments = await list_comments(bot.store, saved.post.id)
                return len(comments) == 24 and all(c.discord_message_id for c in comments)

            await eventually(all_comments_posted, timeout=20)
            mirror = await get_mirror(bot.store, saved.post.id)
            assert mirror.state is MirrorState.MIRRORED

            # A comment left on the site later, stored by the other program too.
            await save_source_post(
                other, replace(source, comments=(*source.comments, late_comment()))
            )

            async def late_comment_posted():
                return [
                    m
                    for m in webhook_messages(emulator, mirror.thread_id)
                    if "Arrived after the thread." in m.content
                ]

            (late,) = await eventually(late_comment_posted, timeout=10)
    assert late.webhook_name == "Late Reader"
    assert len(emulator.threads(parent_id=forum.id)) == 1
    assert [e["event"] for e in logs].count(WATCH_LOG) >= 1
