"""The services the cogs share, built once for each bot by `build_services` and handed to every
cog: the comment writer, the rules in force, the enforcer of cases, the case lifecycle (every
decision that opens a case), the review desk, and mirroring."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.comments.events import SyncPolicy
from bot.comments.policy import sync_policy
from bot.comments.writer import CommentWriter
from bot.mirror.mirroring import Mirroring
from bot.moderation.cases import Cases
from bot.moderation.desk import ReviewDesk
from bot.moderation.enforcement import Enforcer
from bot.moderation.rulebook import Rulebook

if TYPE_CHECKING:
    from bot.client import Threadbridge


@dataclass(frozen=True, slots=True)
class Services:
    writer: CommentWriter
    rulebook: Rulebook
    enforcer: Enforcer
    cases: Cases
    desk: ReviewDesk
    mirroring: Mirroring

    async def start(self) -> None:
        # The rules come into force when the moderation cog loads (see its cog_load).
        self.writer.start()
        self.enforcer.start()

    async def stop(self) -> None:
        """Commit what the writer holds, then stop settling cases."""
        await self.writer.stop()
        await self.enforcer.stop()


def build_services(bot: Threadbridge) -> Services:
    settings = bot.settings
    assert settings.mirror_channel_id is not None and settings.guild_id is not None
    guild_id = settings.guild_id
    rulebook = Rulebook(bot.store, settings)
    enforcer = Enforcer(bot)
    # bot.clock is looked up at each decision, not captured here.
    cases = Cases(bot.store, guild_id=guild_id, clock=lambda: bot.clock(), enforcer=enforcer)
    mirroring = Mirroring(bot, bot.store, channel_id=settings.mirror_channel_id)

    def policy() -> SyncPolicy:
        # Asked for each batch: the server's roles (who moderates) may have changed meanwhile.
        assert bot.user is not None
        guild = bot.get_guild(guild_id)
        webhook_id = mirroring.web_comments.webhook_id
        return sync_policy(
            settings,
            own_user_id=bot.user.id,
            own_webhook_ids=(webhook_id,) if webhook_id else (),
            rules=rulebook.in_force(guild.roles if guild is not None else ()),
        )

    writer = CommentWriter(bot.store, policy, on_cases=enforcer.submit)
    return Services(
        writer=writer,
        rulebook=rulebook,
        enforcer=enforcer,
        cases=cases,
        desk=ReviewDesk(bot, cases),
        mirroring=mirroring,
    )
