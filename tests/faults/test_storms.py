"""Outages, in process with the real bot against the emulator (fast): the blog down for a while
then back; Discord answering 5xx and 429 storms; the gateway dropped, told to reconnect and
invalidated while the watcher announces. After each, every review has one card and one thread.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

import tests.e2e.test_announcements as announcements
from tests.component.fake_wordpress import FakeWordPress
from tests.e2e.conftest import BotHarness, World

HER = "<p>A gentle film.</p><p>Rating: 9/10</p>"
MESSAGES = "POST /channels/{channel_id}/messages"


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    fake.add_post("The Back Catalogue", HER, date=datetime(2024, 1, 5, tzinfo=UTC))
    async with fake.serve():
        yield fake


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def titles(world: World) -> tuple[Counter[str], Counter[str]]:
    cards = Counter(m.embeds[0]["title"] for m in world.emu.messages_in(world.channel) if m.embeds)
    threads = Counter(t.name for t in world.emu.threads_in(world.channel))
    return cards, threads


async def converge(harness: BotHarness, expected: list[str], timeout: float = 30) -> None:
    """Run watcher cycles (errors allowed: the faults cause them) until every review has one
    card and one thread, then one more cycle, which must change nothing."""
    cog = announcements.reviews_cog(harness)
    want = (Counter(expected), Counter(expected))
    async with asyncio.timeout(timeout):
        while titles(harness.world) != want:
            await cog.run_cycle()
            await asyncio.sleep(0.05)
    report = await cog.run_cycle()
    assert report.errors == [] and report.announced == []
    assert titles(harness.world) == want


async def watcher_field(world: World) -> str:
    result = await world.emu.run_command(world.alice, world.channel, "about")
    about = await result.wait_for_message(timeout=10)
    return next(f["value"] for f in about.embeds[0]["fields"] if f["name"] == "Blog watcher")


async def test_blog_down_for_a_while_then_back_announces_once(
    harness: BotHarness, blog: FakeWordPress
):
    world = await announcements.started(harness, blog, poll_seconds=1)
    health = harness.bot.health.component("watcher")
    blog.fail_next(10_000, 503)
    announcements.publish(blog, "Past Lives")
    await until(lambda: health.consecutive_failures >= 2, timeout=30)
    assert (await watcher_field(world)).startswith("⚠️ failing")
    assert titles(world)[0] == Counter()

    blog.faults.clear()  # the blog is back
    await world.emu.wait_for_message(world.channel, lambda m: bool(m.embeds), timeout=30)
    await until(lambda: health.ok, timeout=30)
    assert (await watcher_field(world)).startswith("ok")
    await converge(harness, ["Past Lives"])


@pytest.mark.parametrize(
    "storm",
    [
        pytest.param([(500, 1), (503, 6), (502, 1)], id="5xx"),
        pytest.param([(429, 6)], id="429"),
    ],
)
async def test_discord_error_storm_on_message_create_loses_and_doubles_nothing(
    harness: BotHarness, blog: FakeWordPress, storm: list[tuple[int, int]]
):
    world = await announcements.started(harness, blog)
    new = [f"Storm Review {n}" for n in range(4)]
    for title in new:
        announcements.publish(blog, title)
    for status, times in storm:
        world.emu.fail_next(MESSAGES, times=times, status=status)
    await converge(harness, new, timeout=60)
    assert world.emu.take_fault(MESSAGES) is None  # the whole storm was met


async def test_gateway_drops_reconnects_and_invalid_sessions_while_announcing(
    harness: BotHarness, blog: FakeWordPress
):
    world = await announcements.started(harness, blog)
    emu, app = world.emu, world.app
    new = [f"Gateway Review {n}" for n in range(3)]
    cog = announcements.reviews_cog(harness)
    for n, title in enumerate(new):
        announcements.publish(blog, title)
        cycle = asyncio.create_task(cog.run_cycle())
        if n % 3 == 0:
            emu.drop_gateway(app)
        elif n % 3 == 1:
            await emu.send_reconnect(app)
        else:
            await emu.invalidate_session(app)
        await cycle
        await emu.wait_for_gateway(app, timeout=30)
    await converge(harness, new)
    # Members are still served after all that: a command round-trips through the gateway.
    assert (await watcher_field(world)).startswith("ok")
