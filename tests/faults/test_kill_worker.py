"""kill -9 the Discord -> blog worker at random instants while members post, edit and delete,
with the blog answering 5xx and losing answers; after recovery the blog holds each reply
exactly once, under the right parent, with its last text.

Each seed is one run: 30 by default, FAULT_RUNS=N runs N (see README.md).
"""

from __future__ import annotations

import asyncio
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.domain.replies import Consent, Source, Status
from bot.storage import Database, open_database
from bot.storage.mirror import MirrorRepository, OutboxRepository
from bot.storage.replies import StoredReply
from bot.sync.outbox import Outbox
from bot.sync.ports import SystemClock
from bot.sync.replies import Incoming, ReplyService
from tests.component.fake_wordpress import FakeComment, FakeWordPress
from tests.faults.worker import BOT_LOGIN, BOT_PASSWORD

from .conftest import KillableProcess, fault_runs

RUNS = fault_runs(30)
GUILD, CHANNEL, THREAD = 10, 20, 30
MEMBERS = {501: "Alice", 502: "Bo"}
REPO_ROOT = Path(__file__).resolve().parents[2]


class NoPort:
    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        return None

    async def ask_consent(self, reply: StoredReply, *, first_time: bool) -> int | None:
        return None

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        return None

    async def ask_approval(self, reply: StoredReply, channel_id: int) -> int | None:
        return None

    async def close_approval(self, reply: StoredReply, channel_id: int, outcome: str) -> None:
        return None


@dataclass
class Expected:
    """What the blog must end up with for one Discord message."""

    message_id: int
    reply_to: int | None
    text: str
    deleted: bool = False
    versions: list[str] = field(default_factory=list)


async def pending_rows(database: Database) -> int:
    row = await database.fetch_one(
        "SELECT count(*) AS n FROM outbox WHERE direction = 'to_blog' "
        "AND state IN ('todo', 'doing')"
    )
    return row["n"] if row else 0


def with_marker(wp: FakeWordPress, marker: str) -> list[FakeComment]:
    return [c for c in wp.comments.values() if f"rb:{marker}" in c.content]


def inject_fault(wp: FakeWordPress, rng: random.Random) -> None:
    if rng.random() < 0.5:
        wp.fail_next(rng.randint(1, 3), status=rng.choice([500, 502, 503]), path="/wp/v2/comments")
    else:  # the write happens, the answer is lost: the worker times out
        wp.delay_next(1, seconds=0.5, after_handling=True, path="/wp/v2/comments")


@pytest.mark.parametrize("seed", range(RUNS))
async def test_killed_worker_leaves_each_reply_once_under_its_parent_with_its_last_text(
    seed: int, tmp_path: Path
) -> None:
    rng = random.Random(seed)
    wp = FakeWordPress()
    wp.add_user(BOT_LOGIN, BOT_PASSWORD, role="editor", display_name="Reviewbridge")
    post = wp.add_post("Her", "<p>A review.</p>")
    database_path = tmp_path / "bot.sqlite3"
    database = await open_database(database_path)
    clock = SystemClock()
    await MirrorRepository(database).link(
        thread_id=THREAD, review_id=str(post.id), guild_id=GUILD, channel_id=CHANNEL, now=0
    )
    outbox = Outbox(OutboxRepository(database), clock)  # never run here: the worker runs it
    service = ReplyService(database, outbox, NoPort(), _no_blog, clock)
    for member in MEMBERS:
        await service.set_consent(GUILD, member, Consent.ALWAYS)

    expected: list[Expected] = []
    async with wp.serve():
        worker = KillableProcess(
            [sys.executable, "-m", "tests.faults.worker", str(database_path), wp.url], REPO_ROOT
        )
        await worker.start()
        for step in range(12):
            await act(service, rng, expected, step)
            if rng.random() < 0.6:
                inject_fault(wp, rng)
            await asyncio.sleep(rng.uniform(0.05, 0.5))
            if rng.random() < 0.7:
                await worker.kill()
                await worker.start()
        for _ in range(600):
            if await pending_rows(database) == 0:
                break
            await asyncio.sleep(0.05)
        await worker.kill()
        assert await pending_rows(database) == 0, "the outbox did not drain"

        comment_of: dict[int, str] = {}
        for item in expected:
            reply = await service.replies.get(item.message_id)
            assert reply is not None
            found = with_marker(wp, reply.marker)
            assert len(found) <= 1, f"message {item.message_id} was posted {len(found)} times"
            if item.deleted:
                assert all(c.status == "trash" for c in found)
                continue
            [comment] = found
            comment_of[item.message_id] = str(comment.id)
            assert comment.status == "1" and reply.status is Status.PUBLISHED
            assert comment.content.split("<!--")[0] == f"<p>{item.text}"
            parent = comment_of.get(item.reply_to) if item.reply_to else None
            assert str(comment.parent or "") == (parent or ""), f"wrong parent, seed {seed}"
    await database.close()
    assert worker.kills >= 1


async def _no_blog():
    raise AssertionError("the intake does not call the blog")


async def act(
    service: ReplyService, rng: random.Random, expected: list[Expected], step: int
) -> None:
    """One member action: mostly new messages (some replying), then edits and deletions."""
    live = [e for e in expected if not e.deleted]
    replied_to = {e.reply_to for e in expected}
    roll = rng.random()
    if not live or roll < 0.55:
        target = rng.choice(live).message_id if live and rng.random() < 0.5 else None
        item = Expected(1_000 + step, target, f"message {step}")
        expected.append(item)
        await service.receive(incoming(item, rng))
    elif roll < 0.85:
        item = rng.choice(live)
        item.text = f"{item.text} (edit {step})"
        await service.edited(incoming(item, rng))
    else:
        leaves = [e for e in live if e.message_id not in replied_to]
        if leaves:
            item = rng.choice(leaves)
            item.deleted = True
            await service.deleted(item.message_id)


def incoming(item: Expected, rng: random.Random) -> Incoming:
    author = rng.choice(list(MEMBERS))
    return Incoming(
        message_id=item.message_id,
        thread_id=THREAD,
        guild_id=GUILD,
        author_id=author,
        author_name=MEMBERS[author],
        content=item.text,
        content_html=f"<p>{item.text}</p>",
        source=Source.MESSAGE,
        reply_to_id=item.reply_to,
    )
