"""The outbox worker on a real SQLite file: lanes, retries, dedup and recovery, for either
direction (issue 7 adds to_blog handlers on the same worker)."""

from __future__ import annotations

import random

import pytest

from bot.storage import open_database
from bot.storage.mirror import MirrorRepository, NewOutboxRow, OutboxRepository, OutboxRow
from bot.sync.outbox import GiveUp, Outbox, RetryLater, RetryPolicy
from tests.component.fake_discord_port import SimulatedCrash

THREADS = (1, 2)


@pytest.fixture
async def db(tmp_path):
    database = await open_database(tmp_path / "bot.sqlite3")
    mirror = MirrorRepository(database)
    for thread in THREADS:
        await mirror.link(
            thread_id=thread, review_id=str(thread), guild_id=9, channel_id=8, now=0.0
        )
    yield database
    await database.close()


@pytest.fixture
def rows(db):
    return OutboxRepository(db)


@pytest.fixture
def errors():
    return []


@pytest.fixture
def outbox(rows, clock, errors):
    async def on_error(row: OutboxRow, error: str, gave_up: bool) -> None:
        errors.append((row.payload["n"], gave_up))

    return Outbox(
        rows,
        clock,
        policy=RetryPolicy(base=1.0, cap=8.0, max_attempts=3),
        on_error=on_error,
        rng=random.Random(1),
    )


def row(thread: int, n: int, *, kind: str = "create", key: str | None = None) -> NewOutboxRow:
    return NewOutboxRow("to_blog", thread, kind, key, {"n": n})


async def test_rows_of_a_thread_run_in_order_and_threads_side_by_side(outbox, rows, clock):
    seen: list[tuple[int, int]] = []

    async def handle(item: OutboxRow) -> None:
        seen.append((item.thread_id, item.payload["n"]))
        await clock.sleep(0)

    outbox.register("to_blog", "create", handle)
    await rows.enqueue([row(t, n) for n in range(5) for t in THREADS], clock.time())
    await outbox.drain()
    for thread in THREADS:
        assert [n for t, n in seen if t == thread] == list(range(5))
    assert {s[0] for s in seen[:2]} == set(THREADS)  # neither thread waited for the other


async def test_a_failing_row_backs_off_holds_its_thread_then_gives_up(outbox, rows, clock, errors):
    seen: list[tuple[int, float]] = []

    async def handle(item: OutboxRow) -> None:
        seen.append((item.payload["n"], clock.time()))
        if item.payload["n"] == 0:
            raise ConnectionError("blog down")

    outbox.register("to_blog", "create", handle)
    start = clock.time()
    await rows.enqueue([row(1, 0), row(1, 1)], start)
    await outbox.drain()
    assert [n for n, _ in seen] == [0, 0, 0, 1]  # the next row waited for it to end
    first_retry, second_retry = seen[1][1] - start, seen[2][1] - seen[1][1]
    assert 0.5 <= first_retry <= 1.0 and 1.0 <= second_retry <= 2.0  # doubling, jittered
    assert errors == [(0, False), (0, False), (0, True)]
    assert [r.state for r in await rows.rows(1)] == ["failed", "done"]


async def test_retry_later_and_give_up_are_not_errors_to_retry(outbox, rows, clock, errors):
    calls = {"later": 0}

    async def later(item: OutboxRow) -> None:
        calls["later"] += 1
        if calls["later"] == 1:
            raise RetryLater("webhook re-made")

    async def refuse(item: OutboxRow) -> None:
        raise GiveUp("content refused")

    outbox.register("to_blog", "later", later)
    outbox.register("to_blog", "refuse", refuse)
    await rows.enqueue([row(1, 0, kind="later"), row(1, 1, kind="refuse")], clock.time())
    await outbox.drain()
    states = await rows.rows(1)
    assert [(r.state, r.attempts) for r in states] == [("done", 1), ("failed", 1)]
    assert errors == [(1, True)]


async def test_a_pending_intent_is_queued_once_and_can_be_queued_again_later(outbox, rows, clock):
    seen: list[int] = []

    async def handle(item: OutboxRow) -> None:
        seen.append(item.payload["n"])

    outbox.register("to_blog", "create", handle)
    await rows.enqueue([row(1, 0, key="reply:55"), row(1, 1, key="reply:55")], clock.time())
    await outbox.drain()
    await rows.enqueue([row(1, 2, key="reply:55")], clock.time())
    await outbox.drain()
    assert seen == [0, 2]


async def test_rows_a_crash_left_doing_run_again_after_recovery(rows, clock):
    seen: list[int] = []

    async def crash(item: OutboxRow) -> None:
        raise SimulatedCrash

    async def handle(item: OutboxRow) -> None:
        seen.append(item.payload["n"])

    dying = Outbox(rows, clock)
    dying.register("to_blog", "create", crash)
    await rows.enqueue([row(1, 0)], clock.time())
    with pytest.raises(SimulatedCrash):
        await dying.drain()

    restarted = Outbox(rows, clock)
    restarted.register("to_blog", "create", handle)
    assert await restarted.recover() == 1
    await restarted.drain()
    assert seen == [0]
    [done] = await rows.rows(1)
    assert (done.state, done.attempts) == ("done", 2)


async def test_unknown_kinds_fail_at_once(outbox, rows, clock):
    await rows.enqueue([row(1, 0, kind="mystery")], clock.time())
    await outbox.drain()
    [failed] = await rows.rows(1)
    assert failed.state == "failed" and "no handler" in failed.last_error


async def test_a_paused_thread_waits(outbox, rows, clock, db):
    seen: list[int] = []

    async def handle(item: OutboxRow) -> None:
        seen.append(item.thread_id)

    outbox.register("to_blog", "create", handle)
    await MirrorRepository(db).set_paused(1, True)
    await rows.enqueue([row(1, 0), row(2, 0)], clock.time())
    await outbox.drain()
    assert seen == [2]
    await MirrorRepository(db).set_paused(1, False)
    await outbox.drain()
    assert seen == [2, 1]
