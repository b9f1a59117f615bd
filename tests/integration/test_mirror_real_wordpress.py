"""The comment mirror against the real WordPress: the seeded "Her" conversation appears in the
review's thread, and a moderator's edit, trash and approval on WordPress are followed."""

from __future__ import annotations

from typing import cast

from cogs.reviews import Reviews
from discord_emulator import Channel, Message
from tests.e2e.conftest import BotHarness, World, emu, harness, world  # noqa: F401 (fixtures)
from tests.e2e.test_mirror import spoofed_links
from tests.integration.conftest import WordPressRest, WordPressSite


async def cycle(running: BotHarness) -> None:
    assert running.bot is not None
    report = await cast(Reviews, running.bot.get_cog("Reviews")).run_cycle()
    assert report.errors == []


def comments_in(w: World, thread: Channel) -> list[Message]:
    return [m for m in w.emu.messages_in(thread) if m.webhook_id is not None]


def showing(w: World, thread: Channel, comment_id: int) -> list[Message]:
    return [m for m in comments_in(w, thread) if f"#comment-{comment_id}" in m.content]


async def started(running: BotHarness, site: WordPressSite) -> World:
    running.env.update({**site.bot_environ(), "BLOG_POLL_SECONDS": "3600"})
    await running.start()
    w = running.world
    setup = await w.emu.run_command(w.moderator, w.channel, "setup channel", {"channel": w.channel})
    await setup.wait_for_message()
    await cycle(running)  # the seeded catalogue is the baseline
    return w


async def test_the_seeded_her_conversation_is_mirrored_and_follows_moderation(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
):
    site = fresh_wordpress
    w = await started(harness, site)
    result = await w.emu.run_command(
        w.moderator, w.channel, "review announce", {"review": str(site.her_post_id)}
    )
    assert "Announced" in (await result.wait_for_message(timeout=10)).content
    [thread] = w.emu.threads_in(w.channel)
    await w.emu.wait_until(lambda: len(comments_in(w, thread)) == 2, timeout=10)

    reader, reply = comments_in(w, thread)
    assert reader.author_name.startswith("Claire Ashworth · ")
    assert f"#comment-{site.her_reader_comment_id}" in reader.content
    assert reply.author_name.startswith("Mara Ellison · ")
    quote = reply.content.splitlines()[0]
    assert quote.startswith("> ↪ **Claire Ashworth**")
    assert f"/channels/{w.guild.id}/{thread.id}/{reader.id})" in quote
    assert all(not m.pings.any for m in (reader, reply))

    held = site.ids["her_held_comment"]
    await wp_admin.edit_comment(site.her_reader_comment_id, "Edited on WordPress: still crying.")
    await wp_admin.approve_comment(held)  # the total moves: the poll reconciles the review
    await cycle(harness)
    await w.emu.wait_until(
        lambda: bool(showing(w, thread, held))
        and "still crying" in showing(w, thread, site.her_reader_comment_id)[0].content,
        timeout=10,
    )
    assert showing(w, thread, site.her_reader_comment_id)[0].id == reader.id  # edited in place

    await wp_admin.trash_comment(site.her_reply_comment_id)
    await cycle(harness)
    await w.emu.wait_until(
        lambda: not showing(w, thread, site.her_reply_comment_id), timeout=10
    )
    assert len(comments_in(w, thread)) == 2
    assert w.emu.stats.total_429s == 0


async def test_the_seeded_hostile_comment_renders_safely(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    wordpress: WordPressSite,
):
    w = await started(harness, wordpress)
    thread = await w.emu.start_thread(w.moderator, w.channel, "Hostile")
    review = str(wordpress.ids["unicode_stars_post"])
    result = await w.emu.run_command(w.moderator, thread, "mirror link", {"review": review})
    assert "now mirrors" in (await result.wait_for_message(timeout=10)).content
    hostile = wordpress.ids["hostile_comment"]
    await w.emu.wait_until(lambda: bool(showing(w, thread, hostile)), timeout=10)

    messages = comments_in(w, thread)
    assert all(not m.pings.any and len(m.content) <= 2000 for m in messages)
    assert [spoofed_links(m.content) for m in messages] == [[]] * len(messages)
    assert "evil.example/phish" in messages[0].content  # shown, not hidden behind other text
    for message in messages:
        name = message.author_name.lower()
        assert "discord" not in name and "clyde" not in name and "\u202e" not in name
