"""Discord -> blog: members' messages through the intake, the outbox and the real WordPress
client against the fake WordPress over HTTP; Discord is in memory and time is a fake clock."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.blog.base import Blog
from bot.blog.models import BlogComment
from bot.blog.transport import RetryPolicy as HttpRetry
from bot.blog.wordpress import WordPressBlog
from bot.domain.replies import (
    EXCERPT_CHARS,
    Approval,
    Consent,
    Source,
    Status,
    parent_from_mapping,
    target_label,
)
from bot.errors import UserFacingError
from bot.storage import Database, open_database
from bot.storage.database import bundled_migrations
from bot.storage.mirror import MirrorRepository
from bot.storage.replies import ReplyRepository, StoredReply
from bot.sync.engine import MirrorEngine, MirrorSettings
from bot.sync.outbox import RetryPolicy
from bot.sync.planner import plan_thread
from bot.sync.replies import Incoming, ReplyService
from bot.sync.to_blog import BlogWriter
from tests.component.conftest import BOT_LOGIN, BOT_PASSWORD
from tests.component.fake_discord_port import FakeClock, FakeDiscordPort, SimulatedCrash
from tests.component.fake_wordpress import FakePost, FakeWordPress

GUILD, CHANNEL, THREAD = 10, 20, 30
ALICE, BOB = 501, 502
T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)
FAST_RETRY = RetryPolicy(base=0.5, cap=5.0, max_attempts=6)


@dataclass
class FakeReplyPort:
    """Records what members and moderators would see."""

    shown: dict[int, list[str]] = field(default_factory=dict)  # message -> statuses shown
    questions: list[tuple[int, bool]] = field(default_factory=list)  # (message, first time)
    deleted: list[int] = field(default_factory=list)
    cards: list[int] = field(default_factory=list)
    closed: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(9_000_000)

    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        self.shown.setdefault(reply.message_id, []).append(reply.status.value)

    async def ask_consent(self, reply: StoredReply, *, first_time: bool) -> int | None:
        self.questions.append((reply.message_id, first_time))
        return next(self._ids)

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        self.deleted.append(message_id)

    async def ask_approval(self, reply: StoredReply, channel_id: int) -> int | None:
        self.cards.append(reply.message_id)
        return next(self._ids)

    async def close_approval(self, reply: StoredReply, channel_id: int, outcome: str) -> None:
        self.closed.append((reply.message_id, outcome))


@pytest.fixture
def post(wp: FakeWordPress) -> FakePost:
    return wp.add_post("Her (2013)", "<p>A review.</p>", date=T0 - timedelta(days=1))


@dataclass
class World:
    wp: FakeWordPress
    post: FakePost
    engine: MirrorEngine
    discord: FakeDiscordPort
    port: FakeReplyPort
    service: ReplyService
    replies: ReplyRepository
    db: Database
    provider: Callable[[], Awaitable[Blog]]

    async def settle(self) -> None:
        await self.engine.settle()

    def comments(self) -> list:
        """Comments the bot wrote on the blog for members (approved or held)."""
        return [c for c in self.wp.comments.values() if "(via Discord)" in c.author_name]


def make_world(db, blog: Blog, wp, post, clock) -> World:
    discord = FakeDiscordPort(clock)
    engine = MirrorEngine(
        db, blog, discord, MirrorSettings(blog_name="Fake Reviews"), clock=clock, retry=FAST_RETRY
    )
    port = FakeReplyPort()

    async def provider() -> Blog:
        return blog

    BlogWriter(ReplyRepository(db), MirrorRepository(db), provider, port, clock).register(
        engine.outbox
    )
    service = ReplyService(db, engine.outbox, port, provider, clock)
    engine.follow_members_gone(service.follow_blog)  # as the app wires them
    return World(wp, post, engine, discord, port, service, service.replies, db, provider)


@pytest.fixture
async def world(db, blog, wp, post, clock) -> World:
    made = make_world(db, blog, wp, post, clock)
    await made.engine.link(str(post.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    await made.settle()
    return made


_ids = itertools.count(7_000_000)


def message(
    text: str,
    *,
    author: int = ALICE,
    name: str = "Alice",
    reply_to: int | None = None,
    source: Source = Source.MESSAGE,
    message_id: int | None = None,
    reply_to_comment: str | None = None,
) -> Incoming:
    return Incoming(
        message_id=message_id or next(_ids),
        thread_id=THREAD,
        guild_id=GUILD,
        author_id=author,
        author_name=name,
        content=text,
        content_html=f"<p>{text}</p>",
        source=source,
        reply_to_id=reply_to,
        reply_to_comment_id=reply_to_comment,
    )


async def consent(world: World, *members: int, choice: Consent = Consent.ALWAYS) -> None:
    for member in members:
        await world.service.set_consent(GUILD, member, choice)


async def published(world: World, incoming: Incoming) -> StoredReply:
    stored = await world.service.receive(incoming)
    assert stored is not None
    await world.settle()
    reply = await world.replies.get(incoming.message_id)
    assert reply is not None
    return reply


# --- sources, parents, attribution -----------------------------------------------------------


async def test_reply_to_a_mirrored_comment_appears_nested_under_it_with_the_members_name(world):
    reader = world.wp.add_comment(world.post, "Loved it", author_name="Reader", date=T0)
    await world.engine.sync_review(str(world.post.id))
    await world.settle()
    [mirrored] = world.discord.comment_messages(THREAD)
    await consent(world, ALICE)

    reply = await published(world, message("Me too <3", reply_to=mirrored.id, name="Alex ✨"))

    [comment] = world.comments()
    assert comment.parent == reader.id and comment.post == world.post.id
    assert comment.author_name == "Alex ✨ (via Discord)"
    assert "Me too &lt;3" in comment.content or "Me too <3" in comment.content
    assert reply.status is Status.PUBLISHED and reply.comment_id == str(comment.id)
    assert world.port.shown[reply.message_id] == ["queued", "published"]


async def test_replies_nest_under_synced_member_messages_and_plain_ones_are_top_level(world):
    await consent(world, ALICE, BOB)
    first = await published(world, message("Top-level thought"))
    answer = await published(
        world, message("Answering Alice", author=BOB, reply_to=first.message_id)
    )

    assert first.parent_comment_id is None
    assert answer.parent_comment_id == first.comment_id
    assert parent_from_mapping(["5"]) == "5" and parent_from_mapping(["5", "5"]) == "5"
    assert parent_from_mapping(["5", "6"]) is None  # a packed message cannot say which one


async def test_a_comment_the_bot_posted_is_never_mirrored_back_and_replies_link_to_the_member(
    world,
):
    await consent(world, ALICE)
    reply = await published(world, message("From Discord"))
    assert world.discord.comment_messages(THREAD) == []

    blog_reply = world.wp.add_comment(
        world.post, "Welcome!", author_name="Critic", parent=int(reply.comment_id), date=T0
    )
    await world.engine.resync(THREAD)
    await world.settle()

    [shown] = world.discord.comment_messages(THREAD)  # only the blog's own reply
    assert f"#comment-{blog_reply.id}" in str(shown.payload)
    assert f"/{THREAD}/{reply.message_id})" in shown.payload["content"]  # jumps to the member


async def test_the_planner_skips_this_threads_discord_comments_even_before_they_are_mapped():
    def comment(cid: str, html: str) -> BlogComment:
        return BlogComment(cid, "1", None, "Alice (via Discord)", T0, html, "https://b/#c")

    mine = comment("1", f"<p>hi<!-- rb:dc-{THREAD}-00ff --></p>")
    other_guild = comment("2", "<p>hi<!-- rb:dc-999-00ff --></p>")
    plan = plan_thread([mine, other_guild], {}, thread_id=THREAD)
    assert [c.comment.id for c in plan.creates] == ["2"]


# --- consent ---------------------------------------------------------------------------------


async def test_nothing_is_published_until_the_member_agrees(world):
    first = message("Is this public?")
    stored = await world.service.receive(first)
    await world.settle()

    assert stored.status is Status.AWAITING_CONSENT and world.comments() == []
    assert world.port.questions == [(first.message_id, True)]
    with pytest.raises(Exception, match="This question is for"):
        await world.service.answer(first.message_id, BOB, "always")

    await world.service.answer(first.message_id, ALICE, "always")
    await world.settle()
    second = await published(world, message("Now straight away"))

    assert [c.content.split("<!--")[0] for c in world.comments()] == [
        "<p>Is this public?",
        "<p>Now straight away",
    ]
    assert second.status is Status.PUBLISHED and world.port.questions == [(first.message_id, True)]
    assert world.port.deleted  # the question went away once answered


async def test_never_keeps_messages_in_discord_and_ask_asks_for_each_one(world):
    kept = await published(world, message("private"))
    await world.service.answer(kept.message_id, ALICE, "never")
    later = await published(world, message("still private"))
    assert (await world.replies.get(kept.message_id)).status is Status.DISCORD_ONLY
    assert later.status is Status.DISCORD_ONLY and world.comments() == []

    await world.service.set_consent(GUILD, ALICE, Consent.ASK)
    asked = await published(world, message("maybe"))
    declined = await published(world, message("no thanks"))
    await world.service.answer(asked.message_id, ALICE, "yes")
    await world.service.answer(declined.message_id, ALICE, "no")
    await world.settle()

    assert world.port.questions[-2:] == [(asked.message_id, False), (declined.message_id, False)]
    assert len(world.comments()) == 1 and "maybe" in world.comments()[0].content

    # An explicit request (the menu) is its own answer to "ask me each time".
    menu = await world.service.request(message("via the menu", source=Source.MENU))
    await world.settle()
    assert menu.status is Status.QUEUED and len(world.comments()) == 2


# --- edits, deletions, exactly once ------------------------------------------------------------


async def test_edits_while_the_blog_is_down_end_with_the_last_version_then_delete_trashes(world):
    await consent(world, ALICE)
    original = message("v1")
    reply = await published(world, original)
    world.wp.fail_next(9, status=503)
    await world.service.edited(message("v2", message_id=original.message_id))
    await world.service.edited(message("v3", message_id=original.message_id))
    await world.settle()

    [comment] = world.comments()
    assert comment.content.startswith("<p>v3") and f"rb:{reply.marker}" in comment.content

    await world.service.deleted(original.message_id)
    await world.settle()
    assert comment.status == "trash"
    assert await world.engine._mirror.comment(THREAD, str(comment.id)) is None


async def test_a_message_deleted_before_it_was_sent_never_reaches_the_blog(world):
    await consent(world, ALICE)
    world.wp.fail_next(3, status=500)
    doomed = message("oops")
    await world.service.receive(doomed)
    await world.service.deleted(doomed.message_id)
    await world.settle()
    assert world.comments() == []


async def test_a_create_whose_answer_was_lost_is_found_by_its_marker_not_posted_twice(
    db, wp, post, clock
):
    async with aiohttp.ClientSession() as session:
        quick = HttpRetry(attempts=1, base_delay=0.01, max_delay=0.1, timeout=0.3)
        blog = WordPressBlog(session, wp.url, BOT_LOGIN, BOT_PASSWORD, retry=quick)
        world = make_world(db, blog, wp, post, clock)
        await world.engine.link(str(post.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
        await consent(world, ALICE)
        wp.delay_next(1, seconds=0.6, after_handling=True, method="POST", path="/wp/v2/comments")
        reply = await published(world, message("exactly once"))

    assert len(world.comments()) == 1
    assert reply.status is Status.PUBLISHED and reply.comment_id == str(world.comments()[0].id)
    assert any("rb:" in seen.query.get("search", "") for seen in wp.requests)  # looked first


class CrashAfterCreate:
    """The blog, with the process dying right after the comment was written."""

    def __init__(self, blog: Blog) -> None:
        self._blog = blog
        self.crash = True

    def __getattr__(self, name: str):
        return getattr(self._blog, name)

    async def create_comment(self, *args, **kwargs) -> BlogComment:
        created = await self._blog.create_comment(*args, **kwargs)
        if self.crash:
            self.crash = False
            raise SimulatedCrash()
        return created


async def test_a_crash_between_the_write_and_its_record_posts_once_after_restart(
    db, blog, wp, post, clock
):
    crashing = CrashAfterCreate(blog)
    world = make_world(db, crashing, wp, post, clock)
    await world.engine.link(str(post.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    await consent(world, ALICE)
    incoming = message("survives a crash")
    await world.service.receive(incoming)
    with pytest.raises(SimulatedCrash):
        await world.engine.outbox.drain()

    restarted = make_world(db, crashing, wp, post, clock)
    assert await restarted.engine.outbox.recover() == 1
    await restarted.engine.outbox.drain()
    assert len(world.comments()) == 1
    reply = await restarted.replies.get(incoming.message_id)
    assert reply.status is Status.PUBLISHED


async def test_a_recheck_after_a_stop_follows_edits_deletions_and_put_status_right(world):
    await consent(world, ALICE)
    edited, deleted, same, outside = (message(f"Reply {n}") for n in range(4))
    for incoming in (edited, deleted, same, outside):
        await published(world, incoming)
    world.port.shown.clear()
    span = (edited.message_id, same.message_id)  # `outside` is newer: not in what was read
    now_shown = [
        replace(edited, content="Reply 0, edited", content_html="<p>Reply 0, edited</p>"),
        same,
    ]
    mine = {edited.message_id: {"✅"}, same.message_id: {"⏳"}}  # a stop cut `same` short

    await world.service.recheck(THREAD, now_shown, span, mine)
    await world.settle()

    by_message = {r.message_id: r for r in await world.replies.in_thread(THREAD)}
    assert by_message[deleted.message_id].status is Status.DELETED
    assert by_message[outside.message_id].status is Status.PUBLISHED  # not judged unseen
    on_blog = {c.content.split("<!--")[0] for c in world.comments() if c.status == "1"}
    assert on_blog == {"<p>Reply 0, edited", "<p>Reply 2", "<p>Reply 3"}
    assert world.port.shown == {same.message_id: ["published"]}  # ⏳ -> ✅ only where wrong

    await world.service.recheck(THREAD, now_shown, span, mine | {same.message_id: {"✅"}})
    await world.settle()
    assert len(world.comments()) == 4  # again: nothing more happens
    assert world.port.shown == {same.message_id: ["published"]}


# --- approval, failures ------------------------------------------------------------------------


async def test_blog_approval_sends_replies_held_for_the_blogs_moderation_queue(world):
    await consent(world, ALICE)
    await world.service.set_approval(GUILD, Approval.BLOG, None)
    reply = await published(world, message("please moderate"))

    [comment] = world.comments()
    assert comment.status == "0" and reply.status is Status.HELD
    assert world.port.shown[reply.message_id] == ["queued", "held"]
    world.wp.approve(comment)
    assert "Published" in await world.service.explain(reply.message_id)


async def test_discord_approval_waits_for_a_moderator_and_reject_keeps_it_in_discord(world):
    await consent(world, ALICE)
    await world.service.set_approval(GUILD, Approval.DISCORD, 777)
    good = await published(world, message("approve me"))
    bad = await published(world, message("reject me"))
    assert world.comments() == [] and world.port.cards == [good.message_id, bad.message_id]

    await world.service.approve(good.message_id, GUILD)
    await world.service.reject(bad.message_id, GUILD)
    await world.settle()

    [comment] = world.comments()
    assert comment.status == "1" and "approve me" in comment.content
    assert (await world.replies.get(bad.message_id)).status is Status.REJECTED
    assert [outcome for _, outcome in world.port.closed] == ["queued", "rejected"]


async def test_a_refused_reply_fails_with_a_reason_and_a_moderator_retry_publishes_it(world):
    await consent(world, ALICE)
    world.post.comment_status = "closed"
    reply = await published(world, message("closed?"))
    assert reply.status is Status.FAILED
    assert "Comments are closed" in await world.service.explain(reply.message_id)
    assert [r.message_id for r in await world.service.pending(GUILD)] == [reply.message_id]

    world.post.comment_status = "open"
    await world.service.retry(reply.message_id, GUILD)
    await world.settle()
    assert (await world.replies.get(reply.message_id)).status is Status.PUBLISHED
    assert len(world.comments()) == 1


# --- held replies follow the blog's moderators -------------------------------------------------


async def test_a_published_reply_follows_a_blog_moderator_who_takes_it_back(world):
    await consent(world, ALICE)
    unapproved = await published(world, message("Unapprove me"))
    spammed = await published(world, message("Spam me"))
    on_blog = {c.content.split("<!--")[0]: c for c in world.comments()}
    world.port.shown.clear()
    world.wp.hold(on_blog["<p>Unapprove me"])
    world.wp.spam(on_blog["<p>Spam me"])

    await world.engine.sync_review(str(world.post.id))  # the mirror's next look at the blog

    assert (await world.replies.get(unapproved.message_id)).status is Status.HELD
    assert (await world.replies.get(spammed.message_id)).status is Status.REJECTED
    assert "marked it as spam" in await world.service.explain(spammed.message_id)
    assert world.port.shown == {unapproved.message_id: ["held"], spammed.message_id: ["rejected"]}

    # Held again, the held-reply watch follows it; approved, it is published once more.
    world.wp.approve(on_blog["<p>Unapprove me"])
    await world.service.check_held()
    assert (await world.replies.get(unapproved.message_id)).status is Status.PUBLISHED
    await world.engine.sync_review(str(world.post.id))
    await world.settle()
    assert len(world.wp.comments) == 2  # nothing was sent again
    assert world.port.shown[unapproved.message_id] == ["held", "published"]


async def test_members_comments_gone_from_the_blog_cost_no_look_up_unless_published(world, wp):
    await consent(world, ALICE)
    reply = await published(world, message("Trash me, then look twice"))
    [comment] = world.comments()
    wp.trash(comment)
    await world.engine.sync_review(str(world.post.id))
    assert (await world.replies.get(reply.message_id)).status is Status.REJECTED
    before = len(wp.requests)
    await world.engine.sync_review(str(world.post.id))  # forgotten: nothing to look up
    assert [r for r in wp.requests[before:] if "include" in r.query] == []


class TickClock(FakeClock):
    """The held-reply watch's clock: each pause is noted, then waits for the test's `tick`."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []
        self._ticks = asyncio.Semaphore(0)

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        await self._ticks.acquire()
        self.now += seconds

    async def tick(self) -> None:
        """Let one check run, and wait until the watch pauses again."""
        pauses = len(self.pauses)
        self._ticks.release()
        async with asyncio.timeout(5):
            while len(self.pauses) == pauses:
                await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def watching(world: World, every: float = 60.0) -> AsyncIterator[TickClock]:
    """`watch_held` as the bot runs it (a task), on its own service, paced by the test."""
    ticks = TickClock()
    service = ReplyService(world.db, world.engine.outbox, world.port, world.provider, ticks)
    task = asyncio.create_task(service.watch_held(every, longest=4 * every))
    try:
        async with asyncio.timeout(5):
            while not ticks.pauses:  # the watch waits before its first check
                await asyncio.sleep(0.005)
        yield ticks
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def held_replies(world: World, *texts: str) -> list[StoredReply]:
    await consent(world, ALICE)
    await world.service.set_approval(GUILD, Approval.BLOG, None)
    replies = [await published(world, message(text)) for text in texts]
    assert all(reply.status is Status.HELD for reply in replies)
    return replies


def comment_of(world: World, reply: StoredReply):
    return world.wp.comments[int(reply.comment_id)]


async def test_a_held_reply_turns_published_soon_after_a_blog_moderator_approves_it(world):
    [reply] = await held_replies(world, "please moderate")
    async with watching(world) as ticks:
        await ticks.tick()
        assert (await world.replies.get(reply.message_id)).status is Status.HELD

        world.wp.approve(comment_of(world, reply))
        posts = world.wp.count("POST")
        await ticks.tick()  # nobody asked: the next check sees it

    now = await world.replies.get(reply.message_id)
    assert now.status is Status.PUBLISHED and not now.held
    assert world.port.shown[reply.message_id] == ["queued", "held", "published"]
    assert world.wp.count("POST") == posts and len(world.comments()) == 1  # nothing re-sent
    assert ticks.pauses == [60.0, 60.0, 60.0]
    assert "Published on the blog" in await world.service.explain(reply.message_id)


async def test_a_held_reply_a_blog_moderator_trashes_spams_or_deletes_shows_it_was_removed(world):
    trashed, spammed, deleted, waiting, in_trashed_review = await held_replies(
        world, "one", "two", "three", "four", "five"
    )
    world.wp.trash(comment_of(world, trashed))
    world.wp.spam(comment_of(world, spammed))
    world.wp.delete(comment_of(world, deleted))
    # Its review went to the trash (and may come back with its comments): no verdict on it.
    comment_of(world, in_trashed_review).status = "post-trashed"

    changes = await world.service.check_held()

    assert {c.reply.message_id for c in changes} == {
        trashed.message_id,
        spammed.message_id,
        deleted.message_id,
    }
    for reply, why in (
        (trashed, "moved it to the trash"),
        (spammed, "marked it as spam"),
        (deleted, "deleted it"),
    ):
        now = await world.replies.get(reply.message_id)
        assert now.status is Status.REJECTED and now.comment_id is None
        assert world.port.shown[reply.message_id][-1] == "rejected"
        explained = await world.service.explain(reply.message_id)
        assert explained.startswith("A blog moderator") and why in explained
        assert "stays in Discord" in explained
        assert await world.engine._mirror.comment(THREAD, reply.comment_id) is None
    for still in (waiting, in_trashed_review):
        assert (await world.replies.get(still.message_id)).status is Status.HELD

    # The blog moderator's verdict stands: deleting the message in Discord sends nothing,
    # and publishing it again from the menu says why it cannot.
    world.wp.reset_counts()
    await world.service.deleted(trashed.message_id)
    await world.settle()
    assert world.wp.count() == 0 and comment_of(world, spammed).status == "spam"
    with pytest.raises(UserFacingError, match="marked it as spam"):
        await world.service.request(
            message("two", source=Source.MENU, message_id=spammed.message_id)
        )


async def test_the_check_costs_one_request_however_many_replies_wait_and_none_when_none_do(world):
    world.wp.reset_counts()
    assert await world.service.check_held() == []
    assert world.wp.count() == 0  # no held reply: the blog is not asked

    replies = await held_replies(world, *(f"reply {n}" for n in range(25)))
    world.wp.reset_counts()
    assert await world.service.check_held() == []
    assert world.wp.count() == 1

    for reply in replies[:10]:
        world.wp.approve(comment_of(world, reply))
    world.wp.trash(comment_of(world, replies[10]))
    world.wp.reset_counts()
    changes = await world.service.check_held()
    assert len(changes) == 11
    assert world.wp.count() == 2 and world.wp.count("POST") == 0  # held, then the trash
    assert [seen.query["status"] for seen in world.wp.requests] == ["all", "trash"]


async def test_while_the_blog_is_down_held_replies_stay_held_and_are_checked_later(world, caplog):
    [reply] = await held_replies(world, "wait for me")
    world.wp.approve(comment_of(world, reply))
    world.wp.fail_next(1000, status=503, method="GET", path="/wp/v2/comments")
    async with watching(world, every=60.0) as ticks:
        for _ in range(3):
            await ticks.tick()
        assert (await world.replies.get(reply.message_id)).status is Status.HELD
        assert world.port.shown[reply.message_id] == ["queued", "held"]
        assert ticks.pauses == [60.0, 120.0, 240.0, 240.0]  # backing off, up to `longest`
        outage_logs = [r for r in caplog.records if "held replies not checked" in r.message]
        assert len(outage_logs) == 1  # logged once, not at every try

        world.wp.faults.clear()
        await ticks.tick()

    assert (await world.replies.get(reply.message_id)).status is Status.PUBLISHED
    assert world.port.shown[reply.message_id] == ["queued", "held", "published"]
    assert ticks.pauses[-1] == 60.0  # back to the usual pace
    assert world.wp.count("POST") == 1  # sent once, never again


async def test_a_decision_seen_after_a_restart_or_twice_is_applied_once(db, blog, wp, post, clock):
    world = make_world(db, blog, wp, post, clock)
    await world.engine.link(str(post.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    [reply] = await held_replies(world, "approved while the bot was away")
    world.wp.approve(comment_of(world, reply))

    restarted = make_world(db, blog, wp, post, clock)
    first, second = await asyncio.gather(
        restarted.service.check_held(), restarted.service.explain(reply.message_id)
    )
    assert "Published on the blog" in second and len(first) <= 1
    assert restarted.port.shown[reply.message_id] == ["published"]  # one reaction change
    assert await restarted.service.check_held() == []
    assert (await restarted.replies.get(reply.message_id)).status is Status.PUBLISHED


async def test_blog_status_looks_a_held_reply_up_at_once_and_sees_a_trashed_one(world):
    [reply] = await held_replies(world, "trash me")
    assert "held in its moderation queue" in await world.service.explain(reply.message_id)
    world.wp.trash(comment_of(world, reply))
    assert "moved it to the trash" in await world.service.explain(reply.message_id)
    assert world.port.shown[reply.message_id] == ["queued", "held", "rejected"]


async def test_the_wordpress_lookup_takes_a_hundred_ids_a_request_and_the_rest_once_each(
    wp, post, blog
):
    held = [wp.add_comment(post, f"held {n}", status="hold", date=T0) for n in range(150)]
    wp.approve(held[0])
    wp.trash(held[1])
    wp.spam(held[2])
    wp.delete(held[3])
    wp.reset_counts()

    statuses = await blog.comment_statuses([str(c.id) for c in held])

    assert statuses[str(held[0].id)] == "approved" and statuses[str(held[4].id)] == "hold"
    assert statuses[str(held[1].id)] == "trash" and statuses[str(held[2].id)] == "spam"
    assert str(held[3].id) not in statuses and len(statuses) == 149
    asked = [seen.query["status"] for seen in wp.requests if seen.route == "/wp/v2/comments"]
    assert asked == ["all", "all", "trash", "spam", "post-trashed"]


# --- answering one comment of a packed backfill message (/comment reply_to) ------------------

PACKED_COMMENTS = 25  # more than PACK_THRESHOLD: the backfill packs ten to a message


@pytest.fixture
async def packed(db, blog, wp, post, clock) -> World:
    """A thread linked to a review with 25 comments: three packed messages."""
    for n in range(PACKED_COMMENTS):
        wp.add_comment(
            post,
            f"<p>Thought number {n}: <b>the letters</b> scene.</p>",
            author_name=f"Reader {n}",
            date=T0 + timedelta(minutes=n),
        )
    made = make_world(db, blog, wp, post, clock)
    await made.engine.link(str(post.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=THREAD)
    await made.settle()
    assert len(made.discord.comment_messages(THREAD)) == 3
    return made


def readers(world: World) -> dict[str, int]:
    """Blog comment ids by commenter name (the seeded ones)."""
    return {
        c.author_name: c.id for c in world.wp.comments.values() if c.author_name.startswith("Read")
    }


async def test_comment_reply_to_lists_the_threads_comments_newest_first_as_typed(packed):
    ids = readers(packed)
    everything = await packed.service.reply_targets(THREAD, "", 25)
    assert [t.author for t in everything] == [f"Reader {n}" for n in reversed(range(25))]
    assert everything[0].excerpt == "Thought number 24: the letters scene."

    by_name = await packed.service.reply_targets(THREAD, "  READER   7 ", 25)
    by_text = await packed.service.reply_targets(THREAD, "number 12:", 25)
    by_id = await packed.service.reply_targets(THREAD, str(ids["Reader 3"]), 25)
    assert [t.author for t in (*by_name, *by_text)] == ["Reader 7", "Reader 12"]
    assert str(ids["Reader 3"]) in {t.comment_id for t in by_id}  # a typed id finds it too
    assert len(await packed.service.reply_targets(THREAD, "reader 1", 5)) == 5
    assert await packed.service.reply_targets(THREAD + 1, "", 25) == []  # no such thread


async def test_comment_reply_to_nests_the_blog_comment_under_the_chosen_one(packed):
    await consent(packed, ALICE)
    chosen = await packed.service.reply_target(THREAD, str(readers(packed)["Reader 12"]))

    stored = await packed.service.request(
        message("Exactly this.", source=Source.COMMAND, reply_to_comment=chosen.comment_id)
    )
    await packed.settle()

    [comment] = packed.comments()
    assert comment.parent == readers(packed)["Reader 12"]
    reply = await packed.replies.get(stored.message_id)
    assert reply.reply_to_comment_id == chosen.comment_id == reply.parent_comment_id
    assert await packed.service.explain(reply.message_id) == "Published on the blog."


async def test_reply_to_accepts_only_a_comment_this_thread_shows(packed, wp, clock):
    other = wp.add_post("Heat (1995)", "<p>Another review.</p>", date=T0)
    foreign = wp.add_comment(other, "<p>Elsewhere</p>", author_name="Ola", date=T0)
    await packed.engine.link(str(other.id), guild_id=GUILD, channel_id=CHANNEL, thread_id=31)
    await packed.settle()
    await consent(packed, ALICE)

    for refused in (str(foreign.id), "Ola", "no such comment", "Reader", "", "9" * 500):
        with pytest.raises(UserFacingError, match="must be a blog comment shown in this thread"):
            await packed.service.reply_target(THREAD, refused)
    # Words that fit exactly one comment name it, as if picked from the list.
    typed = await packed.service.reply_target(THREAD, "number 12")
    assert typed.comment_id == str(readers(packed)["Reader 12"])

    sneaked = message("Wrong post", source=Source.COMMAND, reply_to_comment=str(foreign.id))
    with pytest.raises(UserFacingError, match="shown in this thread"):
        await packed.service.request(sneaked)
    await packed.settle()
    assert await packed.replies.get(sneaked.message_id) is None and packed.comments() == []


async def test_a_chosen_comment_trashed_before_the_send_leaves_a_top_level_comment(packed):
    await consent(packed, ALICE)
    target = readers(packed)["Reader 4"]
    stored = await packed.service.request(
        message("Answering a ghost", source=Source.COMMAND, reply_to_comment=str(target))
    )
    packed.wp.trash(target)
    await packed.settle()

    [comment] = packed.comments()
    assert comment.parent == 0  # InvalidParent: top-level beats losing the reply
    assert (await packed.replies.get(stored.message_id)).status is Status.PUBLISHED


async def test_a_reply_to_a_packed_message_is_top_level_and_its_author_is_told_why(packed):
    first_pack = packed.discord.comment_messages(THREAD)[0]
    await consent(packed, ALICE)
    said = message("Which one did I mean?", reply_to=first_pack.id)
    await packed.service.receive(said)
    queued = await packed.service.explain(said.message_id)
    await packed.settle()

    [comment] = packed.comments()
    assert comment.parent == 0
    posted = await packed.service.explain(said.message_id)
    assert queued.startswith("Queued") and "It goes to the blog as a new comment" in queued
    assert posted.startswith("Published on the blog. It was posted as a new comment")
    for told in (queued, posted):
        assert "shows several blog comments" in told and "`/comment` with `reply_to:`" in told

    # The menu's private answer says the same, before anything was sent.
    menu = await packed.service.request(
        message("And this one?", reply_to=first_pack.id, source=Source.MENU)
    )
    assert "several blog comments" in await packed.service.describe(menu)


async def test_replies_to_precise_messages_get_no_packed_note(world):
    world.wp.add_comment(world.post, "<p>Alone</p>", author_name="Solo", date=T0)
    await world.engine.sync_review(str(world.post.id))
    await world.settle()
    [single] = world.discord.comment_messages(THREAD)
    await consent(world, ALICE)
    nested = await published(world, message("Nested", reply_to=single.id))
    answer = await published(world, message("To Alice", reply_to=nested.message_id))
    plain = await published(world, message("Plain"))

    for reply in (nested, answer, plain):
        assert await world.service.explain(reply.message_id) == "Published on the blog."


async def test_the_mirror_keeps_a_short_plain_excerpt_and_follows_edits(world):
    long_text = "word " * 400
    claire = world.wp.add_comment(
        world.post,
        f"<p>It made <em>me</em> call my sister&nbsp;&amp; cry.</p><p>{long_text}</p>",
        author_name="Claire",
        date=T0,
    )
    await world.engine.sync_review(str(world.post.id))
    await world.settle()

    [target] = await world.service.reply_targets(THREAD, "", 25)
    assert target.excerpt is not None and len(target.excerpt) <= EXCERPT_CHARS
    assert target.excerpt.startswith("It made me call my sister & cry. word word")
    assert target.excerpt.endswith("…")

    world.wp.edit_comment(claire, "<p>Edited: <script>alert(1)</script>I <i>called</i> her.</p>")
    await world.engine.sync_review(str(world.post.id))
    await world.settle()
    [edited] = await world.service.reply_targets(THREAD, "", 25)
    assert edited.excerpt == "Edited: I called her."

    # A member's comment from Discord is mapped with its excerpt too, and may be answered.
    await consent(world, ALICE)
    mine = await published(world, message("Mine, from Discord"))
    ours = await world.service.reply_target(THREAD, mine.comment_id or "")
    assert ours.excerpt == "Mine, from Discord" and ours.author == "Alice (via Discord)"
    longest = await world.db.fetch_one("SELECT max(length(excerpt)) FROM mirrored_comments")
    assert longest[0] <= EXCERPT_CHARS  # never more than the excerpt is kept


async def test_upgrading_from_the_previous_schema_keeps_comments_and_replies(tmp_path):
    path = tmp_path / "old.sqlite3"
    previous = bundled_migrations()[:-1]
    old = await open_database(path, previous)
    await old.execute(
        "INSERT INTO mirror_threads (thread_id, review_id, guild_id, channel_id, linked_at) "
        "VALUES (30, '7', 10, 20, '2024-01-06T10:00:00.000Z')"
    )
    await old.execute(
        "INSERT INTO mirrored_comments (thread_id, comment_id, content_hash, render_key, author, "
        "published_at, position, marker, state, snapshot, updated_at) VALUES (30, '5', 'h', "
        "'k', 'Claire', '2024-01-06T10:00:00.000Z', 0, 'rb1', 'mirrored', '{}', 'now')"
    )
    await old.execute(
        "INSERT INTO discord_replies (message_id, thread_id, guild_id, author_id, author_name, "
        "source, reply_to_id, content, content_html, status, marker, comment_id, "
        "parent_comment_id, created_at, updated_at) VALUES (99, 30, 10, 501, 'Alice', "
        "'message', 98, 'hi', '<p>hi</p>', 'published', 'dc-30-1', '6', '5', 'now', 'now')"
    )
    await old.close()

    upgraded = await open_database(path)
    try:
        assert await upgraded.schema_version() == len(previous) + 1
        [target] = await MirrorRepository(upgraded).reply_targets(30, 25)
        assert (target.comment_id, target.author, target.excerpt) == ("5", "Claire", None)
        label = target_label(target.author, target.published, target.excerpt)
        assert label == "Claire · 6 Jan 2024"  # no excerpt known: name and date
        reply = await ReplyRepository(upgraded).get(99)
        assert reply is not None and reply.reply_to_comment_id is None
        assert (reply.comment_id, reply.parent_comment_id, reply.reply_to_id) == ("6", "5", 98)
        assert (await upgraded.fetch_one("PRAGMA integrity_check"))[0] == "ok"
    finally:
        await upgraded.close()
