"""The embed: `/embed.js`, the script a site adds to its post template so that readers see the
post's conversation under it, kept up to date while the page is open (see static/embed.js)."""

from __future__ import annotations

import functools
from importlib import resources

from aiohttp import web

from bot.web.http import Built, answer

# Short: a fixed script reaches every open site within minutes, and the ETag makes the check
# after that a 304.
CACHE_CONTROL = "public, max-age=300"


def routes() -> web.RouteTableDef:
    table = web.RouteTableDef()
    table.get("/embed.js")(embed_script)
    return table


async def embed_script(request: web.Request) -> web.StreamResponse:
    return answer(request, script(), cache_control=CACHE_CONTROL)


@functools.cache
def script() -> Built:
    content = resources.files("bot.web").joinpath("static", "embed.js").read_bytes()
    return Built(content, "text/javascript; charset=utf-8")
