"""Mirroring: each post becomes one Discord thread, exactly once, with the web comments it has.

A round ties the parts together: the posts waiting are given their threads (threads.py), then
stale starters are refreshed, and web comments are brought up to date in the threads
(web_comments.py). One round runs at a time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.clock import utcnow
from bot.log import event_context
from bot.mirror.threads import NO_MENTIONS, MirrorChannel, PostThreads, failure_notice
from bot.mirror.web_comments import WebComments
from bot.store import Store
from bot.store.mirrors import get_mirror, list_mirrors, mark_failure_reported, posts_to_mirror
from bot.store.models import Mirror, MirrorState, Post
from bot.store.posts import get_post

PAGE_OF_POSTS = 50


@dataclass(slots=True)
class MirrorRound:
    """What one pass of the mirroring job did."""

    mirrored: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    comments_posted: int = 0
    comments_updated: int = 0
    starters_refreshed: int = 0


class Mirroring:
    """Mirrors posts from the store into the mirror channel. One round at a time."""

    def __init__(self, client: discord.Client, store: Store, *, channel_id: int) -> None:
        self.store = store
        self.threads = PostThreads(client, store, channel_id=channel_id)
        self.web_comments = WebComments(client, store)
        self._lock = asyncio.Lock()

    async def run_once(self, *, now: datetime | None = None) -> MirrorRound:
        """Mirror what is waiting, post new web comments, apply changes made in the store."""
        async with self._lock:
            result = MirrorRound()
            channel = await self.threads.channel()
            # Page through the waiting posts: each is mirrored or failed (and then waits for its
            # retry time), so a page never comes back and a large import empties in one round.
            tried: set[int] = set()
            while page := [
                (post, mirror)
                for post, mirror in await posts_to_mirror(
                    self.store, now or utcnow(), limit=len(tried) + PAGE_OF_POSTS
                )
                if post.id not in tried
            ]:
                for post, mirror in page:
                    tried.add(post.id)
                    with event_context(post_id=post.id, channel_id=channel.id):
                        await self._mirror_one(channel, post, mirror, result)
            await self.threads.refresh_stale_starters(channel, result)
            await self.web_comments.apply_changes(channel, result)
            await self.web_comments.post_waiting(channel, result)
            return result

    async def mirror_post_now(self, post: Post) -> Mirror | None:
        """Mirror one post at once (an admin's retry)."""
        async with self._lock:
            result = MirrorRound()
            channel = await self.threads.channel()
            mirror = await get_mirror(self.store, post.id)
            with event_context(post_id=post.id, channel_id=channel.id):
                await self._mirror_one(channel, post, mirror, result)
            return await get_mirror(self.store, post.id)

    async def _mirror_one(
        self, channel: MirrorChannel, post: Post, mirror: Mirror | None, result: MirrorRound
    ) -> None:
        thread = await self.threads.ensure_thread(channel, post, mirror, result)
        if thread is not None:
            await self.web_comments.post_comments(channel, post, thread, result)
            await self.threads.lock_if_closed(post, thread, result)

    async def report_failures(self, modlog: discord.abc.Messageable | None) -> int:
        """Tell the mod-log once about each mirror that failed or broke."""
        reported = 0
        for mirror in await list_mirrors(self.store, (MirrorState.FAILED, MirrorState.BROKEN)):
            if mirror.failure_reported:
                continue
            post = await get_post(self.store, mirror.post_id)
            if post is None:
                continue
            if modlog is not None:
                await modlog.send(failure_notice(post, mirror), allowed_mentions=NO_MENTIONS)
            await mark_failure_reported(self.store, mirror.post_id)
            reported += 1
        return reported
