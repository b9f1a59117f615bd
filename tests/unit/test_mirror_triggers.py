"""What the watcher's polls and the plugin's pushes ask of the mirror."""

from __future__ import annotations

from bot.blog.models import CommentRef
from bot.sync.triggers import PollFollower


class RecordingEngine:
    def __init__(self) -> None:
        self.hints: list[tuple[str, str | None]] = []
        self.full_syncs = 0

    async def hint(self, review_id: str, comment_id: str | None = None) -> None:
        self.hints.append((review_id, comment_id))

    def sync_all_soon(self) -> None:
        self.full_syncs += 1


async def test_new_comments_hint_their_reviews():
    engine = RecordingEngine()
    follower = PollFollower(engine)
    await follower.on_poll([CommentRef("7", "1"), CommentRef("8", "2")], False)
    assert engine.hints == [("1", "7"), ("2", "8")] and engine.full_syncs == 0


async def test_a_total_the_new_comments_do_not_explain_reconciles_everything():
    engine = RecordingEngine()
    await PollFollower(engine).on_poll([CommentRef("7", "1")], True)
    assert engine.full_syncs == 1 and engine.hints == []


async def test_every_tenth_poll_reconciles_to_catch_pure_edits():
    engine = RecordingEngine()
    follower = PollFollower(engine, reconcile_every=10)
    for _ in range(25):
        await follower.on_poll([], False)
    assert engine.full_syncs == 2


async def test_a_push_hints_its_review():
    engine = RecordingEngine()
    await PollFollower(engine).on_push("1", "9")
    assert engine.hints == [("1", "9")]
