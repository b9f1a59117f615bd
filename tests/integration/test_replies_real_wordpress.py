"""Members' replies against the real WordPress: on the seeded "Her" thread, a reply to the
mirrored reader comment reaches the blog nested under it as the member, after consent; edits
and deletions follow; the approval modes hold or wait as described."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from bot.app import ReviewBridge
from cogs.reviews import Reviews
from discord_emulator import Channel, DiscordEmulator, Message
from tests.e2e.conftest import BotHarness, World, emu  # noqa: F401 (fixture)
from tests.e2e.test_comments import agree, make_world, mirrored, question_for
from tests.integration.conftest import WordPressRest, WordPressSite


async def eventually(probe: Callable[[], Awaitable[Any]], timeout: float = 10) -> Any:
    """The probe's first truthy answer (the blog is polled: it sends no events)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the blog did not change in time")
        await asyncio.sleep(0.1)


async def start(harness: BotHarness, site: WordPressSite) -> ReviewBridge:
    harness.env.update({**site.bot_environ(), "BLOG_POLL_SECONDS": "3600"})
    bot = await harness.start()
    world = harness.world
    setup = await world.emu.run_command(
        world.moderator, world.channel, "setup channel", {"channel": world.channel}
    )
    await setup.wait_for_message()
    assert (await cast(Reviews, bot.get_cog("Reviews")).run_cycle()).errors == []
    return bot


async def her_thread(world: World, site: WordPressSite) -> tuple[Channel, Message]:
    result = await world.emu.run_command(
        world.moderator, world.channel, "review announce", {"review": str(site.her_post_id)}
    )
    await result.wait_for_message(timeout=10)
    [thread] = world.emu.threads_in(world.channel)
    anchor = f"#comment-{site.her_reader_comment_id}"
    await world.emu.wait_until(
        lambda: any(anchor in m.content for m in mirrored(world, thread)), 10
    )
    return thread, next(m for m in mirrored(world, thread) if anchor in m.content)


def by_discord(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in comments if c["author_name"].endswith("(via Discord)")]


async def test_a_reply_on_the_her_thread_reaches_the_real_blog_after_consent_then_follows(
    emu: DiscordEmulator,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
):
    site = fresh_wordpress
    world = make_world(emu, content_intent=True)
    harness = BotHarness(world, tmp_path / "bot.sqlite3")
    try:
        bot = await start(harness, site)
        thread, reader = await her_thread(world, site)

        said = await emu.post_message(world.alice, thread, "The letters scene!", reply_to=reader)
        question = await question_for(world, thread, said)
        await asyncio.sleep(0.5)
        assert by_discord(await wp_admin.comments(post=site.her_post_id, status="all")) == []
        await emu.click_button(world.alice, question, f"rb:consent:always:{said.id}")

        async def published() -> list[dict[str, Any]]:
            return by_discord(await wp_admin.comments(post=site.her_post_id))

        [comment] = await eventually(published)
        assert comment["parent"] == site.her_reader_comment_id
        assert comment["author_name"] == "Alice (via Discord)"
        assert "The letters scene!" in comment["content"]["rendered"]
        full = await wp_admin.comment(comment["id"])
        assert full["author_email"] != "" and "alice" not in full["author_email"]

        # The comment the bot created is never mirrored back into the thread.
        await bot.mirror.resync(thread.id)
        await asyncio.sleep(1.0)
        anchor = f"#comment-{comment['id']}"
        assert not any(anchor in m.content for m in mirrored(world, thread))

        await emu.edit_message(said, "The letters scene! (edited)")

        async def edited() -> bool:
            raw = (await wp_admin.comment(comment["id"]))["content"]["raw"]
            return "(edited)" in raw

        await eventually(edited)
        await emu.delete_message(said)

        async def trashed() -> bool:
            return (await wp_admin.comment(comment["id"]))["status"] == "trash"

        await eventually(trashed)
    finally:
        await harness.stop()


async def test_blog_and_discord_approval_modes_on_the_real_blog(
    emu: DiscordEmulator,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
):
    site = fresh_wordpress
    world = make_world(emu, content_intent=True)
    harness = BotHarness(world, tmp_path / "bot.sqlite3")
    try:
        bot = await start(harness, site)
        await agree(world)
        thread, _ = await her_thread(world, site)
        blog_mode = await emu.run_command(
            world.moderator, world.channel, "setup approval", {"mode": "blog"}
        )
        await blog_mode.wait_for_message()
        first = await emu.post_message(world.alice, thread, "Held for the blog's moderators")

        async def held() -> list[dict[str, Any]]:
            return by_discord(await wp_admin.comments(post=site.her_post_id, status="hold"))

        [waiting] = await eventually(held)
        assert "Held for the blog" in waiting["content"]["rendered"]
        await emu.wait_until(lambda: "🛡️" in first.reactions, 5)

        # A WordPress moderator approves it: the reaction follows without anyone asking. (The
        # bot checks every BLOG_POLL_SECONDS; the test runs the check faster.)
        watch = asyncio.create_task(bot.discord_replies.watch_held(0.2))
        try:
            await wp_admin.approve_comment(waiting["id"])
            await emu.wait_until(lambda: list(first.reactions) == ["✅"], 10)
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch
        why = await emu.run_message_command(world.alice, first, "Blog status")
        assert "Published on the blog" in (await why.wait_for_message()).content

        queue = emu.create_channel(world.guild, "mod-queue")
        discord_mode = await emu.run_command(
            world.moderator, world.channel, "setup approval", {"mode": "discord", "channel": queue}
        )
        await discord_mode.wait_for_message()
        said = await emu.post_message(world.alice, thread, "Approved in Discord")
        card = await emu.wait_for_message(queue, lambda m: bool(m.components))
        await asyncio.sleep(0.5)
        assert len(by_discord(await wp_admin.comments(post=site.her_post_id, status="all"))) == 1
        await emu.click_button(world.moderator, card, f"rb:approval:approve:{said.id}")

        async def approved() -> list[dict[str, Any]]:
            live = by_discord(await wp_admin.comments(post=site.her_post_id))
            return [c for c in live if "Approved in Discord" in c["content"]["rendered"]]

        [live] = await eventually(approved)
        assert "Approved in Discord" in live["content"]["rendered"]
    finally:
        await harness.stop()
