"""The server-rendered pages: recent conversations, each post's conversation, the sitemap, and
what they need (styles, avatars, robots.txt). Readable without JavaScript."""

from __future__ import annotations

import functools
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web

from bot.web.api import CACHE_CONTROL, SITE, excerpt, post_at_url
from bot.web.conversation import BadCursor, Conversation, iso
from bot.web.http import Built, Problem, answer
from bot.web.rendering import render_template
from bot.web.site import Listings, Site

SITE_NAME = "Community conversations"
LANGUAGE = "en"
HTML = "text/html; charset=utf-8"
PAGE_COMMENTS = 100  # top-level comments per page: a huge thread is read in pages
PAGE_POSTS = 30
IMMUTABLE = "public, max-age=31536000, immutable"


def routes() -> web.RouteTableDef:
    table = web.RouteTableDef()
    table.get("/")(index)
    table.get(r"/posts/{post_id:\d{1,18}}")(post_page)
    table.get("/conversation")(conversation_at_url)
    table.get("/sitemap.xml")(sitemap)
    table.get("/robots.txt")(robots)
    table.get(r"/static/{name:site\.css|icon\.svg}")(static_file)
    table.get(r"/avatars/{hue:\d{1,3}}-{letter:[0-9a-f]{1,6}}.svg")(avatar)
    return table


def readable(moment: datetime, *, time: bool = True) -> str:
    """A date as readers read it, in UTC (the page cannot know the reader's zone)."""
    day = f"{moment.day} {moment:%b %Y}"
    return f"{day}, {moment:%H:%M} UTC" if time else day


def _page(site: Site, name: str, **context: Any) -> str:
    return render_template(
        name,
        site_name=SITE_NAME,
        language=LANGUAGE,
        iso=iso,
        readable=readable,
        page_url=context.pop("page_url", site.base_url + "/"),
        canonical=context.pop("canonical", None),
        description=context.pop("description", "Conversations from the community's Discord."),
        og_type=context.pop("og_type", "website"),
        image=context.pop("image", None),
        **context,
    )


async def index(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    cursor = request.query.get("cursor", "")
    listings = await site.listings()
    built = site.kept(("index", cursor), lambda: index_page(site, listings, cursor, PAGE_POSTS))
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


def index_page(site: Site, listings: Listings, cursor: str, limit: int) -> Built:
    try:
        posts, next_cursor = listings.page(cursor or None, limit)
    except BadCursor as error:
        raise Problem(400, str(error)) from None
    text = _page(
        site,
        "index.html",
        canonical=site.base_url + "/" if not cursor else None,
        posts=posts,
        excerpts={post.id: excerpt(post.excerpt_html) for post in posts},
        next_cursor=next_cursor,
        earlier=bool(cursor),
    )
    return Built(text.encode(), HTML)


async def post_page(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    post_id = int(request.match_info["post_id"])
    cursor = request.query.get("cursor", "")
    conversation = await site.conversation(post_id)
    if conversation is None:
        raise Problem(404, f"there is no post {post_id}")
    built = site.kept(
        ("page", post_id, cursor),
        lambda: conversation_page(site, conversation, cursor, PAGE_COMMENTS),
    )
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


async def conversation_at_url(request: web.Request) -> web.StreamResponse:
    """`/conversation?url=<a post's address>`: to the post's page here. A site links it in a
    `<noscript>` beside the embed, knowing the post's address but not its id here, so that
    readers without JavaScript can still read the conversation."""
    post_id = await post_at_url(request)
    # Relative: the reader's browser resolves it against the address it came by.
    raise web.HTTPSeeOther(
        f"/posts/{post_id}", headers={"Cache-Control": request.app[CACHE_CONTROL]}
    )


def conversation_page(site: Site, conversation: Conversation, cursor: str, limit: int) -> Built:
    try:
        comments, next_cursor = conversation.page(cursor or None, limit)
    except BadCursor as error:
        raise Problem(400, str(error)) from None
    post = conversation.post
    page_url = f"{site.base_url}/posts/{post.id}"
    summary = excerpt(post.content_html)
    text = _page(
        site,
        "post.html",
        # The post's own address is where search engines should send readers: with the embed,
        # the conversation shows there too.
        canonical=post.url or page_url,
        page_url=page_url,
        description=summary or f"The conversation about {post.title}",
        og_type="article",
        image=post.image_url if (post.image_url or "").startswith("https://") else None,
        post=post,
        excerpt=summary,
        thread_url=site.thread_url(post.thread_id),
        feed_url=f"{site.base_url}/api/v1/posts/{post.id}/comments.atom",
        count=conversation.count,
        comments=comments,
        next_cursor=next_cursor,
        earlier=bool(cursor),
    )
    return Built(text.encode(), HTML, last_modified=post.changed_at)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    site = request.app[SITE]
    text = _page(site, "error.html", status=status, message=message)
    return web.Response(
        text=text, status=status, content_type="text/html", headers={"Cache-Control": "no-store"}
    )


async def sitemap(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    listings = await site.listings()
    built = site.kept(("sitemap",), lambda: sitemap_body(site, listings))
    return answer(request, built, cache_control=request.app[CACHE_CONTROL])


def sitemap_body(site: Site, listings: Listings) -> Built:
    # A sitemap holds at most 50,000 addresses: the most recently active posts.
    posts = listings.newest_first[:49_999]
    text = render_template("sitemap.xml", base_url=site.base_url, posts=posts, iso=iso)
    return Built(text.encode(), "application/xml; charset=utf-8")


async def robots(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE]
    text = f"User-agent: *\nDisallow: /api/\nAllow: /\n\nSitemap: {site.base_url}/sitemap.xml\n"
    return answer(
        request,
        Built(text.encode(), "text/plain; charset=utf-8"),
        cache_control="public, max-age=3600",
    )


STATIC_TYPES = {"site.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}


async def static_file(request: web.Request) -> web.StreamResponse:
    built = static_built(request.match_info["name"])
    return answer(request, built, cache_control="public, max-age=3600")


@functools.cache
def static_built(name: str) -> Built:
    """One of the files in `static/` (only those in STATIC_TYPES: the route allows no others)."""
    content = resources.files("bot.web").joinpath("static", name).read_bytes()
    return Built(content, STATIC_TYPES[name])


async def avatar(request: web.Request) -> web.StreamResponse:
    built = avatar_picture(request.match_info["hue"], request.match_info["letter"])
    if built is None:
        raise Problem(404, "there is no such picture")
    return answer(request, built, cache_control=IMMUTABLE)


def avatar_picture(hue_text: str, letter_hex: str) -> Built | None:
    """The picture at /avatars/{hue}-{letter}.svg: an initial on a colour."""
    hue, code = int(hue_text), int(letter_hex, 16)
    if hue >= 360 or code > 0x10FFFF or not chr(code).isalnum():
        return None
    return _avatar(hue, code)


@functools.lru_cache(maxsize=1024)
def _avatar(hue: int, code: int) -> Built:
    letter = chr(code).replace("&", "&amp;").replace("<", "&lt;")
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="32" fill="hsl({hue} 45% 42%)"/>'
        '<text x="32" y="43" font-size="30" text-anchor="middle" fill="#fff" '
        f'font-family="system-ui, sans-serif">{letter}</text></svg>'
    )
    return Built(svg.encode(), "image/svg+xml")
