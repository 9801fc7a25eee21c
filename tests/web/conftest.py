"""A site served from a real store: the read-only server on a free port, and a client that
checks every JSON answer against the OpenAPI document."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from bot.web.app import WebServer, serving
from tests.web.openapi import validate_response

GUILD = 4242
SITE_URL = "https://talk.example.org"


@dataclass
class Answer:
    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Site:
    server: WebServer
    session: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def get(self, path: str, *, check: bool = True, **options: Any) -> Answer:
        return await self.request("GET", path, check=check, **options)

    async def request(
        self, method: str, path: str, *, check: bool = True, **options: Any
    ) -> Answer:
        async with self.session.request(method, self.base + path, **options) as response:
            answer = Answer(response.status, response.headers, await response.read())
        is_json = "json" in answer.headers.get("Content-Type", "")
        if check and path.startswith("/api/v1/") and answer.status != 304 and is_json:
            validate_response(path.split("?")[0], answer.status, answer.json())
        return answer


def site_settings(database_path, **changes: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_path": database_path,
        "guild_id": GUILD,
        "web_base_url": SITE_URL,
        "web_rate_limit": 0,
    }
    return Settings(_env_file=None, **(fields | changes))


@contextlib.asynccontextmanager
async def served(settings: Settings, **options: Any) -> AsyncIterator[Site]:
    async with serving(settings, "127.0.0.1", 0, **options) as server:
        async with aiohttp.ClientSession(auto_decompress=True) as session:
            yield Site(server, session)


@pytest.fixture
def serve_site():
    return served
