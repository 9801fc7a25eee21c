"""Posts and web comments another program stores reach Discord within seconds, however long the
scheduled round's interval; the bot's own writes start no round; `threadbridge import` says when
its threads will appear."""

from dataclasses import replace

from structlog.testing import capture_logs

from bot.clock import utcnow
from bot.mirror.arrivals import ArrivalWatch
from bot.run_lock import run_lock_held, take_run_lock
from bot.store import Store
from bot.store.comments import NewComment, add_comment, list_comments, upsert_author
from bot.store.mirrors import get_mirror, record_mirror
from bot.store.models import MirrorState, Source, SourceComment
from bot.store.posts import save_source_post
from tests.comments.test_live import eventually
from tests.mirror.sources.test_wxr import comment, item, wxr
from tests.mirror.test_mirroring import (
    MIRROR_EXTENSIONS,
    SEED_EXPORT,
    hostile_post,
    seed_post,
    webhook_messages,
)
from tests.test_cli import clean_environment, run_cli, threadbridge

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


async def test_threadbridge_import_beside_a_running_bot(
    start_bot, forum_settings, forum, emulator, tmp_path
):
    settings = forum_settings.model_copy(update=NO_BACKSTOP)
    env = {**clean_environment(), "DATABASE_PATH": str(settings.database_path)}
    async with start_bot(settings, extensions=MIRROR_EXTENSIONS) as bot:
        # `threadbridge run` holds the run lock; this test's bot stands in for it.
        with take_run_lock(settings.database_path):
            status, stdout, stderr = await run_cli(
                "import", str(SEED_EXPORT), env=env, cwd=tmp_path
            )
        assert status == 0, stderr
        lines = stdout.splitlines()
        assert lines[0] == "1 post(s) read: 1 new, 0 updated, 0 unchanged; 24 comment(s) added"
        assert lines[-1] == "the running bot will create their threads within a few seconds"

        async def mirrored():
            (post,) = await bot.store.fetch_all("SELECT id FROM posts")
            mirror = await get_mirror(bot.store, post["id"])
            return mirror is not None and mirror.state is MirrorState.MIRRORED

        await eventually(mirrored, timeout=20)
    assert len(emulator.threads(parent_id=forum.id)) == 1


def test_import_says_when_threads_and_comments_will_appear(tmp_path):
    database = tmp_path / "threadbridge.db"
    env = {"DATABASE_PATH": str(database)}
    exports = {
        "first": wxr(item(1)),
        "commented": wxr(item(1, extra=comment(10))),
        "second": wxr(item(1, extra=comment(10)) + item(2)),
        "more comments": wxr(item(1, extra=comment(10) + comment(11)) + item(2)),
        "archive": wxr(item(3)),
    }

    def last_line(name, *options):
        export = tmp_path / "export.xml"
        export.write_bytes(exports[name])
        result = threadbridge("import", *options, str(export), cwd=tmp_path, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout.splitlines()[-1]

    no_bot = f"no bot is running on {database}"
    assert last_line("first") == (
        f"{no_bot}: the threads will be created when `threadbridge run` starts"
    )
    assert last_line("commented") == (
        f"{no_bot}: the comments will be posted when `threadbridge run` starts"
    )
    with take_run_lock(database):
        assert run_lock_held(database)
        assert last_line("second") == (
            "the running bot will create their threads within a few seconds"
        )
        assert last_line("more comments") == (
            "the running bot will post the new comments in their threads within a few seconds"
        )
        # Posts that get no thread: nothing to announce.
        assert last_line("archive", "--no-threads").startswith("1 post(s) read: 1 new")
    assert not run_lock_held(database)
