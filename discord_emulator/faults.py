"""Failures tests can inject into REST routes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RestFault:
    """Matches requests by method and a regex over the path (without the /api/vN prefix)."""

    method: str
    path_pattern: str
    status: int | None = None
    body: Any = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = 1
    retry_after: float = 1.0
    is_global: bool = False
    after: bool = False
    hits: int = 0
    _regex: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._regex = re.compile(self.path_pattern)

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.method not in ("*", method.upper()):
            return False
        return self._regex.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times


class FaultRegistry:
    def __init__(self) -> None:
        self.rest: list[RestFault] = []

    def add_rest(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int | None = None,
        body: Any = None,
        delay: float = 0.0,
        drop: bool = False,
        times: int | None = 1,
        retry_after: float = 1.0,
        is_global: bool = False,
        after: bool = False,
    ) -> RestFault:
        fault = RestFault(
            method.upper(), path_pattern, status, body, delay, drop, times, retry_after,
            is_global, after,
        )
        self.rest.append(fault)
        return fault

    def take(self, method: str, path: str) -> RestFault | None:
        for fault in self.rest:
            if fault.matches(method, path):
                fault.hits += 1
                return fault
        return None

    def clear(self) -> None:
        self.rest.clear()
