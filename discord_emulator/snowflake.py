"""Time-ordered snowflake ids, laid out as Discord lays them out."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Hands out strictly increasing snowflakes whose top bits are the creation time."""

    def __init__(self, worker: int = 1, process: int = 0) -> None:
        self._worker = worker & 0x1F
        self._process = process & 0x1F
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        # Never go backwards (clock steps, bursts >4096/ms): borrow from the next millisecond.
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
            now_ms = self._last_ms
        else:
            self._increment = 0
        self._last_ms = now_ms
        return (now_ms << 22) | (self._worker << 17) | (self._process << 12) | self._increment

    def position(self) -> tuple[int, int]:
        """Where the generator stands (last millisecond, increment), to continue from later."""
        return self._last_ms, self._increment

    def continue_from(self, last_ms: int, increment: int) -> None:
        """Hand out only ids after `position()`'s, even if the clock went back meanwhile."""
        if (last_ms, increment) > (self._last_ms, self._increment):
            self._last_ms, self._increment = last_ms, increment


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def snowflake_from_time(when: datetime) -> int:
    return (int(when.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22


def iso(when: datetime) -> str:
    return when.isoformat()
