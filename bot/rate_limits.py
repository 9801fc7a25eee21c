"""Noticing the 429s discord.py meets: it retries them itself and only says so in its log."""

from __future__ import annotations

import logging


class RateLimitCounter(logging.Filter):
    """Counts discord.http's rate-limit warnings as they are logged; `take()` empties it."""

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno >= logging.WARNING and "rate limit" in message.lower():
            self._count += 1
        return True

    def take(self) -> int:
        count, self._count = self._count, 0
        return count
