"""The comment mirror's figures: cost and speed of a backfill under Discord's limits, the cost of
an idle poll, push latency, and the engine's own throughput.

The real bot (same class, same config loader as `reviewbridge run`) runs against the Discord
emulator with Discord's default rate limits, shrunk in time by `--time-scale` so the run is
short, and a fake WordPress on loopback. The rate-limit lower bound is computed in the same
shrunk time, so "wall time / lower bound" is an honest ratio.

    python bench/mirror_bench.py [--time-scale 0.1] [--json figures.json]

1. Backfill: a thread is linked to a review with 1,000 comments. Requests per comment (every
   request the bot made to Discord until the backfill finished), wall time / lower bound (the
   least time Discord's limits allow for that many requests of each route), and 429s.
2. Idle poll: the blog grows to 1,000 posts / 20,000 comments; HTTP requests to the blog per
   watcher cycle when nothing changed (and, for information, averaged over ten cycles including
   the periodic full reconciliation of the linked thread).
3. Push latency: a new comment on the blog plus a signed push, until its message is in the
   thread (the 1,000-comment thread, so the sync reads its whole comment list).
4. Engine throughput: plan and store 20,000 new comments for a thread, no network.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/mirror_bench.py` from the repo root
    sys.path.insert(0, str(ROOT))

from bot.app import ReviewBridge  # noqa: E402
from bot.blog.models import BlogComment, Review  # noqa: E402
from bot.discord_ui.invite import REQUIRED_PERMISSIONS  # noqa: E402
from bot.storage import open_database  # noqa: E402
from bot.sync.engine import MirrorEngine, MirrorSettings  # noqa: E402
from bot.sync.push import (  # noqa: E402
    NONCE_HEADER,
    PUSH_PATH,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)
from cogs.reviews import Reviews  # noqa: E402
from discord_emulator import Channel, DiscordEmulator  # noqa: E402
from discord_emulator.ratelimit import RateLimiter, RouteLimit  # noqa: E402
from tests.component.fake_discord_port import FakeClock, FakeDiscordPort  # noqa: E402
from tests.component.fake_wordpress import FakePost, FakeWordPress  # noqa: E402
from tests.e2e.conftest import TOKEN, BotHarness, World  # noqa: E402

BACKFILL_COMMENTS = 1_000
POSTS = 1_000
TOTAL_COMMENTS = 20_000
ENGINE_COMMENTS = 20_000
PUSH_SAMPLES = 10
IDLE_CYCLES = 10
SECRET = "bench-push-secret-" + "x" * 32
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TEXT = (
    "<p>I watched it twice. The second time the city looked warmer and the ending made more "
    "sense: she was never leaving him, she was growing. Great review, comment {n}.</p>"
)


@dataclass
class Figure:
    name: str
    value: float
    target: float
    at_most: bool = True  # False: the target is a floor
    unit: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.target

    @property
    def met(self) -> bool:
        return self.value <= self.target if self.at_most else self.value >= self.target


def lower_bound(requests: Counter[str], limiter: RateLimiter, scale: float) -> float:
    """The least time in which Discord's limits allow these requests (one bucket per route:
    one webhook, one channel): n requests under "limit per `per` s" need ceil(n / limit)
    windows, the last one starting (ceil(n / limit) - 1) * per after the first."""

    def span(count: int, limit: RouteLimit | None) -> float:
        return (math.ceil(count / limit.limit) - 1) * limit.per * scale if limit else 0.0

    bound = span(sum(requests.values()), limiter.global_limit)
    for route, count in requests.items():
        bound = max(bound, span(count, limiter.limit_for(route)))
        shared = limiter.shared_limits.get(route)
        if shared is not None:
            bound = max(bound, span(count, RouteLimit(shared.limit, shared.per)))
    return bound


def make_world(emu: DiscordEmulator) -> World:
    app = emu.create_application("Reviewbridge", token=TOKEN)
    guild = emu.create_guild("Film Club")
    channel = emu.create_channel(guild, "reviews")
    forum = emu.create_channel(guild, "review-forum", type="forum")
    alice = emu.add_member(guild, emu.create_user("alice"))
    moderator = emu.add_member(guild, emu.create_user("mod"))
    emu.install_app(app, guild, permissions=REQUIRED_PERMISSIONS.value)
    return World(emu, app, guild, channel, forum, alice, moderator)


def comments_in(emu: DiscordEmulator, thread: Channel) -> int:
    return sum(len(m.embeds) or 1 for m in emu.messages_in(thread) if m.webhook_id is not None)


async def backfill(
    emu: DiscordEmulator, world: World, bot: ReviewBridge, post: FakePost, scale: float
) -> tuple[list[Figure], Channel]:
    thread = await emu.start_thread(world.moderator, world.channel, "Her")
    before = Counter(emu.stats.requests)
    limited_before = emu.stats.total_429s
    started = time.perf_counter()
    await bot.mirror.link(
        str(post.id), guild_id=world.guild.id, channel_id=world.channel.id, thread_id=thread.id
    )
    await emu.wait_until(
        lambda: any(m.content.startswith("✅") for m in emu.messages_in(thread)), timeout=600
    )
    wall = time.perf_counter() - started
    assert comments_in(emu, thread) == BACKFILL_COMMENTS
    made = Counter(emu.stats.requests)
    made.subtract(before)
    made = Counter({route: n for route, n in made.items() if n > 0})
    bound = lower_bound(made, emu.ratelimiter, scale)
    for route, count in sorted(made.items()):
        logging.info("backfill requests %-70s %d", route, count)
    logging.info("backfill wall %.2fs, lower bound %.2fs", wall, bound)
    return [
        Figure("backfill: Discord requests per comment", made.total() / BACKFILL_COMMENTS, 0.11),
        Figure("backfill: wall time / rate-limit lower bound", wall / bound, 1.1),
        Figure("backfill: 429 answers", emu.stats.total_429s - limited_before, 0.0),
    ], thread


async def idle_polls(bot: ReviewBridge, blog: FakeWordPress) -> list[Figure]:
    cog = cast(Reviews, bot.get_cog("Reviews"))
    await cog.run_cycle()  # takes in the grown catalogue
    await bot.mirror.syncs_done()
    per_cycle = []
    for _ in range(IDLE_CYCLES):
        blog.reset_counts()
        await cog.run_cycle()
        await bot.mirror.syncs_done()
        per_cycle.append(blog.count())
    logging.info("blog requests per idle cycle: %s", per_cycle)
    return [
        Figure("idle poll: blog requests (cheap poll)", statistics.median(per_cycle), 2.0),
        Figure(
            "idle poll: blog requests incl. 1-in-10 reconciliation (info)",
            statistics.mean(per_cycle),
            statistics.mean(per_cycle),
        ),
    ]


async def push_latency(
    emu: DiscordEmulator, bot: ReviewBridge, blog: FakeWordPress, post: FakePost, thread: Channel
) -> list[Figure]:
    url = f"http://127.0.0.1:{bot.push_port}{PUSH_PATH}"
    samples = []
    async with aiohttp.ClientSession() as http:
        for n in range(PUSH_SAMPLES):
            shown = comments_in(emu, thread)
            started = time.perf_counter()
            comment = blog.add_comment(post, f"<p>Pushed comment {n}</p>", author_name="Pusher")
            nonce = secrets.token_hex(16)
            body = json.dumps(
                {"event": "comment_posted", "comment_id": comment.id, "post_id": post.id,
                 "nonce": nonce}
            ).encode()  # fmt: skip
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                NONCE_HEADER: nonce,
                SIGNATURE_HEADER: signature(SECRET, stamp, body),
            }
            async with http.post(url, data=body, headers=headers) as response:
                assert response.status == 202, response.status
            await emu.wait_until(lambda s=shown: comments_in(emu, thread) > s, timeout=30)
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.3)
    logging.info("push latencies (s): %s", [round(s, 3) for s in samples])
    return [Figure("push: comment to Discord, worst of 10 (s)", max(samples), 1.0, unit="s")]


class MemoryComments:
    def __init__(self, comments: list[BlogComment]) -> None:
        self._comments = comments

    async def get_review(self, review_id: str) -> Review | None:
        return Review(review_id, "Her", "https://blog.example/her/", "Mara", T0, T0)

    async def list_comments(self, review_id: str) -> list[BlogComment]:
        return self._comments


async def engine_throughput(home: Path) -> list[Figure]:
    comments = [
        BlogComment(
            str(n),
            "1",
            str(n - 1) if n % 4 else None,
            f"Reader {n % 300}",
            T0 + timedelta(seconds=n),
            TEXT.format(n=n),
            f"https://blog.example/her/#comment-{n}",
        )
        for n in range(1, ENGINE_COMMENTS + 1)
    ]
    database = await open_database(home / "engine.sqlite3")
    try:
        clock = FakeClock()
        engine = MirrorEngine(
            database, MemoryComments(comments), FakeDiscordPort(clock), MirrorSettings("Bench"),
            clock=clock,
        )  # fmt: skip
        started = time.perf_counter()
        report = await engine.link("1", guild_id=1, channel_id=2, thread_id=3)
        elapsed = time.perf_counter() - started
    finally:
        await database.close()
    assert report.created == ENGINE_COMMENTS
    return [Figure("engine: comments planned and stored per second", ENGINE_COMMENTS / elapsed,
                   5_000.0, at_most=False)]  # fmt: skip


def seed_blog(blog: FakeWordPress) -> FakePost:
    post = blog.add_post("Her", "<p>A gentle film.</p><p>Rating: 9/10</p>", date=T0)
    for n in range(BACKFILL_COMMENTS):
        blog.add_comment(
            post, TEXT.format(n=n), author_name=f"Reader {n % 97}",
            date=T0 + timedelta(minutes=n), author_email=f"reader{n % 97}@example.com",
        )  # fmt: skip
    return post


def grow_blog(blog: FakeWordPress) -> None:
    posts = [
        blog.add_post(f"Review {n}", "<p>Fine.</p><p>Rating: 7/10</p>", date=T0 - timedelta(days=n))
        for n in range(1, POSTS)
    ]
    for n in range(TOTAL_COMMENTS - len(blog.comments)):
        blog.add_comment(posts[n % len(posts)], f"<p>Old comment {n}</p>", date=T0)


async def run(scale: float) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        blog = FakeWordPress()
        post = seed_blog(blog)
        async with blog.serve(), DiscordEmulator(time_scale=scale) as emu:
            harness = BotHarness(make_world(emu), home / "bot.sqlite3")
            harness.env.update(
                BLOG_URL=blog.url,
                BLOG_ALLOW_PRIVATE_HOST="true",
                BLOG_POLL_SECONDS="3600",
                PUSH_SECRET=SECRET,
                PUSH_PORT="0",
                LOG_LEVEL="WARNING",
            )
            bot = await harness.start()
            try:
                await cast(Reviews, bot.get_cog("Reviews")).run_cycle()  # store the catalogue
                figures, thread = await backfill(emu, harness.world, bot, post, scale)
                await asyncio.sleep(60 * scale)  # the channel's webhook window passes
                figures += await push_latency(emu, bot, blog, post, thread)
                grow_blog(blog)
                figures += await idle_polls(bot, blog)
            finally:
                await harness.stop()
        figures += await engine_throughput(home)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-scale", type=float, default=0.1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    figures = asyncio.run(run(args.time_scale))
    print(f"{'figure':<62} {'value':>10} {'target':>10} {'ratio':>7}")
    for f in figures:
        sign = "<=" if f.at_most else ">="
        status = "ok" if f.met else "MISSED"
        print(
            f"{f.name:<62} {f.value:>10.3f} {sign}{f.target:>8.3f} "
            f"{(f.ratio if f.target else 0):>7.2f} {status}"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2))
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
