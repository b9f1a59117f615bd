"""Discord -> blog: members' messages through the intake, the outbox and the real WordPress
client against the fake WordPress over HTTP; Discord is in memory and time is a fake clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.blog.base import Blog
from bot.blog.models import BlogComment
from bot.blog.transport import RetryPolicy as HttpRetry
from bot.blog.wordpress import WordPressBlog
from bot.domain.replies import Approval, Consent, Source, Status, parent_from_mapping
from bot.storage import open_database
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
async def db(tmp_path):
    database = await open_database(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def clock():
    return FakeClock()


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
    return World(wp, post, engine, discord, port, service, service.replies)


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
