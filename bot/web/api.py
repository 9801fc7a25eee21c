"""The JSON API (v1): posts, their conversations, comment counts and a feed of new comments.

What each answer holds is described by `openapi.json` beside this file.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from aiohttp import web

from bot.store.public import PostListing
from bot.web.conversation import BadCursor, Conversation, iso
from bot.web.http import Built, Problem, answer, json_body
from bot.web.markdown import web_html_to_text
from bot.web.rendering import render_template
from bot.web.site import Listings, Site

SITE: web.AppKey[Site] = web.AppKey("site", Site)
CACHE_CONTROL: web.AppKey[str] = web.AppKey("cache_control", str)

MAX_URL = 2048
MAX_COUNT_URLS = 100
EXCERPT_CHARACTERS = 280
FEED_ENTRIES = 50


def routes() -> web.RouteTableDef:
    table = web.RouteTableDef()
    table.get("/api/v1/comments")(comments_by_url)
    table.get(r"/api/v1/posts/{post_id:\d{1,18}}/comments")(comments_by_id)
    table.get(r"/api/v1/posts/{post_id:\d{1,18}}/comments.atom")(comments_feed)
    table.get("/api/v1/posts")(posts)
    table.get("/api/v1/counts")(counts)
    table.get("/api/v1/openapi.json")(openapi)
    return table


async def comments_by_url(request: web.Request) -> web.StreamResponse:
    return await _comments(request, await post_at_url(request))


async def post_at_url(request: web.Request) -> int:
    """The id of the post whose address is the request's `url` (matched as the API matches
    addresses); a 400 or 404 Problem otherwise."""
    url = _one(request, "url", required=True)
    if len(url) > MAX_URL:
        raise Problem(400, f"url is longer than {MAX_URL} characters")
    post_id = await request.app[SITE].post_for_url(url)
    if post_id is None:
        raise Problem(404, "there is no post with this address")
    return post_id


async def comments_by_id(request: web.Request) -> web.StreamResponse:
    return await _comments(request, int(request.match_info["post_id"]))


async def _comments(request: web.Request, post_id: int) -> web.StreamResponse:
    site = request.app[SITE]
    cursor = _one(request, "cursor")
    limit = _limit(request, default=50, most=200)
    conversation = await site.conversation(post_id)
    listing = (await site.listings()).by_id.get(post_id)
    if conversation is None or listing is None:
        raise Problem(404, f"there is no post {post_id}")
    built = site.kept(
        ("comments", post_id, cursor, limit),
        lambda: comments_page(site, listing, conversation, cursor, limit),
    )
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


def comments_page(
    site: Site, listing: PostListing, conversation: Conversation, cursor: str | None, limit: int
) -> Built:
    try:
        page, next_cursor = conversation.page(cursor or None, limit)
    except BadCursor as error:
        raise Problem(400, str(error)) from None
    body = {
        "post": post_json(site, listing, conversation.count),
        "comments": [comment.as_json(site.base_url) for comment in page],
        "next_cursor": next_cursor,
        "top_level_count": len(conversation.top),
    }
    return json_body(body, last_modified=conversation.post.changed_at)


async def comments_feed(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    post_id = int(request.match_info["post_id"])
    conversation = await site.conversation(post_id)
    if conversation is None:
        raise Problem(404, f"there is no post {post_id}")
    built = site.kept(("feed", post_id), lambda: comments_feed_body(site, conversation))
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


def comments_feed_body(site: Site, conversation: Conversation) -> Built:
    post = conversation.post
    newest = conversation.newest(FEED_ENTRIES)
    text = render_template(
        "comments.atom",
        post=post,
        page_url=f"{site.base_url}/posts/{post.id}",
        feed_url=f"{site.base_url}/api/v1/posts/{post.id}/comments.atom",
        updated=iso(newest[0].created_at if newest else post.changed_at),
        comments=newest,
        iso=iso,
    )
    return Built(
        text.encode(), "application/atom+xml; charset=utf-8", last_modified=post.changed_at
    )


async def posts(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    cursor = _one(request, "cursor")
    limit = _limit(request, default=20, most=100)
    listings = await site.listings()
    built = site.kept(("posts", cursor, limit), lambda: posts_page(site, listings, cursor, limit))
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


def posts_page(site: Site, listings: Listings, cursor: str, limit: int) -> Built:
    try:
        page, next_cursor = listings.page(cursor or None, limit)
    except BadCursor as error:
        raise Problem(400, str(error)) from None
    return json_body(
        {"posts": [post_json(site, post) for post in page], "next_cursor": next_cursor}
    )


async def counts(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    urls = request.query.getall("url", [])
    if not urls:
        raise Problem(400, "give at least one url")
    if len(urls) > MAX_COUNT_URLS:
        raise Problem(400, f"give at most {MAX_COUNT_URLS} urls")
    if any(len(url) > MAX_URL for url in urls):
        raise Problem(400, f"a url is longer than {MAX_URL} characters")
    listings = await site.listings()
    found: dict[str, int] = {}
    for url in urls:
        post_id = await site.post_for_url(url)
        found[url] = 0 if post_id is None else listings.by_id[post_id].comment_count
    return answer(request, json_body({"counts": found}), cache_control=request.app[CACHE_CONTROL])


async def openapi(request: web.Request) -> web.StreamResponse:
    return answer(request, _document(), cache_control="public, max-age=3600")


@functools.cache
def _document() -> Built:
    text = resources.files("bot.web").joinpath("openapi.json").read_bytes()
    return Built(text, "application/json; charset=utf-8")


def post_json(site: Site, post: PostListing, count: int | None = None) -> dict[str, Any]:
    """A post as the API shows it (`count`: its conversation's, when one was read)."""
    return {
        "id": post.id,
        "title": post.title,
        "url": post.url,
        "excerpt": excerpt(post.excerpt_html),
        "published_at": None if post.published_at is None else iso(post.published_at),
        "last_activity_at": iso(post.last_activity_at),
        "comment_count": post.comment_count if count is None else count,
        "closed": post.closed,
        "thread_url": site.thread_url(post.thread_id),
        "page_url": f"{site.base_url}/posts/{post.id}",
    }


@functools.lru_cache(maxsize=4096)
def excerpt(html: str) -> str:
    """The start of a post's text, cut at a word."""
    text = " ".join(web_html_to_text(html).split())
    if len(text) <= EXCERPT_CHARACTERS:
        return text
    cut = text[:EXCERPT_CHARACTERS].rsplit(None, 1)[0].rstrip(",;:.-")
    return f"{cut}…"


def _one(request: web.Request, name: str, *, required: bool = False) -> str:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise Problem(400, f"give {name} once")
    if not values:
        if required:
            raise Problem(400, f"{name} is required")
        return ""
    return values[0]


def _limit(request: web.Request, *, default: int, most: int) -> int:
    text = _one(request, "limit")
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise Problem(400, f"limit must be a whole number from 1 to {most}")
    return int(text)
