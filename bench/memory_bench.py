"""Resident memory of `reviewbridge run` with a large database: 10,000 reviews, 100,000
mirrored comments (and 100,000 ratings), against the Discord emulator on loopback.

    python bench/memory_bench.py [--json out.json]

The bot runs as its own process, exactly as an operator starts it. The figure is its peak RSS
(VmHWM) after it connected, answered a search, drew a ratings chart and idled for a while.
Target: under 120 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/memory_bench.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bench.ratings_bench import SEED, build_world, seed_database  # noqa: E402
from bot.storage import open_database  # noqa: E402
from discord_emulator import DiscordEmulator  # noqa: E402
from tests.e2e.conftest import TOKEN  # noqa: E402

REVIEWS = 10_000
RATINGS = 100_000
COMMENTS = 100_000
TARGET_MB = 120.0
IDLE_SECONDS = 5.0


async def seed_mirror(path: Path, guild_id: int, channel_id: int) -> None:
    """Mirror state as if every review's thread had ten comments mirrored.

    Rows are written directly for speed: the bench measures the bot reading them, not
    the engine writing them (bench/mirror_bench.py measures that).
    """
    database = await open_database(path)
    rng = random.Random(SEED)
    now = "2024-05-01T12:00:00.000Z"
    rows = await database.fetch_all("SELECT review_id FROM reviews ORDER BY seq")
    review_ids = [row[0] for row in rows][: COMMENTS // 10]
    threads, comments, messages = [], [], []
    for index, review_id in enumerate(review_ids):
        thread_id = 10_000_000 + index
        threads.append((thread_id, review_id, guild_id, channel_id, now))
        for position in range(10):
            comment_id = str(index * 10 + position + 1)
            marker = f"{rng.getrandbits(48):012x}"
            snapshot = json.dumps({"author": f"Reader {position}", "text": "x" * 200})
            comments.append(
                (
                    thread_id,
                    comment_id,
                    None,
                    "h",
                    "r",
                    f"Reader {position}",
                    now,
                    position,
                    marker,
                    snapshot,
                    now,
                )
            )
            messages.append((thread_id, comment_id, 20_000_000 + len(messages), marker))
    async with database.transaction() as conn:
        await conn.executemany(
            "INSERT INTO mirror_threads (thread_id, review_id, guild_id, channel_id, linked_at) "
            "VALUES (?, ?, ?, ?, ?)",
            threads,
        )
        await conn.executemany(
            "INSERT INTO mirrored_comments (thread_id, comment_id, parent_comment_id, "
            "content_hash, render_key, author, published_at, position, marker, state, "
            "snapshot, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'mirrored', ?, ?)",
            comments,
        )
        await conn.executemany(
            "INSERT INTO mirrored_messages (thread_id, comment_id, part, message_id, marker, "
            "rendered_hash) VALUES (?, ?, 0, ?, ?, 'r')",
            messages,
        )
    await database.close()


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


async def measure() -> dict[str, float]:
    async with DiscordEmulator(time_scale=0.05) as emu:
        world = build_world(emu)
        folder = Path(tempfile.mkdtemp(prefix="rb-memory-"))
        path = folder / "bot.sqlite3"
        titles = await seed_database(path, world.guild.id, REVIEWS, RATINGS)
        await seed_mirror(path, world.guild.id, world.channel.id)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
        env.update(
            DISCORD_TOKEN=TOKEN,
            DISCORD_API_BASE=emu.api_base,
            DISCORD_GATEWAY_URL=emu.gateway_url,
            DATABASE_PATH=str(path),
            LOG_LEVEL="WARNING",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=folder,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await emu.wait_until(lambda: bool(emu.commands(world.app)), timeout=60)
            await emu.wait_for_gateway(world.app)
            await asyncio.sleep(1)
            word = titles[0].split()[0]
            for command, options in (
                ("review search", {"words": word}),
                ("ratings show", {"review": "100000"}),
            ):
                with_answer = await emu.run_command(world.alice, world.channel, command, options)
                await with_answer.wait_for_message(timeout=30)
            await asyncio.sleep(IDLE_SECONDS)
            return {"rss_mb": rss_mb(process.pid, "VmRSS"), "peak_mb": rss_mb(process.pid, "VmHWM")}
        finally:
            process.terminate()
            await process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = asyncio.run(measure())
    rows = [
        {
            "figure": "bot RSS, 10k reviews / 100k mirrored comments (MB)",
            "value": round(figures["peak_mb"], 1),
            "target": TARGET_MB,
            "ratio": round(figures["peak_mb"] / TARGET_MB, 3),
        },
    ]
    print(f"{'figure':<55} {'value':>8} {'target':>8} {'ratio':>6}")
    for row in rows:
        print(f"{row['figure']:<55} {row['value']:>8} {row['target']:>8} {row['ratio']:>6}")
    print(f"(current RSS {figures['rss_mb']:.1f} MB; took {time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0 if all(row["ratio"] <= 1 for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
