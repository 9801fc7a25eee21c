"""How the web side answers over HTTP: cached bodies with validators, compression, errors,
security headers, CORS and per-client limits."""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from aiohttp import web

from bot.log import get_logger

log = get_logger(__name__)

# Bodies smaller than this are not worth compressing.
COMPRESS_FROM = 1024
MAX_URL_LENGTH = 4096

PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"


@dataclass(slots=True)
class Built:
    """A response body made once and served until the data changes."""

    body: bytes
    content_type: str
    last_modified: datetime | None = None
    cacheable: bool = True
    etag: str = ""
    _gzipped: bytes | None = field(default=None, repr=False)

    _headers: dict[bool, dict[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # From the content itself: every server holding the same data gives the same tag, and
        # any change a reader could see (an edit, a reaction, a removal) changes it.
        self.etag = hashlib.blake2b(self.body, digest_size=12).hexdigest()

    def headers(self, gzipped: bool, cache_control: str) -> dict[str, str]:
        """The validators and caching headers, formatted once per body and encoding."""
        made = self._headers.get(gzipped)
        if made is None or made.get("Cache-Control", cache_control) != cache_control:
            made = {"ETag": f'"{self.etag}-gz"' if gzipped else f'"{self.etag}"'}
            made["Vary"] = "Accept-Encoding"
            if self.cacheable:
                made["Cache-Control"] = cache_control
            if self.last_modified is not None:
                made["Last-Modified"] = format_datetime(self.last_modified, usegmt=True)
            self._headers[gzipped] = made
        return made

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def json_body(data: Any, **kwargs: Any) -> Built:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Built(text.encode(), "application/json; charset=utf-8", **kwargs)


def answer(request: web.Request, built: Built, *, cache_control: str) -> web.StreamResponse:
    """The response for `built`: 304 when the client holds it, compressed when it may be."""
    gzip_wanted = len(built.body) >= COMPRESS_FROM and "gzip" in request.headers.get(
        "Accept-Encoding", ""
    )
    headers = dict(built.headers(gzip_wanted, cache_control))
    if _client_holds(request, built):
        return web.Response(status=304, headers=headers)
    if gzip_wanted:
        headers["Content-Encoding"] = "gzip"
        body = built.gzipped
    else:
        body = built.body
    headers["Content-Type"] = built.content_type
    return web.Response(body=body, headers=headers)


def _client_holds(request: web.Request, built: Built) -> bool:
    matches = request.headers.get("If-None-Match")
    if matches is not None:
        if matches.strip() == "*":
            return True
        tags = {tag.strip().removeprefix("W/").strip('"') for tag in matches.split(",")}
        return built.etag in tags or f"{built.etag}-gz" in tags
    since = request.headers.get("If-Modified-Since")
    if since and built.last_modified is not None:
        try:
            held = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return held.tzinfo is not None and built.last_modified.replace(microsecond=0) <= held
    return False


class Problem(Exception):
    """A request the server will not answer, with the status and a short reason for the
    reader."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


ErrorPage = Callable[[web.Request, int, str], web.Response]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


Answered = Callable[[web.Request, web.StreamResponse, float], None]

# Sent with every answer; a page's policy allows its own styles and pictures, nothing else.
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


def front_door(
    *,
    error_page: ErrorPage,
    allowed_origins: tuple[str, ...],
    limits: ClientLimits | None,
    answered: Answered,
) -> Any:
    """What every request goes through, as one middleware (each layer costs time on every
    request): the client's rate, CORS for the allowed origins on the API, errors as short JSON
    or HTML with the right status (never a traceback: the log keeps it for the operator), the
    security headers, and `answered(request, response, seconds)` for the metrics."""
    any_origin = "*" in allowed_origins

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        path = request.path
        on_api = path.startswith("/api/")
        origin = request.headers.get("Origin") if on_api else None
        cors = origin is not None and (any_origin or origin in allowed_origins)
        if on_api and request.method == "OPTIONS":
            response: web.StreamResponse = _preflight(cors)
        else:
            response = await _answer(request, handler, error_page, limits)
        headers = response.headers
        if cors:
            headers["Access-Control-Allow-Origin"] = "*" if any_origin else origin or ""
            headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
        if on_api:
            headers.add("Vary", "Origin")
        if "Content-Security-Policy" not in headers:
            is_page = headers.get("Content-Type", "").startswith("text/html")
            headers["Content-Security-Policy"] = PAGE_POLICY if is_page else DATA_POLICY
        headers.update(_ALWAYS)
        answered(request, response, time.perf_counter() - started)
        return response

    return middleware


def _preflight(cors: bool) -> web.Response:
    if not cors:
        return web.Response(status=403)
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "GET",
            "Access-Control-Allow-Headers": "If-None-Match",
            "Access-Control-Max-Age": "86400",
        },
    )


async def _answer(
    request: web.Request, handler: Handler, page: ErrorPage, limits: ClientLimits | None
) -> web.StreamResponse:
    if len(request.raw_path) > MAX_URL_LENGTH:
        return _error(request, page, 414, "the address is too long")
    try:
        if limits is not None and request.path not in UNLIMITED_PATHS:
            wait = limits.take(request.remote or "unknown")
            if wait > 0:
                seconds = str(max(1, round(wait + 0.5)))
                raise Problem(429, "too many requests: slow down", {"Retry-After": seconds})
        return await handler(request)
    except Problem as problem:
        response = _error(request, page, problem.status, problem.message)
        response.headers.update(problem.headers)
        return response
    except web.HTTPException as error:
        if error.status < 400:
            raise
        reason = {
            404: "there is nothing at this address",
            405: f"{request.method} is not allowed here",
        }.get(error.status, error.reason.lower())
        response = _error(request, page, error.status, reason)
        if error.status == 405 and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    except TimeoutError:
        log.warning("web request timed out", path=request.path)
        return _error(request, page, 503, "the server is busy: try again shortly")
    except Exception:
        log.exception("web request failed", path=request.path)
        return _error(request, page, 500, "something went wrong on the server")


def _error(request: web.Request, page: ErrorPage, status: int, message: str) -> web.Response:
    if wants_json(request):
        return web.json_response(
            {"error": {"status": status, "message": message}},
            status=status,
            headers={"Cache-Control": "no-store"},
        )
    return page(request, status, message)


class ClientLimits:
    """A token bucket per client address: `per_minute` requests a minute, in bursts of up to a
    sixth of that (at least 10)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(10.0, per_minute / 6)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)

    def take(self, address: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self._clock()
        tokens, at = self._buckets.get(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[address] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[address] = (tokens - 1, now)
        if len(self._buckets) > 10_000:
            self._forget_full(now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        # A bucket refilled to the brim is the same as no bucket: memory stays bounded by the
        # clients active in the last burst/rate seconds.
        for address, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.burst:
                del self._buckets[address]


UNLIMITED_PATHS = frozenset({"/healthz", "/metrics"})
