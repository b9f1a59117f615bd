"""Pace the bot's Discord requests so Discord never has to answer 429: one limiter for all
features (announcing, ratings, the mirror, reply status), built once by the app.

Three kinds of limits the bot meets itself rather than leave them to discord.py's per-route
buckets, which discord.py learns from response headers only after a first request:
- the global limit, 50 requests per second across every route made with the bot token, which
  discord.py only honours after a global 429 (every feature's bot requests share one key);
- webhook executions' limits, not announced in headers (about 5 per 2 s per webhook and 30 per
  60 s per channel, all webhooks of a channel together). Webhook executions carry no bot token,
  so they do not count against the global limit;
- reactions, one per quarter second per channel, which status reactions on a burst of replies
  in one thread would otherwise run into as fast as discord.py can send them.

Each limit is a sliding window: at most `count` requests in ANY interval of `seconds` (+ a
margin for latency jitter and clock skew). A token bucket of the same rate would allow nearly
twice `count` in one window (a full bucket plus what refills), which Discord's fixed windows
would refuse.

One webhook per channel means "per webhook" and "per channel" share the channel's key.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.sync.ports import Clock


class Action(StrEnum):
    EXECUTE = "execute"  # send a webhook message
    EDIT = "edit"
    DELETE = "delete"
    REACT = "react"  # add or remove one of the bot's reactions
    BOT_REQUEST = "bot request"  # any REST request made with the bot token


# The key of the global limit: shared by every bot request, whatever its channel.
ALL_BOT_REQUESTS = 0


@dataclass(frozen=True, slots=True)
class Window:
    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class PacingLimits:
    """Defaults are Discord's observed limits; `scaled` shrinks time for emulator runs."""

    windows: dict[Action, tuple[Window, ...]] = field(
        default_factory=lambda: {
            Action.EXECUTE: (Window(5, 2.0), Window(30, 60.0)),
            Action.EDIT: (Window(5, 2.0),),
            Action.DELETE: (Window(5, 1.0),),
            Action.REACT: (Window(1, 0.25),),
            Action.BOT_REQUEST: (Window(50, 1.0),),
        }
    )
    margin: float = 0.25  # seconds added to every window

    def scaled(self, factor: float) -> PacingLimits:
        """The same counts over `factor` times the time (0.01 for a 100x faster emulator)."""
        windows = {
            action: tuple(Window(w.count, w.seconds * factor) for w in ws)
            for action, ws in self.windows.items()
        }
        return replace(self, windows=windows, margin=self.margin * factor)


class Pacer:
    """Waits until a request fits every window of its channel, then records it."""

    def __init__(self, clock: Clock, limits: PacingLimits | None = None) -> None:
        self._clock = clock
        self._limits = limits or PacingLimits()
        self._sent: defaultdict[tuple[int, Action, int], deque[float]] = defaultdict(deque)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def acquire_bot_request(self) -> None:
        """Wait for room under Discord's global limit (every bot request shares it)."""
        await self.acquire(ALL_BOT_REQUESTS, Action.BOT_REQUEST)

    async def acquire(self, channel_id: int, action: Action) -> None:
        windows = self._limits.windows.get(action, ())
        # One waiter per channel at a time, so waiters cannot all wake and overshoot together.
        async with self._locks[channel_id]:
            while (wait := self._wait(channel_id, action, windows)) > 0:
                await self._clock.sleep(wait)
            now = self._clock.monotonic()
            for index in range(len(windows)):
                self._sent[(channel_id, action, index)].append(now)

    def _wait(self, channel_id: int, action: Action, windows: tuple[Window, ...]) -> float:
        now = self._clock.monotonic()
        wait = 0.0
        for index, window in enumerate(windows):
            span = window.seconds + self._limits.margin
            sent = self._sent[(channel_id, action, index)]
            while sent and sent[0] <= now - span:
                sent.popleft()
            if len(sent) >= window.count:
                wait = max(wait, sent[0] + span - now)
        return wait
