"""The demo's own small site: one page with the post's Discord thread (as the local Discord
sees it) beside the post's page with the comments embed, a JSON view of the thread for the
page's script, and a form to write into the thread. Every other address is the real site,
passed through, so the embed and the page's links work at the demo's one address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import jinja2
from aiohttp import web

from demo.stage import Stage
from discord_emulator.errors import ApiError

STAGE = web.AppKey("stage", Stage)
CLIENT = web.AppKey("client", aiohttp.ClientSession)

HERE = Path(__file__).parent
MAX_MESSAGE_LENGTH = 2000  # Discord's own limit on a message
MAX_FORM_BYTES = 16 * 1024
STATIC = {"demo.js": "text/javascript", "demo.css": "text/css"}
# The page loads only its own scripts and styles (the embed's included) and talks only to
# itself; nothing may frame it.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Headers that describe one hop of a connection, not the answer: never passed through.
HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}
)
PASSED_REQUEST_HEADERS = ("Accept", "Accept-Language", "If-None-Match", "If-Modified-Since")

templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE), autoescape=True, undefined=jinja2.StrictUndefined
)


def _stage(request: web.Request) -> Stage:
    stage = request.app.get(STAGE)
    if stage is None:
        raise web.HTTPServiceUnavailable(text="the demo is starting; try again in a moment")
    return stage


@web.middleware
async def own_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    if request.path.startswith("/demo/"):
        response.headers["Content-Security-Policy"] = PAGE_POLICY
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
    return response


async def page(request: web.Request) -> web.Response:
    stage = _stage(request)
    html = templates.get_template("page.html").render(
        post=stage.post, max_length=MAX_MESSAGE_LENGTH
    )
    return web.Response(text=html, content_type="text/html")


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return web.Response(
        body=(HERE / "static" / name).read_bytes(), content_type=STATIC[name], charset="utf-8"
    )


def _author_name(payload: dict[str, Any]) -> str:
    author = payload.get("author") or {}
    return str(author.get("global_name") or author.get("username") or "unknown")


def message_view(stage: Stage, message_id: int) -> dict[str, Any]:
    """One message of the thread, as a Discord client would show it."""
    payload = stage.emulator.message_payload(message_id)
    author = payload.get("author") or {}
    reference = payload.get("referenced_message")
    return {
        "id": payload["id"],
        "author": _author_name(payload),
        "bot": bool(author.get("bot")),
        "webhook": payload.get("webhook_id") is not None,
        "content": payload.get("content") or "",
        "embeds": [
            {"title": e.get("title") or "", "description": e.get("description") or ""}
            for e in payload.get("embeds") or []
        ],
        "reply_to": None
        if not reference
        else {"author": _author_name(reference), "content": (reference.get("content") or "")[:80]},
        "reactions": [
            {"emoji": r["emoji"].get("name") or "?", "count": r["count"]}
            for r in payload.get("reactions") or []
        ],
        "edited": payload.get("edited_timestamp") is not None,
        "at": payload["timestamp"],
    }


async def thread_view(request: web.Request) -> web.Response:
    stage = _stage(request)
    if stage.thread_id is None:
        return web.json_response({"thread": None, "messages": []})
    thread = stage.emulator.channel(stage.thread_id)
    messages = [message_view(stage, m.id) for m in stage.emulator.messages(stage.thread_id)]
    return web.json_response(
        {
            "thread": {"id": str(thread.id), "name": thread.name, "locked": thread.locked},
            "messages": messages,
        }
    )


def _same_origin(request: web.Request) -> bool:
    """A form sent by the demo's own page: its Origin is this address (a browser sends it with
    every POST; a page elsewhere cannot make it say ours)."""
    return request.headers.get("Origin") == f"{request.scheme}://{request.host}"


async def write_message(request: web.Request) -> web.Response:
    stage = _stage(request)
    if not _same_origin(request):
        raise web.HTTPForbidden(text="only the demo's own page may write into the thread")
    if stage.thread_id is None:
        raise web.HTTPConflict(text="the post's thread is not in Discord yet")
    form = await request.post()
    text = str(form.get("text") or "").strip()
    if not text:
        raise web.HTTPBadRequest(text="write something first")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise web.HTTPBadRequest(
            text=f"at most {MAX_MESSAGE_LENGTH} characters, as in Discord ({len(text)} given)"
        )
    try:
        stage.emulator.send_message(stage.thread_id, stage.visitor_id, text)
    except ApiError as error:  # e.g. the thread was locked
        raise web.HTTPConflict(text=f"Discord refused it: {error}") from None
    raise web.HTTPSeeOther("/demo/")


async def to_site(request: web.Request) -> web.StreamResponse:
    """The real site answers every address the demo does not own."""
    stage = _stage(request)
    if request.method not in ("GET", "HEAD"):
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
    headers = {
        name: request.headers[name] for name in PASSED_REQUEST_HEADERS if name in request.headers
    }
    headers["Accept-Encoding"] = "identity"  # the body is passed on as it comes
    async with request.app[CLIENT].request(
        request.method,
        stage.site_url + str(request.rel_url),
        headers=headers,
        allow_redirects=False,
    ) as answer:
        body = await answer.read()
        response = web.Response(status=answer.status, body=body)
        for name, value in answer.headers.items():
            if name.lower() not in HOP_HEADERS:
                response.headers.add(name, value)
        return response


async def _client(app: web.Application) -> Any:
    async with aiohttp.ClientSession() as session:
        app[CLIENT] = session
        yield


def build_demo_app() -> web.Application:
    """The demo's page; it answers once the stage is set in `app[STAGE]`."""
    app = web.Application(middlewares=[own_headers], client_max_size=MAX_FORM_BYTES)
    app.cleanup_ctx.append(_client)
    app.router.add_get("/demo/", page)
    app.router.add_get("/demo/thread.json", thread_view)
    app.router.add_post("/demo/messages", write_message)
    app.router.add_get(r"/demo/static/{name:demo\.js|demo\.css}", static_file)
    app.router.add_route("*", "/{tail:.*}", to_site)
    return app
