"""Outages while the comment mirror works, in process with the real bot against the emulator and
a fake WordPress (fast): Discord answering 5xx and 429 storms on webhook execution during a
backfill and during live comments; the gateway dropped, told to reconnect and invalidated while
blog comments are mirrored and members' replies go to the blog; the blog down for a while then
back. After each, the thread shows every approved comment once, in the blog's order, replies
quoting their parents; every member's reply is once on the blog under the comment it answers;
and the bot's own log holds no traceback.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

import tests.e2e.test_announcements as announcements
import tests.e2e.test_comments as replies
import tests.e2e.test_mirror as mirror
import tests.faults.test_storms as storms
from bot.app import MIRROR_PROGRESS_SECONDS, ReviewBridge
from bot.sandbox.seed import BOT_LOGIN, add_bot_user
from bot.sync.engine import ThreadStatus
from discord_emulator import Channel, DiscordEmulator, Message
from discord_emulator.gateway import GatewayConnection
from tests.component.fake_wordpress import FakeComment, FakePost, FakeWordPress
from tests.e2e.conftest import BotHarness, World, make_world

EXECUTE = "POST /webhooks/{webhook_id}/{webhook_token}"
COMMENT_ID = re.compile(r"#comment-(\d+)")
QUOTE = "> ↪ "
TAG = re.compile(r"<[^>]+>")
Storm = list[tuple[int, int]]  # (status, times), in the order Discord answers them


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    """Members' plain replies are read (the Message Content intent is enabled)."""
    return make_world(emu, content_intent=True)


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    """A blog with the bot's Editor account, so members' replies can go to it."""
    fake = FakeWordPress()
    add_bot_user(fake, replies.APP_PASSWORD)
    async with fake.serve():
        yield fake


def add_her(blog: FakeWordPress) -> FakePost:
    """The review whose comments the tests mirror (`mirror.her` finds it by its title)."""
    return blog.add_post(
        "Her", "<p>A gentle film about loneliness.</p><p>Rating: 9/10</p>", categories=["Film"]
    )


@pytest.fixture
def bot_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records carrying a traceback, except discord.py's own reconnect notice (it logs the
    dropped connection's exception: the library's choice, and the fault the test injected)."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info
        and not (
            record.name == "discord.client"
            and record.getMessage().startswith("Attempting a reconnect")
        )
    ]


async def start(
    harness: BotHarness, blog: FakeWordPress, *, poll_seconds: int = 3600
) -> ReviewBridge:
    """The bot reading and writing the blog, with the push endpoint, set up in the channel."""
    harness.env.update(
        {
            "WORDPRESS_USER": BOT_LOGIN,
            "WORDPRESS_APP_PASSWORD": replies.APP_PASSWORD,
            "BLOG_NAME": mirror.BLOG_NAME,
            "PUSH_SECRET": mirror.SECRET,
            "PUSH_PORT": "0",
        }
    )
    await announcements.started(harness, blog, poll_seconds=poll_seconds)
    assert harness.bot is not None
    return harness.bot


def seed_backfill(blog: FakeWordPress, roots: int) -> list[FakeComment]:
    """`roots` comments, every third with a reply and every sixth reply answered again, created
    in the blog's display order (each thread's replies before the next, newer, comment)."""
    items: list[FakeComment] = []
    for n in range(roots):
        root = mirror.comment(blog, f"<p>Thought number {n}</p>", f"Reader {n}", len(items))
        items.append(root)
        if n % 3 == 0:
            answer = mirror.comment(
                blog, f"<p>Answer to thought {n}</p>", f"Answerer {n}", len(items), parent=root
            )
            items.append(answer)
            if n % 6 == 0:
                items.append(
                    mirror.comment(
                        blog,
                        f"<p>Answer to the answer {n}</p>",
                        f"Rejoinder {n}",
                        len(items),
                        parent=answer,
                    )
                )
    return items


def live_comment(blog: FakeWordPress, n: int, parent: FakeComment | None = None) -> FakeComment:
    """A comment newer than every seeded one (the live ones follow in the order made)."""
    return mirror.comment(
        blog, f"<p>Live comment {n}</p>", f"Live Reader {n}", 1000 + n, parent=parent or 0
    )


# --- what the thread shows --------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One comment as the thread shows it: alone in a message, or as an embed of a pack."""

    comment_id: int
    message_id: int
    quote: str  # a reply's first line, "" for a top-level comment


def thread_view(world: World, thread: Channel) -> list[Shown]:
    shown: list[Shown] = []
    for message in mirror.comments_in(world, thread):
        if message.embeds:
            for embed in message.embeds:
                found = COMMENT_ID.search(embed["author"]["url"])
                assert found is not None, embed
                first = embed["description"].splitlines()[0]
                quote = first if first.startswith(QUOTE) else ""
                shown.append(Shown(int(found[1]), message.id, quote))
        else:
            *_, found_id = COMMENT_ID.findall(message.content)  # in the "on the blog" link
            first = message.content.splitlines()[0]
            shown.append(Shown(int(found_id), message.id, first if first.startswith(QUOTE) else ""))
    return shown


def check_thread(world: World, thread: Channel, expected: list[FakeComment]) -> None:
    """Every comment once, in order; each reply quotes its parent and links to it (or says it
    is right above, in the same packed message)."""
    view = thread_view(world, thread)
    assert [s.comment_id for s in view] == [c.id for c in expected]
    where = {s.comment_id: s for s in view}
    by_id = {c.id: c for c in expected}
    for item in expected:
        shown = where[item.id]
        if not item.parent:
            assert shown.quote == "", shown
            continue
        parent = by_id[item.parent]
        text = TAG.sub("", parent.content)
        assert shown.quote.startswith(f"{QUOTE}**{parent.author_name}**: “{text}”"), shown
        parent_message = where[parent.id].message_id
        if shown.quote.endswith(" (above)"):
            assert parent_message == shown.message_id, shown
        else:
            jump = f"/channels/{world.guild.id}/{thread.id}/{parent_message})"
            assert shown.quote.endswith(jump), shown


def progress_messages(world: World, thread: Channel) -> list[Message]:
    return [
        m
        for m in world.emu.messages_in(thread)
        if m.webhook_id is None and m.author.id == world.app.bot.id and "Mirror" in m.content
    ]


async def settled(bot: ReviewBridge, thread: Channel, timeout: float) -> ThreadStatus:
    """No sync running, no comment waiting, no outbox row left (either direction)."""
    async with asyncio.timeout(timeout):
        while True:
            await bot.mirror.syncs_done()
            status = await bot.mirror.status(thread.id)
            assert status is not None
            if status.queued == 0 and status.pending == 0:
                return status
            await asyncio.sleep(0.05)


async def converged(
    bot: ReviewBridge,
    world: World,
    thread: Channel,
    expected: list[FakeComment],
    timeout: float,
) -> None:
    """Wait until the thread shows as many comments as expected and the mirror is idle, then
    check it: doubles, gaps and wrong order all fail here."""
    await world.emu.wait_until(lambda: len(thread_view(world, thread)) >= len(expected), timeout)
    status = await settled(bot, thread, timeout)
    assert status.failed == 0
    check_thread(world, thread, expected)


async def resynced(
    bot: ReviewBridge, world: World, thread: Channel, expected: list[FakeComment]
) -> None:
    """A full resync compares the thread with the blog and the mapping: nothing to repair."""
    before = [m.id for m in mirror.comments_in(world, thread)]
    await bot.mirror.resync(thread.id)
    status = await settled(bot, thread, timeout=10)
    assert status.failed == 0 and status.last_error is None
    assert [m.id for m in mirror.comments_in(world, thread)] == before
    check_thread(world, thread, expected)


def raise_storm(emu: DiscordEmulator, storm: Storm) -> None:
    for status, times in storm:
        emu.fail_next(EXECUTE, times=times, status=status)


async def pushed(bot: ReviewBridge, *items: FakeComment) -> None:
    for item in items:
        assert await mirror.push(bot, "comment_posted", item) == 202


# --- Discord error storms on webhook execution ------------------------------------------------


@pytest.mark.parametrize(
    ("backfill_storm", "live_storm"),
    [
        # discord.py retries a webhook's 5xx itself, after 1, 3, 5 … s: the storms stay within
        # its five tries (five in a row cost 25 s; the 429 storm covers the bot's own retry).
        pytest.param([(500, 1), (502, 1), (503, 1)], [(503, 1), (500, 1)], id="5xx"),
        # Five 429s in a row make discord.py give up: the outbox retries the reserved send,
        # looking for its marker in the thread first (twice during the backfill, once live).
        pytest.param([(429, 12)], [(429, 7)], id="429"),
    ],
)
async def test_webhook_error_storm_during_backfill_and_live_comments_shows_each_once(
    harness: BotHarness,
    blog: FakeWordPress,
    bot_log: pytest.LogCaptureFixture,
    backfill_storm: Storm,
    live_storm: Storm,
) -> None:
    bot = await start(harness, blog)
    world = harness.world
    add_her(blog)  # a new review, already with 36 comments: four packed messages
    backfill = seed_backfill(blog, roots=24)
    raise_storm(world.emu, backfill_storm)
    # The watcher's cycle announces it and its thread starts the backfill. (A command would
    # answer through the same webhook route: the storm is meant for the mirror alone.)
    await announcements.cycle(harness)
    [thread] = world.emu.threads_in(world.channel)

    # Live comments arrive while the storm holds the backfill up. A reply to an old comment
    # comes first: the display order then equals the order they were made, however the
    # pushes are folded into syncs.
    first = live_comment(blog, 0, parent=backfill[15])
    second = live_comment(blog, 1)
    third = live_comment(blog, 2, parent=second)
    fourth = live_comment(blog, 3, parent=third)
    fifth = live_comment(blog, 4)
    early = [first, second, third, fourth, fifth]
    await pushed(bot, *early)
    await converged(bot, world, thread, backfill + early, timeout=45)
    assert len(mirror.comments_in(world, thread)) == 4 + len(early)

    # A second storm meets comments posted one per message.
    raise_storm(world.emu, live_storm)
    late = [live_comment(blog, 5, parent=backfill[30])]
    late += [live_comment(blog, 6, parent=fifth), live_comment(blog, 7)]
    await pushed(bot, *late)
    await converged(bot, world, thread, backfill + early + late, timeout=30)
    assert world.emu.take_fault(EXECUTE) is None  # the whole storm was met
    assert len(mirror.comments_in(world, thread)) == 4 + len(early) + len(late)
    await resynced(bot, world, thread, backfill + early + late)
    [progress] = progress_messages(world, thread)
    assert progress.content.startswith("✅ Mirrored"), progress.content
    assert tracebacks(bot_log) == []


# --- gateway faults ---------------------------------------------------------------------------


def connection(emu: DiscordEmulator, world: World) -> GatewayConnection:
    session = emu.session(world.app)
    assert session is not None and session.connection is not None
    return session.connection


async def reconnected(emu: DiscordEmulator, world: World, old: GatewayConnection) -> None:
    """The bot is connected again, on another connection than `old`."""

    def fresh() -> bool:
        session = emu.session(world.app)
        return session is not None and session.connection not in (None, old)

    await emu.wait_until(fresh, timeout=15)
    await emu.wait_for_gateway(world.app, timeout=15)


async def gateway_fault(emu: DiscordEmulator, world: World, fault: str) -> None:
    if fault == "drop":
        emu.drop_gateway(world.app)
    elif fault == "reconnect":
        await emu.send_reconnect(world.app)
    else:
        await emu.invalidate_session(world.app)


def on_blog(blog: FakeWordPress, text: str) -> list[FakeComment]:
    """The blog comments made of a member's Discord message."""
    return [c for c in replies.from_discord(blog) if c.content.startswith(f"<p>{text}")]


def message_of(world: World, thread: Channel, item: FakeComment) -> Message:
    [message] = [m for m in mirror.comments_in(world, thread) if mirror.shows(m, item)]
    return message


async def test_gateway_faults_while_comments_are_mirrored_and_replies_go_to_the_blog(
    harness: BotHarness, blog: FakeWordPress, bot_log: pytest.LogCaptureFixture
) -> None:
    add_her(blog)
    claire, answer, ben = mirror.seed_conversation(blog)
    bot = await start(harness, blog)
    world = harness.world
    emu = world.emu
    thread = await mirror.announce_her(harness, blog)
    await replies.agree(world)
    shown = [claire, answer, ben]
    await converged(bot, world, thread, shown, timeout=10)

    # Per fault: a member's reply whose blog write is in flight when the fault hits; a new
    # blog comment pushed during it; a member's reply sent while the bot is reconnecting
    # (replayed on RESUME, or found by the catch-up after a new session's READY).
    expected: dict[str, int] = {}  # member's text -> the blog comment it must answer (0: none)
    said: list[Message] = []
    live: list[FakeComment] = []
    Target = Callable[[], tuple[Message | None, int]]

    def reply_to(item: FakeComment) -> tuple[Message, int]:
        return message_of(world, thread, item), item.id

    def reply_to_member(text: str) -> tuple[Message, int]:
        [comment] = on_blog(blog, text)
        return next(m for m in said if m.content == text), comment.id

    rounds: list[tuple[str, Target, Target, Callable[[], FakeComment | None]]] = [
        ("drop", lambda: reply_to(claire), lambda: (None, 0), lambda: claire),
        (
            "reconnect",
            lambda: reply_to(live[0]),
            lambda: reply_to_member("Reply 0a, sent before the drop"),
            lambda: None,
        ),
        ("invalidate", lambda: reply_to(ben), lambda: reply_to(live[1]), lambda: live[1]),
    ]
    for n, (fault, first_target, second_target, live_parent) in enumerate(rounds):
        first_text = f"Reply {n}a, sent before the {fault}"
        second_text = f"Reply {n}b, sent during the {fault}"
        writes = blog.count("POST", "/wp/v2/comments")
        blog.delay_next(1, 0.5, after_handling=True, method="POST", path="/wp/v2/comments")
        to, parent = first_target()
        said.append(await emu.post_message(world.alice, thread, first_text, reply_to=to))
        expected[first_text] = parent
        await replies.eventually(
            lambda before=writes: blog.count("POST", "/wp/v2/comments") > before, 5
        )

        old = connection(emu, world)
        await gateway_fault(emu, world, fault)
        item = live_comment(blog, n, parent=live_parent())
        live.append(item)
        await pushed(bot, item)
        to, parent = second_target()
        said.append(await emu.post_message(world.alice, thread, second_text, reply_to=to))
        expected[second_text] = parent
        await reconnected(emu, world, old)

        shown.append(item)
        await converged(bot, world, thread, shown, timeout=10)
        await replies.eventually(lambda: all(on_blog(blog, text) for text in expected), timeout=15)

    await resynced(bot, world, thread, shown)  # members' replies are never mirrored back
    assert len(mirror.comments_in(world, thread)) == len(shown)
    assert len(replies.from_discord(blog)) == len(expected)
    for text, parent in expected.items():
        [comment] = on_blog(blog, text)
        assert comment.parent == parent, text
    await emu.wait_until(lambda: all("✅" in m.reactions for m in said), 5)
    assert tracebacks(bot_log) == []


# --- the blog down ----------------------------------------------------------------------------


async def about_fields(world: World) -> dict[str, str]:
    result = await world.emu.run_command(world.alice, world.channel, "about")
    about = await result.wait_for_message(timeout=10)
    return {f["name"]: f["value"] for f in about.embeds[0]["fields"]}


async def until_async(predicate: Callable[[], Awaitable[bool]], timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await predicate():
            await asyncio.sleep(0.05)


async def test_blog_down_for_a_while_during_mirroring_then_back(
    harness: BotHarness, blog: FakeWordPress, bot_log: pytest.LogCaptureFixture
) -> None:
    add_her(blog)
    backfill = seed_backfill(blog, roots=16)  # 25 comments: three packed messages
    bot = await start(harness, blog, poll_seconds=1)
    world = harness.world
    watcher = bot.health.component("watcher")
    thread = await mirror.announce_her(harness, blog)

    blog.fail_next(10_000, 503)  # down while the backfill is being posted
    first = live_comment(blog, 0, parent=backfill[10])
    second = live_comment(blog, 1)  # never pushed: only the watcher's poll can find it
    third = live_comment(blog, 2, parent=second)
    await pushed(bot, first, third)  # the plugin's hints arrive; the syncs they start fail

    async def sync_failing() -> bool:
        status = await bot.mirror.status(thread.id)
        return status is not None and (status.last_error or "").startswith("blog:")

    await until_async(sync_failing, timeout=30)
    await storms.until(lambda: watcher.consecutive_failures >= 2, timeout=30)
    # Posting to Discord needs no blog: the backfill is finished meanwhile.
    await converged(bot, world, thread, backfill, timeout=30)
    fields = await about_fields(world)
    assert fields["Blog watcher"].startswith("⚠️ failing"), fields
    assert "last error: blog:" in fields["Comment sync"], fields

    blog.faults.clear()  # the blog is back
    during = [first, second, third]
    await converged(bot, world, thread, backfill + during, timeout=30)
    await storms.until(lambda: watcher.ok, timeout=30)
    fields = await about_fields(world)
    assert fields["Blog watcher"].startswith("ok"), fields
    assert "outbox 0 queued" in fields["Comment sync"], fields
    assert "last error" not in fields["Comment sync"], fields
    [progress] = progress_messages(world, thread)
    assert progress.content.startswith("✅ Mirrored"), progress.content
    await resynced(bot, world, thread, backfill + during)
    assert tracebacks(bot_log) == []  # an outage is logged, but it is no bug


# --- found by these faults -------------------------------------------------------------------


async def test_the_backfill_progress_message_stays_finished_when_comments_follow(
    harness: BotHarness, blog: FakeWordPress
) -> None:
    """Seen in the storm and outage tests above, whenever comments arrive after (or during) a
    backfill; here without any fault, deterministically: two comments made together (as
    after an outage, or while a storm held the lane) once the progress interval has passed."""
    add_her(blog)
    backfill = seed_backfill(blog, roots=16)
    bot = await start(harness, blog)
    world = harness.world
    thread = await mirror.announce_her(harness, blog)
    await converged(bot, world, thread, backfill, timeout=20)
    [progress] = progress_messages(world, thread)
    assert progress.content.startswith(f"✅ Mirrored {len(backfill)} comments")

    await asyncio.sleep(MIRROR_PROGRESS_SECONDS * world.emu.time_scale + 0.2)
    later = [live_comment(blog, 0), live_comment(blog, 1)]
    await pushed(bot, later[0])  # one sync plans both
    await converged(bot, world, thread, backfill + later, timeout=10)
    [progress] = progress_messages(world, thread)
    assert progress.content.startswith(f"✅ Mirrored {len(backfill)} comments"), progress.content
