"""Graceful shutdown: the mirror's outbox finishes the rows due now, for a bounded time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.mirror import OutboxRepository
from bot.sync.engine import MirrorEngine, MirrorSettings
from bot.sync.outbox import RetryPolicy
from bot.sync.render import MessageSpec
from tests.component.fake_discord_port import FakeDiscordPort, timeout
from tests.component.fake_wordpress import FakeWordPress

GUILD, CHANNEL, THREAD = 10, 20, 30
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


class GatedPort(FakeDiscordPort):
    """Sends wait until the gate opens: a slow, or (never opened) a stuck, Discord."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.gate = asyncio.Event()

    async def send_webhook_message(self, webhook_id: int, thread_id: int, spec: MessageSpec) -> int:
        await self.gate.wait()
        return await super().send_webhook_message(webhook_id, thread_id, spec)


@pytest.fixture
def port(clock):
    return GatedPort(clock)


@pytest.fixture
def make_engine(db, blog, clock):
    def make(port: FakeDiscordPort) -> MirrorEngine:
        settings = MirrorSettings(blog_name="Fake Reviews")
        retry = RetryPolicy(base=0.5, cap=5.0, max_attempts=6)
        return MirrorEngine(db, blog, port, settings, clock=clock, retry=retry)

    return make


@pytest.fixture
async def linked(wp: FakeWordPress):
    post = wp.add_post("Her (2013)", "<p>A review.</p>", date=T0 - timedelta(days=1))
    for n in range(3):
        wp.add_comment(post, f"Comment {n}", author_name=f"Reader {n}", date=T0 + timedelta(n))
    return str(post.id)


async def queued(db) -> int:
    return await OutboxRepository(db).count(THREAD, ("todo", "doing"))


async def link_and_start(engine: MirrorEngine, review_id: str) -> None:
    await engine.link(review_id, guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    await engine.start()
    await asyncio.sleep(0.05)  # the worker is now waiting on the first send


async def test_stop_lets_the_outbox_deliver_queued_rows(db, make_engine, port, linked):
    engine = make_engine(port)
    await link_and_start(engine, linked)
    assert port.comment_messages(THREAD) == []

    stopping = asyncio.create_task(engine.stop(drain_seconds=5))
    await asyncio.sleep(0.05)
    port.gate.set()  # Discord answers again while the bot is shutting down
    await asyncio.wait_for(stopping, timeout=5)

    assert len(port.comment_messages(THREAD)) == 3  # not only the row in flight
    assert await queued(db) == 0


async def test_a_stuck_port_does_not_hold_shutdown_beyond_the_bound(
    db, make_engine, port, clock, linked
):
    engine = make_engine(port)
    await link_and_start(engine, linked)

    started = time.monotonic()
    await engine.stop(drain_seconds=0.3)
    assert time.monotonic() - started < 2

    assert port.comment_messages(THREAD) == []
    assert await queued(db) > 0  # kept in SQLite for the next start
    after_restart = make_engine(FakeDiscordPort(clock))
    await after_restart.outbox.recover()
    await after_restart.settle()
    assert await queued(db) == 0


async def test_rows_waiting_for_a_retry_do_not_hold_shutdown(db, make_engine, port, linked):
    port.gate.set()
    port.fail_next("send", timeout())  # the first send is rescheduled into the future
    engine = make_engine(port)
    await engine.link(linked, guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    await engine.start()

    started = time.monotonic()
    await engine.stop(drain_seconds=5)
    assert time.monotonic() - started < 2
    assert await queued(db) == 3


async def test_stop_without_drain_seconds_stops_at_once(db, make_engine, port, linked):
    engine = make_engine(port)
    await link_and_start(engine, linked)
    started = time.monotonic()
    await engine.stop()
    assert time.monotonic() - started < 1
    assert await queued(db) == 3
