"""The watcher against the real WordPress: a review published there reaches Discord once."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import BotHarness, emu, harness, world  # noqa: F401 (fixtures)
from tests.integration.conftest import WordPressRest, WordPressSite

POLL_SECONDS = 1


async def test_a_review_published_on_wordpress_is_announced_once_within_one_poll(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
):
    harness.env.update({**fresh_wordpress.bot_environ(), "BLOG_POLL_SECONDS": str(POLL_SECONDS)})
    bot = await harness.start()
    w = harness.world
    setup = await w.emu.run_command(w.moderator, w.channel, "setup channel", {"channel": w.channel})
    await setup.wait_for_message()
    for _ in range(100):  # the seeded catalogue is the baseline: nothing of it is announced
        if await bot.guild_watch.get(w.guild.id) is not None:
            break
        await asyncio.sleep(0.1)
    assert [m for m in w.emu.messages_in(w.channel) if m.embeds] == []

    created = await wp_admin.post(
        "wp/v2/posts",
        {
            "title": "Past Lives",
            "content": "<p>Two lives, one evening in New York.</p><p>Rating: 8/10</p>",
            "status": "publish",
            "categories": [fresh_wordpress.ids["category_film"]],
        },
    )
    loop = asyncio.get_running_loop()
    published_at = loop.time()
    card = await w.emu.wait_for_message(w.channel, lambda m: bool(m.embeds), timeout=10)
    # One interval to notice it, plus the WordPress round trips of that cycle.
    assert loop.time() - published_at < POLL_SECONDS + 3
    embed = card.embeds[0]
    assert embed["title"] == "Past Lives" and embed["url"] == created["link"]
    score = next(f["value"] for f in embed["fields"] if f["name"] == "Critic score")
    assert score.startswith("8/10") and "8.0/10" in score
    assert card.find_component(f"rb:rate:{created['id']}") is not None
    await w.emu.wait_until(lambda: bool(w.emu.threads_in(w.channel)))
    [thread] = w.emu.threads_in(w.channel)
    assert thread.id == card.id and thread.name == "Past Lives"

    await asyncio.sleep(POLL_SECONDS * 2.5)  # more cycles pass: still one announcement
    assert [m.id for m in w.emu.messages_in(w.channel) if m.embeds] == [card.id]
    assert bot.health.component("watcher").ok
