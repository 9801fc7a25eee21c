"""The audit trail end to end through the emulator: every moderation decision and every mirror
writes one INFO line with its ids (README, "Logs"), and never a member's text."""

from structlog.testing import capture_logs

from bot.store.cases import list_cases
from bot.store.comment_refs import comment_by_message
from bot.store.comments import list_comments
from bot.store.models import CaseAction
from tests.comments.test_live import mirrored
from tests.mirror.test_mirroring import seed_post
from tests.moderation.test_live import MODERATION, judged, quiet_post, run, settled


def lines_named(logs, event):
    return [entry for entry in logs if entry["event"] == event]


async def test_held_and_removed_comments_and_a_ban_each_write_one_case_line(
    start_bot, mod_settings, emulator, community, members
):
    alice, bob = members[:2]
    moderator = community.moderator_id
    async with start_bot(mod_settings, extensions=MODERATION) as bot:
        post_id, thread_id = await mirrored(bot, quiet_post())
        with capture_logs() as logs:
            held = emulator.send_message(thread_id, alice, "Can I get a r3fund?")
            removed = emulator.send_message(thread_id, bob, "Total S.C.A.M, send me money")
            for message in (held, removed):
                await judged(bot, message.id)
            banned = await run(
                emulator, community.text_channel_id, moderator, "ban", {"member": bob}
            )
            assert "banned" in (banned.responses[-1].data or {}).get("content", "")
            await settled(bot)

        cases = {case.action: case for case in (await list_cases(bot.store, community.guild_id))[0]}
        held_comment = await comment_by_message(bot.store, held.id)
        removed_comment = await comment_by_message(bot.store, removed.id)
        lines = lines_named(logs, "case opened")
        assert all(line["log_level"] == "info" for line in lines)
        by_action = {line["action"]: line for line in lines}
        assert len(lines) == len(by_action) == 3
        common = {"guild": community.guild_id, "post": post_id}
        assert by_action["hold"] == {
            **by_action["hold"],
            **common,
            "case": cases[CaseAction.HOLD].number,
            "comment": held_comment.id,
            "user": alice,
            "moderator": "rules",
        }
        assert by_action["hold"]["rule"]
        assert by_action["remove"] == {
            **by_action["remove"],
            **common,
            "case": cases[CaseAction.REMOVE].number,
            "comment": removed_comment.id,
            "user": bob,
            "moderator": "rules",
        }
        assert by_action["ban"] == {
            **by_action["ban"],
            "guild": community.guild_id,
            "case": cases[CaseAction.BAN].number,
            "user": bob,
            "moderator": moderator,
        }
        # Neither the members' text nor the reasons (which may quote it) are logged.
        logged = repr(logs)
        assert "r3fund" not in logged and "S.C.A.M" not in logged


async def test_a_mirrored_post_and_its_web_comments_each_write_one_line(start_bot, community):
    async with start_bot(extensions=("cogs.mirror",)) as bot:
        with capture_logs() as logs:
            post_id, thread_id = await mirrored(bot, seed_post())

        (post_line,) = lines_named(logs, "post mirrored")
        assert post_line["log_level"] == "info"
        assert post_line == {
            **post_line,
            "guild": community.guild_id,
            "post": post_id,
            "thread": thread_id,
        }
        web_comments = [c for c in await list_comments(bot.store, post_id) if c.source == "web"]
        assert web_comments
        comment_lines = lines_named(logs, "web comment mirrored")
        assert all(line["log_level"] == "info" for line in comment_lines)
        assert sorted(line["comment"] for line in comment_lines) == sorted(
            c.id for c in web_comments
        )
        for line in comment_lines:
            assert (line["guild"], line["post"], line["thread"]) == (
                community.guild_id,
                post_id,
                thread_id,
            )
            assert line["messages"] and all(isinstance(i, int) for i in line["messages"])
        logged = repr(logs)
        assert all(c.body not in logged for c in web_comments)
