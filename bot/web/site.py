"""The site's read model: posts and conversations read from the store, kept until it changes.

SQLite's data_version tells when another connection (the bot, an import) committed; until then
every request is answered from memory. A check costs one query, made at most every
`CHECK_SECONDS`, so a change reaches readers within that time.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.clock import to_db
from bot.discord_helpers import jump_url
from bot.settings import PublishMode, Settings
from bot.store.public import (
    CommentRow,
    PostListing,
    channel_names,
    discord_names,
    get_public_post,
    list_comment_rows,
    list_posts,
    role_names,
    thread_titles,
)
from bot.store.public import Reader as StoreReader
from bot.web.conversation import (
    Conversation,
    Links,
    Rendered,
    avatar_hue,
    build_conversation,
    decode_cursor,
    encode_cursor,
)
from bot.web.http import Built
from bot.web.markdown import (
    Names,
    clean_web_html,
    discord_to_html,
    discord_to_text,
    web_html_to_text,
)
from bot.web.urls import url_key

CHECK_SECONDS = 0.25
READ_TIMEOUT_SECONDS = 10.0
CONVERSATIONS_KEPT = 256  # posts whose conversation stays built in memory
RESPONSES_KEPT = 4096

_USER_MENTION = re.compile(r"<@!?(\d{1,20})>")
_ROLE_MENTION = re.compile(r"<@&(\d{1,20})>")
_CHANNEL_MENTION = re.compile(r"<#(\d{1,20})>")

T = TypeVar("T")


class Kept(Generic[T]):
    """A least-recently-used map of bounded size."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[object, T] = OrderedDict()

    def get(self, key: object) -> T | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: object, item: T) -> None:
        self._items[key] = item
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


@dataclass(frozen=True, slots=True)
class Listings:
    """Every post, by latest activity, and how to find one by its address on the site."""

    newest_first: tuple[PostListing, ...]
    by_id: dict[int, PostListing]
    by_url: dict[str, int]
    _keys: tuple[tuple[str, int], ...]  # (activity, id), oldest first

    def page(self, cursor: str | None, limit: int) -> tuple[list[PostListing], str | None]:
        """`limit` posts less recently active than `cursor`, most active first."""
        end = len(self._keys)
        if cursor is not None:
            end = bisect.bisect_left(self._keys, decode_cursor(cursor))
        start = max(0, end - limit)
        page = [self.by_id[post_id] for _, post_id in reversed(self._keys[start:end])]
        if start == 0 or not page:
            return page, None
        return page, encode_cursor(page[-1].last_activity_at, page[-1].id)


def _listings(posts: list[PostListing]) -> Listings:
    ordered = sorted(posts, key=lambda post: (post.last_activity_at, post.id))
    by_url: dict[str, int] = {}
    for post in ordered:
        key = url_key(post.url) if post.url else None
        if key is not None:
            by_url.setdefault(key, post.id)
    return Listings(
        newest_first=tuple(reversed(ordered)),
        by_id={post.id: post for post in ordered},
        by_url=by_url,
        _keys=tuple((to_db(post.last_activity_at), post.id) for post in ordered),
    )


class Site:
    def __init__(self, store: StoreReader, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.base_url = settings.site_url
        self.consent_required = settings.web_publish == PublishMode.CONSENTED
        self.version = -1
        self._checked_at = float("-inf")
        self._checking = False
        self._listings: Listings | None = None
        self._conversations: Kept[Conversation] = Kept(CONVERSATIONS_KEPT)
        self._responses: Kept[Built] = Kept(RESPONSES_KEPT)
        self._building: dict[object, asyncio.Future[Any]] = {}

    async def refresh(self) -> None:
        """Forget what was read if the database changed since (checked at most every
        CHECK_SECONDS). While one request checks, the others answer from what is held rather
        than queue behind it: a change reaches them a moment later, never a wait."""
        if self._checking or time.monotonic() - self._checked_at < CHECK_SECONDS:
            return
        self._checking = True
        try:
            version = await self.store.data_version()
        finally:
            self._checking = False
        self._checked_at = time.monotonic()
        if version != self.version:
            self.version = version
            self._listings = None
            self._conversations.clear()
            self._responses.clear()

    def kept(self, key: tuple[object, ...], build: Callable[[], Built]) -> Built:
        """The response for `key` as built since the database last changed, else `build()`."""
        key = (self.version, *key)
        built = self._responses.get(key)
        if built is None:
            built = build()
            self._responses.put(key, built)
        return built

    async def once(self, key: object, build: Callable[[], Awaitable[T]]) -> T:
        """`build()` run once for concurrent callers asking for the same `key`."""
        running = self._building.get(key)
        if running is not None:
            result: T = await asyncio.shield(running)
            return result
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            # Reading is the only part of an answer that can stall (a busy disk, a locked
            # database): bounded here rather than around every request.
            async with asyncio.timeout(READ_TIMEOUT_SECONDS):
                result = await build()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters may be none
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._building.pop(key, None)

    async def listings(self) -> Listings:
        await self.refresh()
        if self._listings is None:
            version = self.version

            async def read() -> Listings:
                return _listings(
                    await list_posts(self.store, consent_required=self.consent_required)
                )

            listings = await self.once(("listings", version), read)
            if version == self.version:
                self._listings = listings
            return listings
        return self._listings

    async def post_for_url(self, url: str) -> int | None:
        key = url_key(url)
        return None if key is None else (await self.listings()).by_url.get(key)

    async def conversation(self, post_id: int) -> Conversation | None:
        await self.refresh()
        kept = self._conversations.get(post_id)
        if kept is not None:
            return kept
        version = self.version
        conversation = await self.once(
            ("conversation", post_id, version), lambda: self._read(post_id)
        )
        if conversation is not None and version == self.version:
            self._conversations.put(post_id, conversation)
        return conversation

    async def _read(self, post_id: int) -> Conversation | None:
        post = await get_public_post(self.store, post_id)
        if post is None:
            return None
        rows = await list_comment_rows(self.store, post_id, consent_required=self.consent_required)
        bodies = [row.body for row in rows if row.public and row.source == "discord"]

        def mentioned(pattern: re.Pattern[str]) -> list[int]:
            return [int(m) for body in bodies for m in pattern.findall(body)]

        channel_ids = mentioned(_CHANNEL_MENTION)
        names = Names(
            users=await discord_names(self.store, mentioned(_USER_MENTION)),
            roles=await role_names(self.store, mentioned(_ROLE_MENTION)),
            # A post's thread shows as the post's title; other channels by their own names.
            channels=await channel_names(self.store, channel_ids)
            | await thread_titles(self.store, channel_ids),
        )

        def render(row: CommentRow) -> Rendered:
            if row.source != "discord":
                return _render_web(row.body)
            return _render_discord(
                row.body,
                _names_in(row.body, _USER_MENTION, names.users),
                _names_in(row.body, _ROLE_MENTION, names.roles),
                _names_in(row.body, _CHANNEL_MENTION, names.channels),
            )

        links = Links(message=self._message_url, avatar=self._avatar_url)
        return await asyncio.to_thread(build_conversation, post, rows, render, links)

    def thread_url(self, thread_id: int | None) -> str | None:
        guild_id = self.settings.guild_id
        return None if guild_id is None or thread_id is None else jump_url(guild_id, thread_id)

    def _message_url(self, row: CommentRow) -> str | None:
        guild_id = self.settings.guild_id
        if guild_id is None or row.thread_id is None or row.discord_message_id is None:
            return None
        return jump_url(guild_id, row.thread_id, row.discord_message_id)

    def _avatar_url(self, row: CommentRow) -> str:
        initial = next((ch for ch in row.author_name if ch.isalnum()), "?").upper()[0]
        hue = avatar_hue(row.source, row.author_key)
        return f"/avatars/{hue}-{ord(initial):x}.svg"


_Named = tuple[tuple[int, str], ...]


def _names_in(body: str, pattern: re.Pattern[str], names: Mapping[int, str]) -> _Named:
    """The names of what `body` mentions, in order: part of the key its rendering is kept by."""
    ids = dict.fromkeys(int(m) for m in pattern.findall(body))
    return tuple((id_, names[id_]) for id_ in ids if id_ in names)


# Bodies are rendered once and kept across database changes: an edit changes the body, and so
# the key. Mentioned names are part of the key, so a renamed member or role shows its new name.
@functools.lru_cache(maxsize=20_000)
def _render_discord(body: str, users: _Named, roles: _Named, channels: _Named) -> Rendered:
    names = Names(users=dict(users), roles=dict(roles), channels=dict(channels))
    return Rendered(html=discord_to_html(body, names), text=discord_to_text(body, names))


@functools.lru_cache(maxsize=20_000)
def _render_web(body: str) -> Rendered:
    return Rendered(html=clean_web_html(body), text=web_html_to_text(body))
