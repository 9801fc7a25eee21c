"""Mirroring end to end: posts and their web comments become Discord threads, exactly once."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import utcnow
from bot.discord_text import thread_name
from bot.mirror.render import find_post_marker, webhook_username
from bot.mirror.sources.wxr import parse_wxr
from bot.store.comments import list_comments
from bot.store.mirrors import get_mirror
from bot.store.models import MirrorState, SourcePost
from bot.store.posts import save_source_post
from bot.store.web_comments import comment_message_ids
from tests.shared_files import shared_file

SEED_EXPORT = Path(__file__).parents[2] / "demo" / "seed_export.xml"
MIRROR_EXTENSIONS = ("cogs.admin", "cogs.mirror")
PING = re.compile(r"@(everyone|here)|<@!?\d+>|<@&\d+>")


def seed_post():
    (post,) = parse_wxr(SEED_EXPORT.read_bytes())
    return post


def hostile_post(**changes):
    fields = {
        "source": "feed:https://evil.example/feed",
        "external_id": "evil-1",
        "title": "@everyone **free** <@123> <@&456> @here",
        "url": "https://evil.example/post",
        "content_html": "<p>Hey @everyone and <@123>, see <@&456> @here</p><script>x()</script>",
        "published_at": datetime(2024, 1, 1, tzinfo=UTC),
    }
    return SourcePost(**{**fields, **changes})


async def mirror_now(bot, **kwargs):
    return await bot.services.mirroring.run_once(**kwargs)


def webhook_messages(emulator, thread_id):
    return [m for m in emulator.messages(thread_id) if m.webhook_id is not None]


def sent_bodies(emulator):
    """Every JSON body the bot sent that can carry text."""
    return [
        r.body
        for r in emulator.journal.requests
        if r.method in ("POST", "PATCH")
        and isinstance(r.body, dict)
        and ("content" in r.body or "embeds" in r.body or "message" in r.body)
    ]


async def test_seed_post_mirrored_into_a_forum_with_its_comments(
    start_bot, forum_settings, forum, emulator
):
    source = seed_post()
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, source)
        result = await mirror_now(bot)
        mirror = await get_mirror(bot.store, saved.post.id)
        comments = await list_comments(bot.store, saved.post.id)
        message_ids = {c.id: await comment_message_ids(bot.store, c.id) for c in comments}

    assert result.failed == {}
    assert mirror.state is MirrorState.MIRRORED
    (thread,) = emulator.threads(parent_id=forum.id)
    assert thread.id == mirror.thread_id
    assert thread.name == thread_name(source.title)
    tag_names = {int(t["id"]): t["name"] for t in forum.available_tags}
    assert sorted(tag_names[t] for t in thread.applied_tags) == ["FREE SPEECH", "documentary"]

    starter = emulator.messages(thread.id)[0]
    assert starter.id == thread.id
    payload = emulator.message_payload(starter.id)
    embed = payload["embeds"][0]
    assert find_post_marker(embed["footer"]["text"]) == saved.post.id
    assert embed["url"] == source.url
    assert len(payload["content"]) <= 2000

    # Every web comment, in order, under its author's name, each message id stored.
    assert len(comments) == 24
    posted = webhook_messages(emulator, thread.id)
    first_parts = [message_ids[c.id][0] for c in sorted(comments, key=lambda c: c.created_at)]
    assert [m.id for m in posted if m.id in set(first_parts)] == first_parts
    by_message = {m.id: m for m in posted}
    for comment in comments:
        first = by_message[message_ids[comment.id][0]]
        assert first.webhook_name == webhook_username(comment.author_name)
        assert comment.discord_message_id == first.id
    assert len(posted) == sum(len(ids) for ids in message_ids.values())
    assert all(len(m.content) <= 2000 for m in posted)

    # The three-level chain: each reply quotes its parent's author and links its message.
    by_id = {c.id: c for c in comments}
    chain = [c for c in comments if c.parent_id is not None]
    assert len(chain) >= 2
    for reply in chain:
        parent = by_id[reply.parent_id]
        text = by_message[message_ids[reply.id][0]].content
        quote = text.splitlines()[1]  # under the line with the date it was written
        assert parent.author_name in quote
        assert f"/{thread.id}/{parent.discord_message_id}" in quote


async def test_a_second_round_and_a_restart_change_nothing(
    start_bot, forum_settings, forum, emulator
):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        await save_source_post(bot.store, seed_post())
        await mirror_now(bot)
        messages_before = len(emulator.journal.requests_matching("POST", "/webhooks/"))
        again = await mirror_now(bot)
    assert (again.mirrored, again.comments_posted) == ([], 0)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        await mirror_now(bot)
    assert len(emulator.threads(parent_id=forum.id)) == 1
    assert len(emulator.journal.requests_matching("POST", "/webhooks/")) == messages_before


async def test_hostile_feed_content_pings_nobody(start_bot, forum_settings, forum, emulator):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        await save_source_post(bot.store, hostile_post())
        result = await mirror_now(bot)
    assert result.failed == {}
    (thread,) = emulator.threads(parent_id=forum.id)
    payload = emulator.message_payload(thread.id)
    assert payload["mentions"] == [] and payload["mention_roles"] == []
    assert payload["mention_everyone"] is False
    for body in sent_bodies(emulator):
        message = body.get("message", body)
        assert message.get("allowed_mentions") == {"parse": []}
        text = (message.get("content") or "") + str(message.get("embeds") or "")
        assert not PING.search(text), text
    assert "x()" not in str(payload["embeds"])
    assert "@" in thread.name  # shown literally, not removed


async def test_missing_permission_fails_once_reported_and_retried(
    start_bot, forum_settings, forum, emulator, community
):
    emulator.inject("POST", rf"/channels/{forum.id}/threads", status=403, times=1)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, hostile_post())
        cog = bot.get_cog("mirror")
        await cog.mirror_round()
        await cog.mirror_round()
        mirror = await get_mirror(bot.store, saved.post.id)
        assert mirror.state is MirrorState.FAILED and mirror.attempts == 1
        assert "permission" in mirror.last_error
        await cog.mirroring.run_once(now=mirror.retry_after)
        healed = await get_mirror(bot.store, saved.post.id)
    reports = [
        m
        for m in emulator.messages(community.modlog_channel_id)
        if "could not be mirrored" in m.content
    ]
    assert len(reports) == 1
    assert healed.state is MirrorState.MIRRORED and healed.attempts == 2


async def test_deleted_thread_marks_the_mirror_broken_and_repost_recreates_it(
    start_bot, forum_settings, forum, emulator, community
):
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, seed_post())
        await mirror_now(bot)
        old = await get_mirror(bot.store, saved.post.id)
        emulator.delete_channel(old.thread_id)
        await emulator.wait_for(
            lambda: any(
                "lost its thread" in m.content
                for m in emulator.messages(community.modlog_channel_id)
            ),
            5,
        )
        broken = await get_mirror(bot.store, saved.post.id)
        assert broken.state is MirrorState.BROKEN
        interaction = emulator.run_slash_command(
            community.text_channel_id,
            community.owner_id,
            "mirror",
            {"post": saved.post.id},
            subcommand="repost",
        )
        await emulator.wait_for_response(interaction, count=2, timeout=15)
        renewed = await get_mirror(bot.store, saved.post.id)
    assert renewed.state is MirrorState.MIRRORED and renewed.thread_id != old.thread_id
    assert "is mirrored in" in interaction.responses[-1].data["content"]
    assert len(webhook_messages(emulator, renewed.thread_id)) >= 24


async def test_mirror_commands_refuse_members(start_bot, forum_settings, emulator, community):
    member = next(m for m in community.member_ids if m != community.moderator_id)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS):
        interaction = emulator.run_slash_command(
            community.text_channel_id, member, "mirror", {}, subcommand="status"
        )
        await emulator.wait_for_response(interaction)
    assert interaction.responses[0].ephemeral
    assert "Only admins" in interaction.responses[0].data["content"]


async def test_hostile_feed_over_http_is_mirrored_literally(
    start_bot, forum_settings, forum, emulator, site
):
    site.entries = [
        {
            "guid": "hostile",
            "title": "@here <@&456> __underlined__ `code` [link](https://x.example)",
            "text": "<p>\u202eevil\u200b text</p><script>alert(1)</script>" + "<p>long</p>" * 500,
            "date": utcnow(),
        }
    ]
    settings = forum_settings.model_copy(
        update={"feed_urls": (site.url,), "feed_backlog_hours": 24}
    )
    async with start_bot(settings, extensions=MIRROR_EXTENSIONS) as bot:
        cog = bot.get_cog("mirror")
        await cog.poll(site.url)
        await cog.mirroring.run_once()
    (thread,) = emulator.threads(parent_id=forum.id)
    payload = emulator.message_payload(thread.id)
    embed = payload["embeds"][0]
    # Thread names are never parsed for mentions: there the title stays as written.
    assert thread.name.startswith("@here <@&456>")
    assert not PING.search(embed["title"] + embed["description"] + (payload["content"] or ""))
    assert "alert(1)" not in embed["description"]
    assert len(embed["description"]) <= 4096
    assert "\\_\\_underlined\\_\\_" in embed["title"]
    assert payload["mention_everyone"] is False and payload["mention_roles"] == []


async def test_mirror_status_lists_failures_for_admins(
    start_bot, forum_settings, forum, emulator, community
):
    emulator.inject("POST", rf"/channels/{forum.id}/threads", status=403, times=1)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        saved = await save_source_post(bot.store, hostile_post())
        await mirror_now(bot)
        summary = emulator.run_slash_command(
            community.text_channel_id, community.owner_id, "mirror", {}, subcommand="status"
        )
        one = emulator.run_slash_command(
            community.text_channel_id,
            community.owner_id,
            "mirror",
            {"post": saved.post.id},
            subcommand="status",
        )
        await emulator.wait_for_response(summary)
        await emulator.wait_for_response(one)
    assert "failed 1" in summary.responses[0].data["content"]
    assert "could not be mirrored" in summary.responses[0].data["content"]
    assert "failed, 1 attempt(s)" in one.responses[0].data["content"]


async def test_mirroring_traffic_conforms_to_discords_openapi_spec(
    start_bot, forum_settings, forum, emulator
):
    from discord_emulator.spec import ENV_VAR, load_cached

    spec = shared_file("discord", "api-spec", "openapi.json", override=ENV_VAR)
    emulator.validator = load_cached(spec)
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        await save_source_post(bot.store, seed_post())
        await mirror_now(bot)
    assert emulator.journal.spec_problems == []


async def test_one_round_mirrors_more_than_a_page_in_order(
    start_bot, forum_settings, forum, emulator
):
    count = 60  # more than one page of waiting posts
    async with start_bot(forum_settings, extensions=MIRROR_EXTENSIONS) as bot:
        for number in range(count):
            await save_source_post(
                bot.store,
                hostile_post(
                    external_id=f"p{number}",
                    title=f"Post {number}",
                    published_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=number),
                ),
            )
        result = await mirror_now(bot)
    assert len(result.mirrored) == count
    threads = sorted(emulator.threads(parent_id=forum.id), key=lambda t: t.id)
    assert [t.name for t in threads] == [f"Post {n}" for n in range(count)]
