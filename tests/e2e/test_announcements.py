"""New reviews reach the review channel exactly once, through the emulator, from a fake blog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from bot.announcing import CycleReport
from cogs.reviews import Reviews
from discord_emulator import Message
from tests.component.fake_wordpress import FakePost, FakeWordPress

from .conftest import BotHarness, World

HER = "<p>A gentle film about loneliness.</p><p>Rating: 9/10</p>"


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    fake.add_post(
        "Her",
        HER,
        categories=["Film"],
        excerpt="A gentle film about loneliness.",
        date=datetime(2024, 1, 5, tzinfo=UTC),
    )
    fake.add_post(
        "Arrival",
        "<p>Language as time.</p><p>Rating: 4/5</p>",
        categories=["Film"],
        date=datetime(2024, 2, 9, tzinfo=UTC),
    )
    async with fake.serve():
        yield fake


def blog_env(blog: FakeWordPress, poll_seconds: int = 3600) -> dict[str, str]:
    return {
        "BLOG_URL": blog.url,
        "BLOG_ALLOW_PRIVATE_HOST": "true",
        "BLOG_POLL_SECONDS": str(poll_seconds),
    }


def reviews_cog(harness: BotHarness) -> Reviews:
    assert harness.bot is not None
    cog = harness.bot.get_cog("Reviews")
    assert cog is not None  # load_extension imports the module anew: no isinstance here
    return cast(Reviews, cog)


async def cycle(harness: BotHarness) -> CycleReport:
    report = await reviews_cog(harness).run_cycle()
    assert report.errors == []
    return report


async def setup_channel(world: World, channel=None, **roles) -> None:
    result = await world.emu.run_command(
        world.moderator,
        world.channel,
        "setup channel",
        {"channel": channel or world.channel, **roles},
    )
    await result.wait_for_message()


async def first_loop_cycle(harness: BotHarness) -> None:
    """Wait for the watcher loop's cycle at start-up (later ones are an interval away)."""
    assert harness.bot is not None
    health = harness.bot.health.component("watcher")
    for _ in range(100):
        if health.last_success is not None or health.last_error is not None:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the watcher loop did not run its first cycle")


async def started(harness: BotHarness, blog: FakeWordPress, **kwargs) -> World:
    harness.env.update(blog_env(blog, **kwargs))
    await harness.start()
    await first_loop_cycle(harness)
    await setup_channel(harness.world)
    await cycle(harness)  # the baseline: the back catalogue is not announced
    return harness.world


def cards(world: World, channel=None) -> list[Message]:
    return [m for m in world.emu.messages_in(channel or world.channel) if m.embeds]


def publish(blog: FakeWordPress, title: str, content: str = HER, **kwargs) -> FakePost:
    return blog.add_post(title, content, **kwargs)


async def test_first_run_announces_nothing_then_a_new_review_exactly_once(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    assert cards(world) == []
    post = publish(blog, "Past Lives", categories=["Film"], image="https://img.example/p.jpg")
    report = await cycle(harness)
    assert report.announced == [(world.guild.id, str(post.id))]
    await cycle(harness)
    [card] = cards(world)
    embed = card.embeds[0]
    assert embed["title"] == "Past Lives"
    assert embed["url"].endswith("/past-lives/")
    assert "9/10" in next(f["value"] for f in embed["fields"] if f["name"] == "Critic score")
    assert "<t:" in next(f["value"] for f in embed["fields"] if f["name"] == "Published")
    assert embed["image"]["url"] == "https://img.example/p.jpg"
    buttons = [c for row in card.components for c in row["components"]]
    assert any(b.get("url") == embed["url"] and b["label"] == "Read the review" for b in buttons)
    assert card.find_component(f"rb:rate:{post.id}") is not None
    [thread] = world.emu.threads_in(world.channel)
    assert thread.id == card.id and thread.name == "Past Lives"
    assert not card.pings.any
    rated = await world.emu.choose_select(world.alice, card, f"rb:rate:{post.id}", ["8"])
    assert (await rated.wait_for_message()).ephemeral
    assert (await harness.bot.ratings.summary(world.guild.id, str(post.id))).count == 1


async def test_the_loop_itself_announces_within_one_interval(
    harness: BotHarness, blog: FakeWordPress
):
    harness.env.update(blog_env(blog, poll_seconds=1))
    await harness.start()
    world = harness.world
    await setup_channel(world)
    health = harness.bot.health.component("watcher")
    for _ in range(40):  # the baseline cycle after /setup
        if health.last_success is not None and await harness.bot.guild_watch.get(world.guild.id):
            break
        await asyncio.sleep(0.1)
    publish(blog, "Past Lives")
    card = await world.emu.wait_for_message(world.channel, lambda m: bool(m.embeds), timeout=3)
    assert card.embeds[0]["title"] == "Past Lives"
    about = await (
        await world.emu.run_command(world.alice, world.channel, "about")
    ).wait_for_message()
    watcher = next(f for f in about.embeds[0]["fields"] if f["name"] == "Blog watcher")
    assert watcher["value"].startswith("ok")


async def test_announced_once_across_restart_and_concurrent_cycles(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    publish(blog, "Past Lives")
    publish(blog, "Aftersun")
    reports = await asyncio.gather(cycle(harness), cycle(harness), cycle(harness))
    assert sum(len(r.announced) for r in reports) == 2
    await harness.restart()
    await cycle(harness)
    assert sorted(m.embeds[0]["title"] for m in cards(world)) == ["Aftersun", "Past Lives"]
    assert len(world.emu.threads_in(world.channel)) == 2


async def test_crash_after_posting_is_finished_without_a_second_post(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    post = publish(blog, "Past Lives")
    bot = harness.bot

    async def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    bot.announcements.record_posted = crash  # posted, but the post is never recorded
    report = await reviews_cog(harness).run_cycle()
    assert report.errors and len(cards(world)) == 1
    claim = await bot.announcements.get(world.guild.id, str(post.id))
    assert claim is not None and claim.state == "pending"

    await harness.restart()
    await first_loop_cycle(harness)  # finishes the claim on start: the message is found
    assert harness.bot.health.component("watcher").ok
    await cycle(harness)
    [card] = cards(world)
    recorded = await harness.bot.announcements.get(world.guild.id, str(post.id))
    assert (recorded.state, recorded.message_id, recorded.thread_id) == ("posted", card.id, card.id)


async def test_claim_without_a_post_is_posted_after_restart(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    post = publish(blog, "Past Lives")
    bot = harness.bot
    await reviews_cog(harness).announcer._sync_catalogue(CycleReport())  # stored, not posted
    assert await bot.announcements.claim(world.guild.id, str(post.id), "announce", world.channel.id)
    await harness.restart()
    await first_loop_cycle(harness)
    await cycle(harness)
    assert len(cards(world)) == 1
    recorded = await harness.bot.announcements.get(world.guild.id, str(post.id))
    assert recorded.state == "posted"


async def test_forum_gets_one_post_per_review_with_the_matching_tag(
    harness: BotHarness, blog: FakeWordPress
):
    harness.env.update(blog_env(blog))
    await harness.start()
    world = harness.world
    await setup_channel(world, world.forum)
    await cycle(harness)
    publish(blog, "Past Lives", categories=["film", "Drama"])
    await cycle(harness)
    [post] = world.emu.threads_in(world.forum)
    assert post.name == "Past Lives"
    film = next(t for t in world.forum.available_tags if t.name == "Film")
    assert post.applied_tags == [film.id]
    [starter] = world.emu.messages_in(post)
    assert starter.id == post.id and starter.embeds[0]["title"] == "Past Lives"
    await harness.restart()
    await cycle(harness)
    assert len(world.emu.threads_in(world.forum)) == 1


async def test_forum_post_after_a_crash_is_found_not_posted_again(
    harness: BotHarness, blog: FakeWordPress
):
    harness.env.update(blog_env(blog))
    await harness.start()
    world = harness.world
    await first_loop_cycle(harness)
    await setup_channel(world, world.forum)
    await cycle(harness)
    post = publish(blog, "Past Lives")

    async def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    harness.bot.announcements.record_posted = crash
    await reviews_cog(harness).run_cycle()
    await harness.restart()
    await first_loop_cycle(harness)
    [thread] = world.emu.threads_in(world.forum)
    recorded = await harness.bot.announcements.get(world.guild.id, str(post.id))
    assert (recorded.state, recorded.message_id, recorded.thread_id) == (
        "posted",
        thread.id,
        thread.id,
    )


async def test_ping_role_is_pinged_and_nothing_else(harness: BotHarness, blog: FakeWordPress):
    harness.env.update(blog_env(blog))
    await harness.start()
    world = harness.world
    ping = world.emu.create_role(world.guild, "Review pings", mentionable=True)
    other = world.emu.create_role(world.guild, "Others", mentionable=True)
    await setup_channel(world, ping_role=ping)
    await cycle(harness)
    hostile = f"@everyone <@{world.alice.id}> <@&{other.id}> **bold** [x](https://evil.example)"
    publish(blog, hostile, excerpt=f"@here <@&{other.id}> read me")
    await cycle(harness)
    [card] = cards(world)
    assert card.pings.roles == {ping.id}
    assert card.pings.users == set() and not card.pings.everyone
    title = card.embeds[0]["title"]
    assert "<@" not in title.replace("<\u200b@", "") and "\\*\\*bold\\*\\*" in title
    [thread] = world.emu.threads_in(world.channel)
    assert "@everyone" in thread.name  # names are plain text, and never ping


async def test_hostile_title_without_ping_role_pings_nobody(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    publish(blog, f"@everyone look <@{world.alice.id}>")
    await cycle(harness)
    [card] = cards(world)
    assert not card.pings.any and card.content == ""


async def test_blog_edit_updates_the_announcement(harness: BotHarness, blog: FakeWordPress):
    world = await started(harness, blog)
    post = publish(blog, "Past Lives")
    await cycle(harness)
    blog.edit_post(
        post,
        title="Past Lives (2023)",
        content="<p>Better.</p><p>Rating: 10/10</p>",
        at=datetime.now(UTC) + timedelta(minutes=1),  # WordPress dates are to the second
    )
    report = await cycle(harness)
    assert report.changed_reviews == 1 and report.announced == []
    [card] = cards(world)
    embed = card.embeds[0]
    assert embed["title"] == "Past Lives (2023)"
    assert "10/10" in next(f["value"] for f in embed["fields"] if f["name"] == "Critic score")
    assert card.edited_timestamp is not None
    [thread] = world.emu.threads_in(world.channel)
    assert thread.name == "Past Lives (2023)"


async def test_unpublished_review_is_withdrawn_and_restored(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    post = publish(blog, "Past Lives")
    await cycle(harness)
    post.status = "draft"
    report = await cycle(harness)
    assert report.withdrawn_reviews == 1
    [card] = cards(world)
    assert card.embeds[0]["description"] == "This review is no longer available."
    assert card.components == []
    assert len(world.emu.threads_in(world.channel)) == 1  # the discussion stays
    recorded = await harness.bot.announcements.get(world.guild.id, str(post.id))
    assert recorded.state == "withdrawn"

    blog.publish(post)
    await cycle(harness)
    [card] = cards(world)
    assert card.embeds[0]["title"] == "Past Lives"
    assert card.find_component(f"rb:rate:{post.id}") is not None
    recorded = await harness.bot.announcements.get(world.guild.id, str(post.id))
    assert recorded.state == "posted"


async def test_backfill_posts_older_reviews_oldest_first_with_progress(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    result = await world.emu.run_command(
        world.moderator, world.channel, "review backfill", {"count": 5}
    )
    done = await result.wait_for_edit(edits=3, timeout=10)
    assert "Backfill done: 2 older reviews announced." in done.content
    assert [m.embeds[0]["title"] for m in cards(world)] == ["Her", "Arrival"]
    again = await world.emu.run_command(world.moderator, world.channel, "review backfill")
    assert "Nothing to backfill" in (await again.wait_for_edit(timeout=5)).content
    assert world.emu.stats.total_429s == 0


async def test_backfill_needs_manage_server_or_the_author_role(
    harness: BotHarness, blog: FakeWordPress
):
    world = await started(harness, blog)
    result = await world.emu.run_command(world.alice, world.channel, "review backfill")
    reply = await result.wait_for_message()
    assert reply.ephemeral and "Manage Server" in reply.content
    assert cards(world) == []


async def test_announce_by_hand_and_again(harness: BotHarness, blog: FakeWordPress):
    world = await started(harness, blog)
    authors = world.emu.create_role(world.guild, "Authors")
    writer = world.emu.add_member(world.guild, world.emu.create_user("writer"), roles=[authors])
    await setup_channel(world, author_role=authors)
    refused = await world.emu.run_command(
        world.alice, world.channel, "review announce", {"review": "1"}
    )
    assert "Manage Messages" in (await refused.wait_for_message()).content

    first = await world.emu.run_command(writer, world.channel, "review announce", {"review": "1"})
    assert "Announced:" in (await first.wait_for_message()).content
    twice = await world.emu.run_command(writer, world.channel, "review announce", {"review": "1"})
    assert "announced already" in (await twice.wait_for_message()).content
    again = await world.emu.run_command(
        writer, world.channel, "review announce", {"review": "1", "again": True}
    )
    await again.wait_for_message()
    [old, new] = cards(world)
    recorded = await harness.bot.announcements.get(world.guild.id, "1")
    assert recorded.message_id == new.id != old.id

    unknown = await world.emu.run_command(
        writer, world.channel, "review announce", {"review": "zz"}
    )
    assert "No review matches “zz”" in (await unknown.wait_for_message()).content
