"""The site end to end: members write in Discord (the emulator, the real discord.py client),
the bot stores, and readers see it through the API and the pages."""

from __future__ import annotations

from bot.store.comment_refs import comment_by_message
from bot.store.models import CommentStatus
from bot.web.operators import bot_state
from discord_emulator.permissions import Perm
from tests.comments.test_live import eventually, mirrored
from tests.moderation.test_live import MODERATION, approve_in_modlog, quiet_post, settled
from tests.web.conftest import served

POST_URL = "https://notes.example.org/weekly-notes/"


def web(settings, **changes):
    return settings.model_copy(
        update={"web_base_url": "https://talk.example.org", "web_rate_limit": 0, **changes}
    )


async def comments_of(site):
    answer = await site.get("/api/v1/comments", params={"url": POST_URL})
    assert answer.status == 200, answer.text
    return answer


async def until(site, predicate):
    """The post's comments answer once `predicate(page)` holds (never a blind sleep)."""

    async def check():
        answer = await comments_of(site)
        return answer if predicate(answer.json()) else None

    return await eventually(check)


def texts(page):
    return [c["text"] for top in page["comments"] for c in [top, *top["replies"]]]


async def test_replies_edits_and_deletes_in_discord_reach_the_api_and_the_page(
    start_bot, bot_settings, emulator, members
):
    alice, bob = members[:2]
    settings = web(bot_settings)
    async with start_bot(settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post(url=POST_URL))
        async with served(settings, bot=bot_state(bot)) as site:
            health = await site.get("/healthz")
            assert health.json() == {"status": "ok", "reasons": []}
            empty = await comments_of(site)
            assert empty.json()["post"]["thread_url"].endswith(f"/{thread_id}")

            top = emulator.send_message(thread_id, alice, "What a **good** read")
            emulator.send_message(thread_id, bob, "Agreed", reply_to=top.id)
            shown = await until(site, lambda page: len(texts(page)) == 2)
            page = shown.json()
            assert texts(page) == ["What a good read", "Agreed"]
            assert page["comments"][0]["replies"][0]["author"]["name"] == "bob"
            assert "<strong>good</strong>" in page["comments"][0]["html"]
            assert page["comments"][0]["discord_url"].endswith(f"/{thread_id}/{top.id}")
            html = (await site.get(f"/posts/{post_id}")).text
            assert "Agreed" in html and 'id="comment-' in html

            emulator.edit_message(top.id, "What a **great** read")
            edited = await until(site, lambda page: "great" in texts(page)[0])
            assert edited.headers["ETag"] != shown.headers["ETag"]
            assert edited.json()["comments"][0]["edited_at"] is not None

            emulator.delete_message(top.id)
            deleted = await until(site, lambda page: page["post"]["comment_count"] == 1)
            placeholder = deleted.json()["comments"][0]
            assert placeholder["placeholder"] and placeholder["text"] is None
            assert texts(deleted.json()) == [None, "Agreed"]
            assert "great read" not in (await site.get(f"/posts/{post_id}")).text


async def test_a_held_comment_shows_only_once_a_moderator_approves_it(
    start_bot, bot_settings, emulator, members, community
):
    alice = members[0]
    settings = web(bot_settings, rules_moderation_words=("refund",))
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post(url=POST_URL))
        async with served(settings, bot=bot_state(bot)) as site:
            emulator.send_message(thread_id, alice, "fine words")
            held = emulator.send_message(thread_id, alice, "where is my refund")
            await until(site, lambda page: texts(page) == ["fine words"])

            async def is_held():
                comment = await comment_by_message(bot.store, held.id)
                return comment is not None and comment.status is CommentStatus.HELD

            await eventually(is_held)
            await settled(bot)
            assert "refund" not in (await comments_of(site)).text
            comment = await comment_by_message(bot.store, held.id)
            click = approve_in_modlog(emulator, community, comment.id)
            await emulator.wait_for_response(click)
            approved = await until(site, lambda page: len(texts(page)) == 2)
            assert texts(approved.json()) == ["fine words", "where is my refund"]


async def test_consent_mode_shows_a_member_after_comments_publish_and_opt_out_hides(
    start_bot, bot_settings, emulator, members, community
):
    alice, bob = members[:2]
    settings = web(bot_settings, web_publish="consented")
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post(url=POST_URL))
        async with served(settings, bot=bot_state(bot)) as site:
            written = emulator.send_message(thread_id, alice, "alice was here")
            emulator.send_message(thread_id, bob, "bob was here")

            async def stored():
                return await comment_by_message(bot.store, written.id)

            await eventually(stored)
            assert (await comments_of(site)).json()["post"]["comment_count"] == 0

            published = emulator.run_slash_command(
                community.text_channel_id, alice, "comments", {}, subcommand="publish"
            )
            await emulator.wait_for_response(published)
            assert published.responses[0].ephemeral
            assert "now appear on the site" in published.responses[0].data["content"]
            await until(site, lambda page: texts(page) == ["alice was here"])

            withdrawn = emulator.run_slash_command(
                community.text_channel_id, alice, "comments", {}, subcommand="unpublish"
            )
            await emulator.wait_for_response(withdrawn)
            assert "no longer appear" in withdrawn.responses[0].data["content"]
            await until(site, lambda page: page["post"]["comment_count"] == 0)


async def test_a_member_who_opts_out_leaves_the_site(
    start_bot, bot_settings, emulator, members, community
):
    alice, bob = members[:2]
    settings = web(bot_settings)
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post(url=POST_URL))
        async with served(settings, bot=bot_state(bot)) as site:
            emulator.send_message(thread_id, alice, "alice's words")
            emulator.send_message(thread_id, bob, "bob's words")
            await until(site, lambda page: len(texts(page)) == 2)
            opted = emulator.run_slash_command(
                community.text_channel_id, alice, "comments", {}, subcommand="opt-out"
            )
            await emulator.wait_for_response(opted)
            await until(site, lambda page: texts(page) == ["bob's words"])
            assert "alice's words" not in (await site.get("/")).text


async def test_health_reports_a_bot_that_is_not_connected(start_bot, bot_settings):
    settings = web(bot_settings)
    async with start_bot(settings, extensions=MODERATION) as bot:
        state = bot_state(bot)
        async with served(settings, bot=state) as site:
            assert (await site.get("/healthz")).status == 200
            await bot.close()
            answer = await site.get("/healthz")
            assert answer.status == 503
            assert answer.json() == {"status": "unavailable", "reasons": ["the bot is stopping"]}


async def test_mentioned_roles_and_public_channels_show_by_name_as_discord_names_them(
    start_bot, bot_settings, emulator, members, community
):
    alice = members[0]
    guild_id = community.guild_id
    settings = web(bot_settings)
    helpers = emulator.create_role(guild_id, "Helpers")
    guides = emulator.create_role(guild_id, "Guides")
    general, modlog = community.text_channel_id, community.modlog_channel_id
    first = (
        f"Ask <@&{community.moderator_role_id}>, <@&{helpers.id}> or <@&{guides.id}> "
        f"in <#{general}>, not <#{modlog}>"
    )
    async with start_bot(settings, extensions=MODERATION) as bot:
        _post_id, thread_id = await mirrored(bot, quiet_post(url=POST_URL))
        async with served(settings, bot=bot_state(bot)) as site:
            # The names the bot found on connecting; the staff-only channel's stays unknown.
            emulator.send_message(thread_id, alice, first)
            await until(
                site,
                lambda page: (
                    texts(page)
                    == ["Ask @Moderator, @Helpers or @Guides in #general, not #unknown-channel"]
                ),
            )

            # Roles and channels made, renamed, hidden and deleted while it runs.
            mentors = emulator.create_role(guild_id, "Mentors")
            events = emulator.create_channel(guild_id, "events")
            emulator.send_message(thread_id, alice, f"And <@&{mentors.id}> in <#{events.id}>")
            await until(site, lambda page: texts(page)[1:] == ["And @Mentors in #events"])
            # One change at a time, each seen on its own.
            emulator.rename_role(guild_id, helpers.id, "Stewards")
            await until(site, lambda page: "@Stewards" in texts(page)[0])
            emulator.modify_channel(general, name="lounge")
            await until(site, lambda page: "#lounge" in texts(page)[0])
            emulator.delete_role(guild_id, mentors.id)
            await until(site, lambda page: "@unknown-role" in texts(page)[1])
            emulator.modify_channel(
                events.id,
                permission_overwrites=[{"id": guild_id, "type": 0, "deny": int(Perm.VIEW_CHANNEL)}],
            )
            await until(
                site,
                lambda page: (
                    texts(page)
                    == [
                        "Ask @Moderator, @Stewards or @Guides in #lounge, not #unknown-channel",
                        "And @unknown-role in #unknown-channel",
                    ]
                ),
            )

    # Changed while the bot was away: it learns it when it connects again.
    emulator.state.guilds[guild_id].roles[guides.id].name = "Wardens"
    del emulator.state.guilds[guild_id].roles[helpers.id]
    emulator.state.channels[general].name = "town-square"
    async with start_bot(settings, extensions=MODERATION) as bot:
        async with served(settings, bot=bot_state(bot)) as site:
            now = "Ask @Moderator, @unknown-role or @Wardens in #town-square, not #unknown-channel"
            page = await until(site, lambda page: texts(page)[0] == now)
            html = (await site.get(f"/posts/{page.json()['post']['id']}")).text
            assert "@Wardens" in html and "#town-square" in html
            assert "mod-log" not in html and str(modlog) not in html
