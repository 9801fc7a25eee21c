"""Pytest plugin: a community site serving its RSS feed over real HTTP on 127.0.0.1."""

import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime
from html import escape

import pytest
from aiohttp import web


@dataclass
class Site:
    entries: list[dict] = field(default_factory=list)
    fail_with: int | None = None
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def body(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(e['title'])}</title><link>https://site.example/{e['guid']}</link>"
            f'<guid isPermaLink="false">{e["guid"]}</guid>'
            f"<pubDate>{format_datetime(e['date'])}</pubDate>"
            f"<description>{escape(e.get('text', 'Body'))}</description></item>"
            for e in reversed(self.entries)
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title>'
            f"<link>https://site.example/</link>{items}</channel></rss>"
        ).encode()


@pytest.fixture
async def site():
    state = Site()

    async def feed(request: web.Request) -> web.Response:
        state.requests.append(dict(request.headers))
        if state.fail_with:
            return web.Response(status=state.fail_with, text="broken")
        body = state.body()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
        )

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    port = server._server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/feed"
    yield state
    await runner.cleanup()


