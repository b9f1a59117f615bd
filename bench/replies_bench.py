"""Discord reply -> blog comment: latency and outbox throughput on loopback.

The real bot (same class and config loader as `reviewbridge run`) against the Discord emulator
and the fake WordPress over HTTP, with the Message Content intent. A member who agreed to
publishing posts in the "Her" thread; a sample ends when the comment exists on the blog.
The worker is woken by the commit itself (`Outbox.notify`), so no poll interval shows up in
the figures. Throughput: a burst of messages, until the last is on the blog.

    python bench/replies_bench.py [--samples 50] [--burst 200] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/replies_bench.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bot.sandbox.seed import add_bot_user, publish_her_review  # noqa: E402
from cogs.reviews import Reviews  # noqa: E402
from discord_emulator import DiscordEmulator  # noqa: E402
from tests.component.fake_wordpress import FakeWordPress  # noqa: E402
from tests.e2e.conftest import BotHarness  # noqa: E402
from tests.e2e.test_comments import APP_PASSWORD, agree, make_world, mirrored  # noqa: E402

TARGET_P99_MS = 2000.0
TARGET_PER_SECOND = 10.0
TIME_SCALE = 0.05  # Discord's rate-limit windows shrunk: the figures are the bot's


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def until(predicate: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the blog did not get the comment in time")
        await asyncio.sleep(0.0005)


async def run(samples: int, burst: int) -> dict[str, Any]:
    wp = FakeWordPress()
    add_bot_user(wp, APP_PASSWORD)
    her = publish_her_review(wp)
    async with wp.serve(), DiscordEmulator(time_scale=TIME_SCALE) as emu:
        world = make_world(emu, content_intent=True)
        with tempfile.TemporaryDirectory() as folder:
            harness = BotHarness(world, Path(folder) / "bot.sqlite3")
            harness.env.update(
                {
                    "BLOG_URL": wp.url,
                    "WORDPRESS_USER": "reviewbridge",
                    "WORDPRESS_APP_PASSWORD": APP_PASSWORD,
                    "BLOG_ALLOW_PRIVATE_HOST": "true",
                    "BLOG_POLL_SECONDS": "3600",
                }
            )
            try:
                bot = await harness.start()
                setup = await emu.run_command(
                    world.moderator, world.channel, "setup channel", {"channel": world.channel}
                )
                await setup.wait_for_message()
                await cast(Reviews, bot.get_cog("Reviews")).run_cycle()
                announce = await emu.run_command(
                    world.moderator, world.channel, "review announce", {"review": str(her.post.id)}
                )
                await announce.wait_for_message(timeout=10)
                [thread] = emu.threads_in(world.channel)
                await emu.wait_until(lambda: len(mirrored(world, thread)) == 2, 10)
                await agree(world)

                def on_blog() -> int:
                    return sum(1 for c in wp.comments.values() if "(via Discord)" in c.author_name)

                latencies = []
                for n in range(samples):
                    before = on_blog()
                    start = time.perf_counter()
                    await emu.post_message(world.alice, thread, f"Sample {n}")
                    await until(lambda before=before: on_blog() > before)
                    latencies.append((time.perf_counter() - start) * 1000)

                before = on_blog()
                start = time.perf_counter()
                posted = [
                    await emu.post_message(world.alice, thread, f"Burst {n}") for n in range(burst)
                ]
                await until(lambda: on_blog() >= before + burst, timeout=300)
                elapsed = time.perf_counter() - start
                # The status reactions settle after the blog has everything (they are paced).
                await until(lambda: all(list(m.reactions) == ["✅"] for m in posted), 300)
                rate_limited = emu.stats.total_429s
            finally:
                await harness.stop()
    return {
        "latency_p50_ms": statistics.median(latencies),
        "latency_p99_ms": percentile(latencies, 0.99),
        "burst": burst,
        "burst_seconds": elapsed,
        "per_second": burst / elapsed,
        "rate_limited": rate_limited,
    }


def table(figures: dict[str, Any]) -> str:
    p99_ratio = figures["latency_p99_ms"] / TARGET_P99_MS
    rate_ratio = TARGET_PER_SECOND / figures["per_second"]
    rows = [
        f"{'figure':<34}  {'value':>12}  {'target':>12}  {'ratio':>6}",
        f"{'reply -> blog comment p50':<34}  {figures['latency_p50_ms']:>9.1f} ms  "
        f"{'':>12}  {'':>6}",
        f"{'reply -> blog comment p99':<34}  {figures['latency_p99_ms']:>9.1f} ms  "
        f"{'< 2000 ms':>12}  {p99_ratio:6.2f} {'ok' if p99_ratio < 1 else 'OVER'}",
        f"{'outbox throughput (burst)':<34}  {figures['per_second']:>8.1f} /s  "
        f"{'>= 10 /s':>12}  {rate_ratio:6.2f} {'ok' if rate_ratio < 1 else 'UNDER'}",
        f"{'Discord 429 answers (all of it)':<34}  {figures['rate_limited']:>12}  {'0':>12}  "
        f"{'':>6} {'ok' if figures['rate_limited'] == 0 else 'OVER'}",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures = asyncio.run(run(args.samples, args.burst))
    print(f"{args.samples} samples, a burst of {args.burst} messages, loopback")
    print(table(figures))
    if args.json:
        rows = [
            {"figure": "reply -> blog comment p99 (ms)", "value": figures["latency_p99_ms"],
             "target": TARGET_P99_MS, "at_most": True},
            {"figure": "outbox throughput (rows/s)", "value": figures["per_second"],
             "target": TARGET_PER_SECOND, "at_most": False},
            {"figure": "Discord 429 answers", "value": figures["rate_limited"],
             "target": 0, "at_most": True},
        ]  # fmt: skip
        args.json.write_text(json.dumps({**figures, "figures": rows}, indent=2))
    ok = (
        figures["latency_p99_ms"] < TARGET_P99_MS
        and figures["per_second"] >= TARGET_PER_SECOND
        and figures["rate_limited"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
