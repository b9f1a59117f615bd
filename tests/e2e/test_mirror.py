"""Blog comments appear in review threads as their commenters: the real bot against the emulator
and a fake WordPress, following the blog through polls and signed pushes."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import cast
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.app import ReviewBridge
from bot.sync.push import NONCE_HEADER, PUSH_PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from cogs.reviews import Reviews
from discord_emulator import Channel, Message
from tests.component.fake_wordpress import FakeComment, FakePost, FakeWordPress

from .conftest import BotHarness, World

BLOG_NAME = "Frame by Frame"
SECRET = "e2e-push-secret-" + "k" * 32
T0 = datetime(2024, 1, 6, 9, tzinfo=UTC)
MASKED_LINK = re.compile(r"(?<!\\)\[([^\]]*)(?<!\\)\]\(<?([^)\s>]+)>?\)")  # not escaped
LOOKS_LIKE_A_LINK = re.compile(r"(?:https?://)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.IGNORECASE)


def spoofed_links(content: str) -> list[str]:
    """Masked links whose visible text names another place than where they lead."""
    spoofed = []
    for text, url in MASKED_LINK.findall(content):
        shown = LOOKS_LIKE_A_LINK.search(text)
        if shown and urlsplit(url).hostname != shown[1].lower():
            spoofed.append(f"[{text}]({url})")
    return spoofed


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    fake.add_post(
        "Her", "<p>A gentle film about loneliness.</p><p>Rating: 9/10</p>", categories=["Film"]
    )
    async with fake.serve():
        yield fake


def her(blog: FakeWordPress) -> FakePost:
    return next(p for p in blog.posts.values() if p.title == "Her")


def comment(blog: FakeWordPress, text: str, author: str, minutes: int, **kwargs) -> FakeComment:
    return blog.add_comment(
        her(blog), text, author_name=author, date=T0 + timedelta(minutes=minutes), **kwargs
    )


def seed_conversation(blog: FakeWordPress) -> tuple[FakeComment, FakeComment, FakeComment]:
    claire = comment(blog, "<p>It made me call my sister.</p>", "Claire", 0)
    reply = comment(
        blog, "<p>That is the best review a film can get.</p>", "Mara Ellison", 5, parent=claire
    )
    ben = comment(blog, "<p>The <em>score</em> though!</p>", "Ben", 10)
    return claire, reply, ben


async def start_bot(harness: BotHarness, blog: FakeWordPress) -> ReviewBridge:
    harness.env.update(
        {
            "BLOG_URL": blog.url,
            "BLOG_ALLOW_PRIVATE_HOST": "true",
            "BLOG_POLL_SECONDS": "3600",
            "BLOG_NAME": BLOG_NAME,
            "PUSH_SECRET": SECRET,
            "PUSH_PORT": "0",
        }
    )
    bot = await harness.start()
    world = harness.world
    setup = await world.emu.run_command(
        world.moderator, world.channel, "setup channel", {"channel": world.channel}
    )
    await setup.wait_for_message()
    await cycle(harness)  # the baseline
    return bot


async def cycle(harness: BotHarness) -> None:
    assert harness.bot is not None
    cog = cast(Reviews, harness.bot.get_cog("Reviews"))
    report = await cog.run_cycle()
    assert report.errors == []


async def announce_her(harness: BotHarness, blog: FakeWordPress) -> Channel:
    world = harness.world
    result = await world.emu.run_command(
        world.moderator, world.channel, "review announce", {"review": str(her(blog).id)}
    )
    assert "Announced" in (await result.wait_for_message(timeout=10)).content
    [thread] = world.emu.threads_in(world.channel)
    return thread


def comments_in(world: World, thread: Channel) -> list[Message]:
    return [m for m in world.emu.messages_in(thread) if m.webhook_id is not None]


async def wait_for_comments(world: World, thread: Channel, count: int, timeout: float = 5) -> None:
    await world.emu.wait_until(lambda: len(comments_in(world, thread)) == count, timeout)


def shows(message: Message, item: FakeComment) -> bool:
    return f"#comment-{item.id}" in message.content


async def push(bot: ReviewBridge, event: str, item: FakeComment, **overrides) -> int:
    """POST a hint exactly as the WordPress plugin signs it; returns the HTTP status."""
    nonce = overrides.pop("nonce", secrets.token_hex(16))
    body = json.dumps(
        {"event": event, "comment_id": item.id, "post_id": item.post, "nonce": nonce}
    ).encode()
    timestamp = str(overrides.pop("timestamp", int(time.time())))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: overrides.pop("signature", signature(SECRET, timestamp, body)),
    }
    url = f"http://127.0.0.1:{bot.push_port}{PUSH_PATH}"
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


# --- how a mirrored thread looks --------------------------------------------------------------


async def test_an_announced_review_thread_shows_its_comments_as_their_commenters(
    harness: BotHarness, blog: FakeWordPress
):
    claire, reply, ben = seed_conversation(blog)
    comment(blog, "<p>Held for moderation</p>", "Spammy", 20, status="hold")
    await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await wait_for_comments(world, thread, 3)

    first, second, third = comments_in(world, thread)
    assert [shows(m, c) for m, c in ((first, claire), (second, reply), (third, ben))] == [True] * 3
    assert [m.author_name for m in (first, second, third)] == [
        f"Claire · {BLOG_NAME}",
        f"Mara Ellison · {BLOG_NAME}",
        f"Ben · {BLOG_NAME}",
    ]
    assert all(m.avatar_url.startswith("https://") for m in (first, second, third))
    assert first.content.startswith("It made me call my sister.")
    quote = second.content.splitlines()[0]
    assert quote.startswith("> ↪ **Claire**: “It made me call my sister.”")
    assert f"/channels/{world.guild.id}/{thread.id}/{first.id})" in quote
    assert "*score*" in third.content
    assert all(not m.pings.any for m in (first, second, third))
    assert "Held for moderation" not in " ".join(m.content for m in comments_in(world, thread))
    [webhook] = world.emu.webhooks_in(world.channel)
    assert webhook.name == "Reviewbridge comments"
    assert world.emu.stats.total_429s == 0


async def test_linking_an_existing_thread_backfills_with_a_progress_message(
    harness: BotHarness, blog: FakeWordPress
):
    items = [comment(blog, f"<p>Thought number {n}</p>", f"Reader {n}", n) for n in range(45)]
    await start_bot(harness, blog)
    world = harness.world
    thread = await world.emu.start_thread(world.moderator, world.channel, "Talking about Her")
    result = await world.emu.run_command(
        world.moderator, thread, "mirror link", {"review": str(her(blog).id)}
    )
    answer = await result.wait_for_message(timeout=10)
    assert answer.ephemeral and "45 to post" in answer.content

    done = await world.emu.wait_for_message(
        thread, lambda m: m.content.startswith("✅ Mirrored 45 comments"), timeout=10
    )
    packs = comments_in(world, thread)
    assert len(packs) == 5 and done.id < packs[0].id
    shown = [e["author"]["url"] for m in packs for e in m.embeds]
    assert [int(re.search(r"#comment-(\d+)", u)[1]) for u in shown] == [c.id for c in items]
    assert world.emu.stats.total_429s == 0


# --- following the blog -----------------------------------------------------------------------


async def test_edits_trash_and_late_approvals_are_followed_through_the_poll(
    harness: BotHarness, blog: FakeWordPress
):
    claire, reply, ben = seed_conversation(blog)
    held = comment(blog, "<p>Finally approved</p>", "Dora", 3, status="hold")
    await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await wait_for_comments(world, thread, 3)
    original = {m.id for m in comments_in(world, thread)}

    blog.edit_comment(claire, "<p>It made me call my sister. Twice.</p>")
    blog.trash(ben)
    blog.approve(held)  # trash and approval cancel out in the total: not seen by this poll
    fresh = comment(blog, "<p>Late to the party</p>", "Eve", 30)
    await cycle(harness)  # sees the new comment; its sync reconciles everything else
    await world.emu.wait_until(
        lambda: (
            [any(shows(m, c) for m in comments_in(world, thread)) for c in (ben, held)]
            == [False, True]
            and any("Twice." in m.content for m in comments_in(world, thread))
        )
    )
    messages = comments_in(world, thread)
    edited = next(m for m in messages if shows(m, claire))
    assert edited.id in original and "Twice." in edited.content
    assert "approved late" in next(m for m in messages if shows(m, held)).content
    assert any(shows(m, fresh) for m in messages)

    blog.edit_comment(reply, "<p>A pure edit, seen by no poll.</p>")
    for _ in range(10):  # a periodic full reconciliation catches it
        await cycle(harness)
    await world.emu.wait_until(
        lambda: any("pure edit" in m.content for m in comments_in(world, thread))
    )
    blog.trash(claire)  # a deleted parent leaves its reply readable
    await cycle(harness)
    await world.emu.wait_until(
        lambda: any("not shown here" in m.content for m in comments_in(world, thread))
    )
    assert world.emu.stats.total_429s == 0


async def test_a_pushed_comment_arrives_within_a_second_and_bad_pushes_are_refused(
    harness: BotHarness, blog: FakeWordPress
):
    claire, _, _ = seed_conversation(blog)
    bot = await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await wait_for_comments(world, thread, 3)

    fresh = comment(blog, "<p>Pushed!</p>", "Finn", 40)
    started = time.monotonic()
    assert await push(bot, "comment_posted", fresh) == 202
    await world.emu.wait_until(lambda: any(shows(m, fresh) for m in comments_in(world, thread)))
    assert time.monotonic() - started < 1.0

    blog.edit_comment(claire, "<p>Edited and pushed.</p>")
    nonce = secrets.token_hex(16)
    stamp = int(time.time())
    assert await push(bot, "comment_edited", claire, nonce=nonce, timestamp=stamp) == 202
    await world.emu.wait_until(
        lambda: any("Edited and pushed." in m.content for m in comments_in(world, thread))
    )
    replayed = await push(bot, "comment_edited", claire, nonce=nonce, timestamp=stamp)
    assert replayed == 409
    assert await push(bot, "comment_edited", claire, signature="sha256=" + "0" * 64) == 401
    assert await push(bot, "comment_edited", claire, timestamp=int(time.time()) - 3600) == 401


async def test_hostile_comments_render_safely(harness: BotHarness, blog: FakeWordPress):
    hostile = (
        "<p>@everyone @here <@123456789012345678> <@&123456789012345678> hi</p>"
        '<p><a href="https://evil.example/steal">https://discord.com/safe</a> '
        "[click me](https://evil.example/x) **bold** ||spoiler|| `code` # Heading</p>"
        "<p><b><i>broken html <div>unclosed \u200b\u200dzero\u2060width \u202eevil rtl\u202c"
        "</p>"
    )
    comment(blog, hostile, "@everyone Discord\u202eadmin", 0)
    comment(blog, "<p>" + "A very long comment. " * 500 + "</p>", "Verbose", 1)
    await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await world.emu.wait_until(lambda: len(comments_in(world, thread)) >= 6)

    messages = comments_in(world, thread)
    assert all(not m.pings.any and len(m.content) <= 2000 for m in messages)
    assert [spoofed_links(m.content) for m in messages] == [[]] * len(messages)
    first = messages[0]
    assert "discord" not in first.author_name.lower()
    assert "\u202e" not in first.content + first.author_name
    assert "evil.example" in first.content  # shown as text, not behind a masked link
    assert "part 1 of" in messages[1].content
    assert world.emu.stats.total_429s == 0


async def test_a_deleted_webhook_is_made_again(harness: BotHarness, blog: FakeWordPress):
    seed_conversation(blog)
    bot = await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await wait_for_comments(world, thread, 3)
    [old] = world.emu.webhooks_in(world.channel)
    del world.emu.state.webhooks[old.id]  # a moderator deleted it in the channel settings

    fresh = comment(blog, "<p>After the webhook was deleted</p>", "Gus", 50)
    assert await push(bot, "comment_posted", fresh) == 202
    await wait_for_comments(world, thread, 4)
    [new] = world.emu.webhooks_in(world.channel)
    assert new.id != old.id and comments_in(world, thread)[-1].webhook_id == new.id


# --- moderators -------------------------------------------------------------------------------


async def run(world: World, thread: Channel, command: str, **options) -> Message:
    result = await world.emu.run_command(world.moderator, thread, f"mirror {command}", options)
    message = await result.wait_for_message(timeout=10)
    assert message.ephemeral
    return message


async def recorded(bot: ReviewBridge, thread: Channel, mirrored: int) -> None:
    async with asyncio.timeout(5):
        while True:
            status = await bot.mirror.status(thread.id)
            if status is not None and status.mirrored == mirrored and status.pending == 0:
                return
            await asyncio.sleep(0.02)


async def test_moderators_pause_resume_resync_inspect_and_unlink(
    harness: BotHarness, blog: FakeWordPress
):
    claire, _, _ = seed_conversation(blog)
    bot = await start_bot(harness, blog)
    world = harness.world
    thread = await announce_her(harness, blog)
    await wait_for_comments(world, thread, 3)
    await recorded(bot, thread, 3)  # a message shows before the bot records it as sent

    status = await run(world, thread, "status")
    [field] = status.embeds[0]["fields"]
    assert field["name"] == "Her" and "Mirrored **3**" in field["value"]
    assert "<t:" in field["value"] and "Last error" not in field["value"]

    assert "Paused" in (await run(world, thread, "pause")).content
    late = comment(blog, "<p>While paused</p>", "Hal", 60)
    assert await push(bot, "comment_posted", late) == 202
    await asyncio.sleep(0.3)
    assert len(comments_in(world, thread)) == 3
    assert "Resumed" in (await run(world, thread, "resume")).content
    await wait_for_comments(world, thread, 4)

    first = comments_in(world, thread)[0]
    await world.emu.delete_message(first)  # someone removed a mirrored comment in Discord
    assert "Resyncing" in (await run(world, thread, "resync")).content
    await world.emu.wait_until(
        lambda: any(shows(m, claire) for m in comments_in(world, thread)), timeout=5
    )
    assert len(comments_in(world, thread)) == 4

    assert "no longer mirrors" in (await run(world, thread, "unlink")).content
    after = comment(blog, "<p>Not mirrored any more</p>", "Ivy", 70)
    assert await push(bot, "comment_posted", after) == 202
    await asyncio.sleep(0.3)
    assert not any(shows(m, after) for m in comments_in(world, thread))
    everywhere = await run(world, world.channel, "status")
    assert "No thread mirrors" in everywhere.embeds[0]["description"]


async def test_members_without_manage_threads_cannot_use_mirror_commands(
    harness: BotHarness, blog: FakeWordPress
):
    await start_bot(harness, blog)
    world = harness.world
    # /mirror is visible to members for `/mirror consent`; its moderator commands refuse them.
    for command in ("mirror status", "mirror pause", "mirror resync"):
        result = await world.emu.run_command(world.alice, world.channel, command)
        reply = await result.wait_for_message(timeout=10)
        assert reply.ephemeral and "Manage Threads" in reply.content
    consent = await world.emu.run_command(world.alice, world.channel, "mirror consent")
    assert "Reference" not in (await consent.wait_for_message(timeout=10)).content
