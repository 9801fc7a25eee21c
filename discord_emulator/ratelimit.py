"""Fixed-window buckets the way Discord reports them in X-RateLimit-* headers."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass


@dataclass
class Bucket:
    limit: int
    window: float
    remaining: int = 0
    reset_at: float = 0.0

    def take(self, now: float) -> float:
        """Consume one request; return 0 if allowed, else the seconds until the window resets."""
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = now + self.window
        if self.remaining <= 0:
            return self.reset_at - now
        self.remaining -= 1
        return 0.0


@dataclass
class Verdict:
    allowed: bool
    bucket: Bucket | None
    bucket_hash: str
    retry_after: float = 0.0
    scope: str = "user"
    is_global: bool = False


def bucket_hash(template_key: str) -> str:
    return hashlib.sha1(template_key.encode()).hexdigest()[:16]


class RateLimiter:
    def __init__(
        self,
        *,
        enabled: bool,
        global_limit: int,
        global_window: float,
        route_limit: int,
        route_window: float,
        message_limit: int,
        message_window: float,
    ) -> None:
        self.enabled = enabled
        self.global_limit = global_limit
        self.global_window = global_window
        self.route_limit = route_limit
        self.route_window = route_window
        self.message_limit = message_limit
        self.message_window = message_window
        self._global: dict[str, Bucket] = {}
        self._routes: dict[str, Bucket] = {}

    def check(
        self, token: str | None, template_key: str, major: str, *, is_message_create: bool,
        exempt_global: bool,
    ) -> Verdict:
        now = time.monotonic()
        key_hash = bucket_hash(template_key)
        if is_message_create:
            limit, window = self.message_limit, self.message_window
        else:
            limit, window = self.route_limit, self.route_window
        bucket_key = f"{key_hash}:{major}"
        bucket = self._routes.get(bucket_key)
        if bucket is None:
            bucket = self._routes[bucket_key] = Bucket(limit, window)
        if not self.enabled:
            # Headers are still sent so clients see a consistent, never-exhausted bucket.
            bucket.remaining = limit
            bucket.reset_at = now + window
            return Verdict(True, bucket, key_hash)
        if not exempt_global:
            gbucket = self._global.get(token or "")
            if gbucket is None:
                gbucket = self._global[token or ""] = Bucket(self.global_limit, self.global_window)
            wait = gbucket.take(now)
            if wait > 0:
                return Verdict(False, bucket, key_hash, wait, "global", True)
        wait = bucket.take(now)
        if wait > 0:
            return Verdict(False, bucket, key_hash, wait, "user", False)
        return Verdict(True, bucket, key_hash)

    def headers(self, verdict: Verdict) -> dict[str, str]:
        bucket = verdict.bucket
        if bucket is None:
            return {}
        reset_after = max(0.0, bucket.reset_at - time.monotonic())
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(max(0, bucket.remaining)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": verdict.bucket_hash,
        }
