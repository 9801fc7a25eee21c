"""Moderation in Discord: /mod, the review queue and its buttons, the Hold/Remove/Approve and
Comment history context menus, and the scheduled moderation jobs.

The rules themselves run in the comment writer as comments are stored (bot.comments.judging);
this cog changes the rules in force (bot.moderation.rulebook) and turns moderators' commands
into decisions, whose cases bot.moderation.cases opens and the enforcer settles.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.client import Threadbridge
from bot.clock import utcnow
from bot.discord_text import escape_title, one_line
from bot.errors import UserFacingError
from bot.log import get_logger
from bot.moderation.cases import Cases
from bot.moderation.desk import ReviewDesk, comment_line
from bot.moderation.durations import DurationError, format_duration, parse_duration
from bot.moderation.enforcement import ACTION_TITLES, Enforcer
from bot.moderation.rulebook import (
    LIMITS,
    LISTS,
    Rulebook,
    default_limits,
    describe_limit,
    normalise_entry,
    parse_limit,
)
from bot.moderation.rules import RuleError
from bot.moderation.views import QueuePageButton, ReviewButton
from bot.permissions import is_moderator
from bot.store.bans import active_ban, next_ban_end
from bot.store.cases import get_case, list_cases, set_case_reason
from bot.store.comment_refs import (
    CommentRef,
    comment_by_message,
    comments_of_user,
    get_comment_ref,
    search_comments,
)
from bot.store.comments import erase_old_bodies
from bot.store.models import Case, CaseAction, CommentStatus
from bot.store.posts import get_post
from bot.store.rules import add_rule_entry, load_rules, remove_rule_entry, set_rule_limit
from bot.tree import may_run, post_choices

log = get_logger("threadbridge.cogs.moderation")

JOBS = ("moderation-owed", "moderation-bans", "moderation-close", "moderation-erase")
MAX_LIST_ENTRIES = 1000  # per list, as Discord AutoMod allows keywords per rule
Reason = app_commands.Range[str, 1, 500]
RuleList = Literal[
    "disallowed_words", "disallowed_patterns", "moderation_words", "moderation_patterns"
]
MESSAGE_LINK = "https://discord.com/channels/"


class DurationTransformer(app_commands.Transformer):
    """"30m", "12h", "7d", "2w": between a minute and a year."""

    async def transform(self, interaction: discord.Interaction, value: str) -> timedelta:
        try:
            return parse_duration(value)
        except DurationError as error:
            raise UserFacingError(str(error)) from None


Duration = app_commands.Transform[timedelta, DurationTransformer]


@app_commands.default_permissions(manage_messages=True)
@app_commands.guild_only()
class ModerationCog(
    commands.GroupCog,
    name="moderation",
    group_name="mod",
    group_description="Keep the post threads healthy",
):
    rules = app_commands.Group(name="rules", description="The rules every comment is checked by")

    def __init__(
        self,
        bot: Threadbridge,
        rulebook: Rulebook,
        enforcer: Enforcer,
        desk: ReviewDesk,
        cases: Cases,
    ) -> None:
        self.bot = bot
        self.rulebook = rulebook
        self.enforcer = enforcer
        self.desk = desk
        self.decisions = cases  # not `cases`: that is the /mod cases command
        self.menus = [
            self._menu("Hold", self.hold_menu),
            self._menu("Remove", self.remove_menu),
            self._menu("Approve", self.approve_menu),
            self._menu("Comment history", self.history_menu),
        ]

    @staticmethod
    def _menu(name: str, callback: object) -> app_commands.ContextMenu:
        menu = app_commands.ContextMenu(name=name, callback=callback)  # type: ignore[arg-type]
        menu.default_permissions = discord.Permissions(manage_messages=True)
        menu.guild_only = True
        return menu

    @property
    def guild_id(self) -> int:
        assert self.bot.settings.guild_id is not None
        return self.bot.settings.guild_id

    async def cog_load(self) -> None:
        # Moderation brings the rules into force: from now on the comment writer judges every
        # new and edited comment by them.
        await self.rulebook.reload()
        self.bot.add_dynamic_items(ReviewButton, QueuePageButton)
        for menu in self.menus:
            self.bot.tree.add_command(menu)
        if not self.bot.one_shot:
            self._schedule()

    async def cog_unload(self) -> None:
        self.rulebook.lift()
        for job in self.bot.scheduler.get_jobs():
            if job.id in JOBS:
                job.remove()
        for menu in self.menus:
            self.bot.tree.remove_command(menu.name, type=menu.type)
        self.bot.remove_dynamic_items(ReviewButton, QueuePageButton)

    def _schedule(self) -> None:
        """Each job also runs once at start: what fell due while the bot was down is done now.

        Work with a due time of its own (a ban's end, a case's retry) runs at that time, from
        jobs rebuilt from the tables: `lift_bans` schedules the next ban's end after each run,
        and the enforcer schedules each retry. The hourly sweep of owed cases settles the ones
        other processes opened (`threadbridge sync`)."""
        # The scheduler runs on real time; the bot's clock only says what is due.
        now = utcnow()
        jobs = (
            ("moderation-owed", self.enforcer.submit_owed, timedelta(hours=1)),
            ("moderation-close", self.close_old_posts, timedelta(hours=1)),
            ("moderation-erase", self.erase_bodies, timedelta(hours=6)),
        )
        for job_id, work, every in jobs:
            self.bot.scheduler.add_job(
                work,
                "interval",
                seconds=every.total_seconds(),
                id=job_id,
                replace_existing=True,
                next_run_time=now,
            )
        self._schedule_ban_check(now)

    def _schedule_ban_check(self, when: datetime) -> None:
        self.bot.scheduler.add_job(
            self.lift_bans, "date", run_date=when, id="moderation-bans", replace_existing=True
        )

    # --- scheduled jobs ------------------------------------------------------------------------

    async def lift_bans(self) -> list[Case]:
        """Lift the bans whose time is up, then schedule this again for the next one to end."""
        cases = await self.decisions.lift_expired_bans()
        if cases:
            log.info("comment bans expired", count=len(cases))
        await self.schedule_next_ban_end()
        return cases

    async def schedule_next_ban_end(self) -> None:
        """The ban check runs when the next timed ban ends (none scheduled when none will)."""
        ends = await next_ban_end(self.bot.store, self.guild_id)
        if ends is None:
            if self.bot.scheduler.get_job("moderation-bans") is not None:
                self.bot.scheduler.remove_job("moderation-bans")
            return
        self._schedule_ban_check(utcnow() + max(ends - self.bot.clock(), timedelta(0)))

    async def close_old_posts(self) -> list[Case]:
        days = self.bot.settings.close_comments_after_days
        if not days:
            return []
        opened = await self.decisions.close_old_posts(days)
        if opened:
            log.info("comments closed on old posts", count=len(opened))
        return opened

    async def erase_bodies(self) -> int:
        days = self.bot.settings.erase_removed_after_days
        if not days:
            return 0
        now = self.bot.clock()
        erased = await erase_old_bodies(self.bot.store, now - timedelta(days=days), now)
        if erased:
            log.info("removed and deleted comments erased", count=erased)
        return erased

    # --- who may moderate ------------------------------------------------------------------------

    async def interaction_check(self, interaction: discord.Interaction[Threadbridge]) -> bool:  # type: ignore[override]
        # Default permissions hide /mod from members, but a server can override them: this
        # check is the one that holds.
        self.desk.require_moderator(interaction)
        return True

    # --- deciding on comments ----------------------------------------------------------------

    async def _comment(self, text: str) -> CommentRef:
        """A comment named by its number ("12" or "#12") or by a link to its message."""
        cleaned = text.strip().removeprefix("#")
        comment = None
        if cleaned.isdigit() and len(cleaned) <= 19:
            comment = await get_comment_ref(self.bot.store, int(cleaned))
        elif cleaned.startswith(MESSAGE_LINK):
            message_id = cleaned.rstrip("/").rsplit("/", 1)[-1]
            if message_id.isdigit() and len(message_id) <= 20:
                comment = await comment_by_message(self.bot.store, int(message_id))
        if comment is None:
            raise UserFacingError(
                f"No comment matches {text[:50]!r}: pick one from the list, or paste a link "
                "to its message."
            )
        return comment

    async def _comment_choices(
        self,
        interaction: discord.Interaction[Threadbridge],
        current: str,
        statuses: tuple[CommentStatus, ...],
    ) -> list[app_commands.Choice[str]]:
        # Comments' text (held ones above all) is for moderators only.
        if not await may_run(interaction):
            return []
        found = await search_comments(
            self.bot.store, current.strip().removeprefix("#"), statuses=statuses, limit=25
        )
        return [
            app_commands.Choice(
                name=one_line(f"#{c.id} {c.author_name}: {c.body}", 100),
                value=str(c.id),
            )
            for c in found
        ]

    async def held_autocomplete(
        self, interaction: discord.Interaction[Threadbridge], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._comment_choices(interaction, current, (CommentStatus.HELD,))

    async def removable_autocomplete(
        self, interaction: discord.Interaction[Threadbridge], current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._comment_choices(
            interaction, current, (CommentStatus.HELD, CommentStatus.VISIBLE)
        )

    @app_commands.command(name="queue", description="Held comments waiting for a decision")
    @app_commands.describe(page="Which page of the queue (4 comments a page)")
    async def queue(
        self,
        interaction: discord.Interaction[Threadbridge],
        page: app_commands.Range[int, 1, 10_000] = 1,
    ) -> None:
        await self.desk.show_queue(interaction, page - 1, edit=False)

    async def _done(
        self, interaction: discord.Interaction[Threadbridge], case: Case, what: str
    ) -> None:
        await interaction.response.send_message(f"{what} (case {case.number}).", ephemeral=True)

    @app_commands.command(name="approve", description="Publish a held comment")
    @app_commands.describe(comment="The held comment")
    @app_commands.autocomplete(comment=held_autocomplete)
    async def approve(self, interaction: discord.Interaction[Threadbridge], comment: str) -> None:
        chosen = await self._comment(comment)
        case = await self.desk.decide(interaction, chosen.id, CaseAction.APPROVE, None)
        await self._done(interaction, case, f"Comment #{chosen.id} approved")

    @app_commands.command(name="remove", description="Remove a comment from the thread and site")
    @app_commands.describe(comment="The comment", reason="Why (the author is told)")
    @app_commands.autocomplete(comment=removable_autocomplete)
    async def remove(
        self,
        interaction: discord.Interaction[Threadbridge],
        comment: str,
        reason: Reason | None = None,
    ) -> None:
        chosen = await self._comment(comment)
        case = await self.desk.decide(interaction, chosen.id, CaseAction.REMOVE, reason)
        await self._done(interaction, case, f"Comment #{chosen.id} removed")

    async def _set_closed(
        self,
        interaction: discord.Interaction[Threadbridge],
        post: int,
        closed: bool,
        reason: str | None,
    ) -> None:
        chosen = await get_post(self.bot.store, post)
        if chosen is None:
            raise UserFacingError(f"There is no post {post}.")
        case = await self.decisions.set_comments_closed(
            chosen.id, closed=closed, moderator_id=interaction.user.id, reason=reason
        )
        title = escape_title(chosen.title)[:200]
        if case is None:
            state = "closed" if closed else "open"
            raise UserFacingError(f"Comments on **{title}** are already {state}.")
        what = "closed" if closed else "reopened"
        await self._done(interaction, case, f"Comments on **{title}** {what}")

    @app_commands.command(name="lock", description="Close a post's comments: lock its thread")
    @app_commands.describe(post="The post", reason="Why")
    @app_commands.autocomplete(post=post_choices)
    async def lock(
        self,
        interaction: discord.Interaction[Threadbridge],
        post: int,
        reason: Reason | None = None,
    ) -> None:
        await self._set_closed(interaction, post, True, reason)

    @app_commands.command(name="unlock", description="Reopen a post's comments")
    @app_commands.describe(post="The post", reason="Why")
    @app_commands.autocomplete(post=post_choices)
    async def unlock(
        self,
        interaction: discord.Interaction[Threadbridge],
        post: int,
        reason: Reason | None = None,
    ) -> None:
        await self._set_closed(interaction, post, False, reason)

    @app_commands.command(name="ban", description="Ban a member from commenting")
    @app_commands.describe(
        member="Who",
        duration="For how long, e.g. 30m, 12h, 7d, 2w (leave empty: until unbanned)",
        reason="Why (the member is told)",
    )
    async def ban(
        self,
        interaction: discord.Interaction[Threadbridge],
        member: discord.Member,
        duration: Duration | None = None,
        reason: Reason | None = None,
    ) -> None:
        if member.bot or is_moderator(member, self.bot.settings.moderator_role_ids):
            raise UserFacingError("Bots and moderators cannot be banned from commenting.")
        case = await self.decisions.ban(
            member.id, duration=duration, moderator_id=interaction.user.id, reason=reason
        )
        await self.schedule_next_ban_end()
        length = "until unbanned" if duration is None else f"for {format_duration(duration)}"
        await self._done(interaction, case, f"{member.mention} is banned from commenting {length}")

    @app_commands.command(name="unban", description="Let a member comment again")
    @app_commands.describe(member="Who", reason="Why")
    async def unban(
        self,
        interaction: discord.Interaction[Threadbridge],
        member: discord.User,
        reason: Reason | None = None,
    ) -> None:
        case = await self.decisions.unban(
            member.id, moderator_id=interaction.user.id, reason=reason
        )
        if case is None:
            raise UserFacingError(f"{member.mention} is not banned from commenting.")
        await self.schedule_next_ban_end()
        await self._done(interaction, case, f"{member.mention} can comment again")

    @app_commands.command(name="warn", description="Warn a member (sent to them privately)")
    @app_commands.describe(member="Who", reason="The warning they receive")
    async def warn(
        self, interaction: discord.Interaction[Threadbridge], member: discord.Member, reason: Reason
    ) -> None:
        if member.bot:
            raise UserFacingError("Bots cannot be warned.")
        case = await self.decisions.warn(member.id, moderator_id=interaction.user.id, reason=reason)
        await self._done(interaction, case, f"{member.mention} warned")

    @app_commands.command(name="purge", description="Remove a member's comments")
    @app_commands.describe(member="Whose comments", post="Only this post's", reason="Why")
    @app_commands.autocomplete(post=post_choices)
    async def purge(
        self,
        interaction: discord.Interaction[Threadbridge],
        member: discord.User,
        post: int | None = None,
        reason: Reason | None = None,
    ) -> None:
        if post is not None and await get_post(self.bot.store, post) is None:
            raise UserFacingError(f"There is no post {post}.")
        case, removed = await self.decisions.purge(
            member.id, post_id=post, moderator_id=interaction.user.id, reason=reason
        )
        await self._done(interaction, case, f"{removed} comment(s) of {member.mention} removed")

    @app_commands.command(name="cases", description="The latest moderation cases")
    @app_commands.describe(member="Only this member's cases")
    async def cases(
        self, interaction: discord.Interaction[Threadbridge], member: discord.User | None = None
    ) -> None:
        found, total = await list_cases(
            self.bot.store,
            self.guild_id,
            target_user_id=None if member is None else member.id,
            limit=15,
        )
        if not found:
            whose = f" for {member.mention}" if member else ""
            await interaction.response.send_message(f"No cases{whose}.", ephemeral=True)
            return
        lines = [self._case_line(case) for case in found]
        more = f"\n…and {total - len(found)} older" if total > len(found) else ""
        await interaction.response.send_message(
            ("\n".join(lines) + more)[:2000], ephemeral=True
        )

    @staticmethod
    def _case_line(case: Case) -> str:
        who = f" <@{case.target_user_id}>" if case.target_user_id else ""
        by = f"<@{case.moderator_id}>" if case.moderator_id else "automatic"
        when = f"<t:{int(case.created_at.timestamp())}:d>"
        reason = f": {escape_title(case.reason)[:80]}" if case.reason else ""
        return f"**{case.number}** {when} {ACTION_TITLES[case.action]}{who} by {by}{reason}"

    async def _case(self, number: int) -> Case:
        case = await get_case(self.bot.store, self.guild_id, number)
        if case is None:
            raise UserFacingError(f"There is no case {number}.")
        return case

    @app_commands.command(name="case", description="One moderation case")
    @app_commands.describe(number="The case number")
    async def case(
        self,
        interaction: discord.Interaction[Threadbridge],
        number: app_commands.Range[int, 1, 2**53],
    ) -> None:
        found = await self._case(number)
        embed = await self.enforcer.describe(found)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="reason", description="Set or change a case's reason")
    @app_commands.describe(number="The case number", text="The reason")
    async def reason(
        self,
        interaction: discord.Interaction[Threadbridge],
        number: app_commands.Range[int, 1, 2**53],
        text: Reason,
    ) -> None:
        await self._case(number)
        case = await set_case_reason(self.bot.store, self.guild_id, number, text)
        assert case is not None
        await interaction.response.send_message(
            f"Case {number}'s reason is now: {escape_title(text)}", ephemeral=True
        )
        await self.enforcer.refresh_modlog(case)

    # --- /mod rules ------------------------------------------------------------------------------

    @rules.command(name="show", description="The rules in force")
    async def rules_show(self, interaction: discord.Interaction[Threadbridge]) -> None:
        stored = await load_rules(self.bot.store, self.guild_id)
        defaults = default_limits(self.bot.settings)
        lines = ["**Limits**"]
        for name, limit in LIMITS.items():
            value = stored.limits[name] if name in stored.limits else defaults[name]
            shown = describe_limit(name, value)
            origin = "" if name in stored.limits else " (default)"
            lines.append(f"`{name}` {shown}{origin}: {limit.description}")
        settings = self.bot.settings
        from_settings = {
            "disallowed_words": settings.rules_disallowed_words,
            "moderation_words": settings.rules_moderation_words,
        }
        for name, description in LISTS.items():
            entries = (*from_settings.get(name, ()), *stored.lists.get(name, ()))
            shown = ", ".join(f"||{discord.utils.escape_markdown(e)}||" for e in entries[:40])
            more = f" and {len(entries) - 40} more" if len(entries) > 40 else ""
            lines.append(f"**{name}** ({description}): {shown or 'none'}{more}")
        await interaction.response.send_message("\n".join(lines)[:2000], ephemeral=True)

    @rules.command(name="add", description="Add a word or regex to a rule list")
    @app_commands.describe(list_name="Which list", value="The word, phrase or regex")
    @app_commands.rename(list_name="list")
    async def rules_add(
        self,
        interaction: discord.Interaction[Threadbridge],
        list_name: RuleList,
        value: app_commands.Range[str, 1, 500],
    ) -> None:
        try:
            entry = normalise_entry(list_name, value)
        except RuleError as error:
            raise UserFacingError(f"Not added: {error}") from None
        stored = await load_rules(self.bot.store, self.guild_id)
        if len(stored.lists.get(list_name, ())) >= MAX_LIST_ENTRIES:
            raise UserFacingError(f"{list_name} is full ({MAX_LIST_ENTRIES} entries).")
        added = await add_rule_entry(
            self.bot.store,
            self.guild_id,
            list_name,
            entry,
            moderator_id=interaction.user.id,
            now=self.bot.clock(),
        )
        if not added:
            raise UserFacingError(f"||{discord.utils.escape_markdown(entry)}|| is already listed.")
        await self.rulebook.reload()
        await interaction.response.send_message(
            f"Added ||{discord.utils.escape_markdown(entry)}|| to {list_name}.", ephemeral=True
        )

    @rules.command(name="remove", description="Take a word or regex off a rule list")
    @app_commands.describe(list_name="Which list", value="The entry, as /mod rules show lists it")
    @app_commands.rename(list_name="list")
    async def rules_remove(
        self,
        interaction: discord.Interaction[Threadbridge],
        list_name: RuleList,
        value: app_commands.Range[str, 1, 500],
    ) -> None:
        try:
            entry = normalise_entry(list_name, value)
        except RuleError:
            entry = value.strip()
        if not await remove_rule_entry(self.bot.store, self.guild_id, list_name, entry):
            raise UserFacingError(
                f"||{discord.utils.escape_markdown(value)}|| is not on {list_name} (entries from "
                "the operator's settings are changed there)."
            )
        await self.rulebook.reload()
        await interaction.response.send_message(
            f"Removed ||{discord.utils.escape_markdown(entry)}|| from {list_name}.", ephemeral=True
        )

    @rules.command(name="set", description="Change a limit (a number, on/off, or off)")
    @app_commands.describe(limit="Which limit", value="A number, on, or off")
    async def rules_set(
        self,
        interaction: discord.Interaction[Threadbridge],
        limit: Literal[
            "links",
            "mentions",
            "flood_count",
            "flood_seconds",
            "duplicate_minutes",
            "invites",
            "first_comment",
        ],
        value: app_commands.Range[str, 1, 10],
    ) -> None:
        try:
            parsed = parse_limit(limit, value)
        except RuleError as error:
            raise UserFacingError(str(error)) from None
        await set_rule_limit(
            self.bot.store,
            self.guild_id,
            limit,
            parsed,
            moderator_id=interaction.user.id,
            now=self.bot.clock(),
        )
        await self.rulebook.reload()
        await interaction.response.send_message(
            f"`{limit}` is now {describe_limit(limit, parsed)}.", ephemeral=True
        )

    # --- context menus -----------------------------------------------------------------------

    async def _menu_decision(
        self,
        interaction: discord.Interaction[Threadbridge],
        message: discord.Message,
        action: CaseAction,
        reason: str,
    ) -> None:
        self.desk.require_moderator(interaction)
        comment = await comment_by_message(self.bot.store, message.id)
        if comment is None:
            raise UserFacingError(
                "That message is not a member's comment on a post (only replies in post "
                "threads are)."
            )
        case = await self.desk.decide(interaction, comment.id, action, reason)
        await self._done(
            interaction, case, f"Comment #{comment.id}: {ACTION_TITLES[action].lower()}"
        )

    async def hold_menu(
        self, interaction: discord.Interaction[Threadbridge], message: discord.Message
    ) -> None:
        await self._menu_decision(interaction, message, CaseAction.HOLD, "held by a moderator")

    async def remove_menu(
        self, interaction: discord.Interaction[Threadbridge], message: discord.Message
    ) -> None:
        await self._menu_decision(
            interaction, message, CaseAction.REMOVE, "removed by a moderator"
        )

    async def approve_menu(
        self, interaction: discord.Interaction[Threadbridge], message: discord.Message
    ) -> None:
        await self._menu_decision(interaction, message, CaseAction.APPROVE, "approved")

    async def history_menu(
        self, interaction: discord.Interaction[Threadbridge], member: discord.User
    ) -> None:
        self.desk.require_moderator(interaction)
        comments, counts = await comments_of_user(self.bot.store, member.id, limit=8)
        cases, total_cases = await list_cases(
            self.bot.store, self.guild_id, target_user_id=member.id, limit=5
        )
        ban = await active_ban(self.bot.store, self.guild_id, member.id, self.bot.clock())
        embed = discord.Embed(title=f"Comment history of {member.display_name}"[:256])
        summary = ", ".join(f"{status.value} {n}" for status, n in counts.items()) or "none"
        embed.add_field(name="Comments", value=summary, inline=False)
        if ban is not None:
            until = (
                f"until <t:{int(ban.expires_at.timestamp())}:f>"
                if ban.expires_at
                else "until unbanned"
            )
            embed.add_field(name="Comment ban", value=f"{until} (case {ban.number})")
        if cases:
            embed.add_field(
                name=f"Cases ({total_cases})",
                value="\n".join(self._case_line(case) for case in cases)[:1024],
                inline=False,
            )
        if comments:
            embed.add_field(
                name="Latest comments",
                value="\n".join(comment_line(c, self.guild_id) for c in comments)[:1024],
                inline=False,
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: Threadbridge) -> None:
    services = bot.services
    await bot.add_cog(
        ModerationCog(bot, services.rulebook, services.enforcer, services.desk, services.cases)
    )
