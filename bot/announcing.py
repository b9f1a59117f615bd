"""Announcing the blog's reviews in every guild exactly once, and keeping the posts current.

Discord-free: Discord is reached through an `AnnouncementPort`, the blog through the `Blog`
interface, storage through the repositories. One watcher cycle:

1. Sync the catalogue (blog -> SQLite). Poll with the stored `PollState`; the very first time,
   take the poll's baseline and list every review once. New and changed reviews are stored;
   when the blog's total moved, reviews no longer published are marked withdrawn. A review whose
   announcements must change is written to a "stale" list in bot_meta *before* storage changes,
   so a crash in between cannot lose the edit; the poll state is saved last.
2. Refresh the announcements of stale reviews: edit them, withdraw them, or restore them.
3. Finish orphaned claims (pending, and not being posted by this process): look for the posted
   message by its marker and record it, or post it now.
4. Per guild with a review channel: the first cycle records the baseline (the back catalogue
   is never announced by itself); later cycles claim, post and record each new review.

Exactly once: a claim row (guild, review) is inserted before posting and only one inserter
wins; the post is recorded on the claim afterwards. A definite refusal releases the claim, an
unknown outcome leaves it pending for step 3, which looks before it posts again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.blog.base import Blog
from bot.blog.errors import BlogError
from bot.blog.models import CommentRef, PollState, Review
from bot.health import ComponentHealth
from bot.storage.catalogue import CatalogueRepository
from bot.storage.reviews import (
    Announcement,
    AnnouncementKind,
    AnnouncementRepository,
    GuildWatchRepository,
    ReviewConflictError,
    ReviewRecord,
    ReviewRepository,
    StoredReview,
)

log = logging.getLogger(__name__)

POLL_STATE_KEY = "announcer:poll_state"
STALE_KEY = "announcer:stale_reviews"
BACKFILL_PACE_SECONDS = 1.0  # bot messages: 5 per 5 s per channel


@dataclass(frozen=True)
class Destination:
    """Where a post goes: a text or forum channel of a guild, and who it names."""

    guild_id: int
    channel_id: int
    ping_role_id: int | None = None
    requested_by: int | None = None  # the member who shared or announced it by hand


@dataclass(frozen=True)
class Posted:
    message_id: int
    thread_id: int | None


class PostFailed(Exception):
    """The post was refused for certain (nothing was posted); the message says why."""


class AnnouncementBusy(Exception):
    """This review is being announced in this guild right now."""


class AnnouncementPort(Protocol):
    """What the announcer needs from Discord."""

    async def destinations(self) -> list[Destination]:
        """Every guild with a review channel, with its channel and ping role."""
        ...

    async def post(
        self, destination: Destination, review: StoredReview, kind: AnnouncementKind
    ) -> Posted:
        """Post the review card (with its thread); PostFailed when refused for certain."""
        ...

    async def find_posted(self, claim: Announcement, review: StoredReview) -> Posted | None:
        """The post a claim made before a crash, found by its marker, or None."""
        ...

    async def update(self, announcement: Announcement, review: StoredReview) -> None:
        """Show the review as it is now (a withdrawn review as no longer available).

        A message that is gone or can no longer be edited is logged and skipped.
        """
        ...


class MetaStore(Protocol):
    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str) -> None: ...


# (new comments the poll saw, whether the comment total moved more than they explain)
OnComments = Callable[[Sequence[CommentRef], bool], Awaitable[None]]
OnPosted = Callable[[Destination, StoredReview, Posted], Awaitable[None]]


@dataclass
class CycleReport:
    new_reviews: int = 0
    changed_reviews: int = 0
    withdrawn_reviews: int = 0
    announced: list[tuple[int, str]] = field(default_factory=list)  # (guild, review)
    recovered: list[tuple[int, str]] = field(default_factory=list)  # found already posted
    errors: list[str] = field(default_factory=list)  # per-guild problems; the cycle went on


@dataclass(frozen=True)
class Repositories:
    reviews: ReviewRepository
    announcements: AnnouncementRepository
    guild_watch: GuildWatchRepository
    catalogue: CatalogueRepository
    meta: MetaStore


class Announcer:
    def __init__(
        self,
        blog: Callable[[], Awaitable[Blog]],
        port: AnnouncementPort,
        storage: Repositories,
        *,
        backfill_pace: float = BACKFILL_PACE_SECONDS,
        on_comments: OnComments | None = None,
        on_posted: OnPosted | None = None,
    ) -> None:
        """`on_comments` hears each poll's comment news; `on_posted` each recorded post
        (with its thread), e.g. to mirror the review's comments there."""
        self._blog = blog
        self._port = port
        self._reviews = storage.reviews
        self._announcements = storage.announcements
        self._watch = storage.guild_watch
        self._catalogue = storage.catalogue
        self._meta = storage.meta
        self._backfill_pace = backfill_pace
        self._on_comments = on_comments
        self._on_posted = on_posted
        self._sync_lock = asyncio.Lock()
        # Claims this process is posting right now: step 3 must not take them for orphans.
        self._in_flight: set[tuple[int, str]] = set()

    # ---- the cycle

    async def run_cycle(self) -> CycleReport:
        """One watcher cycle. Blog and storage errors raise; a guild's Discord problem is
        reported in `errors` and the other guilds go on."""
        report = CycleReport()
        async with self._sync_lock:
            await self._sync_catalogue(report)
            await self._refresh_stale()
        destinations = await self._port.destinations()
        await self._finish_pending(destinations, report)
        for destination in destinations:
            try:
                await self._announce_new(destination, report)
            except Exception as exc:  # one guild's broken channel must not stop the others
                log.warning(
                    "announcing failed guild=%s channel=%s error=%s",
                    destination.guild_id,
                    destination.channel_id,
                    exc,
                    exc_info=not isinstance(exc, PostFailed),
                )
                report.errors.append(f"guild {destination.guild_id}: {exc}")
        return report

    async def _sync_catalogue(self, report: CycleReport) -> None:
        blog = await self._blog()
        saved = await self._meta.get(POLL_STATE_KEY)
        if saved is None:
            # The poll's first answer is only a baseline; listing after it misses nothing
            # (a review published in between is also reported by the next poll).
            result = await blog.poll(PollState())
            listed = await blog.list_reviews()
            await self._store(_oldest_first(listed), report)
            await self._withdraw_missing({review.id for review in listed}, report)
        else:
            result = await blog.poll(PollState.from_json(json.loads(saved)))
            await self._store(_oldest_first(result.reviews), report)
            if result.reviews_total_changed:
                await self._reconcile(blog, report)
        await self._meta.set(POLL_STATE_KEY, json.dumps(result.state.as_json()))
        if self._on_comments is not None:
            await self._on_comments(result.new_comments, result.comments_total_changed)

    async def _store(self, reviews: Iterable[Review], report: CycleReport) -> None:
        for review in reviews:
            record = ReviewRecord.from_review(review)
            stored = await self._reviews.get(record.review_id)
            if stored is None:
                report.new_reviews += 1
            elif stored.content_hash != record.content_hash or stored.status != "published":
                await self._mark_stale({record.review_id})
                report.changed_reviews += 1
            try:
                await self._reviews.upsert_review(record)
            except ReviewConflictError as exc:
                log.warning("review not stored review=%s error=%s", record.review_id, exc)

    async def _reconcile(self, blog: Blog, report: CycleReport) -> None:
        """The published set moved: store what the poll missed, withdraw what is gone."""
        listed = await blog.list_reviews()
        known = await self._catalogue.published_blog_ids()
        await self._store(_oldest_first(r for r in listed if r.id not in known), report)
        await self._withdraw_missing({review.id for review in listed}, report)

    async def _withdraw_missing(self, published: set[str], report: CycleReport) -> None:
        gone = await self._catalogue.published_blog_ids() - published
        if not gone:
            return
        await self._mark_stale(gone)
        for review_id in sorted(gone):
            if await self._reviews.mark_withdrawn(review_id):
                report.withdrawn_reviews += 1
                log.info("review withdrawn review=%s", review_id)

    # ---- refreshing posted announcements

    async def _stale(self) -> set[str]:
        saved = await self._meta.get(STALE_KEY)
        return set(json.loads(saved)) if saved else set()

    async def _mark_stale(self, review_ids: set[str]) -> None:
        await self._meta.set(STALE_KEY, json.dumps(sorted(await self._stale() | review_ids)))

    async def _refresh_stale(self) -> None:
        for review_id in sorted(await self._stale()):
            review = await self._reviews.get(review_id)
            if review is not None:
                for announcement in await self._announcements.for_review(review_id):
                    await self._refresh(announcement, review)
            await self._meta.set(STALE_KEY, json.dumps(sorted(await self._stale() - {review_id})))

    async def _refresh(self, announcement: Announcement, review: StoredReview) -> None:
        if announcement.state == "pending" or announcement.message_id is None:
            return  # the post, when it happens, shows the current review
        withdrawn = review.status == "withdrawn"
        if withdrawn and announcement.state == "withdrawn":
            return
        await self._port.update(announcement, review)
        if withdrawn:
            await self._announcements.mark_withdrawn(announcement.guild_id, review.review_id)
        elif announcement.state == "withdrawn":  # republished: the post is live again
            await self._announcements.record_posted(
                announcement.guild_id,
                review.review_id,
                announcement.message_id,
                announcement.thread_id,
            )

    # ---- announcing

    async def _finish_pending(self, destinations: list[Destination], report: CycleReport) -> None:
        by_guild = {destination.guild_id: destination for destination in destinations}
        for claim in await self._announcements.pending():
            key = (claim.guild_id, claim.review_id)
            if key in self._in_flight:
                continue
            self._in_flight.add(key)
            try:
                await self._finish(claim, by_guild.get(claim.guild_id), report)
            except Exception as exc:
                log.warning(
                    "finishing a claim failed guild=%s review=%s error=%s",
                    claim.guild_id,
                    claim.review_id,
                    exc,
                    exc_info=not isinstance(exc, PostFailed),
                )
                report.errors.append(f"guild {claim.guild_id}: {exc}")
            finally:
                self._in_flight.discard(key)

    async def _finish(
        self, claim: Announcement, current: Destination | None, report: CycleReport
    ) -> None:
        review = await self._reviews.get(claim.review_id)
        if review is None:
            await self._announcements.release(claim.guild_id, claim.review_id)
            return
        found = await self._port.find_posted(claim, review)
        if found is not None:
            log.info("claim already posted guild=%s review=%s", claim.guild_id, claim.review_id)
            await self._announcements.record_posted(
                claim.guild_id, claim.review_id, found.message_id, found.thread_id
            )
            await self._recorded(Destination(claim.guild_id, claim.channel_id), review, found)
            report.recovered.append((claim.guild_id, claim.review_id))
            if review.status == "withdrawn":
                await self._mark_stale({review.review_id})
            return
        moved = claim.kind == "announce" and (
            current is None or current.channel_id != claim.channel_id
        )
        if review.status != "published" or moved:
            # Not worth posting any more (or the guild moved its review channel: the normal
            # flow claims it again for the new channel).
            await self._announcements.release(claim.guild_id, claim.review_id)
            return
        ping = current.ping_role_id if current and claim.kind == "announce" else None
        destination = Destination(claim.guild_id, claim.channel_id, ping)
        await self._post_claimed(destination, review, claim.kind)
        report.announced.append((claim.guild_id, claim.review_id))

    async def _announce_new(self, destination: Destination, report: CycleReport) -> None:
        if await self._watch.get(destination.guild_id) is None:
            watch = await self._watch.record_baseline(destination.guild_id)
            log.info("baseline recorded guild=%s seq=%s", destination.guild_id, watch.baseline_seq)
            return
        while batch := await self._announcements.unannounced(destination.guild_id):
            posted_any = False
            for review in batch:
                if await self.announce(destination, review, "announce") is not None:
                    report.announced.append((destination.guild_id, review.review_id))
                    posted_any = True
            if not posted_any:
                return  # every one was claimed by someone else meanwhile

    async def announce(
        self, destination: Destination, review: StoredReview, kind: AnnouncementKind
    ) -> Posted | None:
        """Claim, post and record; None when the guild already has (or is posting) it."""
        key = (destination.guild_id, review.review_id)
        if key in self._in_flight:
            return None
        self._in_flight.add(key)  # before the claim: no await may see it claimed and idle
        try:
            claimed = await self._announcements.claim(
                destination.guild_id, review.review_id, kind, destination.channel_id
            )
            if not claimed:
                return None
            return await self._post_claimed(destination, review, kind)
        finally:
            self._in_flight.discard(key)

    async def reannounce(self, destination: Destination, review: StoredReview) -> Posted:
        """Post the review again; the new post replaces the recorded announcement."""
        key = (destination.guild_id, review.review_id)
        if key in self._in_flight:
            raise AnnouncementBusy(review.review_id)
        self._in_flight.add(key)
        try:
            existing = await self._announcements.get(destination.guild_id, review.review_id)
            if existing is None:
                if not await self._announcements.claim(
                    destination.guild_id, review.review_id, "announce", destination.channel_id
                ):
                    raise AnnouncementBusy(review.review_id)
                return await self._post_claimed(destination, review, "announce")
            if existing.state == "pending":
                raise AnnouncementBusy(review.review_id)
            posted = await self._port.post(destination, review, existing.kind)
            await self._announcements.record_posted(
                destination.guild_id, review.review_id, posted.message_id, posted.thread_id
            )
            await self._recorded(destination, review, posted)
            return posted
        finally:
            self._in_flight.discard(key)

    async def _post_claimed(
        self, destination: Destination, review: StoredReview, kind: AnnouncementKind
    ) -> Posted:
        try:
            posted = await self._port.post(destination, review, kind)
        except PostFailed:
            await self._announcements.release(destination.guild_id, review.review_id)
            raise
        # Any other error leaves the claim pending: the post may exist, _finish looks first.
        await self._announcements.record_posted(
            destination.guild_id, review.review_id, posted.message_id, posted.thread_id
        )
        await self._recorded(destination, review, posted)
        log.info(
            "announced guild=%s review=%s message=%s",
            destination.guild_id,
            review.review_id,
            posted.message_id,
        )
        return posted

    async def _recorded(
        self, destination: Destination, review: StoredReview, posted: Posted
    ) -> None:
        if self._on_posted is not None:
            await self._on_posted(destination, review, posted)

    async def backfill(
        self,
        destination: Destination,
        count: int,
        progress: Callable[[int, int, StoredReview], Awaitable[None]],
    ) -> int:
        """Announce up to `count` of the newest reviews from before the guild's baseline,
        oldest first and paced; `progress(done, total, review)` follows each. Returns how
        many were posted."""
        await self._watch.record_baseline(destination.guild_id)  # the rest stays unannounced
        candidates = await self._catalogue.back_catalogue(destination.guild_id, count)
        posted = 0
        for done, review in enumerate(candidates, start=1):
            if done > 1:
                await asyncio.sleep(self._backfill_pace)
            if await self.announce(destination, review, "announce") is not None:
                posted += 1
            await progress(done, len(candidates), review)
        return posted


def _oldest_first(reviews: Iterable[Review]) -> list[Review]:
    # Stored in publication order, so store order (and "after the baseline") matches the blog's.
    return sorted(reviews, key=lambda review: review.published)


# ---- the watcher loop


def backoff_delay(
    failures: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter: base * 2^(failures-1), capped, then 50..100 % of it."""
    delay = min(cap, base * 2 ** max(failures - 1, 0))
    return delay * (0.5 + rand() / 2)


class Watcher:
    """Runs the cycle every `interval` seconds forever. Any exception is logged, recorded in
    `health`, and retried with exponential backoff and jitter; only cancellation stops it."""

    def __init__(
        self,
        cycle: Callable[[], Awaitable[CycleReport]],
        health: ComponentHealth,
        interval: float,
        *,
        retry_base: float = 5.0,
        retry_cap: float = 600.0,
    ) -> None:
        self._cycle = cycle
        self._health = health
        self._interval = interval
        self._retry_base = min(retry_base, interval)
        self._retry_cap = max(retry_cap, interval)

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                report = await self._cycle()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = backoff_delay(failures, self._retry_base, self._retry_cap)
                log.warning(
                    "watcher cycle failed failures=%d retry_in=%.1fs error=%s",
                    failures,
                    delay,
                    exc,
                    exc_info=not isinstance(exc, BlogError),  # an outage is no bug: no traceback
                )
                self._health.failed(f"{type(exc).__name__}: {exc}")
            else:
                failures = 0
                delay = self._interval
                if report.errors:
                    self._health.failed("; ".join(report.errors))
                else:
                    self._health.succeeded()
            await asyncio.sleep(delay)
