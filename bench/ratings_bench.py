"""Latency of rating and search commands, member to answer, on a catalogue of realistic size.

The real bot (same class, same config loader as `reviewbridge run`) against the Discord
emulator on loopback, over 10,000 reviews and 100,000 ratings. Every sample is one member
running a slash command and waiting until the answer is shown: gateway event, the bot's
work (SQL, the chart in a worker thread), the interaction callback and follow-up with the PNG.

    python bench/ratings_bench.py [--samples 300] [--json out.json]

`/review search` is measured through the emulator when a `review search` command is loaded;
until then the row measures `ReviewRepository.search` plus an `/about` round trip in its place.
Rate-limit windows are shrunk (time_scale) so the figures are the bot's, not Discord's limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/ratings_bench.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bot.discord_ui.invite import REQUIRED_PERMISSIONS  # noqa: E402
from bot.ratings import SCORE_STEPS  # noqa: E402
from bot.storage import open_database  # noqa: E402
from bot.storage.reviews import ReviewRecord, ReviewRepository  # noqa: E402
from discord_emulator import Channel, DiscordEmulator, Member  # noqa: E402
from tests.e2e.conftest import TOKEN, BotHarness, World  # noqa: E402

REVIEWS = 10_000
RATINGS = 100_000
MEMBERS = 20_000
TARGET_P99_MS = 100.0
WARMUP = 20
SEED = 20240501
CATEGORIES = ("Film", "Series", "Documentary", "Animation", "Books", "Games")
WORDS = (
    "silent", "river", "night", "city", "ghost", "summer", "dark", "last", "long", "road",
    "house", "blue", "fire", "glass", "iron", "garden", "winter", "broken", "star", "empire",
    "memory", "shadow", "ocean", "mountain", "secret", "stranger", "machine", "dream", "storm",
    "paper", "golden", "wild", "quiet", "black", "white", "red", "northern", "little", "great",
    "lost", "hidden",
)  # fmt: skip

Sample = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Figure:
    name: str
    samples: int
    p50_ms: float
    p99_ms: float
    target_p99_ms: float

    @property
    def ratio(self) -> float:
        """p99 / target: below 1.0 meets the target."""
        return self.p99_ms / self.target_p99_ms


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def title_for(rng: random.Random, index: int) -> str:
    words = rng.sample(WORDS, rng.randint(1, 4))
    return f"The {' '.join(words).title()} {index}"


def review_records(rng: random.Random, count: int) -> list[ReviewRecord]:
    now = datetime.now(UTC).replace(microsecond=0)
    records = []
    for index in range(count):
        published = now - timedelta(hours=index * 7)
        critic = rng.choice([None, *range(2, 11)])
        records.append(
            ReviewRecord(
                review_id=str(100_000 + index),
                source="blog",
                title=title_for(rng, index),
                url=f"https://blog.example/reviews/{index}",
                author=rng.choice(("Ann Critic", "Bo Writer", "Cy Reviewer")),
                published_at=published,
                modified_at=published,
                excerpt=" ".join(rng.choices(WORDS, k=30)),
                categories=(rng.choice(CATEGORIES),),
                score_display=None if critic is None else f"{critic}/10",
                score_value=critic,
                score_scale=None if critic is None else 10.0,
                score_normalized=None if critic is None else critic / 10,
            )
        )
    return records


def rating_rows(rng: random.Random, guild_id: int, reviews: int, count: int) -> list[tuple]:
    """`count` distinct (review, member) ratings, skewed: a few reviews get thousands."""
    seen: set[tuple[int, int]] = set()
    rows = []
    rated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    while len(rows) < count:
        review = int(reviews * rng.random() ** 3)
        member = rng.randrange(MEMBERS)
        if (review, member) in seen:
            continue
        seen.add((review, member))
        score = rng.choice(SCORE_STEPS[6:]) if rng.random() < 0.8 else rng.choice(SCORE_STEPS)
        rows.append((guild_id, str(100_000 + review), 1_000_000 + member, score, rated_at))
    return rows


async def seed_database(path: Path, guild_id: int, reviews: int, ratings: int) -> list[str]:
    """Fill the bot's database before it starts; return the titles, for search words."""
    rng = random.Random(SEED)
    database = await open_database(path)
    try:
        repository = ReviewRepository(database)
        records = review_records(rng, reviews)
        for record in records:
            await repository.upsert_review(record)
        async with database.transaction() as conn:
            await conn.executemany(
                "INSERT INTO ratings (guild_id, review_id, user_id, score, rated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                rating_rows(rng, guild_id, reviews, ratings),
            )
    finally:
        await database.close()
    return [record.title for record in records]


def build_world(emu: DiscordEmulator) -> World:
    app = emu.create_application("Reviewbridge", token=TOKEN)
    guild = emu.create_guild("Film Club")
    channel = emu.create_channel(guild, "reviews")
    forum = emu.create_channel(guild, "review-forum", type="forum", available_tags=["Film"])
    alice = emu.add_member(guild, emu.create_user("alice", global_name="Alice"))
    moderator = emu.add_member(guild, emu.create_user("mod"))
    emu.install_app(app, guild, permissions=REQUIRED_PERMISSIONS.value)
    return World(emu, app, guild, channel, forum, alice, moderator)


def search_option(world: World) -> str | None:
    """The text option of `/review search`, if the command is loaded."""
    for command in world.emu.commands(world.app):
        if command.name != "review":
            continue
        for sub in command.options:
            if sub.get("name") == "search" and sub.get("type") == 1:
                texts = [o for o in sub.get("options", []) if o.get("type") == 3]
                return texts[0]["name"] if texts else None
    return None


async def answered(emu: DiscordEmulator, who: Member, channel: Channel, name: str, options: dict):
    result = await emu.run_command(who, channel, name, options)
    message = await result.wait_for_message(timeout=10)
    if message.ephemeral and not message.embeds:  # errors are plain ephemeral text
        raise RuntimeError(f"/{name} {options} failed: {message.content}")
    return message


async def measure(name: str, sample: Sample, count: int) -> Figure:
    for _ in range(WARMUP):
        await sample()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await sample()
        times.append((time.perf_counter() - started) * 1000)
    return Figure(name, count, statistics.median(times), percentile(times, 0.99), TARGET_P99_MS)


async def run(samples: int, reviews: int, ratings: int) -> tuple[list[Figure], dict[str, Any]]:
    rng = random.Random(SEED + 1)
    with tempfile.TemporaryDirectory() as folder:
        async with DiscordEmulator(time_scale=0.001) as emu:
            world = build_world(emu)
            database_path = Path(folder) / "bench.sqlite3"
            started = time.perf_counter()
            titles = await seed_database(database_path, world.guild.id, reviews, ratings)
            seeded_s = time.perf_counter() - started
            harness = BotHarness(world, database_path)
            bot = await harness.start()
            try:
                figures = await measure_commands(harness, world, titles, rng, samples)
                stats = {
                    "reviews": reviews,
                    "ratings": ratings,
                    "seed_seconds": round(seeded_s, 1),
                    "http_429s": emu.stats.total_429s,
                    # the skew puts the most ratings on the first review
                    "most_rated_review_ratings": (
                        await bot.ratings.summary(world.guild.id, "100000")
                    ).count,
                }
            finally:
                await harness.stop()
    return figures, stats


async def measure_commands(
    harness: BotHarness, world: World, titles: list[str], rng: random.Random, samples: int
) -> list[Figure]:
    emu, alice, channel = world.emu, world.alice, world.channel
    assert harness.bot is not None
    bot = harness.bot
    # Popular reviews are looked at most: draw them with the ratings' own skew.
    reviews = len(titles)

    def popular_review() -> str:
        return str(100_000 + int(reviews * rng.random() ** 3))

    async def show() -> None:
        message = await answered(emu, alice, channel, "ratings show", {"review": popular_review()})
        if not message.attachments:
            raise RuntimeError("/ratings show answered without its chart")

    async def rate() -> None:
        score = f"{rng.choice(SCORE_STEPS):g}"
        await answered(emu, alice, channel, "rate", {"review": popular_review(), "score": score})

    async def top() -> None:
        period = rng.choice(("week", "month", "year", "all"))
        await answered(emu, alice, channel, "ratings top", {"period": period})

    def words() -> str:
        return rng.choice(rng.choice(titles).split()[1:-1]).lower()

    option = search_option(world)
    if option is not None:
        search_name = "/review search"

        async def search() -> None:
            await answered(emu, alice, channel, "review search", {option: words()})

    else:
        search_name = "review search (repository + /about, no /review search)"

        async def search() -> None:
            await bot.reviews.search(words())
            await answered(emu, alice, channel, "about", {})

    return [
        await measure("/ratings show (with chart)", show, samples),
        await measure(search_name, search, samples),
        await measure("/rate", rate, samples),
        await measure("/ratings top", top, samples),
    ]


def table(figures: list[Figure]) -> str:
    name_width = max(len(f.name) for f in figures)
    header = f"{'figure':<{name_width}}  {'p50 ms':>7}  {'p99 ms':>7}  {'target':>8}  {'ratio':>6}"
    lines = [header, "-" * len(header)]
    for f in figures:
        verdict = "ok" if f.ratio < 1 else "OVER"
        lines.append(
            f"{f.name:<{name_width}}  {f.p50_ms:7.1f}  {f.p99_ms:7.1f}  "
            f"{'<' + format(f.target_p99_ms, 'g') + ' p99':>8}  {f.ratio:6.2f} {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="timed runs per command")
    parser.add_argument("--reviews", type=int, default=REVIEWS)
    parser.add_argument("--ratings", type=int, default=RATINGS)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    figures, stats = asyncio.run(run(args.samples, args.reviews, args.ratings))
    print(
        f"{stats['reviews']} reviews, {stats['ratings']} ratings "
        f"(seeded in {stats['seed_seconds']} s); {stats['http_429s']} HTTP 429s"
    )
    print(table(figures))
    if args.json:
        payload = {
            **stats,
            "figures": [{**asdict(f), "ratio": round(f.ratio, 3)} for f in figures],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if all(f.ratio < 1 for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
