"""The outbox worker: every write to Discord (and, with issue 7, to the blog) is a row that
goes todo -> doing -> done | failed, with attempts, a retry schedule and a dedup key.

Rows of one lane (direction, thread) run one at a time in id order, so a thread's messages
appear in blog order and a remove never overtakes the post it undoes; lanes run concurrently.
A row left in 'doing' by a crash is reset at start and run again: handlers must check whether
their write already happened (the mapping, then the marker in the thread) before redoing it.
New rows are picked up at once through `notify()`, not by polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.storage.mirror import Direction, Lane, OutboxRepository, OutboxRow
from bot.sync.ports import Clock

log = logging.getLogger(__name__)

Handler = Callable[[OutboxRow], Awaitable[None]]
ErrorHook = Callable[[OutboxRow, str, bool], Awaitable[None]]  # (row, error, gave up)
KEEP_FINISHED_SECONDS = 7 * 24 * 3600
ERROR_PAUSE_SECONDS = 5.0


class RetryLater(Exception):
    """Not an error: run the row again after `delay` (the thread paused, a webhook re-made,
    the comment changed while it was being edited)."""

    def __init__(self, reason: str, *, delay: float = 0.0, count_attempt: bool = False) -> None:
        super().__init__(reason)
        self.delay = delay
        self.count_attempt = count_attempt


class GiveUp(Exception):
    """The row can never succeed (Discord refused its content): mark it failed now."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with "equal jitter": half the delay fixed, half random."""

    base: float = 2.0
    cap: float = 900.0
    max_attempts: int = 10

    def delay(self, attempts: int, rng: random.Random) -> float:
        ceiling = min(self.cap, self.base * 2 ** max(attempts - 1, 0))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Outbox:
    def __init__(
        self,
        repository: OutboxRepository,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        max_lanes: int = 8,
        on_error: ErrorHook | None = None,
        expected_errors: tuple[type[Exception], ...] = (),
        rng: random.Random | None = None,
    ) -> None:
        self._repo = repository
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._max_lanes = max_lanes
        self._on_error = on_error
        self._expected = expected_errors  # logged without a traceback: not bugs
        self._rng = rng or random.Random()
        self._handlers: dict[tuple[str, str], Handler] = {}
        self._running: dict[Lane, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._looping = False
        self._finishing = False

    def register(self, direction: Direction, kind: str, handler: Handler) -> None:
        self._handlers[(direction, kind)] = handler

    def notify(self) -> None:
        """New rows were committed: start them now."""
        self._wake.set()

    async def recover(self) -> int:
        """At start: rows a crash left in 'doing' become 'todo' again; old history goes."""
        now = self._clock.time()
        await self._repo.purge_finished(now - KEEP_FINISHED_SECONDS)
        reset = await self._repo.reset_doing(now)
        if reset:
            log.warning("outbox: %d rows were interrupted by a stop and will be checked", reset)
        return reset

    async def run(self) -> None:
        """Work forever (the bot's background task)."""
        await self._loop(forever=True)

    async def drain(self) -> None:
        """Work until no row is pending, waiting out retry delays (tests, benchmarks)."""
        await self._loop(forever=False)

    def finish_due(self) -> None:
        """Shutting down: the running loop finishes the rows due now, then returns. Rows
        waiting for a retry, and those a failure reschedules, stay queued for the next start."""
        self._finishing = True
        self._wake.set()

    async def _loop(self, *, forever: bool) -> None:
        if self._looping:
            raise RuntimeError("the outbox is already being worked on")
        self._looping = True
        try:
            while True:
                self._wake.clear()
                try:
                    due = await self._start_lanes()
                except Exception:
                    if not forever:
                        raise
                    log.exception("outbox: cannot read pending rows; trying again soon")
                    due = self._clock.time() + ERROR_PAUSE_SECONDS
                if not self._running and (self._finishing or (not forever and due is None)):
                    return
                await self._wait(due, survive_errors=forever)
        finally:
            self._looping = self._finishing = False
            await self._cancel_lanes()

    async def _start_lanes(self) -> float | None:
        """Start every lane whose head is due; return when the next waiting head is due."""
        now = self._clock.time()
        due: float | None = None
        for lane in await self._repo.open_lanes():
            if lane in self._running or len(self._running) >= self._max_lanes:
                continue
            head = await self._repo.head(lane)
            if head is None or head.state != "todo":
                continue  # 'doing' without a task: a crash in this process, reset at start
            if head.next_attempt_at > now:
                due = head.next_attempt_at if due is None else min(due, head.next_attempt_at)
                continue
            self._running[lane] = asyncio.create_task(self._run_lane(lane))
        return due

    async def _wait(self, due: float | None, *, survive_errors: bool) -> None:
        waiters: set[asyncio.Future[object]] = set(self._running.values())
        helpers = [asyncio.create_task(self._wake.wait())]
        if due is not None:
            helpers.append(asyncio.create_task(self._clock.sleep(due - self._clock.time())))
        try:
            await asyncio.wait(waiters | set(helpers), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for helper in helpers:
                helper.cancel()
        for lane, task in list(self._running.items()):
            if not task.done():
                continue
            del self._running[lane]
            error = task.exception()
            # A bug or a database hiccup in one lane must not stop the bot's worker (its row
            # stays 'doing' until the next start); a crash (BaseException) stops it, as it should.
            if isinstance(error, Exception) and survive_errors:
                log.error("outbox lane %s stopped", lane, exc_info=error)
            elif error is not None:
                raise error

    async def _cancel_lanes(self) -> None:
        tasks = list(self._running.values())
        self._running.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run_lane(self, lane: Lane) -> None:
        while True:
            head = await self._repo.head(lane)
            if head is None or head.state != "todo" or head.next_attempt_at > self._clock.time():
                return
            if not await self._repo.claim(head.id, self._clock.time()):
                return
            await self._execute(head)

    async def _execute(self, row: OutboxRow) -> None:
        handler = self._handlers.get((row.direction, row.kind))
        try:
            if handler is None:
                raise GiveUp(f"no handler for {row.direction}/{row.kind}")
            await handler(row)
        except RetryLater as later:
            at = self._clock.time() + later.delay
            await self._repo.reschedule(
                row.id, at, str(later), self._clock.time(), count_attempt=later.count_attempt
            )
        except GiveUp as error:
            await self._give_up(row, str(error))
        except Exception as error:
            await self._failed_attempt(row, error)
        else:
            await self._repo.finish(row.id, self._clock.time())

    async def _failed_attempt(self, row: OutboxRow, error: Exception) -> None:
        message = f"{type(error).__name__}: {error}"
        attempts = row.attempts + 1  # the claim counted this attempt
        log.warning(
            "outbox row %d (%s thread=%d) failed, attempt %d: %s",
            row.id,
            row.kind,
            row.thread_id,
            attempts,
            message,
            exc_info=not isinstance(error, self._expected),
        )
        if attempts >= self._policy.max_attempts:
            await self._give_up(row, message)
            return
        delay = self._policy.delay(attempts, self._rng)
        delay = max(delay, getattr(error, "retry_after", None) or 0.0)  # honour Retry-After
        now = self._clock.time()
        await self._repo.reschedule(row.id, now + delay, message, now, count_attempt=True)
        await self._report(row, message, gave_up=False)

    async def _give_up(self, row: OutboxRow, message: str) -> None:
        await self._repo.fail(row.id, message, self._clock.time())
        await self._report(row, message, gave_up=True)

    async def _report(self, row: OutboxRow, message: str, *, gave_up: bool) -> None:
        if self._on_error is not None:
            await self._on_error(row, message, gave_up)
