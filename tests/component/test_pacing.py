"""The one limiter every feature shares: bot requests under Discord's global limit, webhook
executions under their per-channel limits, neither eating the other's room."""

from __future__ import annotations

import asyncio

from bot.sync.pacing import Action, Pacer, PacingLimits

from .fake_discord_port import FakeClock


def most_in_any_window(times: list[float], seconds: float) -> int:
    ordered = sorted(times)
    return max(
        sum(1 for other in ordered[i:] if other < start + seconds)
        for i, start in enumerate(ordered)
    )


async def test_a_burst_of_bot_requests_from_every_feature_stays_under_50_a_second():
    clock = FakeClock()
    pacer = Pacer(clock)
    sent: list[float] = []

    async def request() -> None:
        await pacer.acquire_bot_request()
        sent.append(clock.monotonic())

    await asyncio.gather(*(request() for _ in range(180)))
    assert len(sent) == 180
    assert most_in_any_window(sent, 1.0) <= 50
    assert sent[-1] - sent[0] < 5  # paced, not stalled: 180 requests in a few seconds


async def test_webhook_executions_do_not_use_up_the_global_room():
    clock = FakeClock()
    pacer = Pacer(clock)
    for channel in range(1, 11):
        for _ in range(5):
            await pacer.acquire(channel, Action.EXECUTE)  # 50 webhook messages in 10 channels
    started = clock.monotonic()
    for _ in range(50):
        await pacer.acquire_bot_request()
    assert clock.monotonic() == started  # webhooks carry no bot token: no wait for the bot


async def test_scaled_limits_shrink_the_global_window_with_the_emulator():
    clock = FakeClock()
    pacer = Pacer(clock, PacingLimits().scaled(0.01))
    sent: list[float] = []
    for _ in range(120):
        await pacer.acquire_bot_request()
        sent.append(clock.monotonic())
    assert most_in_any_window(sent, 0.01) <= 50
    assert sent[-1] - sent[0] < 0.05


async def test_status_reactions_keep_a_quarter_second_apart_per_channel_only():
    clock = FakeClock()
    pacer = Pacer(clock)
    sent: dict[int, list[float]] = {1: [], 2: []}

    async def react(channel: int) -> None:
        await pacer.acquire(channel, Action.REACT)
        sent[channel].append(clock.monotonic())

    await asyncio.gather(*(react(channel) for channel in (1, 2) for _ in range(10)))
    for times in sent.values():
        assert len(times) == 10
        assert most_in_any_window(times, 0.25) == 1
    assert sent[2][0] == sent[1][0]  # another thread's reactions do not wait for this one's
