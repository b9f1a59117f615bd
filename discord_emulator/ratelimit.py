"""Per-route rate-limit buckets with Discord's headers, scaled in time for fast tests."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RouteLimit:
    """``limit`` requests per ``per`` seconds (unscaled), keyed by the route's major params."""

    limit: int
    per: float


@dataclass(frozen=True)
class SharedLimit:
    """A limit Discord does not announce in headers: it only shows as a 429 with
    ``X-RateLimit-Scope: shared``. ``key`` names what it is shared by (e.g. a channel)."""

    key: str
    limit: int
    per: float


# Route keys are "METHOD /path/{template}" exactly as registered under /api/v10.
DEFAULT_ROUTE_LIMITS: dict[str, RouteLimit | None] = {
    "POST /channels/{channel_id}/messages": RouteLimit(5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 5.0),
    "DELETE /channels/{channel_id}/messages/{message_id}": RouteLimit(5, 1.0),
    "POST /channels/{channel_id}/messages/bulk-delete": RouteLimit(1, 1.0),
    "PUT /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me": RouteLimit(1, 0.25),
    "DELETE /channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me": RouteLimit(
        1, 0.25
    ),
    "POST /channels/{channel_id}/threads": RouteLimit(10, 10.0),
    "POST /channels/{channel_id}/messages/{message_id}/threads": RouteLimit(10, 10.0),
    "PATCH /channels/{channel_id}": RouteLimit(5, 5.0),
    "POST /channels/{channel_id}/webhooks": RouteLimit(5, 10.0),
    "POST /webhooks/{webhook_id}/{webhook_token}": RouteLimit(5, 2.0),
    "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}": RouteLimit(5, 2.0),
    "PUT /applications/{application_id}/commands": RouteLimit(5, 20.0),
    "PUT /applications/{application_id}/guilds/{guild_id}/commands": RouteLimit(5, 20.0),
    # Interaction callbacks are not limited in practice.
    "POST /interactions/{interaction_id}/{interaction_token}/callback": None,
}
DEFAULT_LIMIT = RouteLimit(10, 1.0)
GLOBAL_LIMIT = RouteLimit(50, 1.0)
DEFAULT_SHARED_LIMITS: dict[str, SharedLimit] = {
    "POST /webhooks/{webhook_id}/{webhook_token}": SharedLimit("channel", 30, 60.0),
}


@dataclass
class _Window:
    limit: int
    per: float
    started: float
    count: int = 0

    def refresh(self, now: float) -> None:
        if now >= self.started + self.per:
            self.started = now
            self.count = 0

    def reset_after(self, now: float) -> float:
        return max(self.started + self.per - now, 0.0)


@dataclass
class Decision:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False
    scope: str = "user"


@dataclass
class RateLimitStats:
    """Per-route request and 429 counts; keys are route keys like ``POST /channels/{...}``."""

    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)

    @property
    def total_429s(self) -> int:
        return sum(self.rate_limited.values())


class RateLimiter:
    def __init__(
        self,
        *,
        time_scale: float,
        route_limits: dict[str, RouteLimit | None] | None = None,
        shared_limits: dict[str, SharedLimit] | None = None,
        global_limit: RouteLimit | None = GLOBAL_LIMIT,
    ) -> None:
        self.time_scale = time_scale
        self.route_limits = dict(DEFAULT_ROUTE_LIMITS)
        self.route_limits.update(route_limits or {})
        self.shared_limits = dict(DEFAULT_SHARED_LIMITS)
        self.shared_limits.update(shared_limits or {})
        self.global_limit = global_limit
        self.enabled = True
        self.stats = RateLimitStats()
        self._windows: dict[str, _Window] = {}

    def limit_for(self, route_key: str) -> RouteLimit | None:
        return self.route_limits.get(route_key, DEFAULT_LIMIT)

    def check(
        self,
        route_key: str,
        major: str,
        *,
        token: str | None,
        shared_key: str | None,
    ) -> Decision:
        """Count one request and say whether it passes, with the headers to send back.

        The global limit applies per bot token; the shared limit (if any) is checked after the
        announced one so its 429s carry the route's headers plus ``scope: shared``.
        """
        now = time.monotonic()
        if not self.enabled:
            return Decision(True, {})
        if token is not None and self.global_limit is not None:
            window = self._window(f"global:{token}", self.global_limit, now)
            if window.count >= window.limit:
                retry = window.reset_after(now)
                return Decision(
                    False,
                    {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
                    retry,
                    is_global=True,
                    scope="global",
                )
            window.count += 1
        limit = self.limit_for(route_key)
        headers: dict[str, str] = {}
        if limit is not None:
            bucket = hashlib.sha1(route_key.encode()).hexdigest()[:16]
            window = self._window(f"{bucket}:{major}", limit, now)
            if window.count >= window.limit:
                headers = self._headers(window, now, bucket, remaining=0)
                return Decision(False, headers, window.reset_after(now))
            window.count += 1
            headers = self._headers(window, now, bucket, remaining=window.limit - window.count)
        shared = self.shared_limits.get(route_key)
        if shared is not None and shared_key is not None:
            window = self._window(
                f"shared:{route_key}:{shared_key}", RouteLimit(shared.limit, shared.per), now
            )
            if window.count >= window.limit:
                return Decision(
                    False,
                    headers | {"X-RateLimit-Scope": "shared"},
                    window.reset_after(now),
                    scope="shared",
                )
            window.count += 1
        return Decision(True, headers)

    def _window(self, key: str, limit: RouteLimit, now: float) -> _Window:
        per = limit.per * self.time_scale
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(limit.limit, per, now)
        window.refresh(now)
        return window

    def _headers(
        self, window: _Window, now: float, bucket: str, *, remaining: int
    ) -> dict[str, str]:
        reset_after = window.reset_after(now)
        return {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
