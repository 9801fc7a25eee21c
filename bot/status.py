"""A snapshot of what threadbridge holds, for admins (`/status`) and operators (`db status`)."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.comments.writer import WriterHealth
from bot.store import Store
from bot.store.comments import count_comments
from bot.store.mirrors import count_mirrors_by_state, count_unmirrored_posts
from bot.store.models import CommentStatus, MirrorState
from bot.store.posts import count_posts


@dataclass(frozen=True, slots=True)
class StoreStatus:
    posts: int
    waiting_to_mirror: int
    mirrors: dict[MirrorState, int]
    comments: int
    held_comments: int


async def collect_status(store: Store) -> StoreStatus:
    return StoreStatus(
        posts=await count_posts(store),
        waiting_to_mirror=await count_unmirrored_posts(store),
        mirrors=await count_mirrors_by_state(store),
        comments=await count_comments(store),
        held_comments=await count_comments(store, status=CommentStatus.HELD),
    )


def status_embed(
    status: StoreStatus, *, writes: WriterHealth | None = None, latency_ms: float | None = None
) -> discord.Embed:
    failing = writes is not None and writes.failing_since is not None
    colour = discord.Colour.red() if failing else discord.Colour.blurple()
    embed = discord.Embed(title="threadbridge status", colour=colour)
    embed.add_field(
        name="Posts",
        value=f"{status.posts} stored, {status.waiting_to_mirror} not yet mirrored",
        inline=False,
    )
    mirrors = ", ".join(f"{state.value} {count}" for state, count in status.mirrors.items())
    embed.add_field(name="Mirrors", value=mirrors, inline=False)
    embed.add_field(
        name="Comments",
        value=f"{status.comments} stored, {status.held_comments} waiting for review",
        inline=False,
    )
    if writes is not None:
        embed.add_field(name="Writes", value=writes_line(writes), inline=False)
    if latency_ms is not None:
        embed.set_footer(text=f"Gateway latency {latency_ms:.0f} ms")
    return embed


def writes_line(writes: WriterHealth) -> str:
    if writes.failing_since is None:
        return f"OK ({writes.waiting} event(s) being stored)" if writes.waiting else "OK"
    since = discord.utils.format_dt(writes.failing_since, "f")
    ago = discord.utils.format_dt(writes.failing_since, "R")
    return (
        f"Writes failing since {since} ({ago}): {writes.error}. {writes.waiting} event(s) "
        "wait in memory and are stored once the database takes writes again."
    )
