"""Members' replies reach the blog: the real bot against the emulator and a fake WordPress
seeded with the "Her" review (its reader comment and the critic's reply)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import cast

import pytest

from bot.app import ReviewBridge
from bot.sandbox.seed import HerReview, add_bot_user, publish_her_review
from cogs.reviews import Reviews
from discord_emulator import Channel, DiscordEmulator, Message
from tests.component.fake_wordpress import FakeComment, FakeWordPress

from .conftest import BotHarness, World, make_world

APP_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    return make_world(emu, content_intent=True)


@pytest.fixture
async def wp() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    add_bot_user(fake, APP_PASSWORD)
    async with fake.serve():
        yield fake


@pytest.fixture
def her(wp: FakeWordPress) -> HerReview:
    return publish_her_review(wp)


async def start(harness: BotHarness, wp: FakeWordPress, poll_seconds: int = 3600) -> ReviewBridge:
    harness.env.update(
        {
            "BLOG_URL": wp.url,
            "WORDPRESS_USER": "reviewbridge",
            "WORDPRESS_APP_PASSWORD": APP_PASSWORD,
            "BLOG_ALLOW_PRIVATE_HOST": "true",
            "BLOG_POLL_SECONDS": str(poll_seconds),
        }
    )
    bot = await harness.start()
    world = harness.world
    setup = await world.emu.run_command(
        world.moderator, world.channel, "setup channel", {"channel": world.channel}
    )
    await setup.wait_for_message()
    report = await cast(Reviews, bot.get_cog("Reviews")).run_cycle()
    assert report.errors == []
    return bot


async def her_thread(harness: BotHarness, her: HerReview) -> tuple[Channel, Message]:
    """Announce Her; its thread mirrors the two comments. Returns the reader's message."""
    world = harness.world
    result = await world.emu.run_command(
        world.moderator, world.channel, "review announce", {"review": str(her.post.id)}
    )
    await result.wait_for_message(timeout=10)
    [thread] = world.emu.threads_in(world.channel)
    await world.emu.wait_until(lambda: len(mirrored(world, thread)) == 2, 10)
    reader = next(
        m for m in mirrored(world, thread) if f"#comment-{her.reader_comment.id}" in m.content
    )
    return thread, reader


async def eventually(predicate: Callable[[], bool], timeout: float) -> None:
    """Wait for the blog to change (the emulator's waits wake only on Discord events)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the blog did not change in time")
        await asyncio.sleep(0.02)


async def agree(world: World) -> None:
    chose = await world.emu.run_command(
        world.alice, world.channel, "mirror consent", {"choice": "always"}
    )
    await chose.wait_for_message()


def mirrored(world: World, thread: Channel) -> list[Message]:
    return [m for m in world.emu.messages_in(thread) if m.webhook_id is not None]


def from_discord(wp: FakeWordPress) -> list[FakeComment]:
    return [c for c in wp.comments.values() if c.author_name.endswith("(via Discord)")]


async def question_for(world: World, thread: Channel, about: Message) -> Message:
    return await world.emu.wait_for_message(
        thread,
        lambda m: (
            m.author.id == world.app.bot.id and m.components and str(about.id) in str(m.components)
        ),
    )


async def test_a_member_reply_reaches_the_blog_under_the_reader_comment_after_consent(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    bot = await start(harness, wp)
    world = harness.world
    assert bot.reads_messages
    thread, reader = await her_thread(harness, her)

    said = await world.emu.post_message(
        world.alice, thread, "Same here, the letters scene got me.", reply_to=reader
    )
    question = await question_for(world, thread, said)
    assert f"<@{world.alice.id}>" in question.content and "(via Discord)" in question.content
    assert question.pings.users == {world.alice.id}  # mentions nobody else
    assert from_discord(wp) == []  # nothing leaves Discord before she answers

    refused = await world.emu.click_button(
        world.moderator, question, f"rb:consent:always:{said.id}"
    )
    assert "This question is for" in (await refused.wait_for_message()).content
    await world.emu.click_button(world.alice, question, f"rb:consent:always:{said.id}")

    await eventually(lambda: len(from_discord(wp)) == 1, 5)
    [comment] = from_discord(wp)
    assert comment.parent == her.reader_comment.id and comment.author_name == "Alice (via Discord)"
    assert comment.content.startswith("<p>Same here, the letters scene got me.")
    await world.emu.wait_until(lambda: "✅" in said.reactions, 5)
    assert question.id not in {m.id for m in world.emu.messages_in(thread)}  # answered: gone

    # It is never mirrored back as a message of its own, even after a full resync.
    await bot.mirror.resync(thread.id)
    for _ in range(100):
        status = await bot.mirror.status(thread.id)
        if status is not None and status.queued == 0:
            break
        await asyncio.sleep(0.05)
    assert status is not None and status.queued == 0 and status.last_error is None
    assert len(mirrored(world, thread)) == 2

    await world.emu.edit_message(said, "Same here, the letters scene got me. Edited.")
    await eventually(lambda: "Edited." in comment.content, 5)
    await world.emu.delete_message(said)
    await eventually(lambda: comment.status == "trash", 5)
    assert len(wp.comments) == 3  # the two seeded comments and this one (in the trash)


async def test_without_the_content_intent_the_menu_and_comment_command_publish(
    emu: DiscordEmulator, tmp_path, wp: FakeWordPress, her: HerReview
):
    world = make_world(emu, content_intent=False)
    harness = BotHarness(world, tmp_path / "bot.sqlite3")
    try:
        bot = await start(harness, wp)
        assert not bot.reads_messages  # and the gateway was not closed with 4014
        assert 4014 not in emu.hub.closed_codes
        thread, reader = await her_thread(harness, her)
        said = await emu.post_message(world.alice, thread, "Menu me", reply_to=reader)
        assert world.app.bot.id not in {m.author.id for m in emu.messages_in(thread)[-1:]}

        menu = await emu.run_message_command(world.alice, said, "Publish to blog")
        prompt = await menu.wait_for_message()
        assert menu.ephemeral and "May I publish" in prompt.content
        await emu.click_button(world.alice, prompt, f"rb:consent:always:{said.id}")
        await eventually(lambda: len(from_discord(wp)) == 1, 5)
        assert from_discord(wp)[0].parent == her.reader_comment.id

        command = await emu.run_command(world.alice, thread, "comment", {"text": "A **bold** take"})
        assert "Queued" in (await command.wait_for_message()).content
        await eventually(lambda: len(from_discord(wp)) == 2, 5)
        assert "<strong>bold</strong>" in from_discord(wp)[1].content
        echo = emu.messages_in(thread)[-1]
        assert echo.author.id == world.app.bot.id and "A **bold** take" in echo.content

        status = await emu.run_message_command(world.alice, said, "Blog status")
        assert "Published on the blog" in (await status.wait_for_message()).content
    finally:
        await harness.stop()


async def test_discord_approval_waits_for_a_moderator_in_the_moderator_channel(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp)
    world = harness.world
    mod_channel = world.emu.create_channel(world.guild, "mod-queue")
    setup = await world.emu.run_command(
        world.moderator,
        world.channel,
        "setup approval",
        {"mode": "discord", "channel": mod_channel},
    )
    assert "approve" in (await setup.wait_for_message()).content
    consent = await world.emu.run_command(
        world.alice, world.channel, "blog-consent", {"choice": "always"}
    )
    await consent.wait_for_message()
    thread, _ = await her_thread(harness, her)

    said = await world.emu.post_message(world.alice, thread, "Approve me please")
    card = await world.emu.wait_for_message(mod_channel, lambda m: bool(m.components))
    await world.emu.wait_until(lambda: "🛡️" in said.reactions, 5)
    assert from_discord(wp) == []
    denied = await world.emu.click_button(world.alice, card, f"rb:approval:approve:{said.id}")
    assert "Only moderators" in (await denied.wait_for_message()).content

    await world.emu.click_button(world.moderator, card, f"rb:approval:approve:{said.id}")
    await eventually(lambda: len(from_discord(wp)) == 1, 5)
    assert from_discord(wp)[0].status == "1"
    await world.emu.wait_until(lambda: not card.components, 5)  # the card records the decision


async def test_replies_posted_while_the_bot_was_away_are_caught_up_exactly_once(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp)
    world = harness.world
    consent = await world.emu.run_command(
        world.alice, world.channel, "blog-consent", {"choice": "always"}
    )
    await consent.wait_for_message()
    thread, reader = await her_thread(harness, her)
    await world.emu.post_message(world.alice, thread, "Before the restart")
    await eventually(lambda: len(from_discord(wp)) == 1, 5)

    await harness.stop()
    await world.emu.post_message(world.alice, thread, "While it was away", reply_to=reader)
    await harness.start()
    await eventually(lambda: len(from_discord(wp)) == 2, 10)

    # A session that cannot resume misses events: the new READY catches up again.
    await world.emu.invalidate_session(world.app, resumable=False)
    await world.emu.post_message(world.alice, thread, "During the reconnect")
    await eventually(lambda: len(from_discord(wp)) == 3, 10)
    await harness.restart()
    texts = sorted(c.content.split("<!--")[0] for c in from_discord(wp))
    assert texts == ["<p>Before the restart", "<p>During the reconnect", "<p>While it was away"]
    assert [c.parent for c in from_discord(wp)] == [0, her.reader_comment.id, 0]


async def test_edits_and_deletions_made_while_the_bot_was_away_reach_the_blog(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp)
    world = harness.world
    await agree(world)
    thread, reader = await her_thread(harness, her)
    kept = await world.emu.post_message(world.alice, thread, "I will edit this", reply_to=reader)
    gone = await world.emu.post_message(world.alice, thread, "I will delete this")
    same = await world.emu.post_message(world.alice, thread, "I stay as I am")
    await eventually(lambda: len(from_discord(wp)) == 3, 5)
    by_text = {c.content.split("<!--")[0]: c for c in from_discord(wp)}
    versions = {c.id: c.content for c in from_discord(wp)}

    await harness.stop()  # Discord does not replay what happens now
    await world.emu.edit_message(kept, "I will edit this: edited while the bot was away")
    await world.emu.delete_message(gone)
    await harness.start()

    edited = by_text["<p>I will edit this"]
    await eventually(lambda: "edited while the bot was away" in edited.content, 10)
    await eventually(lambda: by_text["<p>I will delete this"].status == "trash", 10)
    unchanged = by_text["<p>I stay as I am"]
    assert unchanged.content == versions[unchanged.id]
    assert edited.parent == her.reader_comment.id
    assert len(from_discord(wp)) == 3  # nothing posted twice
    await world.emu.wait_until(lambda: "✅" in same.reactions, 5)


async def test_a_published_reply_trashed_by_a_blog_moderator_shows_it(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    bot = await start(harness, wp)
    world = harness.world
    await agree(world)
    thread, _ = await her_thread(harness, her)
    said = await world.emu.post_message(world.alice, thread, "Trash me later")
    await world.emu.wait_until(lambda: list(said.reactions) == ["✅"], 5)
    [comment] = from_discord(wp)

    wp.trash(comment)
    await bot.mirror.sync_review(str(her.post.id))  # the next poll (or the plugin's push)
    await world.emu.wait_until(lambda: list(said.reactions) == ["🔒"], 5)
    why = await world.emu.run_message_command(world.alice, said, "Blog status")
    assert "moved it to the trash" in (await why.wait_for_message()).content


async def test_moderators_see_a_failed_reply_in_status_and_retry_it(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp)
    world = harness.world
    await agree(world)
    thread, _ = await her_thread(harness, her)
    her.post.comment_status = "closed"
    said = await world.emu.post_message(world.alice, thread, "Closed, sadly")
    await world.emu.wait_until(lambda: "⚠️" in said.reactions, 5)
    why = await world.emu.run_message_command(world.alice, said, "Blog status")
    assert "Comments are closed" in (await why.wait_for_message()).content

    status = await world.emu.run_command(world.moderator, thread, "mirror status")
    [pending] = await status.wait_for_followups(1)
    assert f"`{said.id}`" in pending.embeds[0]["description"]
    her.post.comment_status = "open"
    retry = await world.emu.run_command(
        world.moderator, thread, "mirror retry", {"item": str(said.id)}
    )
    assert "Retrying" in (await retry.wait_for_message()).content
    await eventually(lambda: len(from_discord(wp)) == 1, 5)
    await world.emu.wait_until(lambda: "✅" in said.reactions, 5)


async def test_a_held_reply_follows_the_blog_moderator_without_anyone_asking(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp, poll_seconds=1)
    world = harness.world
    await agree(world)
    thread, _ = await her_thread(harness, her)
    mode = await world.emu.run_command(
        world.moderator, world.channel, "setup approval", {"mode": "blog"}
    )
    await mode.wait_for_message()
    kept = await world.emu.post_message(world.alice, thread, "Approve me on the blog")
    dropped = await world.emu.post_message(world.alice, thread, "Trash me on the blog")
    await world.emu.wait_until(lambda: "🛡️" in kept.reactions and "🛡️" in dropped.reactions, 5)
    by_text = {c.content.split("<!--")[0]: c for c in from_discord(wp)}
    assert all(c.status == "0" for c in by_text.values())

    # The bot looks held replies up every BLOG_POLL_SECONDS (1 here): nobody asks.
    wp.approve(by_text["<p>Approve me on the blog"])
    wp.trash(by_text["<p>Trash me on the blog"])
    await world.emu.wait_until(lambda: list(kept.reactions) == ["✅"], 5)
    await world.emu.wait_until(lambda: list(dropped.reactions) == ["🔒"], 5)

    why = await world.emu.run_message_command(world.alice, dropped, "Blog status")
    assert "moved it to the trash" in (await why.wait_for_message()).content
    assert len(from_discord(wp)) == 2  # nothing was sent again


async def test_comment_reply_to_answers_one_comment_of_a_packed_backfill(
    harness: BotHarness, wp: FakeWordPress, her: HerReview
):
    await start(harness, wp)
    world = harness.world
    readers = [
        wp.add_comment(
            her.post, f"<p>Backfill thought {n}, <em>so</em> good</p>", author_name=f"Reader {n}"
        )
        for n in range(22)
    ]
    await agree(world)
    announce = await world.emu.run_command(
        world.moderator, world.channel, "review announce", {"review": str(her.post.id)}
    )
    await announce.wait_for_message(timeout=10)
    [thread] = world.emu.threads_in(world.channel)
    await world.emu.wait_for_message(  # the backfill's progress line, edited when it ends
        thread, lambda m: m.content.startswith("✅ Mirrored 24 comments"), timeout=15
    )
    packs = mirrored(world, thread)
    assert len(packs) == 3 and shown_comments(world, thread) == 24  # ten to a message

    # Autocomplete lists the thread's comments, newest first, as typed.
    listed = await world.emu.autocomplete(
        world.alice, thread, "comment", {"text": "x", "reply_to": ""}, focused="reply_to"
    )
    assert len(listed) == 24 and all(1 <= len(c["name"]) <= 100 for c in listed)
    assert listed[0]["name"].startswith("Reader 21 · ")
    [seven] = await world.emu.autocomplete(
        world.alice, thread, "comment", {"text": "x", "reply_to": "reader 7"}, focused="reply_to"
    )
    assert seven["value"] == str(readers[7].id)
    assert seven["name"].endswith(" · Backfill thought 7, so good")

    answered = await world.emu.run_command(
        world.alice, thread, "comment", {"text": "Seven is right", "reply_to": seven["value"]}
    )
    assert "Queued" in (await answered.wait_for_message()).content
    await eventually(lambda: len(from_discord(wp)) == 1, 5)
    assert from_discord(wp)[0].parent == readers[7].id
    echo = world.emu.messages_in(thread)[-1]
    assert echo.content.startswith("**Alice** (for the blog, replying to **Reader 7**):")

    # A value that is no comment of this thread is refused privately; nothing is posted.
    before = len(world.emu.messages_in(thread))
    refused = await world.emu.run_command(
        world.alice, thread, "comment", {"text": "Lost", "reply_to": "999999"}
    )
    told = await refused.wait_for_message()
    assert refused.ephemeral and "must be a blog comment shown in this thread" in told.content
    assert len(world.emu.messages_in(thread)) == before

    # A plain reply to a packed message cannot say which comment it answers: top-level, and
    # "Blog status" says why and what to use instead.
    said = await world.emu.post_message(world.alice, thread, "Which one of you?", reply_to=packs[1])
    await eventually(lambda: len(from_discord(wp)) == 2, 5)
    assert from_discord(wp)[1].parent == 0
    why = await world.emu.run_message_command(world.alice, said, "Blog status")
    explained = (await why.wait_for_message()).content
    assert "posted as a new comment" in explained and "several blog comments" in explained
    assert "`/comment` with `reply_to:`" in explained


def shown_comments(world: World, thread: Channel) -> int:
    """Blog comments the thread shows: one per plain message, one per embed of a packed one."""
    return sum(len(m.embeds) or 1 for m in mirrored(world, thread))
