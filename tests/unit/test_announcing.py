"""The announcer's decisions with a fake blog and a fake Discord, on a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.announcing import (
    Announcer,
    CycleReport,
    Destination,
    Posted,
    PostFailed,
    Repositories,
    Watcher,
    backoff_delay,
)
from bot.blog.models import PollResult, PollState, Review
from bot.health import ComponentHealth
from bot.storage import MetaRepository, open_database
from bot.storage.catalogue import CatalogueRepository
from bot.storage.reviews import (
    Announcement,
    AnnouncementKind,
    AnnouncementRepository,
    GuildWatchRepository,
    ReviewRepository,
    StoredReview,
)
from tests.unit.test_architecture import imported_modules

GUILD, CHANNEL = 10, 20
START = datetime(2024, 3, 1, tzinfo=UTC)


class FakeBlog:
    """Just enough of a blog for the watcher: a list and a poll by version."""

    def __init__(self) -> None:
        self.reviews: dict[str, Review] = {}
        self.polls = 0

    def publish(self, review_id: str, title: str, day: int = 0) -> Review:
        when = START + timedelta(days=day)
        review = Review(review_id, title, f"https://blog.example/{review_id}/", "Mara", when, when)
        self.reviews[review_id] = review
        return review

    def edit(self, review_id: str, title: str) -> None:
        old = self.reviews[review_id]
        self.reviews[review_id] = replace(old, title=title, modified=old.modified + timedelta(1))

    async def list_reviews(self, since=None, limit=None) -> list[Review]:
        return sorted(self.reviews.values(), key=lambda r: r.published, reverse=True)

    async def poll(self, state: PollState) -> PollResult:
        self.polls += 1
        versions = {rid: r.version for rid, r in self.reviews.items()}
        new = PollState(review_versions=versions, reviews_total=len(versions))
        if state.is_baseline:
            return PollResult(state=new)
        changed = [
            r for rid, r in self.reviews.items() if state.review_versions.get(rid) != r.version
        ]
        return PollResult(
            state=new,
            reviews=tuple(changed),
            reviews_total_changed=new.reviews_total != state.reviews_total,
        )


@dataclass
class FakeDiscord:
    """Posts are (guild, review, message) rows; knobs make posts slow, refused or lost."""

    destinations_: list[Destination] = field(default_factory=lambda: [Destination(GUILD, CHANNEL)])
    posts: list[tuple[int, str, int]] = field(default_factory=list)
    updates: list[tuple[str, str, str]] = field(default_factory=list)  # (review, title, status)
    refuse: bool = False
    lose_answer: bool = False  # the post happens, the answer never arrives
    fail_updates: int = 0
    delay: float = 0.0
    next_id: int = 1000

    async def destinations(self) -> list[Destination]:
        return self.destinations_

    async def post(
        self, destination: Destination, review: StoredReview, kind: AnnouncementKind
    ) -> Posted:
        await asyncio.sleep(self.delay)
        if self.refuse:
            raise PostFailed("Missing Permissions")
        self.next_id += 1
        self.posts.append((destination.guild_id, review.review_id, self.next_id))
        if self.lose_answer:
            raise ConnectionResetError("connection lost")
        return Posted(self.next_id, self.next_id)

    async def find_posted(self, claim: Announcement, review: StoredReview) -> Posted | None:
        for guild, review_id, message in self.posts:
            if (guild, review_id) == (claim.guild_id, review.review_id):
                return Posted(message, message)
        return None

    async def update(self, announcement: Announcement, review: StoredReview) -> None:
        if self.fail_updates:
            self.fail_updates -= 1
            raise ConnectionResetError("Discord unavailable")
        self.updates.append((review.review_id, review.title, review.status))


@dataclass
class World:
    blog: FakeBlog
    discord: FakeDiscord
    announcer: Announcer
    storage: Repositories

    def posted(self) -> list[str]:
        return [review_id for _, review_id, _ in self.discord.posts]

    async def cycle(self) -> CycleReport:
        return await self.announcer.run_cycle()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    database = await open_database(tmp_path / "bot.sqlite3")
    storage = Repositories(
        reviews=ReviewRepository(database),
        announcements=AnnouncementRepository(database),
        guild_watch=GuildWatchRepository(database),
        catalogue=CatalogueRepository(database),
        meta=MetaRepository(database),
    )
    blog, discord = FakeBlog(), FakeDiscord()

    async def connect() -> FakeBlog:
        return blog

    announcer = Announcer(connect, discord, storage, backfill_pace=0)  # type: ignore[arg-type]
    yield World(blog, discord, announcer, storage)
    await database.close()


async def test_first_cycle_stores_the_catalogue_and_announces_nothing(world: World):
    world.blog.publish("1", "Her")
    world.blog.publish("2", "Arrival", day=1)
    report = await world.cycle()
    assert report.new_reviews == 2 and report.announced == []
    assert await world.storage.guild_watch.get(GUILD) is not None
    assert [r.title for r in await world.storage.reviews.latest()] == ["Arrival", "Her"]
    await world.cycle()
    assert world.posted() == []


async def test_a_new_review_is_announced_once(world: World):
    world.blog.publish("1", "Her")
    await world.cycle()
    world.blog.publish("2", "Arrival", day=1)
    assert (await world.cycle()).announced == [(GUILD, "2")]
    assert (await world.cycle()).announced == []
    assert world.posted() == ["2"]
    recorded = await world.storage.announcements.get(GUILD, "2")
    assert recorded is not None and recorded.state == "posted"


async def test_a_guild_set_up_later_gets_its_own_baseline(world: World):
    world.discord.destinations_ = []
    world.blog.publish("1", "Her")
    await world.cycle()
    world.blog.publish("2", "Arrival", day=1)
    await world.cycle()
    world.discord.destinations_ = [Destination(GUILD, CHANNEL)]
    await world.cycle()  # baseline now: both are back catalogue here
    world.blog.publish("3", "Heat", day=2)
    await world.cycle()
    assert world.posted() == ["3"]


async def test_concurrent_cycles_post_each_review_once(world: World):
    await world.cycle()
    for n in range(3):
        world.blog.publish(str(n), f"Film {n}", day=n)
    world.discord.delay = 0.01  # every post yields, so the cycles interleave
    reports = await asyncio.gather(*(world.cycle() for _ in range(4)))
    assert sorted(world.posted()) == ["0", "1", "2"]
    assert sum(len(r.announced) for r in reports) == 3


async def test_a_refused_post_releases_the_claim_and_is_retried(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    world.discord.refuse = True
    report = await world.cycle()
    assert report.errors and "Missing Permissions" in report.errors[0]
    assert await world.storage.announcements.get(GUILD, "1") is None
    world.discord.refuse = False
    assert (await world.cycle()).announced == [(GUILD, "1")]


async def test_a_lost_answer_is_found_by_its_marker_not_posted_again(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    world.discord.lose_answer = True
    report = await world.cycle()
    assert report.errors and world.posted() == ["1"]
    assert (await world.storage.announcements.get(GUILD, "1")).state == "pending"
    world.discord.lose_answer = False
    report = await world.cycle()
    assert report.recovered == [(GUILD, "1")] and world.posted() == ["1"]
    assert (await world.storage.announcements.get(GUILD, "1")).state == "posted"


async def test_an_orphan_claim_without_a_post_is_posted(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    world.discord.destinations_ = []
    await world.cycle()  # stored, no guild to announce in
    await world.storage.announcements.claim(GUILD, "1", "announce", CHANNEL)
    world.discord.destinations_ = [Destination(GUILD, CHANNEL)]
    assert (await world.cycle()).announced == [(GUILD, "1")]
    assert world.posted() == ["1"]


async def test_a_claim_being_posted_is_not_taken_for_an_orphan(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    world.discord.delay = 0.05
    slow = asyncio.create_task(world.cycle())
    await asyncio.sleep(0.02)  # the first cycle has claimed and is posting
    await world.cycle()
    await slow
    assert world.posted() == ["1"]


async def test_a_claim_for_a_channel_no_longer_used_is_released(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    world.discord.destinations_ = []
    await world.cycle()
    await world.storage.announcements.claim(GUILD, "1", "announce", CHANNEL)
    world.discord.destinations_ = [Destination(GUILD, CHANNEL + 1)]
    await world.cycle()
    recorded = await world.storage.announcements.get(GUILD, "1")
    assert recorded is not None and recorded.channel_id == CHANNEL + 1


async def test_an_edit_updates_the_post_even_after_a_failed_attempt(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    await world.cycle()
    world.blog.edit("1", "Her (2013)")
    world.discord.fail_updates = 1
    with pytest.raises(ConnectionResetError):
        await world.cycle()
    assert world.discord.updates == []
    report = await world.cycle()  # the poll sees nothing new; the stale list remembers
    assert report.changed_reviews == 0
    assert world.discord.updates == [("1", "Her (2013)", "published")]
    await world.cycle()
    assert len(world.discord.updates) == 1


async def test_an_unchanged_save_does_not_touch_the_post(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    await world.cycle()
    world.blog.edit("1", "Her")  # a new modified date, nothing visible changed
    await world.cycle()
    assert world.discord.updates == []


async def test_an_unpublished_review_is_withdrawn_then_restored(world: World):
    await world.cycle()
    her = world.blog.publish("1", "Her")
    await world.cycle()
    del world.blog.reviews["1"]
    report = await world.cycle()
    assert report.withdrawn_reviews == 1
    assert world.discord.updates == [("1", "Her", "withdrawn")]
    assert (await world.storage.announcements.get(GUILD, "1")).state == "withdrawn"
    world.blog.reviews["1"] = her
    await world.cycle()
    assert world.discord.updates[-1] == ("1", "Her", "published")
    assert (await world.storage.announcements.get(GUILD, "1")).state == "posted"
    assert world.posted() == ["1"]


async def test_backfill_posts_the_newest_older_reviews_oldest_first(world: World):
    for n in range(5):
        world.blog.publish(str(n), f"Film {n}", day=n)
    await world.cycle()
    seen: list[tuple[int, int, str]] = []

    async def progress(done: int, total: int, review: StoredReview) -> None:
        seen.append((done, total, review.title))

    destination = Destination(GUILD, CHANNEL)
    assert await world.announcer.backfill(destination, 3, progress) == 3
    assert world.posted() == ["2", "3", "4"]
    assert seen == [(1, 3, "Film 2"), (2, 3, "Film 3"), (3, 3, "Film 4")]
    assert await world.announcer.backfill(destination, 10, progress) == 2
    assert world.posted() == ["2", "3", "4", "0", "1"]
    await world.cycle()
    assert len(world.posted()) == 5


async def test_reannounce_replaces_the_recorded_post(world: World):
    await world.cycle()
    world.blog.publish("1", "Her")
    await world.cycle()
    review = await world.storage.reviews.get("1")
    posted = await world.announcer.reannounce(Destination(GUILD, CHANNEL), review)
    recorded = await world.storage.announcements.get(GUILD, "1")
    assert recorded.message_id == posted.message_id and len(world.posted()) == 2


def test_the_announcing_core_does_not_import_discord():
    source = Path(__file__).resolve().parents[2] / "bot" / "announcing.py"
    assert imported_modules(source).isdisjoint({"discord"})
    assert not any(name.startswith("discord.") for name in imported_modules(source))


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    assert backoff_delay(1, 5, 600, rand=lambda: 1.0) == 5
    assert backoff_delay(3, 5, 600, rand=lambda: 1.0) == 20
    assert backoff_delay(3, 5, 600, rand=lambda: 0.0) == 10
    assert backoff_delay(30, 5, 600, rand=lambda: 1.0) == 600


async def test_the_watcher_survives_failures_and_records_them():
    health = ComponentHealth("watcher")
    outcomes: list[Exception | None] = [RuntimeError("blog down"), None, None]
    calls = 0
    done = asyncio.Event()

    async def cycle() -> CycleReport:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            assert health.ok
            raise outcome
        if calls == 2:
            assert health.consecutive_failures == 1 and "blog down" in (health.last_error or "")
        if not outcomes:
            done.set()
        return CycleReport()

    watcher = Watcher(cycle, health, interval=0.01, retry_base=0.01)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(done.wait(), 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert health.ok and health.last_success is not None and calls >= 3
