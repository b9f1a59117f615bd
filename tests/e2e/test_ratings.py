"""Members rate reviews with the menu and /rate, and read ratings with /ratings show|top|member."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import discord

from bot.app import ReviewBridge
from bot.discord_ui.rating_select import rating_select_item
from bot.ratings import BAD_SCORE_MESSAGE
from bot.storage.reviews import ReviewRecord
from discord_emulator import Message, ResponseType

from .conftest import BotHarness, World

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOW = datetime.now(UTC).replace(microsecond=0)


def review(
    review_id: str,
    title: str,
    *,
    critic: float | None = None,
    categories: tuple[str, ...] = ("Film",),
    age: timedelta = timedelta(days=1),
) -> ReviewRecord:
    """A published review; `critic` is the critic's score out of 10."""
    return ReviewRecord(
        review_id=review_id,
        source="blog",
        title=title,
        url=f"https://blog.example/reviews/{review_id}",
        author="Critic",
        published_at=NOW - age,
        modified_at=NOW - age,
        categories=categories,
        score_display=None if critic is None else f"{critic:g}/10",
        score_value=critic,
        score_scale=None if critic is None else 10.0,
        score_normalized=None if critic is None else critic / 10,
    )


async def seed(bot: ReviewBridge, *records: ReviewRecord) -> None:
    for record in records:
        await bot.reviews.upsert_review(record)


async def post_rating_menu(
    bot: ReviewBridge, world: World, review_id: str, view: discord.ui.View | None = None
) -> Message:
    """What an announcement does: a bot message carrying the rating menu."""
    view = view or discord.ui.View(timeout=None)
    view.add_item(rating_select_item(review_id))
    channel = bot.get_channel(world.channel.id)
    assert isinstance(channel, discord.TextChannel)
    sent = await channel.send("A new review", view=view)
    return next(m for m in world.emu.messages_in(world.channel) if m.id == sent.id)


async def rate_with_menu(
    world: World, who, message: Message, review_id: str, value: str
) -> Message:
    result = await world.emu.choose_select(who, message, f"rb:rate:{review_id}", [value])
    return await result.wait_for_message()


async def command(world: World, who, name: str, options: dict | None = None) -> Message:
    result = await world.emu.run_command(who, world.channel, name, options or {})
    return await result.wait_for_message()


def text_of(message: Message) -> str:
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


async def test_member_rates_with_the_menu_and_sees_the_new_community_average(
    harness: BotHarness,
):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("dune", "Dune", critic=8))
    menu = await post_rating_menu(bot, world, "dune")
    options = menu.find_component("rb:rate:dune")["options"]
    assert len(options) == 19 and options[0]["label"] == "★★★★★ 10/10"
    assert "★★★★½ 9/10" in [o["label"] for o in options]

    first = await rate_with_menu(world, world.alice, menu, "dune", "9")
    assert first.ephemeral
    assert "★★★★½ 9/10" in text_of(first)
    assert "9.0/10** from 1 rating" in text_of(first)

    second = await rate_with_menu(world, world.moderator, menu, "dune", "7")
    assert "8.0/10** from 2 ratings" in text_of(second)
    assert await bot.ratings.rating_of(world.guild.id, "dune", world.alice.id) == 9.0


async def test_menu_keeps_working_after_its_view_stops_and_after_a_restart(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("arrival", "Arrival"))
    # An announcement view: a link button, the menu, and a timeout.
    view = discord.ui.View(timeout=60)
    view.add_item(discord.ui.Button(label="Read", url="https://blog.example/reviews/arrival"))
    menu = await post_rating_menu(bot, world, "arrival", view)
    view.stop()  # as a timed-out view would: the menu must not depend on it

    reply = await rate_with_menu(world, world.alice, menu, "arrival", "8.5")
    assert "8.5/10" in text_of(reply)
    # Feed entries have ids like tag URIs: the colon is encoded in the custom id.
    await seed(bot, review("tag:blog.example,2024:7", "Tagged"))
    tagged = await post_rating_menu(bot, world, "tag:blog.example,2024:7")
    custom_id = "rb:rate:tag%3Ablog.example%2C2024%3A7"
    chosen = await world.emu.choose_select(world.alice, tagged, custom_id, ["7"])
    assert "Tagged" in text_of(await chosen.wait_for_message())
    assert "8.5/10" in text_of(reply)

    bot = await harness.restart()
    again = await rate_with_menu(world, world.alice, menu, "arrival", "6")
    assert again.ephemeral and "Rating updated" in text_of(again)
    assert "was 8.5/10" in text_of(again)
    assert await bot.ratings.rating_of(world.guild.id, "arrival", world.alice.id) == 6.0


async def test_rate_command_saves_replaces_and_removes_one_rating_per_member(
    harness: BotHarness,
):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("her", "Her", critic=9))

    saved = await command(world, world.alice, "rate", {"review": "her", "score": "8"})
    assert saved.ephemeral and "Rating saved" in text_of(saved)
    replaced = await command(world, world.alice, "rate", {"review": "her", "score": "6,5"})
    assert "Rating updated" in text_of(replaced) and "was 8/10" in text_of(replaced)
    assert "6.5/10** from 1 rating." in text_of(replaced)

    removed = await command(world, world.alice, "rate", {"review": "her", "remove": True})
    assert removed.ephemeral and "Rating removed" in text_of(removed)
    assert "No ratings yet" in text_of(removed)
    assert await bot.ratings.rating_of(world.guild.id, "her", world.alice.id) is None

    nothing = await command(world, world.alice, "rate", {"review": "her", "remove": True})
    assert nothing.ephemeral and "nothing to remove" in nothing.content


async def test_typed_title_is_accepted_when_it_names_one_review(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("her", "Her"), review("heat", "Heat"))
    reply = await command(world, world.alice, "rate", {"review": "her", "score": "7"})
    assert "Her" in text_of(reply)
    typed = await command(world, world.alice, "rate", {"review": "HEAT", "score": "7"})
    assert "Heat" in text_of(typed)
    assert await bot.ratings.rating_of(world.guild.id, "heat", world.alice.id) == 7.0


async def test_bad_input_is_refused_privately_with_what_to_do(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("her", "Her"))
    for bad in ("11", "7.3", "abc", "0", "nan"):
        reply = await command(world, world.alice, "rate", {"review": "her", "score": bad})
        assert reply.ephemeral and reply.content == BAD_SCORE_MESSAGE, bad
    assert await bot.ratings.rating_of(world.guild.id, "her", world.alice.id) is None

    no_score = await command(world, world.alice, "rate", {"review": "her"})
    assert no_score.ephemeral and "Give a score from 1 to 10" in no_score.content
    both = await command(
        world, world.alice, "rate", {"review": "her", "score": "5", "remove": True}
    )
    assert both.ephemeral and "not both" in both.content
    unknown = await command(world, world.alice, "rate", {"review": "Zzyzx", "score": "5"})
    assert unknown.ephemeral and "could not find a review called “Zzyzx”" in unknown.content
    chart = await command(world, world.alice, "ratings show", {"review": "Zzyzx"})
    assert chart.ephemeral and "could not find" in chart.content
    category = await command(world, world.alice, "ratings top", {"category": "Opera"})
    assert category.ephemeral and "no category" in category.content


async def test_ratings_show_puts_critic_and_community_side_by_side_with_a_png_chart(
    harness: BotHarness,
):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("dune", "Dune", critic=8))
    for user_id, score in enumerate((9.0, 9.0, 10.0, 8.0), start=100):
        await bot.ratings.set_rating(world.guild.id, "dune", user_id, score)

    shown = await command(world, world.alice, "ratings show", {"review": "dune"})
    assert not shown.ephemeral
    [chart] = shown.attachments
    assert chart.filename == "ratings.png" and chart.data.startswith(PNG_SIGNATURE)
    [embed] = shown.embeds
    assert embed["image"]["url"] == "attachment://ratings.png"
    text = text_of(shown)
    assert "Critic: `████████░░ 8.0/10` (8/10)" in text
    assert "Community: `█████████░ 9.0/10` from 4 ratings" in text
    assert "1.0 points higher than the critic" in text

    private = await command(world, world.alice, "ratings show", {"review": "dune", "private": True})
    assert private.ephemeral and private.attachments[0].data.startswith(PNG_SIGNATURE)


async def test_a_slow_chart_is_deferred_and_then_delivered(harness: BotHarness, monkeypatch):
    bot = await harness.start()
    # load_extension imports the cog afresh: patch the module the bot runs.
    monkeypatch.setattr(sys.modules["cogs.ratings"], "DEFER_AFTER_SECONDS", 0.0)
    world = harness.world
    await seed(bot, review("dune", "Dune", critic=8))
    result = await world.emu.run_command(
        world.alice, world.channel, "ratings show", {"review": "dune"}
    )
    shown = await result.wait_for_message()
    assert result.response_type == ResponseType.DEFERRED_CHANNEL_MESSAGE
    assert not shown.ephemeral and shown.attachments[0].data.startswith(PNG_SIGNATURE)


async def test_leaderboard_ranks_by_bayesian_average_so_one_ten_does_not_win(
    harness: BotHarness,
):
    bot = await harness.start()
    world = harness.world
    await seed(
        bot,
        review("lone", "Lone Ten"),
        review("loved", "Loved by Many", critic=9),
        review("meh", "Meh", categories=("Books",)),
        review("old", "Old Classic", age=timedelta(days=400)),
    )
    guild = world.guild.id
    await bot.ratings.set_rating(guild, "lone", 1, 10.0)
    for user_id in range(100, 120):
        await bot.ratings.set_rating(guild, "loved", user_id, 9.0)
    for user_id in range(200, 205):
        await bot.ratings.set_rating(guild, "meh", user_id, 6.0)
    await bot.ratings.set_rating(guild, "old", 1, 9.5)

    board = text_of(await command(world, world.alice, "ratings top"))
    order = [board.index(title) for title in ("Loved by Many", "Lone Ten", "Meh")]
    assert order == sorted(order)
    assert "mean 10.0 from 1 rating" in board and "mean 9.0 from 20 ratings" in board
    assert "Bayesian average" in board

    films = text_of(await command(world, world.alice, "ratings top", {"category": "film"}))
    assert "Loved by Many" in films and "Meh" not in films
    this_year = text_of(await command(world, world.alice, "ratings top", {"period": "year"}))
    assert "Old Classic" not in this_year and "Loved by Many" in this_year
    assert "Old Classic" in board


async def test_member_history_compares_with_the_critic(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(
        bot,
        review("a", "Alpha", critic=6),
        review("b", "Beta", critic=7),
        review("c", "Gamma"),
    )
    for review_id, score in (("a", 8.0), ("b", 9.0), ("c", 3.0)):
        await bot.ratings.set_rating(world.guild.id, review_id, world.alice.id, score)

    reply = await command(world, world.moderator, "ratings member", {"member": world.alice})
    text = text_of(reply)
    assert "Alice rates 2.0 points higher than the critic (over 2 reviews)" in text
    assert "★★★★½ 9/10 **Beta** · critic 7.0" in text
    assert "Gamma" in text
    assert not reply.pings.any

    own = await command(world, world.moderator, "ratings member", {"private": True})
    assert own.ephemeral and "has not rated any review yet" in text_of(own)


async def test_autocomplete_suggests_matching_titles_scores_and_categories(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(
        bot,
        review("dune", "Dune"),
        review("dune2", "Dune: Part Two", categories=("Film", "Sequels")),
        review("arrival", "Arrival"),
        review("long", "L" * 150),
    )
    emu = world.emu
    choices = await emu.autocomplete(
        world.alice, world.channel, "rate", {"review": "du"}, focused="review"
    )
    assert {c["value"] for c in choices} == {"dune", "dune2"}
    assert {c["name"] for c in choices} == {"Dune", "Dune: Part Two"}
    shown = await emu.autocomplete(
        world.alice, world.channel, "ratings show", {"review": "L"}, focused="review"
    )
    assert [len(c["name"]) <= 100 for c in shown] == [True]

    scores = await emu.autocomplete(
        world.alice, world.channel, "rate", {"review": "dune", "score": "7"}, focused="score"
    )
    assert [c["value"] for c in scores] == ["7.5", "7"]
    categories = await emu.autocomplete(
        world.alice, world.channel, "ratings top", {"category": "se"}, focused="category"
    )
    assert [c["value"] for c in categories] == ["Sequels"]


async def test_titles_from_the_blog_cannot_ping_or_spoof_markdown(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    await seed(bot, review("evil", "**@everyone** <@123> [click](https://evil.example)"))
    await bot.ratings.set_rating(world.guild.id, "evil", 1, 5.0)

    rated = await command(world, world.alice, "rate", {"review": "evil", "score": "5"})
    board = await command(world, world.alice, "ratings top")
    shown = await command(world, world.alice, "ratings show", {"review": "evil"})
    for message in (rated, board, shown):
        text = text_of(message)
        assert not message.pings.any
        assert "**@everyone**" not in text and "<@123>" not in text
        assert "\\*\\*@\u200beveryone\\*\\*" in text
        assert "\\[click\\]" in text
