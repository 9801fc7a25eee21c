"""The REST front: routing, auth, faults, rate limits, spec checks and Discord-shaped replies."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .core import Core
from .errors import ApiError
from .faults import FaultRegistry, RestFault
from .journal import Journal, RequestRecord
from .ratelimit import RateLimiter, Verdict
from .state import Application, Attachment, State

if TYPE_CHECKING:
    from .spec import SpecValidator

API_PREFIX = re.compile(r"^/api/v(?:9|10)(/.*)$")
JSON_HEADERS = {"Content-Type": "application/json"}


@dataclass
class Ctx:
    request: web.Request
    core: Core
    params: dict[str, str]
    query: dict[str, str]
    body: Any
    files: list[Attachment]
    app: Application | None

    @property
    def state(self) -> State:
        return self.core.state

    @property
    def bot_id(self) -> int:
        if self.app is None:
            raise ApiError(401, 0, "401: Unauthorized")
        return self.app.bot_user_id

    def json(self) -> dict[str, Any]:
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        return self.body

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("1", "true", "yes")


Reply = tuple[int, Any]
Handler = Callable[[Ctx], Awaitable[Reply]]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    auth: bool = True
    message_create: bool = False
    exempt_global: bool = False
    regex: re.Pattern[str] = field(init=False)
    names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.names = re.findall(r"{(\w+)}", self.template)
        pattern = re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", self.template)
        self.regex = re.compile(f"^{pattern}$")

    def major(self, params: dict[str, str]) -> str:
        for key in ("channel_id", "guild_id"):
            if key in params:
                return params[key]
        if "webhook_id" in params:
            return f"{params['webhook_id']}+{params.get('webhook_token', '')}"
        if "interaction_id" in params:
            return f"{params['interaction_id']}+{params.get('interaction_token', '')}"
        return ""


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, **options: bool) -> None:
        self.routes.append(Route(method, template, handler, **options))

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """Return (route, params, path_known) so a wrong method can answer 405."""
        known = False
        for route in self.routes:
            found = route.regex.match(path)
            if found is None:
                continue
            known = True
            if route.method == method:
                return route, found.groupdict(), True
        return None, {}, known


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    # Built by hand: discord.py only parses JSON when Content-Type is exactly application/json.
    all_headers = dict(headers or {})
    if status == 204 or body is None:
        return web.Response(status=status, headers=all_headers)
    all_headers.update(JSON_HEADERS)
    payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return web.Response(status=status, body=payload, headers=all_headers)


class RestServer:
    def __init__(
        self,
        core: Core,
        router: Router,
        limiter: RateLimiter,
        faults: FaultRegistry,
        journal: Journal,
        validator: SpecValidator | None = None,
    ) -> None:
        self.core = core
        self.router = router
        self.limiter = limiter
        self.faults = faults
        self.journal = journal
        self.validator = validator

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method.upper()
        prefixed = API_PREFIX.match(request.path)
        if prefixed is None:
            return json_response(404, {"message": "404: Not Found", "code": 0})
        path = prefixed.group(1)
        route, params, known = self.router.match(method, path)
        query = dict(request.query)
        if route is None:
            status = 405 if known else 404
            body = {"message": f"{status}: {'Method Not Allowed' if known else 'Not Found'}",
                    "code": 0}
            self._record(method, path, status, None, body, query)
            return json_response(status, body)

        fault = self.faults.take(method, path)
        if fault is not None and not fault.after:
            faulted = await self._apply_fault(request, fault, method, path, query)
            if faulted is not None:
                return faulted

        app = self._authenticate(request)
        if route.auth and app is None:
            body = {"message": "401: Unauthorized", "code": 0}
            self._record(method, path, 401, None, body, query)
            return json_response(401, body)

        token = app.token if app is not None else params.get("webhook_id", "")
        verdict = self.limiter.check(
            token,
            f"{method} {route.template}",
            route.major(params),
            is_message_create=route.message_create,
            exempt_global=route.exempt_global,
        )
        headers = self.limiter.headers(verdict)
        if not verdict.allowed:
            return self._rate_limited(verdict, headers, method, path, query)

        try:
            body, files = await self._read_body(request)
        except ApiError as exc:
            self._record(method, path, exc.status, None, exc.body(), query)
            return json_response(exc.status, exc.body(), headers)
        self._check_spec_request(method, request.path, body)

        ctx = Ctx(request, self.core, params, query, body, files, app)
        try:
            status, reply = await route.handler(ctx)
        except ApiError as exc:
            status, reply = exc.status, exc.body()
        self._record(method, path, status, body, reply, query)
        if fault is not None and fault.after:
            # The request took effect; only the answer is delayed, lost or replaced.
            faulted = await self._apply_fault(request, fault, method, path, query)
            if faulted is not None:
                return faulted
        return json_response(status, reply, headers)

    def _authenticate(self, request: web.Request) -> Application | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bot "):
            return None
        return self.core.state.tokens.get(header[4:])

    async def _apply_fault(
        self, request: web.Request, fault: RestFault, method: str, path: str,
        query: dict[str, str],
    ) -> web.StreamResponse | None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            self._record(method, path, 0, None, None, query)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if fault.status is None:
            return None
        headers: dict[str, str] = {}
        body = fault.body
        if fault.status == 429:
            self.journal.rate_limited += 1
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, round(fault.retry_after))),
                "X-RateLimit-Scope": "global" if fault.is_global else "user",
            }
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            if body is None:
                body = {
                    "message": "You are being rate limited.",
                    "retry_after": fault.retry_after,
                    "global": fault.is_global,
                    "code": 0,
                }
        elif body is None:
            body = {"message": f"{fault.status}: Injected fault", "code": 0}
        self._record(method, path, fault.status, None, body, query)
        return json_response(fault.status, body, headers)

    def _rate_limited(
        self, verdict: Verdict, headers: dict[str, str], method: str, path: str,
        query: dict[str, str],
    ) -> web.Response:
        self.journal.rate_limited += 1
        retry_after = round(verdict.retry_after, 3)
        headers = dict(headers)
        headers.update({
            "Via": "1.1 google",
            "Retry-After": str(max(1, int(retry_after + 0.999))),
            "X-RateLimit-Scope": verdict.scope,
        })
        if verdict.is_global:
            headers["X-RateLimit-Global"] = "true"
            for key in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                        "X-RateLimit-Reset-After", "X-RateLimit-Bucket"):
                headers.pop(key, None)
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": verdict.is_global,
            "code": 0,
        }
        self._record(method, path, 429, None, body, query)
        return json_response(429, body, headers)

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Attachment]]:
        if not request.body_exists:
            return None, []
        if request.content_type.startswith("multipart/"):
            return await self._read_multipart(request)
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    async def _read_multipart(self, request: web.Request) -> tuple[Any, list[Attachment]]:
        reader = await request.multipart()
        payload: Any = {}
        uploads: dict[int, Attachment] = {}
        while True:
            part = await reader.next()
            if part is None:
                break
            name = getattr(part, "name", None) or ""
            if name == "payload_json":
                raw = await part.read()  # type: ignore[union-attr]
                try:
                    payload = json.loads(raw)
                except ValueError:
                    raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
                continue
            found = re.match(r"files\[(\d+)\]|file(\d*)", name)
            if found is None:
                continue
            index = int(found.group(1) or found.group(2) or 0)
            data = bytes(await part.read())  # type: ignore[union-attr]
            filename = getattr(part, "filename", None) or f"file{index}"
            content_type = part.headers.get("Content-Type")
            uploads[index] = Attachment(0, filename, content_type, len(data), data)
        meta = {str(a.get("id")): a for a in (payload or {}).get("attachments") or []
                if isinstance(a, dict)}
        files = []
        for index in sorted(uploads):
            upload = uploads[index]
            info = meta.get(str(index))
            if info is not None:
                upload.filename = info.get("filename") or upload.filename
                upload.description = info.get("description")
            files.append(upload)
        return payload, files

    def _check_spec_request(self, method: str, path: str, body: Any) -> None:
        if self.validator is None or body is None:
            return
        for problem in self.validator.validate_request(method, path, body):
            self.journal.spec_problems.append(f"request {method} {path}: {problem}")

    def _check_spec_response(self, method: str, path: str, status: int, body: Any) -> None:
        if self.validator is None or body is None or status == 204:
            return
        for problem in self.validator.validate_response(method, path, status, body):
            self.journal.spec_problems.append(f"response {method} {path} {status}: {problem}")

    def _record(
        self, method: str, path: str, status: int, body: Any, response: Any,
        query: dict[str, str],
    ) -> None:
        if status in (401, 403, 429):
            # Discord bans clients that make 10,000 of these in 10 minutes.
            self.journal.invalid_requests += 1
        if status:
            self._check_spec_response(method, path, status, response)
        self.journal.add_request(RequestRecord(method, path, status, body, response, query))
        self.core.notify()
