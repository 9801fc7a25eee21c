"""The web application and its server: `threadbridge serve`, and the listener inside `run`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from bot.log import get_logger
from bot.settings import Settings
from bot.store.database import ReadStore
from bot.store.public import Reader
from bot.web import api, embed, operators, pages
from bot.web.http import ClientLimits, front_door
from bot.web.site import Site

log = get_logger(__name__)

# Requests carry no bodies: anything bigger than this is refused before it is read.
MAX_BODY_BYTES = 1024
KEEPALIVE_SECONDS = 15.0


def build_app(
    store: Reader, settings: Settings, *, bot: operators.BotState | None = None
) -> web.Application:
    metrics = operators.Metrics()
    limits = ClientLimits(settings.web_rate_limit) if settings.web_rate_limit else None
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[
            front_door(
                error_page=pages.error_page,
                allowed_origins=settings.web_allowed_origins,
                limits=limits,
                answered=metrics.count,
            )
        ],
        handler_args={"max_line_size": 8190, "max_field_size": 8190},
    )
    app[api.SITE] = Site(store, settings)
    app[api.CACHE_CONTROL] = (
        f"public, max-age={settings.web_cache_seconds}, "
        f"stale-while-revalidate={settings.web_stale_seconds}"
    )
    app[operators.BOT] = bot
    app[operators.METRICS] = metrics
    token = settings.web_metrics_token
    app[operators.METRICS_TOKEN] = None if token is None else token.get_secret_value()
    app.add_routes(api.routes())
    app.add_routes(pages.routes())
    app.add_routes(embed.routes())
    app.add_routes(operators.routes())
    return app


class WebServer:
    """The application listening on one address until stopped."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS)

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        if self.port == 0:  # any free port (tests): learn which one
            self.port = int(self._runner.addresses[0][1])
        log.info("web server listening", address=f"{self.host}:{self.port}")

    async def stop(self) -> None:
        await self._runner.cleanup()


@contextlib.asynccontextmanager
async def serving(
    settings: Settings, host: str, port: int, *, bot: operators.BotState | None = None
) -> AsyncIterator[WebServer]:
    """The site served from the database, read-only, on host:port until the block ends."""
    async with ReadStore.open(settings.database_path) as store:
        server = WebServer(build_app(store, settings, bot=bot), host, port)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()
