"""HTTP requests to a trusted blog: timeouts, retries with backoff and jitter, Retry-After."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from bot.blog.errors import BlogUnavailable, OutcomeUnknown

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 30.0
    timeout: float = 15.0

    def backoff(self, attempt: int) -> float:
        """Exponential delay with jitter, so many bots do not retry in step."""
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    url: URL

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds asked for by a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    *,
    policy: RetryPolicy,
    idempotent: bool,
    what: str,
    **kwargs: Any,
) -> Response:
    """Send a request, retrying what is safe to retry; raise BlogUnavailable/OutcomeUnknown."""
    reason = ""
    for attempt in range(policy.attempts):
        try:
            return await _attempt(session, method, url, policy, idempotent, what, **kwargs)
        except _Retry as retry:
            reason = retry.reason
            delay = policy.backoff(attempt) if retry.delay is None else retry.delay
        if attempt + 1 == policy.attempts:
            break
        if delay > policy.max_delay:
            reason += f"; it asks to wait {delay:.0f} s"
            break
        log.warning(
            "blog request retried method=%s url=%s reason=%s attempt=%d delay=%.2f",
            method,
            url.with_query(None),
            reason,
            attempt + 1,
            delay,
        )
        await asyncio.sleep(delay)
    raise BlogUnavailable(
        f"{what} is unavailable ({reason}). The bot will try again later; "
        "if this lasts, check that the blog is up."
    )


async def _attempt(
    session: aiohttp.ClientSession,
    method: str,
    url: URL,
    policy: RetryPolicy,
    idempotent: bool,
    what: str,
    **kwargs: Any,
) -> Response:
    timeout = aiohttp.ClientTimeout(total=policy.timeout)
    try:
        async with session.request(method, url, timeout=timeout, **kwargs) as resp:
            response = Response(resp.status, resp.headers, await resp.read(), resp.url)
    except aiohttp.ClientConnectorError as exc:
        # Nothing reached the server, so even a create is safe to repeat.
        raise _Retry(f"cannot connect: {exc.os_error}") from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else f"connection lost: {exc}"
        if not idempotent:
            raise OutcomeUnknown(
                f"{what} {reason}; the write may or may not have happened."
            ) from exc
        raise _Retry(reason) from exc
    if response.status not in RETRY_STATUSES:
        return response
    wait = retry_after_seconds(response.headers.get("Retry-After"))
    # 429 means "not processed"; a 5xx after a write leaves its outcome unknown.
    if not idempotent and response.status != 429:
        raise OutcomeUnknown(
            f"{what} answered HTTP {response.status}; the write may or may not have happened."
        )
    raise _Retry(f"HTTP {response.status}", wait)
