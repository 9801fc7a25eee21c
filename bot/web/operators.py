"""What operators watch: /healthz for load balancers and /metrics for Prometheus."""

from __future__ import annotations

import bisect
import hmac
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from bot.client import Threadbridge
from bot.store.health import store_numbers
from bot.store.posts import count_posts
from bot.web.api import SITE
from bot.web.http import Problem


@dataclass(frozen=True, slots=True)
class BotState:
    """How the bot is doing, when the web side runs inside it (`threadbridge run`)."""

    gateway_problem: Callable[[], str | None]  # why the gateway is not usable, or None
    writer_waiting: Callable[[], int]
    writer_lag_seconds: Callable[[], float]


def bot_state(bot: Threadbridge) -> BotState:
    writer = bot.services.writer

    def gateway_problem() -> str | None:
        if bot.is_closed():
            return "the bot is stopping"
        if not bot.is_ready():
            return "the bot is not connected to Discord's gateway"
        health = writer.health
        if not health.ok:
            return f"the database refuses the bot's writes: {health.error}"
        return None

    return BotState(
        gateway_problem=gateway_problem,
        writer_waiting=lambda: writer.waiting,
        writer_lag_seconds=lambda: writer.lag_seconds,
    )


BOT: web.AppKey[BotState | None] = web.AppKey("bot_state")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
METRICS_TOKEN: web.AppKey[str | None] = web.AppKey("metrics_token")


def routes() -> web.RouteTableDef:
    table = web.RouteTableDef()
    table.get("/healthz")(healthz)
    table.get("/metrics")(metrics)
    return table


async def healthz(request: web.Request) -> web.Response:
    reasons = []
    try:
        await count_posts(request.app[SITE].store)  # fails when the database cannot be read
    except sqlite3.Error as error:
        reasons.append(f"the database cannot be read: {error}")
    bot = request.app[BOT]
    if bot is not None and (problem := bot.gateway_problem()) is not None:
        reasons.append(problem)
    return web.json_response(
        {"status": "unavailable" if reasons else "ok", "reasons": reasons},
        status=503 if reasons else 200,
        headers={"Cache-Control": "no-store"},
    )


# Upper bounds of the latency histogram's buckets, in seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics(Collector):
    """The web requests counted as they are answered, and the store's and the bot's numbers
    read at each scrape.

    Requests are counted in plain dictionaries (one event loop writes them) and handed to
    prometheus-client only at a scrape: its own counters take a lock on every request."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._answers: dict[tuple[str, int], int] = {}
        # route -> [count per bucket..., count beyond the last, sum of seconds]
        self._latency: dict[str, list[float]] = {}
        self._numbers: dict[str, dict[str, int]] = {}
        self._bot: BotState | None = None
        self.registry.register(self)

    def count(self, request: web.Request, response: web.StreamResponse, seconds: float) -> None:
        """Counts an answer by its route (the pattern, never the address asked for) and status."""
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        key = (route, response.status)
        self._answers[key] = self._answers.get(key, 0) + 1
        timings = self._latency.get(route)
        if timings is None:
            timings = self._latency[route] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        timings[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        timings[-1] += seconds

    def _requests(self) -> Iterator[Metric]:
        answers = CounterMetricFamily(
            "threadbridge_web_requests",
            "Web requests answered, by route and status",
            labels=["route", "status"],
        )
        for (route, status), answered in sorted(self._answers.items()):
            answers.add_metric([route, str(status)], answered)
        yield answers
        latency = HistogramMetricFamily(
            "threadbridge_web_request_seconds",
            "Time to answer a web request, by route",
            labels=["route"],
        )
        for route, timings in sorted(self._latency.items()):
            cumulative, buckets = 0.0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), timings, strict=False):
                cumulative += count
                buckets.append((floatToGoString(bound), cumulative))
            latency.add_metric([route], buckets, sum_value=timings[-1])
        yield latency

    def collect(self) -> Iterator[Metric]:
        yield from self._requests()
        numbers = self._numbers
        comments = GaugeMetricFamily(
            "threadbridge_comments", "Comments in the store, by status", labels=["status"]
        )
        for status, count in sorted(numbers.get("comments", {}).items()):
            comments.add_metric([status], count)
        yield comments
        mirrors = GaugeMetricFamily(
            "threadbridge_mirrors", "Posts by the state of their Discord thread", labels=["state"]
        )
        for state, count in sorted(numbers.get("mirrors", {}).items()):
            mirrors.add_metric([state], count)
        yield mirrors
        yield GaugeMetricFamily(
            "threadbridge_feed_errors",
            "Failed polls in a row, summed over the feeds",
            value=numbers.get("feeds", {}).get("errors", 0),
        )
        yield CounterMetricFamily(
            "threadbridge_discord_rate_limited",
            "429 answers from Discord",
            value=numbers.get("discord", {}).get("rate_limited", 0),
        )
        if self._bot is not None:
            yield GaugeMetricFamily(
                "threadbridge_writer_waiting_events",
                "Discord events waiting to be stored",
                value=self._bot.writer_waiting(),
            )
            yield GaugeMetricFamily(
                "threadbridge_catchup_lag_seconds",
                "How long the comment writer has had events waiting without catching up",
                value=self._bot.writer_lag_seconds(),
            )

    async def render(self, request: web.Request) -> bytes:
        self._numbers = await store_numbers(request.app[SITE].store)
        self._bot = request.app[BOT]
        return generate_latest(self.registry)


async def metrics(request: web.Request) -> web.Response:
    token = request.app[METRICS_TOKEN]
    if token is None:
        # Off unless the operator gave a token: the public listener tells nothing.
        raise Problem(404, "there is nothing at this address")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        raise Problem(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    body = await request.app[METRICS].render(request)
    return web.Response(
        body=body,
        headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
            "Cache-Control": "no-store",
        },
    )
