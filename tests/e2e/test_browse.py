"""Members browse, search and share reviews through the emulator; answers stay private."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from discord_emulator import Message
from tests.component.fake_wordpress import FakeWordPress

from .conftest import BotHarness, World
from .test_announcements import blog_env, cards, cycle, first_loop_cycle, setup_channel

TITLES = [f"Film number {n}" for n in range(1, 13)] + ["Her", "Heat", "Hereditary"]
HER_ID = str(TITLES.index("Her") + 1)  # the fake blog numbers posts from 1
SHARED_PAGE = """<!doctype html><html><head>
<title>ignored</title>
<meta property="og:title" content="Perfect Days @everyone">
<meta property="og:description" content="Wim Wenders finds grace in routine.">
<meta property="og:url" content="{url}">
<meta property="article:section" content="Film">
</head><body><article><p>Quiet and wise. Rating: 4/5</p></article></body></html>"""


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for day, title in enumerate(TITLES):
        fake.add_post(title, "<p>Fine.</p><p>Rating: 7/10</p>", date=start + timedelta(days=day))
    async with fake.serve():
        yield fake


@pytest.fixture
async def world_with_reviews(harness: BotHarness, blog: FakeWordPress) -> World:
    harness.env.update(blog_env(blog))
    await harness.start()
    await first_loop_cycle(harness)  # the catalogue is stored on start, before any /setup
    return harness.world


async def answer(world: World, who, command: str, options: dict | None = None) -> Message:
    result = await world.emu.run_command(who, world.channel, command, options or {})
    return await result.wait_for_message()


def listed_titles(message: Message) -> list[str]:
    lines = message.embeds[0]["description"].splitlines()
    return [line.split("**[", 1)[1].split("](", 1)[0] for line in lines]


async def test_latest_is_private_and_pages_for_the_invoker_only(world_with_reviews: World):
    world = world_with_reviews
    first = await answer(world, world.alice, "review latest")
    assert first.ephemeral
    assert listed_titles(first) == ["Hereditary", "Heat", "Her", "Film number 12", "Film number 11"]
    assert first.find_component("rb:page:previous")["disabled"]
    turned = await world.emu.click_button(world.alice, first, "rb:page:next")
    await turned.wait_for_response()
    assert listed_titles(first)[0] == "Film number 10"
    assert "Page 2" in first.embeds[0]["footer"]["text"]
    stranger = await world.emu.click_button(world.moderator, first, "rb:page:next")
    refusal = await stranger.wait_for_message()
    assert refusal.ephemeral and "whoever ran the command" in refusal.content
    assert listed_titles(first)[0] == "Film number 10"
    assert world.emu.messages_in(world.channel) == []


async def test_search_pages_through_matches(world_with_reviews: World):
    world = world_with_reviews
    found = await answer(world, world.alice, "review search", {"words": "film number"})
    assert "12 found" in found.embeds[0]["footer"]["text"]
    assert len(listed_titles(found)) == 5
    for _ in range(2):
        await (await world.emu.click_button(world.alice, found, "rb:page:next")).wait_for_response()
    assert "Page 3 of 3" in found.embeds[0]["footer"]["text"]
    assert len(listed_titles(found)) == 2
    assert found.find_component("rb:page:next")["disabled"]
    nothing = await answer(world, world.alice, "review search", {"words": "zebra"})
    assert nothing.ephemeral and "No review matches “zebra”" in nothing.content


async def test_autocomplete_comes_from_sqlite_without_asking_the_blog(
    world_with_reviews: World, blog: FakeWordPress
):
    world = world_with_reviews
    blog.reset_counts()
    choices = await world.emu.autocomplete(
        world.alice, world.channel, "review show", {"review": "he"}, focused="review"
    )
    assert {c["name"] for c in choices} == {"Her", "Heat", "Hereditary"}
    everything = await world.emu.autocomplete(
        world.alice, world.channel, "review show", {"review": ""}, focused="review"
    )
    assert 0 < len(everything) <= 25
    assert all(len(c["name"]) <= 100 for c in everything)
    assert blog.count() == 0


async def test_show_is_private_by_default_and_public_on_request(world_with_reviews: World):
    world = world_with_reviews
    private = await answer(world, world.alice, "review show", {"review": HER_ID})
    assert private.ephemeral and private.embeds[0]["title"] == "Her"
    assert private.find_component(f"rb:rate:{HER_ID}") is not None
    public = await answer(world, world.alice, "review show", {"review": "Her", "public": True})
    assert not public.ephemeral and not public.pings.any
    unknown = await answer(world, world.alice, "review show", {"review": "nope"})
    assert unknown.ephemeral and "No review matches “nope”" in unknown.content


@pytest.fixture
async def page_server(blog: FakeWordPress) -> AsyncIterator[str]:
    """A page on the blog's host (another port): the only loopback host the bot may open."""

    async def review(request: web.Request) -> web.Response:
        return web.Response(text=SHARED_PAGE.format(url=str(request.url)), content_type="text/html")

    app = web.Application()
    app.router.add_get("/reviews/perfect-days", review)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("/reviews/perfect-days"))
    finally:
        await server.close()


async def test_member_shares_a_review_from_another_site(
    harness: BotHarness, world_with_reviews: World, page_server: str
):
    world = world_with_reviews
    result = await world.emu.run_command(
        world.alice, world.channel, "review share", {"url": page_server}
    )
    reply = await result.wait_for_message()
    assert reply.ephemeral and reply.content.startswith("Shared: ")
    [card] = cards(world)
    embed = card.embeds[0]
    assert embed["title"].startswith("Perfect Days") and "@\u200beveryone" in embed["title"]
    assert "4/5" in next(f["value"] for f in embed["fields"] if f["name"] == "Critic score")
    assert f"<@{world.alice.id}>" in card.content and not card.pings.any
    [thread] = world.emu.threads_in(world.channel)
    assert thread.id == card.id
    stored = await harness.bot.reviews.by_url(page_server)
    assert stored is not None and stored.source == "shared"

    again = await world.emu.run_command(
        world.moderator, world.channel, "review share", {"url": page_server}
    )
    assert "already here" in (await again.wait_for_message()).content
    assert len(cards(world)) == 1


async def test_sharing_the_blogs_own_link_uses_the_stored_review(
    harness: BotHarness, world_with_reviews: World, blog: FakeWordPress
):
    world = world_with_reviews
    her = blog.posts[int(HER_ID)]
    link = f"{blog.url}/{her.date_gmt:%Y/%m}/{her.slug}/"
    result = await world.emu.run_command(world.alice, world.channel, "review share", {"url": link})
    assert (await result.wait_for_message()).content.startswith("Shared: ")
    [card] = cards(world)
    assert card.find_component(f"rb:rate:{her.id}") is not None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://localhost:9/review", "loopback"),
        ("http://10.1.2.3/review", "private"),
        ("ftp://example.org/review", "Only http:// and https:// links"),
    ],
)
async def test_refused_links_get_a_clear_private_answer(
    world_with_reviews: World, url: str, why: str
):
    world = world_with_reviews
    result = await world.emu.run_command(world.alice, world.channel, "review share", {"url": url})
    reply = await result.wait_for_message()
    assert reply.ephemeral and "I cannot share that link." in reply.content
    assert why.lower() in reply.content.lower()
    assert world.emu.messages_in(world.channel) == []


async def test_share_in_a_thread_goes_to_the_review_channel(
    harness: BotHarness, world_with_reviews: World, page_server: str
):
    world = world_with_reviews
    await setup_channel(world)
    await cycle(harness)
    starter = await world.emu.post_message(world.alice, world.channel, "chat")
    thread = await world.emu.start_thread(world.alice, world.channel, "chat", message=starter)
    result = await world.emu.run_command(world.alice, thread, "review share", {"url": page_server})
    assert (await result.wait_for_message()).content.startswith("Shared: ")
    assert len(cards(world)) == 1
