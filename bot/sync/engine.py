"""The comment mirror: which thread shows which review, and keeping it in step with the blog.

`sync_review` fetches the review's approved comments, plans each linked thread against its
stored mapping and stores the plan with its outbox rows in ONE transaction; the outbox worker
then carries the rows out (see `delivery`). Everything a moderator can do is here too.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.blog.errors import BlogError
from bot.blog.models import BlogComment, Review
from bot.domain.replies import comment_excerpt
from bot.errors import UserFacingError
from bot.storage.database import Database
from bot.storage.mirror import (
    CommentRow,
    MirrorBatch,
    MirrorRepository,
    MirrorThread,
    NewOutboxRow,
    OutboxRepository,
    OutboxRow,
    WebhookRepository,
    iso_ms,
)
from bot.sync.delivery import (
    Delivery,
    edit_row,
    post_row,
    progress_row,
    remove_row,
    resync_row,
)
from bot.sync.outbox import Outbox, RetryPolicy
from bot.sync.pacing import Pacer
from bot.sync.planner import PACK_THRESHOLD, Mirrored, Plan, plan_thread
from bot.sync.ports import Clock, DiscordPort, DiscordPortError, SystemClock
from bot.sync.render import CommentSnapshot, new_marker

log = logging.getLogger(__name__)


class CommentSource(Protocol):
    """What the engine reads from the blog (a `Blog` is one; raise BlogError when it is down)."""

    async def get_review(self, review_id: str) -> Review | None: ...

    async def list_comments(self, review_id: str) -> list[BlogComment]: ...


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    blog_name: str  # shown after every commenter's name: "Ada · The Review Blog"
    pack_threshold: int = PACK_THRESHOLD
    progress_threshold: int = 10  # backfills with at least this many comments show progress
    progress_interval: float = 5.0  # seconds between progress edits
    max_lanes: int = 8  # threads worked on at once


@dataclass(frozen=True, slots=True)
class SyncReport:
    thread_id: int
    created: int = 0
    updated: int = 0
    removed: int = 0
    packed: bool = False
    error: str | None = None
    members_gone: tuple[str, ...] = ()  # see Plan.members_gone


@dataclass(frozen=True, slots=True)
class ThreadStatus:
    thread_id: int
    review_id: str
    guild_id: int
    paused: bool
    mirrored: int  # comments shown
    pending: int  # comments waiting to be posted or removed
    queued: int  # outbox rows waiting
    failed: int  # outbox rows given up (resync retries their comments)
    linked_at: str
    last_sync_at: str | None
    last_error: str | None


class MirrorEngine:
    def __init__(
        self,
        database: Database,
        blog: CommentSource,
        port: DiscordPort,
        settings: MirrorSettings,
        *,
        clock: Clock | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._blog = blog
        self._settings = settings
        self._clock = clock or SystemClock()
        self._mirror = MirrorRepository(database)
        self._outbox_rows = OutboxRepository(database)
        self.outbox = Outbox(
            self._outbox_rows,
            self._clock,
            policy=retry,
            max_lanes=settings.max_lanes,
            on_error=self._record_error,
            expected_errors=(DiscordPortError, BlogError),
        )
        delivery = Delivery(
            self._mirror,
            WebhookRepository(database),
            port,
            pacer or Pacer(self._clock),
            self._clock,
            blog_name=settings.blog_name,
            progress_interval=settings.progress_interval,
        )
        delivery.register(self.outbox)
        self._review_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._hinted: set[str] = set()
        self._hint_tasks: dict[str, asyncio.Task[None]] = {}
        self._full_sync_wanted = False
        self._members_gone: Callable[[list[str]], Awaitable[object]] | None = None
        self._full_sync: asyncio.Task[None] | None = None
        self._worker: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Recover rows a stop interrupted, then work the outbox in the background."""
        await self.outbox.recover()
        self._worker = asyncio.create_task(self.outbox.run(), name="reviewbridge-outbox")

    async def stop(self, *, drain_seconds: float = 0.0) -> None:
        """Stop syncing and the outbox worker. With `drain_seconds`, the worker first finishes
        the rows due now for at most that long; the rest stay queued for the next start."""
        syncs = [*self._hint_tasks.values(), *([self._full_sync] if self._full_sync else [])]
        for task in syncs:
            task.cancel()
        await asyncio.gather(*syncs, return_exceptions=True)
        worker, self._worker, self._full_sync = self._worker, None, None
        if worker is None:
            return
        if drain_seconds > 0 and not worker.done():
            self.outbox.finish_due()
            await asyncio.wait([worker], timeout=drain_seconds)
            if not worker.done():
                log.warning(
                    "outbox: still busy after %.1f s of shutdown; "
                    "its unfinished rows run at the next start",
                    drain_seconds,
                )
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)

    async def settle(self) -> None:
        """Finish hinted syncs and every outbox row (tests and benchmarks; not with start())."""
        await self.syncs_done()
        await self.outbox.drain()

    async def syncs_done(self) -> None:
        """Wait until no hinted or full sync runs in the background (tests and benchmarks)."""
        while self._hint_tasks or self._full_sync:
            pending = [*self._hint_tasks.values(), *([self._full_sync] if self._full_sync else [])]
            await asyncio.gather(*pending)

    # --- moderator commands --------------------------------------------------------------

    async def link(
        self, review_id: str, *, guild_id: int, channel_id: int, thread_id: int
    ) -> SyncReport:
        """Mirror the review's comments into the thread, starting with all existing ones."""
        existing = await self._mirror.thread(thread_id)
        if existing is not None and existing.review_id != review_id:
            raise UserFacingError(
                f"This thread already mirrors review {existing.review_id}; unlink it first."
            )
        other = await self._mirror.thread_for_review(guild_id, review_id)
        if other is not None and other.thread_id != thread_id:
            raise UserFacingError(
                f"Review {review_id} is already mirrored in <#{other.thread_id}>; "
                "unlink it there first."
            )
        if existing is None:
            if await self._blog.get_review(review_id) is None:
                raise UserFacingError(f"The blog has no published review with id {review_id}.")
            await self._mirror.link(
                thread_id=thread_id,
                review_id=review_id,
                guild_id=guild_id,
                channel_id=channel_id,
                now=self._clock.time(),
            )
        reports = await self.sync_review(review_id, only_thread=thread_id)
        return reports[0] if reports else SyncReport(thread_id)

    async def unlink(self, thread_id: int) -> bool:
        """Stop mirroring; the messages already in the thread stay."""
        return await self._mirror.unlink(thread_id)

    async def pause(self, thread_id: int) -> bool:
        return await self._mirror.set_paused(thread_id, True)

    async def resume(self, thread_id: int) -> bool:
        resumed = await self._mirror.set_paused(thread_id, False)
        if resumed:
            self.outbox.notify()
        return resumed

    async def resync(self, thread_id: int) -> SyncReport:
        """Reconcile from scratch: plan against the blog, retry every unfinished comment, then
        compare the thread itself with the mapping (missing, stale and extra messages)."""
        thread = await self._mirror.thread(thread_id)
        if thread is None:
            raise UserFacingError("This thread is not linked to a review.")
        try:
            comments = await self._blog.list_comments(thread.review_id)
        except BlogError as error:
            await self._mirror.record_error(thread_id, f"blog: {error}")
            return SyncReport(thread_id, error=str(error))
        async with self._review_locks[thread.review_id], self._mirror.batch(self._now()) as batch:
            report = await self._plan_and_store(batch, thread, comments)
            rows = [*await _retry_unfinished(batch, thread_id), resync_row(thread_id)]
            await batch.enqueue(rows)
        self.outbox.notify()
        return report

    async def status(self, thread_id: int) -> ThreadStatus | None:
        thread = await self._mirror.thread(thread_id)
        return await self._status(thread) if thread else None

    async def statuses(self, guild_id: int) -> list[ThreadStatus]:
        return [await self._status(t) for t in await self._mirror.threads(guild_id=guild_id)]

    async def _status(self, thread: MirrorThread) -> ThreadStatus:
        counts = await self._mirror.counts(thread.thread_id)
        return ThreadStatus(
            thread_id=thread.thread_id,
            review_id=thread.review_id,
            guild_id=thread.guild_id,
            paused=thread.paused,
            mirrored=counts.get("mirrored", 0),
            pending=counts.get("pending", 0) + counts.get("removing", 0),
            queued=await self._outbox_rows.count(thread.thread_id, ("todo", "doing")),
            failed=await self._outbox_rows.count(thread.thread_id, ("failed",)),
            linked_at=thread.linked_at,
            last_sync_at=thread.last_sync_at,
            last_error=thread.last_error,
        )

    # --- following the blog --------------------------------------------------------------

    async def hint(self, review_id: str, comment_id: str | None = None) -> None:
        """Something changed on a review (a push or a poll): sync it soon. Hints arriving
        while a sync runs are folded into one more sync, not one each."""
        if not await self._mirror.threads(review_id=review_id):
            return
        log.debug("sync hinted review=%s comment=%s", review_id, comment_id)
        self._hinted.add(review_id)
        if review_id not in self._hint_tasks:
            task = asyncio.create_task(self._sync_hinted(review_id))
            self._hint_tasks[review_id] = task

    async def _sync_hinted(self, review_id: str) -> None:
        try:
            while review_id in self._hinted:
                self._hinted.discard(review_id)
                try:
                    await self.sync_review(review_id)
                except Exception:  # a background sync must outlive bugs; the next hint retries
                    log.exception("sync failed review=%s", review_id)
        finally:
            self._hint_tasks.pop(review_id, None)

    def sync_all_soon(self) -> None:
        """`sync_all` in the background. Requests arriving while one runs are folded into one
        more run, so a busy blog costs one reconciliation at a time, not one per request."""
        self._full_sync_wanted = True
        if self._full_sync is None:
            self._full_sync = asyncio.create_task(self._sync_all_wanted(), name="mirror-sync-all")

    async def _sync_all_wanted(self) -> None:
        try:
            while self._full_sync_wanted:
                self._full_sync_wanted = False
                try:
                    await self.sync_all()
                except Exception:  # a background sync must outlive bugs; the next poll retries
                    log.exception("full sync failed")
        finally:
            self._full_sync = None

    async def sync_all(self) -> list[SyncReport]:
        """Every linked review (when the poll saw a change it cannot attribute to one)."""
        reports = []
        for review_id in await self._mirror.linked_review_ids():
            reports += await self.sync_review(review_id)
        return reports

    async def sync_review(
        self, review_id: str, *, only_thread: int | None = None
    ) -> list[SyncReport]:
        """Plan every unpaused thread of the review against its approved comments."""
        threads = [
            t
            for t in await self._mirror.threads(review_id=review_id)
            if not t.paused and only_thread in (None, t.thread_id)
        ]
        if not threads:
            return []
        async with self._review_locks[review_id]:
            try:
                comments = await self._blog.list_comments(review_id)
            except BlogError as error:
                for thread in threads:
                    await self._mirror.record_error(thread.thread_id, f"blog: {error}")
                return [SyncReport(t.thread_id, error=str(error)) for t in threads]
            async with self._mirror.batch(self._now()) as batch:
                reports = [await self._plan_and_store(batch, t, comments) for t in threads]
        self.outbox.notify()
        await self._tell_members_gone([c for r in reports for c in r.members_gone])
        return reports

    def follow_members_gone(self, follow: Callable[[list[str]], Awaitable[object]]) -> None:
        """Who hears of members' blog comments that are no longer approved (the replies)."""
        self._members_gone = follow

    async def _tell_members_gone(self, comment_ids: list[str]) -> None:
        if not comment_ids or self._members_gone is None:
            return
        try:
            await self._members_gone(comment_ids)
        except Exception:  # the mirror's own sync succeeded; a later sync asks again
            log.exception("following members' comments gone from the blog failed")

    async def _plan_and_store(
        self, batch: MirrorBatch, thread: MirrorThread, comments: Sequence[BlogComment]
    ) -> SyncReport:
        live = await batch.live_comments(thread.thread_id)
        shown = {
            comment_id: Mirrored(c.render_key, _parse(c.published_at))
            for comment_id, c in live.items()
        }
        plan = plan_thread(
            comments,
            shown,
            pack_threshold=self._settings.pack_threshold,
            thread_id=thread.thread_id,
        )
        if not plan.is_empty:
            await self._store(batch, thread.thread_id, plan)
        await batch.synced(thread.thread_id)
        return SyncReport(
            thread.thread_id,
            created=len(plan.creates),
            updated=len(plan.updates),
            removed=len(plan.removes),
            packed=plan.packed,
            members_gone=plan.members_gone,
        )

    async def _store(self, batch: MirrorBatch, thread_id: int, plan: Plan) -> None:
        """The plan as mapping rows plus outbox rows, in lane order: removes, posts, edits."""
        still_shown = await batch.still_shown(thread_id) if plan.creates else set()
        fresh = [c for c in plan.creates if c.comment.id not in still_shown]
        revived = [c for c in plan.creates if c.comment.id in still_shown]
        markers = {c.comment.id: new_marker() for c in fresh}
        await batch.remove(thread_id, plan.removes)
        await batch.create(
            thread_id,
            [
                _row(c.comment, c.render_key, c.position, markers[c.comment.id], c.late, c.packed)
                for c in fresh
            ],
        )
        await batch.update(
            thread_id,
            [_row(u.comment, u.render_key, u.position) for u in plan.updates],
            revive=False,
        )
        # Approved again before its removal ran: keep its messages and edit them instead.
        await batch.update(
            thread_id, [_row(c.comment, c.render_key, c.position) for c in revived], revive=True
        )
        rows: list[NewOutboxRow] = [remove_row(thread_id, c) for c in plan.removes]
        posts = [post_row(thread_id, c.comment.id, markers[c.comment.id]) for c in fresh]
        if plan.backfill and len(fresh) >= self._settings.progress_threshold:
            marker = new_marker()
            posts = [
                progress_row(thread_id, marker, final=False),
                *posts,
                progress_row(thread_id, marker, final=True),
            ]
        rows += posts
        rows += [edit_row(thread_id, c.comment.id) for c in (*revived, *plan.updates)]
        await batch.enqueue(rows)

    async def _record_error(self, row: OutboxRow, error: str, gave_up: bool) -> None:
        prefix = "gave up" if gave_up else "will retry"
        await self._mirror.record_error(row.thread_id, f"{row.kind} ({prefix}): {error}"[:500])

    def _now(self) -> float:
        return self._clock.time()


async def _retry_unfinished(batch: MirrorBatch, thread_id: int) -> list[NewOutboxRow]:
    """Post or remove rows for every comment still waiting (their rows may have failed);
    rows still pending absorb these through their dedup keys."""
    rows = []
    for comment_id, state, marker in await batch.unfinished(thread_id):
        if state == "pending":
            rows.append(post_row(thread_id, comment_id, marker))
        else:
            rows.append(remove_row(thread_id, comment_id))
    return rows


def _row(
    comment: BlogComment,
    key: str,
    position: int,
    marker: str = "",
    late: bool = False,
    packable: bool = False,
) -> CommentRow:
    return CommentRow(
        comment_id=comment.id,
        parent_comment_id=comment.parent_id,
        content_hash=comment.content_hash,
        render_key=key,
        author=comment.author,
        published_at=iso_ms(comment.published.timestamp()),
        position=position,
        snapshot=CommentSnapshot.of(comment).as_json(),
        marker=marker,
        late=late,
        packable=packable,
        excerpt=comment_excerpt(comment.content_html),  # kept fresh: every edit passes here
    )


def _parse(stored: str) -> datetime:
    return datetime.fromisoformat(stored.replace("Z", "+00:00"))
