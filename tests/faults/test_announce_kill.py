"""kill -9 while new reviews are announced: `reviewbridge run` is killed at seeded random moments
while its watcher posts cards and opens their threads, then restarted; every new review must end
with exactly one card and one thread in the review channel, and nothing of the back catalogue.

The emulator and the fake blog live in this process; only the bot is a separate process.
10 seeds by default; FAULT_RUNS=N runs N (see README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import discord
import pytest

from discord_emulator import Channel, DiscordEmulator
from tests.component.fake_wordpress import FakeWordPress

from .conftest import bot_process, fault_runs, film_club

RUNS = fault_runs(10)
REVIEWS = 10
KILLS = 3
TIME_SCALE = 0.1
HER = "<p>A gentle film.</p><p>Rating: 9/10</p>"


def baseline_done(database: Path, guild_id: int) -> bool:
    if not database.exists():
        return False
    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            row = db.execute(
                "SELECT baseline_done_at FROM guild_watch WHERE guild_id = ?", (guild_id,)
            ).fetchone()
    except sqlite3.Error:  # not migrated yet, or busy
        return False
    return row is not None and row[0] is not None


async def until(predicate: Callable[[], bool], timeout: float) -> None:
    """Poll a condition on state outside the emulator (emu.wait_until only wakes on its own)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


def titles(emu: DiscordEmulator, channel: Channel) -> tuple[Counter[str], Counter[str]]:
    cards = Counter(m.embeds[0]["title"] for m in emu.messages_in(channel) if m.embeds)
    threads = Counter(t.name for t in emu.threads_in(channel))
    return cards, threads


@pytest.mark.parametrize("seed", range(RUNS))
async def test_kill_9_while_announcing_then_restart_announces_each_review_once(
    seed: int, blog: FakeWordPress, tmp_path: Path
):
    rng = random.Random(seed)
    blog.add_post("The Back Catalogue", HER)
    database = tmp_path / "bot.sqlite3"

    async with DiscordEmulator(time_scale=TIME_SCALE) as emu:
        app, channel, moderator = film_club(emu, discord.Permissions(manage_guild=True))
        bot = bot_process(emu, blog, tmp_path, poll_seconds=1)
        await bot.start()
        try:
            await emu.wait_until(lambda: bool(emu.commands(app)), timeout=30)
            await emu.wait_for_gateway(app, timeout=30)
            setup = await emu.run_command(moderator, channel, "setup channel", {"channel": channel})
            await setup.wait_for_message(timeout=15)
            # The next watcher cycle takes the catalogue as the baseline: it is not announced.
            await until(lambda: baseline_done(database, channel.guild_id), timeout=30)

            new = [f"New Review {n}" for n in range(REVIEWS)]
            for title in new:
                blog.add_post(title, HER)
            # Each kill lands a random few ms after the bot's k-th card, k rising: mid-post,
            # between the card and its thread, or mid-transaction.
            for shown in sorted(rng.sample(range(1, REVIEWS), KILLS)):
                await emu.wait_until(
                    lambda n=shown: sum(titles(emu, channel)[0].values()) >= n, timeout=60
                )
                await asyncio.sleep(rng.uniform(0.0, 0.12))
                await bot.kill()
                await bot.start()

            def converged() -> bool:
                cards, threads = titles(emu, channel)
                return cards == Counter(new) and threads == Counter(new)

            await emu.wait_until(converged, timeout=60)
            await asyncio.sleep(1.5)  # another watcher cycle: nothing arrives twice
            assert converged()
        except (TimeoutError, AssertionError) as error:  # say where it stuck, with the log
            cards, threads = titles(emu, channel)
            log = (tmp_path / "bot.log").read_text(errors="replace")[-4000:]
            pytest.fail(f"{error!r}: cards {cards}, threads {threads}\n{log}")
        finally:
            await bot.stop()
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
