"""The ready-made community `python -m discord_emulator serve` and the test fixtures start with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .permissions import BOT_PERMISSIONS, Perm
from .state import Application, User

if TYPE_CHECKING:
    from .emulator import Emulator


@dataclass
class BotAccount:
    user: User
    application: Application
    token: str


@dataclass
class Community:
    """Ids of the ready-made community `seed_community()` builds."""

    guild_id: int
    forum_channel_id: int
    text_channel_id: int
    digest_channel_id: int
    modlog_channel_id: int
    everyone_role_id: int
    moderator_role_id: int
    bot_role_id: int
    owner_id: int
    moderator_id: int
    member_ids: list[int]
    bot_user_id: int
    application_id: int
    token: str
    tag_ids: dict[str, int] = field(default_factory=dict)

    @property
    def mirror_channel_id(self) -> int:
        return self.forum_channel_id

    def env(self, api_base_url: str, gateway_url: str) -> dict[str, str]:
        return {
            "DISCORD_API_BASE_URL": api_base_url,
            "DISCORD_GATEWAY_URL": gateway_url,
            "DISCORD_TOKEN": self.token,
            "GUILD_ID": str(self.guild_id),
            "MIRROR_CHANNEL_ID": str(self.forum_channel_id),
            "DIGEST_CHANNEL_ID": str(self.digest_channel_id),
            "MODLOG_CHANNEL_ID": str(self.modlog_channel_id),
            "MODERATOR_ROLE_IDS": str(self.moderator_role_id),
        }


def seed(emu: Emulator, token: str | None = None) -> Community:
    """Guild with forum/text/digest/mod-log channels, a moderator role, members and the bot."""
    owner = emu.create_user("owner", global_name="Community Owner")
    guild = emu.create_guild("Threadbridge Community", owner_id=owner.id)
    moderator_role = emu.create_role(
        guild.id, "Moderator", permissions=int(Perm.MANAGE_MESSAGES | Perm.MODERATE_MEMBERS
                                               | Perm.MANAGE_THREADS),
        hoist=True,
    )
    bot = emu.create_bot_user(token, owner_id=owner.id)
    bot_role = emu.create_role(guild.id, "threadbridge", permissions=int(BOT_PERMISSIONS))
    bot_role.managed = True
    forum = emu.create_channel(
        guild.id, "posts", "forum",
        available_tags=["question", "idea", "bug", "announcement", "solved"],
        topic="Community posts",
    )
    text = emu.create_channel(guild.id, "general", "text", topic="General chat")
    # Staff only: hidden from @everyone, seen by the bot and the moderators.
    staff_only = [
        {"id": guild.id, "type": 0, "deny": int(Perm.VIEW_CHANNEL)},
        {"id": bot_role.id, "type": 0, "allow": int(Perm.VIEW_CHANNEL)},
        {"id": moderator_role.id, "type": 0, "allow": int(Perm.VIEW_CHANNEL)},
    ]
    digest = emu.create_channel(guild.id, "digest", "text", topic="Admin digest",
                                permission_overwrites=[dict(o) for o in staff_only])
    modlog = emu.create_channel(guild.id, "mod-log", "text", topic="Moderation log",
                                permission_overwrites=[dict(o) for o in staff_only])
    moderator = emu.create_member(guild.id, username="mod_maya",
                                   roles=[moderator_role.id])
    members = [moderator.user_id]
    for name in ("alice", "bob", "carol"):
        members.append(emu.create_member(guild.id, username=name).user_id)
    emu.create_member(guild.id, bot.user.id, roles=[bot_role.id])
    community = Community(
        guild_id=guild.id,
        forum_channel_id=forum.id,
        text_channel_id=text.id,
        digest_channel_id=digest.id,
        modlog_channel_id=modlog.id,
        everyone_role_id=guild.id,
        moderator_role_id=moderator_role.id,
        bot_role_id=bot_role.id,
        owner_id=owner.id,
        moderator_id=moderator.user_id,
        member_ids=members,
        bot_user_id=bot.user.id,
        application_id=bot.application.id,
        token=bot.token,
        tag_ids={str(t["name"]): int(t["id"]) for t in forum.available_tags},
    )
    return community
