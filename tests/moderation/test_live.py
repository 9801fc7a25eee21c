"""Moderation end to end through the emulator: real member messages judged by the rules, the
review queue and its buttons (also after a restart), /mod and the context menus for moderators
and refused to members, cases in the mod-log, and the scheduled jobs."""

from datetime import UTC, datetime, timedelta

from bot.moderation.enforcement import HELD_MARKER
from bot.store.bans import active_ban, ban_commenter
from bot.store.cases import get_case, list_cases
from bot.store.comment_refs import comment_by_message
from bot.store.models import CaseAction, CommentStatus
from bot.store.posts import get_post
from tests.comments.test_live import eventually, mirrored
from tests.mirror.test_mirroring import hostile_post

MODERATION = ("cogs.admin", "cogs.mirror", "cogs.comments", "cogs.moderation")
MANAGE_MESSAGES = 1 << 13


def quiet_post(**changes):
    """A post without web comments: its thread is ready as soon as it is mirrored."""
    fields = {"title": "Weekly notes", "content_html": "<p>Notes.</p>", **changes}
    return hostile_post(**fields)


def gone(emulator, message_id):
    message = emulator.state.messages.get(message_id)
    return message is None or message.deleted


async def settled(bot):
    """Every case opened so far has had its Discord side done and its mod-log post."""
    await bot.services.enforcer.wait_idle()


async def judged(bot, message_id):
    """The stored comment of a message, once the writer has stored it."""

    async def stored():
        return await comment_by_message(bot.store, message_id)

    return await eventually(stored)


def modlog_posts(emulator, community):
    return [m for m in emulator.messages(community.modlog_channel_id) if m.embeds]


def custom_ids(message_or_payload):
    components = (
        message_or_payload.components
        if hasattr(message_or_payload, "components")
        else message_or_payload.get("components") or []
    )
    return [button["custom_id"] for row in components for button in row["components"]]


def approve_in_modlog(emulator, community, comment_id):
    """The moderator clicks Approve on the held comment's post in the mod-log: the interaction."""
    button = f"tb:review:approve:{comment_id}"
    post = next(p for p in modlog_posts(emulator, community) if button in custom_ids(p))
    return emulator.click_button(post.id, community.moderator_id, button)


def reply_text(interaction):
    response = interaction.responses[-1]
    data = response.data or {}
    return data.get("content") or ""


async def run(emulator, channel_id, user_id, subcommand, options=None, *, group=None, count=1):
    interaction = emulator.run_slash_command(
        channel_id, user_id, "mod", options or {}, subcommand=subcommand, group=group
    )
    await emulator.wait_for_response(interaction, count=count)
    return interaction


async def test_rules_decide_on_real_member_messages(
    start_bot, mod_settings, emulator, community, members
):
    alice, bob, carol = members[:3]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        fine = emulator.send_message(thread_id, alice, "What a lovely read, thank you.")
        spam = emulator.send_message(thread_id, bob, "Total S.C.A.M, send me money")
        refund = emulator.send_message(thread_id, carol, "Can I get a r3fund?")
        links = emulator.send_message(
            thread_id, alice, "See https://a.example/x and https://b.example/y"
        )
        by_moderator = emulator.send_message(
            thread_id, community.moderator_id, "Scam warning: never pay anyone who DMs you."
        )
        stored = {m.id: await judged(bot, m.id) for m in (fine, spam, refund, links, by_moderator)}
        await settled(bot)

        assert stored[fine.id].status is CommentStatus.VISIBLE
        assert stored[by_moderator.id].status is CommentStatus.VISIBLE  # moderators are exempt
        assert stored[spam.id].status is CommentStatus.REMOVED
        assert stored[refund.id].status is CommentStatus.HELD
        assert stored[links.id].status is CommentStatus.HELD

        # Removed: gone from the thread, still removed in the store, the author told why.
        assert spam.id not in {m.id for m in emulator.messages(thread_id)}
        assert (await comment_by_message(bot.store, spam.id)).status is CommentStatus.REMOVED
        (notice,) = emulator.dms_to(bob)
        assert "was removed" in notice.content and "disallowed word" in notice.content
        # Held: still in the thread, marked by the bot.
        for held in (refund, links):
            message = emulator.message(held.id)
            assert not gone(emulator, held.id)
            assert community.bot_user_id in message.reactions[HELD_MARKER].user_ids
        assert HELD_MARKER not in emulator.message(fine.id).reactions

        cases, total = await list_cases(bot.store, community.guild_id)
        assert total == 3
        assert sorted(case.number for case in cases) == [1, 2, 3]
        assert {case.action for case in cases} == {CaseAction.REMOVE, CaseAction.HOLD}
        assert all(case.moderator_id is None and case.enforced_at for case in cases)
        posts = modlog_posts(emulator, community)
        assert sorted(p.embeds[0]["title"].split(" ")[1] for p in posts) == ["1", "2", "3"]
        for case in cases:
            post = next(p for p in posts if p.id == case.modlog_message_id)
            ids = custom_ids(post)
            if case.action is CaseAction.HOLD:
                assert ids == [
                    f"tb:review:approve:{case.comment_id}",
                    f"tb:review:remove:{case.comment_id}",
                ]
            else:
                assert ids == []
        # Nothing the bot sent pinged anyone.
        assert all(p.allowed_mentions == {"parse": []} for p in posts)
        assert (await get_post(bot.store, post_id)).comments_closed is False


async def test_an_edit_is_judged_again(start_bot, mod_settings, emulator, members):
    alice = members[0]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        message = emulator.send_message(thread_id, alice, "Nice post")
        assert (await judged(bot, message.id)).status is CommentStatus.VISIBLE
        emulator.edit_message(message.id, "Nice post, but this is a scam")

        async def removed():
            comment = await comment_by_message(bot.store, message.id)
            return comment.status is CommentStatus.REMOVED

        await eventually(removed)
        await settled(bot)
        assert gone(emulator, message.id)


async def test_a_member_without_direct_messages_is_still_moderated(
    start_bot, mod_settings, emulator, members
):
    bob = members[1]
    emulator.state.users[bob].accepts_dms = False
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        spam = emulator.send_message(thread_id, bob, "scam scam")
        await judged(bot, spam.id)
        await settled(bot)
        (case,), _ = await list_cases(bot.store, bot.settings.guild_id)
    assert case.enforced_at is not None and case.last_error is None
    assert gone(emulator, spam.id)
    assert emulator.dms_to(bob) == []


async def test_review_queue_buttons_work_after_a_restart(
    start_bot, mod_settings, emulator, community, members
):
    alice = members[0]
    moderator = community.moderator_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        written = [
            emulator.send_message(thread_id, alice, f"Refund request number {n}") for n in range(5)
        ]
        held = [await judged(bot, m.id) for m in written]
        assert {c.status for c in held} == {CommentStatus.HELD}
        await settled(bot)
        queue = await run(emulator, community.text_channel_id, moderator, "queue")
    first_page = queue.responses[0]
    assert first_page.ephemeral
    (embed,) = first_page.data["embeds"]
    assert embed["title"] == "Review queue: 5 held comments"
    assert embed["footer"]["text"] == "Page 1 of 2"
    ids = custom_ids(first_page.data)
    first = held[0].id
    assert ids[:2] == [f"tb:review:approve:{first}:q0", f"tb:review:remove:{first}:q0"]
    assert ids[-1] == "tb:queue:1"

    # A new process: the buttons on the old message still work.
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        refused = emulator.click_button(first_page.message_id, alice, ids[0])
        await emulator.wait_for_response(refused)
        assert "Only moderators" in reply_text(refused) and refused.responses[0].ephemeral
        assert (await comment_by_message(bot.store, written[0].id)).status is CommentStatus.HELD

        following = emulator.click_button(first_page.message_id, moderator, "tb:queue:1")
        await emulator.wait_for_response(following)
        second_page = following.responses[0].data
        assert second_page["embeds"][0]["footer"]["text"] == "Page 2 of 2"
        assert custom_ids(second_page)[-1] == "tb:queue:0"
        back = emulator.click_button(first_page.message_id, moderator, "tb:queue:0")
        await emulator.wait_for_response(back)

        click = emulator.click_button(first_page.message_id, moderator, ids[0])
        await emulator.wait_for_response(click)
        assert click.response_types == [7]  # the queue page is redrawn in place
        redrawn = click.responses[0].data["embeds"][0]
        assert redrawn["title"] == "Review queue: 4 held comments"
        assert f"tb:review:approve:{first}:q0" not in custom_ids(click.responses[0].data)
        await settled(bot)
        approved = await comment_by_message(bot.store, written[0].id)
        assert approved.status is CommentStatus.VISIBLE
        marker = emulator.message(written[0].id).reactions.get(HELD_MARKER)
        assert marker is None or community.bot_user_id not in marker.user_ids

        # Decided in the queue: the hold case's mod-log post lost its now useless buttons.
        approved_case = next(
            c
            for c in (await list_cases(bot.store, community.guild_id, limit=50))[0]
            if c.comment_id == approved.id and c.action is CaseAction.HOLD
        )
        assert custom_ids(emulator.message(approved_case.modlog_message_id)) == []

        # The mod-log post of another held comment: Remove there deletes it and clears buttons.
        second = held[1]
        (hold_case,) = [
            c
            for c in (await list_cases(bot.store, community.guild_id, limit=50))[0]
            if c.comment_id == second.id and c.action is CaseAction.HOLD
        ]
        clicked = emulator.click_button(
            hold_case.modlog_message_id, moderator, f"tb:review:remove:{second.id}"
        )
        await emulator.wait_for_response(clicked, count=2)
        await settled(bot)
        assert (await comment_by_message(bot.store, written[1].id)).status is CommentStatus.REMOVED
        assert gone(emulator, written[1].id)
        assert custom_ids(emulator.message(hold_case.modlog_message_id)) == []
        assert "case" in reply_text(clicked)

        # The same comment decided twice (another moderator's stale queue page) is refused.
        again = emulator.click_button(
            first_page.message_id, moderator, f"tb:review:approve:{second.id}:q0"
        )
        await emulator.wait_for_response(again)
        assert "is removed, so that does not apply" in reply_text(again)


def _mod_subcommands(members, post_id, comment_id):
    member = members[1]
    return [
        ("queue", {}, None),
        ("approve", {"comment": str(comment_id)}, None),
        ("remove", {"comment": str(comment_id)}, None),
        ("lock", {"post": post_id}, None),
        ("unlock", {"post": post_id}, None),
        ("ban", {"member": member}, None),
        ("unban", {"member": member}, None),
        ("warn", {"member": member, "reason": "be nice"}, None),
        ("purge", {"member": member}, None),
        ("cases", {}, None),
        ("case", {"number": 1}, None),
        ("reason", {"number": 1, "text": "changed"}, None),
        ("show", {}, "rules"),
        ("add", {"list": "disallowed_words", "value": "kitten"}, "rules"),
        ("remove", {"list": "disallowed_words", "value": "scam"}, "rules"),
        ("set", {"limit": "links", "value": "off"}, "rules"),
    ]


async def test_members_are_refused_every_command_in_both_layers(
    start_bot, mod_settings, emulator, community, members
):
    alice = members[0]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        held = emulator.send_message(thread_id, members[1], "refund?")
        comment = await judged(bot, held.id)
        await settled(bot)
        before = await list_cases(bot.store, community.guild_id, limit=100)

        # Layer one: Discord hides the commands from members (default permissions).
        registered = {c["name"]: c for c in emulator.commands(community.guild_id)}
        for name in ("mod", "Hold", "Remove", "Approve", "Comment history"):
            assert registered[name]["default_member_permissions"] == str(MANAGE_MESSAGES)
            assert registered[name]["dm_permission"] is False  # in the server, never in DMs

        # Layer two: a server that overrides that still gets a refusal at run time.
        for subcommand, options, group in _mod_subcommands(members, post_id, comment.id):
            interaction = await run(emulator, thread_id, alice, subcommand, options, group=group)
            assert interaction.responses[0].ephemeral, subcommand
            assert "Only moderators" in reply_text(interaction), subcommand
        for menu in ("Hold", "Remove", "Approve"):
            interaction = emulator.run_message_command(thread_id, alice, menu, held.id)
            await emulator.wait_for_response(interaction)
            assert "Only moderators" in reply_text(interaction), menu
        history = emulator.run_user_command(thread_id, alice, "Comment history", members[1])
        await emulator.wait_for_response(history)
        assert "Only moderators" in reply_text(history)

        assert await list_cases(bot.store, community.guild_id, limit=100) == before
        assert (await comment_by_message(bot.store, held.id)).status is CommentStatus.HELD
        assert not (await get_post(bot.store, post_id)).comments_closed


async def test_moderator_commands_and_context_menus(
    start_bot, mod_settings, emulator, community, members
):
    alice, bob = members[:2]
    moderator = community.moderator_id
    channel = community.text_channel_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        first = emulator.send_message(thread_id, alice, "First thoughts on this")
        second = emulator.send_message(thread_id, alice, "Second thoughts on this")
        other = emulator.send_message(thread_id, bob, "Bob agrees")
        for message in (first, second, other):
            await judged(bot, message.id)

        # Context menus: Hold, then Approve, on the message itself.
        hold = emulator.run_message_command(thread_id, moderator, "Hold", first.id)
        await emulator.wait_for_response(hold)
        assert "held for review" in reply_text(hold)
        await settled(bot)
        assert community.bot_user_id in emulator.message(first.id).reactions[HELD_MARKER].user_ids
        approve = emulator.run_message_command(thread_id, moderator, "Approve", first.id)
        await emulator.wait_for_response(approve)
        assert (await comment_by_message(bot.store, first.id)).status is CommentStatus.VISIBLE
        not_a_comment = emulator.run_message_command(
            thread_id, moderator, "Remove", emulator.messages(thread_id)[0].id
        )
        await emulator.wait_for_response(not_a_comment)
        assert "not a member's comment" in reply_text(not_a_comment)

        # /mod remove with a reason the author receives.
        comment = await comment_by_message(bot.store, second.id)
        removed = await run(
            emulator,
            channel,
            moderator,
            "remove",
            {"comment": f"#{comment.id}", "reason": "off topic @everyone"},
        )
        assert "removed (case" in reply_text(removed)
        await settled(bot)
        assert gone(emulator, second.id)
        notice = emulator.dms_to(alice)[-1].content
        assert "off topic" in notice and "@everyone" not in notice  # broken, never a ping

        # Lock and unlock: the thread and the store agree.
        locked = await run(emulator, channel, moderator, "lock", {"post": post_id})
        assert "closed" in reply_text(locked)
        await settled(bot)
        thread = emulator.channel(thread_id)
        assert thread.locked and thread.archived
        assert (await get_post(bot.store, post_id)).comments_closed
        again = await run(emulator, channel, moderator, "lock", {"post": post_id})
        assert "already closed" in reply_text(again)
        await run(emulator, channel, moderator, "unlock", {"post": post_id})
        await settled(bot)
        assert not emulator.channel(thread_id).locked

        async def reopened():
            # The thread's own update events arrive through the comment writer a moment later.
            return not (await get_post(bot.store, post_id)).comments_closed

        await eventually(reopened)

        # Warn, purge, cases, case, reason.
        warned = await run(
            emulator, channel, moderator, "warn", {"member": bob, "reason": "mind your tone"}
        )
        assert "warned" in reply_text(warned)
        purged = await run(emulator, channel, moderator, "purge", {"member": bob})
        assert "1 comment(s)" in reply_text(purged)
        await settled(bot)
        assert gone(emulator, other.id)
        assert "mind your tone" in emulator.dms_to(bob)[-1].content
        listed = await run(emulator, channel, moderator, "cases", {"member": bob})
        assert "Warning" in reply_text(listed) and "Comments purged" in reply_text(listed)
        purge_case = (await list_cases(bot.store, community.guild_id, target_user_id=bob))[0][0]
        shown = await run(emulator, channel, moderator, "case", {"number": purge_case.number})
        assert shown.responses[0].data["embeds"][0]["title"].startswith(f"Case {purge_case.number}")
        await run(
            emulator,
            channel,
            moderator,
            "reason",
            {"number": purge_case.number, "text": "spam wave"},
        )
        assert (await get_case(bot.store, community.guild_id, purge_case.number)).reason == (
            "spam wave"
        )

        async def modlog_updated():
            post = emulator.message(purge_case.modlog_message_id)
            fields = {f["name"]: f["value"] for f in post.embeds[0]["fields"]}
            return fields["Reason"] == "spam wave"

        await eventually(modlog_updated)
        missing = await run(emulator, channel, moderator, "case", {"number": 999})
        assert "There is no case 999" in reply_text(missing)

        # Comment history of a member.
        history = emulator.run_user_command(thread_id, moderator, "Comment history", alice)
        await emulator.wait_for_response(history)
        embed = history.responses[0].data["embeds"][0]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert "removed 1" in fields["Comments"] and "visible 1" in fields["Comments"]


async def test_rules_are_changed_by_moderators_and_bad_input_refused(
    start_bot, mod_settings, emulator, community, members
):
    alice = members[0]
    moderator = community.moderator_id
    channel = community.text_channel_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        bad = await run(
            emulator,
            channel,
            moderator,
            "add",
            {"list": "disallowed_patterns", "value": r"(a+)+\1"},
            group="rules",
        )
        assert "Not added" in reply_text(bad) and "Backreferences" in reply_text(bad)
        empty = await run(
            emulator,
            channel,
            moderator,
            "add",
            {"list": "moderation_words", "value": "!!"},
            group="rules",
        )
        assert "no letters or digits" in reply_text(empty)
        added = await run(
            emulator,
            channel,
            moderator,
            "add",
            {"list": "disallowed_patterns", "value": r"(a|aa)+b"},
            group="rules",
        )
        assert "Added" in reply_text(added)
        await run(
            emulator,
            channel,
            moderator,
            "add",
            {"list": "moderation_words", "value": "Spoiler"},
            group="rules",
        )
        wrong_limit = await run(
            emulator,
            channel,
            moderator,
            "set",
            {"limit": "links", "value": "lots"},
            group="rules",
        )
        assert "whole number" in reply_text(wrong_limit)
        await run(
            emulator, channel, moderator, "set", {"limit": "links", "value": "off"}, group="rules"
        )
        shown = await run(emulator, channel, moderator, "show", {}, group="rules")
        text = reply_text(shown)
        assert "`links` off" in text and "||spoiler||" in text and "||scam||" in text

        # The crafted input that makes backtracking engines explode is judged at once.
        crafted = emulator.send_message(thread_id, alice, "a" * 1900 + "c")
        spoiler = emulator.send_message(thread_id, alice, "Big SPOILER ahead")
        links = emulator.send_message(
            thread_id, alice, "https://a.example https://b.example https://c.example"
        )
        blown = emulator.send_message(thread_id, alice, "aaaaaaaaab")
        assert (await judged(bot, crafted.id)).status is CommentStatus.VISIBLE
        assert (await judged(bot, spoiler.id)).status is CommentStatus.HELD
        assert (await judged(bot, links.id)).status is CommentStatus.VISIBLE  # links: off
        assert (await judged(bot, blown.id)).status is CommentStatus.REMOVED

        dropped = await run(
            emulator,
            channel,
            moderator,
            "remove",
            {"list": "moderation_words", "value": "spoiler"},
            group="rules",
        )
        assert "Removed" in reply_text(dropped)
        later = emulator.send_message(thread_id, alice, "another spoiler")
        assert (await judged(bot, later.id)).status is CommentStatus.VISIBLE


async def test_a_timed_ban_expires_across_a_restart(
    start_bot, mod_settings, emulator, community, members
):
    alice = members[0]
    moderator = community.moderator_id
    now = datetime.now(UTC)
    async with start_bot(mod_settings, extensions=MODERATION, clock=lambda: now) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        bad = await run(
            emulator,
            community.text_channel_id,
            moderator,
            "ban",
            {"member": alice, "duration": "5x"},
        )
        assert "not a unit" in reply_text(bad)
        refused = await run(
            emulator, community.text_channel_id, moderator, "ban", {"member": moderator}
        )
        assert "cannot be banned" in reply_text(refused)
        banned = await run(
            emulator,
            community.text_channel_id,
            moderator,
            "ban",
            {"member": alice, "duration": "1h", "reason": "cool off"},
        )
        assert "for 1h" in reply_text(banned)
        # The ban's end is a job due when it ends, not a poll.
        check = bot.scheduler.get_job("moderation-bans")
        due = check.next_run_time - datetime.now(UTC)
        assert timedelta(minutes=59) < due <= timedelta(hours=1)
        during = emulator.send_message(thread_id, alice, "let me in")
        assert (await judged(bot, during.id)).status is CommentStatus.REMOVED
        await settled(bot)
        assert any("for 1h" in dm.content for dm in emulator.dms_to(alice))

    later = now + timedelta(hours=2)
    async with start_bot(mod_settings, extensions=MODERATION, clock=lambda: later) as bot:
        # The expiry fell due while the bot was down: the job runs once at start.
        async def lifted():
            cases, _ = await list_cases(bot.store, community.guild_id, target_user_id=alice)
            return cases[0] if cases[0].action is CaseAction.UNBAN else None

        unban = await eventually(lifted)
        assert unban.moderator_id is None and unban.reason == "comment ban expired"
        assert bot.scheduler.get_job("moderation-bans") is None  # no timed ban left
        after = emulator.send_message(thread_id, alice, "back again")
        assert (await judged(bot, after.id)).status is CommentStatus.VISIBLE


async def test_a_ban_is_lifted_when_it_ends_while_the_bot_runs(
    start_bot, mod_settings, community, members
):
    alice = members[0]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        await ban_commenter(
            bot.store,
            guild_id=community.guild_id,
            user_id=alice,
            until=datetime.now(UTC) + timedelta(seconds=1),
            moderator_id=community.moderator_id,
            reason=None,
            now=datetime.now(UTC),
        )
        await bot.get_cog("moderation").schedule_next_ban_end()

        async def lifted():
            cases, _ = await list_cases(bot.store, community.guild_id, target_user_id=alice)
            return cases[0] if cases[0].action is CaseAction.UNBAN else None

        unban = await eventually(lifted)
        assert unban.reason == "comment ban expired"
        assert await active_ban(bot.store, community.guild_id, alice, datetime.now(UTC)) is None


async def test_old_posts_are_closed_by_the_job(start_bot, mod_settings, emulator, community):
    settings = mod_settings.model_copy(update={"close_comments_after_days": 30})
    async with start_bot(settings, extensions=MODERATION) as bot:
        today = datetime.now(UTC)
        old_id, old_thread = await mirrored(
            bot, quiet_post(published_at=today - timedelta(days=60))
        )
        new_id, new_thread = await mirrored(
            bot, quiet_post(external_id="fresh", published_at=today - timedelta(days=1))
        )
        # The job (which also ran at start, maybe before the posts existed) runs again.
        await bot.get_cog("moderation").close_old_posts()
        await settled(bot)
        cases, _ = await list_cases(bot.store, community.guild_id)
        closed = [case for case in cases if case.action is CaseAction.LOCK]
        assert [case.post_id for case in closed] == [old_id]  # once, whichever run did it
        assert (await get_post(bot.store, old_id)).comments_closed
        assert not (await get_post(bot.store, new_id)).comments_closed
        assert emulator.channel(old_thread).locked and emulator.channel(old_thread).archived
        assert not emulator.channel(new_thread).locked
        assert closed[0].moderator_id is None
        titles = [p.embeds[0]["title"] for p in modlog_posts(emulator, community)]
        assert any("Comments closed" in title for title in titles)

        # A moderator reopens the old post on purpose: the job leaves it open from then on.
        await run(
            emulator,
            community.text_channel_id,
            community.moderator_id,
            "unlock",
            {"post": old_id},
        )
        await settled(bot)
        # The thread's own update events reach the store through the comment writer, in order:
        # once a later message is stored, they have been applied.
        marker = emulator.send_message(old_thread, community.member_ids[1], "open again")
        await judged(bot, marker.id)
        assert await bot.get_cog("moderation").close_old_posts() == []
        assert not (await get_post(bot.store, old_id)).comments_closed


async def test_a_failed_modlog_post_is_retried_and_the_case_kept(
    start_bot, mod_settings, emulator, community, members
):
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        emulator.inject(
            "POST", rf"/channels/{community.modlog_channel_id}/messages", status=500, times=None
        )
        spam = emulator.send_message(thread_id, members[0], "scam")
        await judged(bot, spam.id)
        await settled(bot)
        (case,), _ = await list_cases(bot.store, community.guild_id)
        assert case.enforced_at is not None and case.modlog_message_id is None
        # Tried again when its retry falls due: a minute after the first failure.
        retry = bot.scheduler.get_job(f"case-retry:{case.id}")
        due = retry.next_run_time - datetime.now(UTC)
        assert timedelta(seconds=50) < due <= timedelta(minutes=1)
        emulator.faults.clear()
        retry.modify(next_run_time=datetime.now(UTC))

        async def posted():
            (case,), _ = await list_cases(bot.store, community.guild_id)
            return case if case.modlog_message_id is not None else None

        case = await eventually(posted)
        (case,), _ = await list_cases(bot.store, community.guild_id)
        assert case.modlog_message_id is not None
        assert emulator.message(case.modlog_message_id).embeds[0]["title"].startswith("Case 1")


async def test_comments_and_posts_are_found_with_autocomplete(
    start_bot, mod_settings, emulator, community, members
):
    moderator = community.moderator_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        held = emulator.send_message(thread_id, members[0], "Refund for the broken kettle?")
        visible = emulator.send_message(thread_id, members[1], "The kettle works for me")
        held_comment = await judged(bot, held.id)
        visible_comment = await judged(bot, visible.id)

        async def choices(subcommand, options, focused):
            interaction = emulator.run_autocomplete(
                thread_id, moderator, "mod", options, focused, subcommand=subcommand
            )
            await emulator.wait_for_response(interaction)
            (response,) = interaction.responses
            assert response.type == 8  # autocomplete result
            return [(c["name"], c["value"]) for c in response.data["choices"]]

        # Approve offers held comments only; remove offers held and visible ones.
        approvable = await choices("approve", {"comment": "kettle"}, "comment")
        assert [value for _, value in approvable] == [str(held_comment.id)]
        assert approvable[0][0].startswith(f"#{held_comment.id} alice: Refund")
        removable = await choices("remove", {"comment": "kettle"}, "comment")
        assert {value for _, value in removable} == {
            str(held_comment.id),
            str(visible_comment.id),
        }
        by_number = await choices("remove", {"comment": f"#{visible_comment.id}"}, "comment")
        assert [value for _, value in by_number] == [str(visible_comment.id)]
        posts = await choices("lock", {"post": "weekly"}, "post")
        assert posts == [(f"{post_id} · Weekly notes", post_id)]
        assert await choices("lock", {"post": "no such title"}, "post") == []


async def test_autocomplete_answers_only_those_who_may_run_the_command(
    start_bot, mod_settings, emulator, community, members
):
    """Held comments' text, and the list of posts, only for the people the command is for:
    anyone else typing the command (a server can show it to them) gets no choices."""
    alice, bob = members[:2]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        held = await judged(bot, emulator.send_message(thread_id, alice, "A refund, privately?").id)
        assert held.status is CommentStatus.HELD

        async def choices(user, command, subcommand, options, focused):
            interaction = emulator.run_autocomplete(
                thread_id, user, command, options, focused, subcommand=subcommand
            )
            await emulator.wait_for_response(interaction)
            (response,) = interaction.responses
            assert response.type == 8  # an autocomplete result, even when empty
            return [c["value"] for c in response.data["choices"]]

        moderator, owner = community.moderator_id, community.owner_id
        for subcommand in ("approve", "remove"):
            options = {"comment": "refund"}
            assert await choices(bob, "mod", subcommand, options, "comment") == []
            assert await choices(moderator, "mod", subcommand, options, "comment") == [str(held.id)]
        for subcommand in ("lock", "unlock", "purge"):
            assert await choices(bob, "mod", subcommand, {"post": "weekly"}, "post") == []
            assert await choices(moderator, "mod", subcommand, {"post": "weekly"}, "post") == [
                post_id
            ]
        # /mirror is for admins: a moderator without Manage Server is not one.
        for subcommand in ("status", "retry", "repost"):
            for user in (bob, moderator):
                assert await choices(user, "mirror", subcommand, {"post": "weekly"}, "post") == []
            assert await choices(owner, "mirror", subcommand, {"post": "weekly"}, "post") == [
                post_id
            ]


async def test_the_bots_own_held_marker_is_not_counted_as_a_reaction(
    start_bot, mod_settings, emulator, community, members
):
    alice, bob, carol = members[:3]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        written = emulator.send_message(thread_id, alice, "A refund for my ticket?")
        held = await judged(bot, written.id)
        await settled(bot)
        assert community.bot_user_id in emulator.message(written.id).reactions[HELD_MARKER].user_ids
        emulator.add_reaction(written.id, bob, "👍")
        emulator.add_reaction(written.id, carol, HELD_MARKER)  # a member's ⏳ counts
        # Applied in arrival order: once this reply is stored, both reactions were counted.
        await judged(bot, emulator.send_message(thread_id, bob, "Same question here").id)
        live = await reactions_of(bot.store, held.id)
        # Read again from the thread's history: the bot's reaction is in the counts there.
        assert await bot.get_cog("comments").catch_up(thread_id, full=True)
        from_history = await reactions_of(bot.store, held.id)
    assert live == from_history == {"👍": 1, HELD_MARKER: 1}


async def reactions_of(store, comment_id):
    rows = await store.fetch_all(
        "SELECT emoji, count FROM comment_reactions WHERE comment_id = ?", (comment_id,)
    )
    return {row["emoji"]: row["count"] for row in rows}


async def test_a_member_who_opted_out_is_still_held_to_the_rules(
    start_bot, mod_settings, emulator, community, members
):
    carol = members[2]
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        opted = emulator.run_slash_command(thread_id, carol, "comments", {}, subcommand="opt-out")
        await emulator.wait_for_response(opted)
        fine = emulator.send_message(thread_id, carol, "Just saying hello")
        spam = emulator.send_message(thread_id, carol, "What a scam")
        marker = emulator.send_message(thread_id, members[0], "a reply to keep order")
        await judged(bot, marker.id)  # the writer has passed carol's two messages

        async def removed():
            await settled(bot)
            return gone(emulator, spam.id)

        await eventually(removed)
        assert not gone(emulator, fine.id)
        assert await comment_by_message(bot.store, spam.id) is None  # still not kept
        (case,), _ = await list_cases(bot.store, community.guild_id)
        assert case.message_id == spam.id and case.comment_id is None
        assert "was removed" in emulator.dms_to(carol)[-1].content
        post = emulator.message(case.modlog_message_id)
        fields = {f["name"]: f["value"] for f in post.embeds[0]["fields"]}
        assert "opted out" in fields["Message"]


async def test_every_rule_acts_on_real_messages(
    start_bot, mod_settings, emulator, community, members
):
    alice, bob, carol = members[:3]
    settings = mod_settings.model_copy(update={"rules_flood_count": 3})
    async with start_bot(settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        _, other_thread = await mirrored(bot, quiet_post(external_id="second"))
        flood = [emulator.send_message(thread_id, alice, f"point number {n}") for n in range(4)]
        pings = " ".join(f"<@{m}>" for m in (*members, community.owner_id, community.moderator_id))
        mentions = emulator.send_message(thread_id, bob, f"look {pings}")
        invite = emulator.send_message(thread_id, carol, "join us at discord.gg/abc123")
        text = "Selling my old camera, message me for the price"
        first_copy = emulator.send_message(thread_id, bob, text)
        second_copy = emulator.send_message(other_thread, bob, text)
        expected = {
            flood[2].id: (CommentStatus.VISIBLE, None),
            flood[3].id: (CommentStatus.HELD, "flood"),
            mentions.id: (CommentStatus.REMOVED, "mentions"),
            invite.id: (CommentStatus.HELD, "invite"),
            first_copy.id: (CommentStatus.VISIBLE, None),
            second_copy.id: (CommentStatus.HELD, "duplicate"),
        }
        for message_id, (status, rule) in expected.items():
            comment = await judged(bot, message_id)
            assert comment.status is status, rule
        await settled(bot)
        cases, _ = await list_cases(bot.store, community.guild_id, limit=50)
        rules = {case.comment_id: case.rule for case in cases}
        for message_id, (_, rule) in expected.items():
            comment = await comment_by_message(bot.store, message_id)
            assert rules.get(comment.id) == rule
        assert gone(emulator, mentions.id) and not gone(emulator, invite.id)


async def test_first_comments_wait_for_approval_when_the_rule_is_on(
    start_bot, mod_settings, emulator, community, members
):
    alice = members[0]
    channel = community.text_channel_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        _, thread_id = await mirrored(bot, quiet_post())
        turned_on = await run(
            emulator,
            channel,
            community.moderator_id,
            "set",
            {"limit": "first_comment", "value": "on"},
            group="rules",
        )
        assert "`first_comment` is now on" in reply_text(turned_on)
        first = emulator.send_message(thread_id, alice, "Hello everyone")
        held = await judged(bot, first.id)
        assert held.status is CommentStatus.HELD
        await run(emulator, channel, community.moderator_id, "approve", {"comment": str(held.id)})
        second = emulator.send_message(thread_id, alice, "Thanks for having me")
        assert (await judged(bot, second.id)).status is CommentStatus.VISIBLE
