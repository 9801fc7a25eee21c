"""A post's thread and starter, end to end: made once in a forum or a text channel, found again
after a crash or a lost answer, refreshed when the post is edited at its source."""

from datetime import timedelta

from bot.clock import utcnow
from bot.store.mirrors import get_mirror
from bot.store.models import MirrorState
from bot.store.posts import save_source_post
from tests.mirror.test_mirroring import (
    MIRROR_EXTENSIONS,
    hostile_post,
    mirror_now,
    seed_post,
    webhook_messages,
)


async def test_text_channel_gets_a_starter_and_a_thread_from_it(
    start_bot, text_settings, emulator, community
):
    async with start_bot(text_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, seed_post())
        await mirror_now(bot)
        mirror = await get_mirror(bot.store, saved.post.id)
    (starter,) = [
        m
        for m in emulator.messages(community.text_channel_id)
        if m.author_id == community.bot_user_id
    ]
    assert mirror.thread_id == starter.id == mirror.starter_message_id
    thread = emulator.channel(mirror.thread_id)
    assert thread.parent_id == community.text_channel_id
    assert len(webhook_messages(emulator, thread.id)) >= 24


async def test_crash_after_discord_created_the_thread_is_reconciled(
    start_bot, forum_settings, forum, emulator
):
    source = seed_post()
    # Discord creates the thread, but the answer never reaches the bot, which is stopped.
    emulator.inject("POST", rf"/channels/{forum.id}/threads", delay=30, after=True)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, source)
        bot.get_cog("mirror").request_round()
        await emulator.wait_for_event("THREAD_CREATE", timeout=10)
    assert len(emulator.threads(parent_id=forum.id)) == 1

    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        assert (await get_mirror(bot.store, saved.post.id)).state is MirrorState.MIRRORING
        await mirror_now(bot)
        mirror = await get_mirror(bot.store, saved.post.id)
    (thread,) = emulator.threads(parent_id=forum.id)
    assert mirror.state is MirrorState.MIRRORED and mirror.thread_id == thread.id


async def test_lost_answer_is_found_before_anything_is_made_again(
    start_bot, text_settings, emulator, community
):
    emulator.inject(
        "POST",
        rf"/channels/{community.text_channel_id}/messages/\d+/threads",
        drop=True,
        after=True,
    )
    async with start_bot(text_settings, extensions=()) as bot:
        saved = await save_source_post(bot.store, hostile_post())
        first = await mirror_now(bot)
        mirror = await get_mirror(bot.store, saved.post.id)
    assert (first.mirrored, first.failed) == ([saved.post.id], {})
    assert mirror.state is MirrorState.MIRRORED
    threads = emulator.threads(parent_id=community.text_channel_id)
    assert [t.id for t in threads] == [mirror.thread_id]


async def test_crash_after_discord_sent_the_starter_is_reconciled(
    start_bot, text_settings, emulator, community
):
    channel_id = community.text_channel_id
    # Discord posts the starter, but the answer never reaches the bot, which is stopped.
    emulator.inject("POST", rf"^/channels/{channel_id}/messages$", delay=30, after=True)
    async with start_bot(text_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, hostile_post())
        bot.get_cog("mirror").request_round()
        await emulator.wait_for_event("MESSAGE_CREATE", timeout=10)

    async with start_bot(text_settings, extensions=MIRROR_EXTENSIONS) as bot:
        assert (await get_mirror(bot.store, saved.post.id)).state is MirrorState.MIRRORING
        await mirror_now(bot, now=utcnow() + timedelta(hours=1))
        mirror = await get_mirror(bot.store, saved.post.id)
    (starter,) = [m for m in emulator.messages(channel_id) if m.author_id == community.bot_user_id]
    (thread,) = emulator.threads(parent_id=channel_id)
    assert mirror.state is MirrorState.MIRRORED
    assert mirror.thread_id == thread.id == starter.id == mirror.starter_message_id


async def test_post_edited_at_its_source_updates_starter_and_thread_name(
    start_bot, forum_settings, forum, emulator
):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        await save_source_post(bot.store, hostile_post(title="First title"))
        await mirror_now(bot)
        edited = await save_source_post(bot.store, hostile_post(title="Corrected title"))
        assert edited.edited
        result = await mirror_now(bot)
        again = await mirror_now(bot)
    assert (result.starters_refreshed, again.starters_refreshed) == (1, 0)
    (thread,) = emulator.threads(parent_id=forum.id)
    assert thread.name == "Corrected title"
    assert emulator.message_payload(thread.id)["embeds"][0]["title"] == "Corrected title"
