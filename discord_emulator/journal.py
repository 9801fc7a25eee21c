"""A record of every REST request and every dispatched gateway event."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int
    body: Any
    response: Any
    query: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class EventRecord:
    name: str
    data: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Journal:
    requests: list[RequestRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    spec_problems: list[str] = field(default_factory=list)
    rate_limited: int = 0
    invalid_requests: int = 0
    gateway_ops: list[tuple[str, int, Any]] = field(default_factory=list)
    record_events: bool = True
    limit: int | None = None

    def add_request(self, record: RequestRecord) -> None:
        self.requests.append(record)
        if self.limit is not None and len(self.requests) > 2 * self.limit:
            del self.requests[: len(self.requests) - self.limit]

    def add_event(self, record: EventRecord) -> None:
        if not self.record_events:
            return
        self.events.append(record)
        if self.limit is not None and len(self.events) > 2 * self.limit:
            del self.events[: len(self.events) - self.limit]

    @property
    def rate_limit_count(self) -> int:
        return self.rate_limited

    def requests_matching(self, method: str, path_fragment: str = "") -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and path_fragment in r.path]

    def events_named(self, name: str) -> list[EventRecord]:
        return [e for e in self.events if e.name == name]

    def summary(self) -> dict[str, Any]:
        return {
            "requests": [
                {"method": r.method, "path": r.path, "status": r.status, "body": r.body}
                for r in self.requests
            ],
            "events": [e.name for e in self.events],
            "rate_limited": self.rate_limited,
            "invalid_requests": self.invalid_requests,
            "spec_problems": self.spec_problems,
        }
