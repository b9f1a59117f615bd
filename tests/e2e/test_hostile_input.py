"""A corpus of hostile input through the real commands: each is refused or shown safely, with
a private explanation, never a traceback, a ping or a request to a private address."""

import pytest

from bot.storage.reviews import ReviewRecord

from .conftest import BotHarness

OVERLONG = "ab " * 700
HOSTILE_TEXT = [
    "@everyone look",
    "<@&123456789012345678> <@123456789012345678> @here",
    '" OR 1=1 --',
    "'); DROP TABLE reviews; --",
    'NEAR("a" "b") * - AND OR title:',
    "[click](https://evil.example) **bold** `code` ||spoiler|| # heading",
    "\u202egnirts desrever\u202c zero\u200bwidth\u2066 isolate",
    "𝕳𝖊𝖗 ✨ 東京 مرحبا 🙂" * 5,
    "\x00\x01\x1b[31m control",
    OVERLONG[:1900],
]
SSRF_URLS = [
    "http://127.0.0.1/",
    "http://localhost:8089/her/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0.0.0.0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://100.64.0.1/",
    "file:///etc/passwd",
    "ftp://example.org/review",
    "javascript:alert(1)",
    "gopher://127.0.0.1:70/",
    "not a url at all",
    "http://",
]


async def seeded(harness: BotHarness):
    bot = await harness.start()
    await bot.reviews.upsert_review(
        ReviewRecord(
            review_id="1001", source="blog", title="Her", url="https://blog.example/her/",
            author="Mara", published_at=_time(), modified_at=_time(),
        )
    )  # fmt: skip
    return bot


def _time():
    from datetime import UTC, datetime

    return datetime(2024, 5, 1, tzinfo=UTC)


def assert_safe_private_answer(message) -> None:
    assert message.ephemeral
    assert "Reference:" not in (message.content or ""), message.content
    assert message.pings.everyone is False
    assert not message.pings.users and not message.pings.roles


@pytest.mark.parametrize("text", HOSTILE_TEXT)
async def test_hostile_search_words_are_answered_privately(harness: BotHarness, text):
    await seeded(harness)
    world = harness.world
    result = await world.emu.run_command(
        world.alice, world.channel, "review search", {"words": text}
    )
    assert_safe_private_answer(await result.wait_for_message())


@pytest.mark.parametrize("text", HOSTILE_TEXT)
async def test_hostile_review_and_score_arguments_get_an_explanation(harness: BotHarness, text):
    bot = await seeded(harness)
    world = harness.world
    for options in ({"review": text[:200], "score": "8"}, {"review": "1001", "score": text[:20]}):
        result = await world.emu.run_command(world.alice, world.channel, "rate", options)
        assert_safe_private_answer(await result.wait_for_message())
    assert await bot.ratings.rating_of(world.guild.id, "1001", world.alice.id) is None


@pytest.mark.parametrize("url", SSRF_URLS)
async def test_shared_links_to_private_places_or_odd_schemes_are_refused(harness: BotHarness, url):
    bot = await seeded(harness)
    world = harness.world
    result = await world.emu.run_command(world.alice, world.channel, "review share", {"url": url})
    reply = await result.wait_for_message(timeout=15)
    assert_safe_private_answer(reply)
    assert reply.content  # says why
    assert world.emu.messages_in(world.channel) == []  # nothing was posted
    assert await bot.reviews.by_url(url) is None
