"""kill -9 during a comment backfill: `reviewbridge run` is killed at seeded random moments and
restarted; the thread must end with every comment exactly once, showing its latest text.

The emulator and the fake blog live in this process; only the bot is a separate process, so a
SIGKILL cuts it wherever it is (mid-send, mid-transaction). 10 seeds by default;
FAULT_RUNS=N runs N.
"""

from __future__ import annotations

import asyncio
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import discord
import pytest

from discord_emulator import Channel, DiscordEmulator, Message
from tests.component.fake_wordpress import FakeComment, FakeWordPress

from .conftest import bot_process, fault_runs, film_club

RUNS = fault_runs(10)
COMMENTS = 240
KILLS = 2
TIME_SCALE = 0.1  # the backfill's 24 packed messages take about a second
COMMENT_ID = re.compile(r"#comment-(\d+)")
T0 = datetime(2024, 1, 6, 9, tzinfo=UTC)


def shown(messages: list[Message]) -> dict[int, list[str]]:
    """Comment id -> the texts of every message (or packed embed) showing it."""
    texts: dict[int, list[str]] = {}
    for message in messages:
        parts = [message.content] if message.content else []
        parts += [f"{e['description']} {e['author'].get('url', '')}" for e in message.embeds]
        for text in parts:
            for found in set(COMMENT_ID.findall(text)):
                texts.setdefault(int(found), []).append(text)
    return texts


def converged(emu: DiscordEmulator, thread: Channel, latest: dict[int, str]) -> bool:
    messages = emu.messages_in(thread)
    texts = shown([m for m in messages if m.webhook_id is not None])
    done = [m for m in messages if m.webhook_id is None and m.content.startswith("✅")]
    return (
        set(texts) == set(latest)
        and all(len(found) == 1 and latest[i] in found[0] for i, found in texts.items())
        and len(done) == 1
    )


def difference(emu: DiscordEmulator, thread: Channel, latest: dict[int, str], home: Path) -> str:
    messages = emu.messages_in(thread)
    texts = shown([m for m in messages if m.webhook_id is not None])
    missing = sorted(set(latest) - set(texts))
    doubled = sorted(i for i, found in texts.items() if len(found) > 1)
    stale = sorted(i for i, found in texts.items() if latest.get(i, "?") not in found[0])
    progress = [m.content[:60] for m in messages if m.webhook_id is None]
    log = (home / "bot.log").read_text(errors="replace")[-3000:]
    return (
        f"not converged: missing {missing[:20]} ({len(missing)}), doubled {doubled[:20]}, "
        f"stale {stale[:20]}, progress {progress}\n{log}"
    )


@pytest.mark.parametrize("seed", range(RUNS))
async def test_kill_9_during_a_backfill_then_restart_shows_every_comment_once(
    seed: int, blog: FakeWordPress, tmp_path: Path
):
    rng = random.Random(seed)
    post = blog.add_post("Her", "<p>A gentle film.</p><p>Rating: 9/10</p>")
    comments: list[FakeComment] = []
    for n in range(COMMENTS):
        replying = comments and rng.random() < 0.25
        comments.append(
            blog.add_comment(
                post,
                f"<p>Comment {n} text</p>",
                author_name=f"Reader {n % 17}",
                parent=comments[-1] if replying else 0,
                date=T0 + timedelta(minutes=n),
            )
        )
    latest = {c.id: f"Comment {n} text" for n, c in enumerate(comments)}

    async with DiscordEmulator(time_scale=TIME_SCALE) as emu:
        app, channel, moderator = film_club(emu, discord.Permissions(manage_threads=True))
        bot = bot_process(emu, blog, tmp_path, poll_seconds=3600)
        await bot.start()
        try:
            await emu.wait_until(lambda: bool(emu.commands(app)), timeout=30)
            await emu.wait_for_gateway(app, timeout=30)
            thread = await emu.start_thread(moderator, channel, "Her")
            for _ in range(50):  # until the watcher's first cycle has stored the catalogue
                link = await emu.run_command(moderator, thread, "mirror link", {"review": "Her"})
                if "now mirrors" in (await link.wait_for_message(timeout=15)).content:
                    break
                await asyncio.sleep(0.2)

            for kill in range(KILLS):
                await asyncio.sleep(rng.uniform(0.0, 1.0) if kill == 0 else rng.uniform(1.5, 3.0))
                await bot.kill()
                for edited in rng.sample(comments, 5):  # the blog moves on while the bot is down
                    text = f"Comment {edited.id} edited after kill {kill}"
                    blog.edit_comment(edited, f"<p>{text}</p>")
                    latest[edited.id] = text
                await bot.start()

            try:
                await emu.wait_until(lambda: converged(emu, thread, latest), timeout=20)
            except TimeoutError:
                pytest.fail(difference(emu, thread, latest, tmp_path))
            await asyncio.sleep(0.5)  # nothing late arrives twice
            assert converged(emu, thread, latest)
        finally:
            await bot.stop()
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
