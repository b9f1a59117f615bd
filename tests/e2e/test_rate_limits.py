"""Every feature at once stays under Discord's rate limits: a review announced in many servers
at the same moment, each announcement's thread backfilled with the review's comments, members
rating it and replying to comments (replies go to the blog and get status reactions) - against
the emulator at real time, which enforces Discord's global limit (50 requests per second per bot
token) and its per-route and webhook limits. The bot paces itself: Discord never answers 429.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.discord_ui.invite import REQUIRED_PERMISSIONS
from bot.sandbox.seed import add_bot_user
from discord_emulator import Channel, DiscordEmulator, Member
from tests.component.fake_wordpress import FakePost, FakeWordPress

from .conftest import BotHarness, World, make_world
from .test_announcements import cards, reviews_cog
from .test_comments import APP_PASSWORD, agree, eventually, from_discord, mirrored, start
from .test_mirror import T0

SERVERS = 30
COMMENTS = 24  # over the packing threshold: a backfill sends several comments per message
REPLIES = 4
BACK_CATALOGUE = "<p>An older film.</p><p>Rating: 7/10</p>"


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(time_scale=1.0) as emulator:  # Discord's limits as they are
        yield emulator


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    return make_world(emu, content_intent=True)


@pytest.fixture
async def wp() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    add_bot_user(fake, APP_PASSWORD)
    fake.add_post("The Back Catalogue", BACK_CATALOGUE)
    async with fake.serve():
        yield fake


def more_servers(emu: DiscordEmulator, world: World, count: int) -> list[tuple[Channel, Member]]:
    """Other servers with the bot in them: each a review channel and a moderator."""
    servers = []
    for number in range(count):
        guild = emu.create_guild(f"Film Club {number}")
        channel = emu.create_channel(guild, "reviews")
        mods = emu.create_role(
            guild, "Moderators", permissions=int(discord.Permissions(manage_guild=True).value)
        )
        moderator = emu.add_member(guild, emu.create_user(f"mod{number}"), roles=[mods])
        emu.install_app(world.app, guild, permissions=REQUIRED_PERMISSIONS.value)
        servers.append((channel, moderator))
    return servers


def publish_with_comments(wp: FakeWordPress) -> FakePost:
    post = wp.add_post("Her", "<p>A gentle film.</p><p>Rating: 10/10</p>")
    for number in range(COMMENTS):
        wp.add_comment(
            post,
            f"<p>Comment number {number} about Her.</p>",
            author_name=f"Reader {number}",
            date=T0.replace(minute=number),
        )
    return post


def comment_ids_shown(world: World, thread: Channel) -> list[str]:
    """Every blog comment id linked from the thread's mirrored messages, in order."""
    text = "".join(m.content + str(m.embeds) for m in mirrored(world, thread))
    return re.findall(r"#comment-(\d+)", text)


async def test_announcing_in_many_servers_with_backfills_ratings_and_replies_gets_no_429(
    harness: BotHarness, wp: FakeWordPress, tmp_path: Path
):
    world = harness.world
    emu = world.emu
    others = more_servers(emu, world, SERVERS - 1)
    await start(harness, wp)  # sets up the first server and records its baseline
    for channel, moderator in others:
        setup = await emu.run_command(moderator, channel, "setup channel", {"channel": channel})
        await setup.wait_for_message()
    await reviews_cog(harness).run_cycle()  # the other servers' baselines
    await agree(world)
    before = emu.stats.requests.total()

    post = publish_with_comments(wp)
    expected = [str(c.id) for c in sorted(wp.comments.values(), key=lambda c: c.date_gmt)]
    report = await reviews_cog(harness).run_cycle()  # all servers at once
    assert report.errors == [] and len(report.announced) == SERVERS

    # Meanwhile in the first server: members rate it and Alice answers readers in its thread.
    [thread] = emu.threads_in(world.channel)
    await emu.wait_until(lambda: len(mirrored(world, thread)) > 0, 30)
    rated = [
        await emu.run_command(
            world.alice, world.channel, "rate", {"review": str(post.id), "score": "9"}
        ),
        await emu.run_command(
            world.moderator, world.channel, "rate", {"review": str(post.id), "score": "8.5"}
        ),
    ]
    said = [
        await emu.post_message(
            world.alice, thread, f"Reply {n}", reply_to=mirrored(world, thread)[0]
        )
        for n in range(REPLIES)
    ]
    for result in rated:
        await result.wait_for_message(timeout=10)

    everywhere = [world.channel, *(channel for channel, _ in others)]

    def missing() -> list[str]:
        """What has not arrived yet, server by server (empty once everything has)."""
        gaps = []
        for channel in everywhere:
            threads = emu.threads_in(channel)
            if len(cards(world, channel)) != 1 or len(threads) != 1:
                gaps.append(f"{channel.name}: {len(cards(world, channel))} cards")
            elif (shown := comment_ids_shown(world, threads[0])) != expected:
                gaps.append(f"{channel.name}: {len(shown)} of {len(expected)} comments")
        if len(from_discord(wp)) != REPLIES or not all("✅" in m.reactions for m in said):
            gaps.append(
                f"{len(from_discord(wp))} replies on the blog, {[m.reactions for m in said]}"
            )
        return gaps

    def converged() -> bool:
        return not missing()

    try:
        await eventually(converged, timeout=40)
    except TimeoutError:
        pytest.fail(f"not converged: {missing()[:5]}, 429s: {dict(emu.stats.rate_limited)}")
    await asyncio.sleep(0.5)  # anything still in flight would double a card or a comment
    assert converged()
    assert sorted(c.author_name for c in from_discord(wp)) == ["Alice (via Discord)"] * REPLIES
    stats = emu.stats
    sent = stats.requests.total() - before
    assert sent > 2 * SERVERS  # the bot did use the API hard
    assert stats.total_429s == 0, dict(stats.rate_limited)
