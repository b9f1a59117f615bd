"""Comment mirroring: linked threads, the comment <-> message mapping, the outbox, webhooks and
push nonces. Times are ISO 8601 UTC with milliseconds, produced by `iso_ms`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import aiosqlite

from bot.storage.database import Database

CommentState = Literal["pending", "mirrored", "removing"]
OutboxState = Literal["todo", "doing", "done", "failed"]
Direction = Literal["to_discord", "to_blog"]
PENDING_STATES = ("todo", "doing")


def iso_ms(epoch: float) -> str:
    """A stored time: "2024-05-01T12:00:00.123Z"."""
    stamp = datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def epoch(stored: str) -> float:
    return datetime.fromisoformat(stored.replace("Z", "+00:00")).timestamp()


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MirrorThread:
    thread_id: int
    review_id: str
    guild_id: int
    channel_id: int
    paused: bool
    linked_at: str
    last_sync_at: str | None
    last_error: str | None
    progress_marker: str | None
    progress_message_id: int | None


@dataclass(frozen=True, slots=True)
class LiveComment:
    """A comment the thread shows or is about to show (what the planner compares)."""

    render_key: str
    published_at: str


@dataclass(frozen=True, slots=True)
class CommentRow:
    """A comment as the planner wants it stored (create or update)."""

    comment_id: str
    parent_comment_id: str | None
    content_hash: str
    render_key: str
    author: str
    published_at: str
    position: int
    snapshot: dict[str, Any]
    marker: str = ""  # creates only
    late: bool = False
    packable: bool = False
    excerpt: str | None = None  # the first words as plain text (`comment_excerpt`)


@dataclass(frozen=True, slots=True)
class StoredComment:
    thread_id: int
    comment_id: str
    parent_comment_id: str | None
    render_key: str
    position: int
    late: bool
    packable: bool
    marker: str
    state: CommentState
    version: int
    snapshot: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyTarget:
    """A comment shown in a thread that a member may answer with `/comment reply_to`."""

    comment_id: str
    author: str
    published_at: str
    excerpt: str | None  # None: mirrored before excerpts were kept

    @property
    def published(self) -> datetime:
        return datetime.fromisoformat(self.published_at.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class StoredMessage:
    thread_id: int
    comment_id: str
    part: int
    message_id: int | None  # None: reserved, outcome of the send unknown
    packed: bool
    marker: str
    rendered_hash: str | None


@dataclass(frozen=True, slots=True)
class Reservation:
    comment_id: str
    part: int
    packed: bool
    marker: str


@dataclass(frozen=True, slots=True)
class NewOutboxRow:
    direction: Direction
    thread_id: int
    kind: str
    dedup_key: str | None
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    direction: Direction
    thread_id: int
    kind: str
    payload: dict[str, Any]
    state: OutboxState
    attempts: int
    next_attempt_at: float
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Lane:
    """Rows of one direction and thread run one at a time, in id order."""

    direction: Direction
    thread_id: int


_THREAD_COLUMNS = (
    "thread_id, review_id, guild_id, channel_id, paused, linked_at, last_sync_at, last_error, "
    "progress_marker, progress_message_id"
)
_COMMENT_COLUMNS = (
    "thread_id, comment_id, parent_comment_id, render_key, position, late, packable, marker, "
    "state, version, snapshot"
)
_TARGET_COLUMNS = "comment_id, author, published_at, excerpt"
_MESSAGE_COLUMNS = "thread_id, comment_id, part, message_id, packed, marker, rendered_hash"
# The same, for queries that join mirrored_comments (which has a marker column too).
_JOINED_MESSAGE_COLUMNS = ", ".join(f"m.{c.strip()}" for c in _MESSAGE_COLUMNS.split(","))
_OUTBOX_COLUMNS = (
    "id, direction, thread_id, kind, payload, state, attempts, next_attempt_at, last_error"
)


def _thread(row: aiosqlite.Row) -> MirrorThread:
    values = dict(row)
    values["paused"] = bool(values["paused"])
    return MirrorThread(**values)


def _comment(row: aiosqlite.Row) -> StoredComment:
    values = dict(row)
    values.update(
        late=bool(values["late"]),
        packable=bool(values["packable"]),
        snapshot=json.loads(values["snapshot"]),
    )
    return StoredComment(**values)


def _message(row: aiosqlite.Row) -> StoredMessage:
    values = dict(row)
    values["packed"] = bool(values["packed"])
    return StoredMessage(**values)


def _outbox(row: aiosqlite.Row) -> OutboxRow:
    values = dict(row)
    values.update(
        payload=json.loads(values["payload"]), next_attempt_at=epoch(values["next_attempt_at"])
    )
    return OutboxRow(**values)


# --- linked threads and the mapping ----------------------------------------------------------


class MirrorRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    @asynccontextmanager
    async def batch(self, now: float) -> AsyncIterator[MirrorBatch]:
        """One transaction to read the mapping, store a plan and enqueue its outbox rows."""
        async with self._db.transaction() as conn:
            yield MirrorBatch(conn, iso_ms(now))

    # threads

    async def link(
        self, *, thread_id: int, review_id: str, guild_id: int, channel_id: int, now: float
    ) -> None:
        await self._db.execute(
            "INSERT INTO mirror_threads (thread_id, review_id, guild_id, channel_id, linked_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (thread_id, review_id, guild_id, channel_id, iso_ms(now)),
        )

    async def unlink(self, thread_id: int) -> bool:
        """Forget the thread, its mapping and its outbox rows (the messages stay in Discord)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM mirror_threads WHERE thread_id = ?", (thread_id,)
            )
            return cursor.rowcount > 0

    async def thread(self, thread_id: int) -> MirrorThread | None:
        row = await self._db.fetch_one(
            f"SELECT {_THREAD_COLUMNS} FROM mirror_threads WHERE thread_id = ?", (thread_id,)
        )
        return _thread(row) if row else None

    async def thread_for_review(self, guild_id: int, review_id: str) -> MirrorThread | None:
        row = await self._db.fetch_one(
            f"SELECT {_THREAD_COLUMNS} FROM mirror_threads WHERE guild_id = ? AND review_id = ?",
            (guild_id, review_id),
        )
        return _thread(row) if row else None

    async def threads(
        self, *, review_id: str | None = None, guild_id: int | None = None
    ) -> list[MirrorThread]:
        rows = await self._db.fetch_all(
            f"SELECT {_THREAD_COLUMNS} FROM mirror_threads "
            "WHERE (?1 IS NULL OR review_id = ?1) AND (?2 IS NULL OR guild_id = ?2) "
            "ORDER BY thread_id",
            (review_id, guild_id),
        )
        return [_thread(r) for r in rows]

    async def linked_review_ids(self) -> list[str]:
        rows = await self._db.fetch_all("SELECT DISTINCT review_id FROM mirror_threads")
        return [r["review_id"] for r in rows]

    async def set_paused(self, thread_id: int, paused: bool, error: str | None = None) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE mirror_threads SET paused = ?, last_error = coalesce(?, last_error) "
                "WHERE thread_id = ?",
                (int(paused), error, thread_id),
            )
            return cursor.rowcount > 0

    async def record_error(self, thread_id: int, error: str) -> None:
        await self._db.execute(
            "UPDATE mirror_threads SET last_error = ? WHERE thread_id = ?", (error, thread_id)
        )

    async def reserve_progress(self, thread_id: int, marker: str) -> None:
        await self._db.execute(
            "UPDATE mirror_threads SET progress_marker = ?, progress_message_id = NULL "
            "WHERE thread_id = ?",
            (marker, thread_id),
        )

    async def finish_progress(self, thread_id: int, marker: str) -> None:
        """The backfill showed its last word: later comments leave its message alone."""
        await self._db.execute(
            "UPDATE mirror_threads SET progress_marker = NULL, progress_message_id = NULL "
            "WHERE thread_id = ? AND progress_marker = ?",
            (thread_id, marker),
        )

    async def record_progress(self, thread_id: int, marker: str, message_id: int) -> None:
        await self._db.execute(
            "UPDATE mirror_threads SET progress_message_id = ? "
            "WHERE thread_id = ? AND progress_marker = ?",
            (message_id, thread_id, marker),
        )

    async def counts(self, thread_id: int) -> dict[str, int]:
        """Comments by state, e.g. {"mirrored": 40, "pending": 80}."""
        rows = await self._db.fetch_all(
            "SELECT state, count(*) AS n FROM mirrored_comments WHERE thread_id = ? GROUP BY state",
            (thread_id,),
        )
        return {r["state"]: r["n"] for r in rows}

    async def reply_targets(
        self,
        thread_id: int,
        limit: int,
        fits: Callable[[str, str | None, str], bool] | None = None,
    ) -> list[ReplyTarget]:
        """The first `limit` comments the thread shows that `fits(author, excerpt, comment_id)`
        accepts, newest first (what `/comment reply_to` offers). Without `fits` only `limit`
        rows are read."""
        rows = await self._db.fetch_all(
            f"SELECT {_TARGET_COLUMNS} FROM mirrored_comments WHERE thread_id = ? "
            # Blogs date comments to the second; WordPress ids grow, so they order a tie.
            "AND state = 'mirrored' "
            "ORDER BY published_at DESC, CAST(comment_id AS INTEGER) DESC, comment_id DESC "
            "LIMIT ?",
            (thread_id, limit if fits is None else -1),
        )
        found: list[ReplyTarget] = []
        for comment_id, author, published_at, excerpt in rows:
            if fits is None or fits(author, excerpt, comment_id):
                found.append(ReplyTarget(comment_id, author, published_at, excerpt))
                if len(found) == limit:
                    break
        return found

    async def reply_target(self, thread_id: int, comment_id: str) -> ReplyTarget | None:
        """That comment, if the thread shows it."""
        row = await self._db.fetch_one(
            f"SELECT {_TARGET_COLUMNS} FROM mirrored_comments WHERE thread_id = ? "
            "AND comment_id = ? AND state = 'mirrored'",
            (thread_id, comment_id),
        )
        return ReplyTarget(*row) if row else None

    async def any_link(self, thread_id: int) -> str:
        row = await self._db.fetch_one(
            "SELECT json_extract(snapshot, '$.link') AS link FROM mirrored_comments "
            "WHERE thread_id = ? ORDER BY position LIMIT 1",
            (thread_id,),
        )
        return (row["link"] or "") if row else ""

    # comments and messages, for delivery

    async def comment(self, thread_id: int, comment_id: str) -> StoredComment | None:
        row = await self._db.fetch_one(
            f"SELECT {_COMMENT_COLUMNS} FROM mirrored_comments "
            "WHERE thread_id = ? AND comment_id = ?",
            (thread_id, comment_id),
        )
        return _comment(row) if row else None

    async def comments(self, thread_id: int, ids: Iterable[str]) -> dict[str, StoredComment]:
        wanted = sorted(set(ids))
        rows = await self._db.fetch_all(
            f"SELECT {_COMMENT_COLUMNS} FROM mirrored_comments WHERE thread_id = ? "
            "AND comment_id IN (SELECT value FROM json_each(?))",
            (thread_id, json.dumps(wanted)),
        )
        return {r["comment_id"]: _comment(r) for r in rows}

    async def next_packable(
        self, thread_id: int, from_position: int, limit: int
    ) -> list[StoredComment]:
        """Pending comments of a packed backfill from a position on, without messages yet."""
        rows = await self._db.fetch_all(
            f"SELECT {_COMMENT_COLUMNS} FROM mirrored_comments c "
            "WHERE thread_id = ? AND state = 'pending' AND packable = 1 AND position >= ? "
            "AND NOT EXISTS (SELECT 1 FROM mirrored_messages m "
            "WHERE m.thread_id = c.thread_id AND m.comment_id = c.comment_id) "
            "ORDER BY position LIMIT ?",
            (thread_id, from_position, limit),
        )
        return [_comment(r) for r in rows]

    async def messages(self, thread_id: int, comment_id: str) -> list[StoredMessage]:
        rows = await self._db.fetch_all(
            f"SELECT {_MESSAGE_COLUMNS} FROM mirrored_messages "
            "WHERE thread_id = ? AND comment_id = ? ORDER BY part",
            (thread_id, comment_id),
        )
        return [_message(r) for r in rows]

    async def thread_messages(self, thread_id: int) -> list[StoredMessage]:
        rows = await self._db.fetch_all(
            f"SELECT {_MESSAGE_COLUMNS} FROM mirrored_messages m WHERE thread_id = ? "
            "ORDER BY message_id, (SELECT position FROM mirrored_comments c "
            "WHERE c.thread_id = m.thread_id AND c.comment_id = m.comment_id), part",
            (thread_id,),
        )
        return [_message(r) for r in rows]

    async def members(self, thread_id: int, message_id: int) -> list[StoredMessage]:
        """The comments a (packed) message shows, in display order."""
        rows = await self._db.fetch_all(
            f"SELECT {_JOINED_MESSAGE_COLUMNS} FROM mirrored_messages m "
            "JOIN mirrored_comments c USING (thread_id, comment_id) "
            "WHERE m.thread_id = ? AND m.message_id = ? ORDER BY c.position, m.part",
            (thread_id, message_id),
        )
        return [_message(r) for r in rows]

    async def reserved(self, thread_id: int, marker: str) -> list[StoredMessage]:
        rows = await self._db.fetch_all(
            f"SELECT {_JOINED_MESSAGE_COLUMNS} FROM mirrored_messages m "
            "JOIN mirrored_comments c USING (thread_id, comment_id) "
            "WHERE m.thread_id = ? AND m.marker = ? ORDER BY c.position, m.part",
            (thread_id, marker),
        )
        return [_message(r) for r in rows]

    async def first_message_id(self, thread_id: int, comment_id: str) -> int | None:
        row = await self._db.fetch_one(
            "SELECT message_id FROM mirrored_messages WHERE thread_id = ? AND comment_id = ? "
            "AND message_id IS NOT NULL ORDER BY part LIMIT 1",
            (thread_id, comment_id),
        )
        return row["message_id"] if row else None

    async def last_message_id(self, thread_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT max(message_id) AS last FROM mirrored_messages WHERE thread_id = ?",
            (thread_id,),
        )
        return row["last"] if row else None

    async def reserve(self, thread_id: int, rows: Sequence[Reservation]) -> None:
        """Note that a send is about to happen: if we crash, its marker is what to look for."""
        async with self._db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO mirrored_messages (thread_id, comment_id, part, packed, marker) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET marker = excluded.marker, "
                "packed = excluded.packed, message_id = NULL, rendered_hash = NULL",
                [(thread_id, r.comment_id, r.part, int(r.packed), r.marker) for r in rows],
            )

    async def record_sent(
        self, thread_id: int, marker: str, message_id: int, rendered_hash: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE mirrored_messages SET message_id = ?, rendered_hash = ? "
            "WHERE thread_id = ? AND marker = ?",
            (message_id, rendered_hash, thread_id, marker),
        )

    async def set_rendered(
        self, thread_id: int, message_id: int, rendered_hash: str | None
    ) -> None:
        await self._db.execute(
            "UPDATE mirrored_messages SET rendered_hash = ? WHERE thread_id = ? AND message_id = ?",
            (rendered_hash, thread_id, message_id),
        )

    async def drop_reservation(self, thread_id: int, marker: str) -> None:
        """The send behind these rows never reached Discord: forget it."""
        await self._db.execute(
            "DELETE FROM mirrored_messages WHERE thread_id = ? AND marker = ? "
            "AND message_id IS NULL",
            (thread_id, marker),
        )

    async def mark_mirrored(self, thread_id: int, comment_ids: Iterable[str]) -> None:
        async with self._db.transaction() as conn:
            await conn.executemany(
                "UPDATE mirrored_comments SET state = 'mirrored' "
                "WHERE thread_id = ? AND comment_id = ? AND state = 'pending'",
                [(thread_id, c) for c in comment_ids],
            )

    async def drop_messages(self, thread_id: int, comment_id: str, from_part: int = 0) -> None:
        await self._db.execute(
            "DELETE FROM mirrored_messages WHERE thread_id = ? AND comment_id = ? AND part >= ?",
            (thread_id, comment_id, from_part),
        )

    async def repost(self, thread_id: int, comment_id: str, marker: str, now: float) -> None:
        """Its messages are gone from Discord: send it again, as a single, marked late."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM mirrored_messages WHERE thread_id = ? AND comment_id = ?",
                (thread_id, comment_id),
            )
            await conn.execute(
                "UPDATE mirrored_comments SET state = 'pending', marker = ?, late = 1, "
                "packable = 0, updated_at = ? WHERE thread_id = ? AND comment_id = ? "
                "AND state != 'removing'",
                (marker, iso_ms(now), thread_id, comment_id),
            )

    async def forget_removed(self, thread_id: int, comment_id: str) -> None:
        await self._db.execute(
            "DELETE FROM mirrored_comments WHERE thread_id = ? AND comment_id = ? "
            "AND state = 'removing'",
            (thread_id, comment_id),
        )


class MirrorBatch:
    """Statements of one planning transaction (see `MirrorRepository.batch`)."""

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self._conn = conn
        self._now = now

    async def live_comments(self, thread_id: int) -> dict[str, LiveComment]:
        async with self._conn.execute(
            "SELECT comment_id, render_key, published_at FROM mirrored_comments "
            "WHERE thread_id = ? AND state != 'removing'",
            (thread_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return {r["comment_id"]: LiveComment(r["render_key"], r["published_at"]) for r in rows}

    async def still_shown(self, thread_id: int) -> set[str]:
        """Comments being removed whose messages still exist: a create revives them instead."""
        async with self._conn.execute(
            "SELECT DISTINCT c.comment_id FROM mirrored_comments c JOIN mirrored_messages m "
            "USING (thread_id, comment_id) WHERE c.thread_id = ? AND c.state = 'removing'",
            (thread_id,),
        ) as cursor:
            return {r["comment_id"] for r in await cursor.fetchall()}

    async def remove(self, thread_id: int, comment_ids: Sequence[str]) -> None:
        await self._conn.executemany(
            "UPDATE mirrored_comments SET state = 'removing', version = version + 1, "
            "updated_at = ? WHERE thread_id = ? AND comment_id = ?",
            [(self._now, thread_id, c) for c in comment_ids],
        )

    async def create(self, thread_id: int, rows: Sequence[CommentRow]) -> None:
        """New pending comments (a row being removed is overwritten: it had no messages)."""
        await self._conn.executemany(
            "INSERT INTO mirrored_comments (thread_id, comment_id, parent_comment_id, "
            "content_hash, render_key, author, published_at, position, late, packable, marker, "
            "state, snapshot, excerpt, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET parent_comment_id = excluded.parent_comment_id, "
            "content_hash = excluded.content_hash, render_key = excluded.render_key, "
            "author = excluded.author, position = excluded.position, late = excluded.late, "
            "packable = excluded.packable, marker = excluded.marker, state = 'pending', "
            "version = version + 1, snapshot = excluded.snapshot, excerpt = excluded.excerpt, "
            "updated_at = excluded.updated_at",
            [
                (
                    thread_id,
                    r.comment_id,
                    r.parent_comment_id,
                    r.content_hash,
                    r.render_key,
                    r.author,
                    r.published_at,
                    r.position,
                    int(r.late),
                    int(r.packable),
                    r.marker,
                    json.dumps(r.snapshot, ensure_ascii=False),
                    r.excerpt,
                    self._now,
                )
                for r in rows
            ],
        )

    async def update(self, thread_id: int, rows: Sequence[CommentRow], *, revive: bool) -> None:
        """Changed comments; `revive` also takes back a removal whose messages still exist."""
        await self._conn.executemany(
            "UPDATE mirrored_comments SET parent_comment_id = ?, content_hash = ?, "
            "render_key = ?, author = ?, position = ?, snapshot = ?, excerpt = ?, "
            "version = version + 1, updated_at = ?, "
            "state = CASE WHEN ? = 1 THEN 'mirrored' ELSE state END "
            "WHERE thread_id = ? AND comment_id = ?",
            [
                (
                    r.parent_comment_id,
                    r.content_hash,
                    r.render_key,
                    r.author,
                    r.position,
                    json.dumps(r.snapshot, ensure_ascii=False),
                    r.excerpt,
                    self._now,
                    int(revive),
                    thread_id,
                    r.comment_id,
                )
                for r in rows
            ],
        )

    async def enqueue(self, rows: Sequence[NewOutboxRow]) -> None:
        await _enqueue(self._conn, rows, self._now)

    async def unfinished(self, thread_id: int) -> list[tuple[str, CommentState, str]]:
        """(comment_id, state, marker) of comments still waiting to be posted or removed."""
        async with self._conn.execute(
            "SELECT comment_id, state, marker FROM mirrored_comments "
            "WHERE thread_id = ? AND state != 'mirrored' ORDER BY position",
            (thread_id,),
        ) as cursor:
            return [(r["comment_id"], r["state"], r["marker"]) for r in await cursor.fetchall()]

    async def synced(self, thread_id: int) -> None:
        await self._conn.execute(
            "UPDATE mirror_threads SET last_sync_at = ?, last_error = NULL WHERE thread_id = ?",
            (self._now, thread_id),
        )


async def _enqueue(conn: aiosqlite.Connection, rows: Sequence[NewOutboxRow], now: str) -> None:
    # A pending row with the same dedup key already stands for this intent.
    await conn.executemany(
        "INSERT INTO outbox (direction, thread_id, kind, dedup_key, payload, next_attempt_at, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (dedup_key) DO NOTHING",
        [
            (r.direction, r.thread_id, r.kind, r.dedup_key, json.dumps(r.payload), now, now, now)
            for r in rows
        ],
    )


# --- outbox ----------------------------------------------------------------------------------


class OutboxRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def enqueue(self, rows: Sequence[NewOutboxRow], now: float) -> None:
        async with self._db.transaction() as conn:
            await _enqueue(conn, rows, iso_ms(now))

    async def open_lanes(self) -> list[Lane]:
        """Lanes with pending rows whose thread is not paused."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT o.direction, o.thread_id FROM outbox o "
            "JOIN mirror_threads t ON t.thread_id = o.thread_id AND t.paused = 0 "
            "WHERE o.state IN ('todo', 'doing')"
        )
        return [Lane(r["direction"], r["thread_id"]) for r in rows]

    async def head(self, lane: Lane) -> OutboxRow | None:
        """The lane's first pending row; None when there is none or the thread is paused."""
        row = await self._db.fetch_one(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE direction = ? AND thread_id = ? "
            "AND state IN ('todo', 'doing') "
            "AND NOT EXISTS (SELECT 1 FROM mirror_threads t "
            "WHERE t.thread_id = outbox.thread_id AND t.paused = 1) "
            "ORDER BY id LIMIT 1",
            (lane.direction, lane.thread_id),
        )
        return _outbox(row) if row else None

    async def claim(self, row_id: int, now: float) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'doing', attempts = attempts + 1, updated_at = ? "
                "WHERE id = ? AND state = 'todo'",
                (iso_ms(now), row_id),
            )
            return cursor.rowcount == 1

    async def finish(self, row_id: int, now: float) -> None:
        await self._end(row_id, "done", None, now)

    async def fail(self, row_id: int, error: str, now: float) -> None:
        await self._end(row_id, "failed", error, now)

    async def _end(self, row_id: int, state: str, error: str | None, now: float) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = ?, dedup_key = NULL, last_error = coalesce(?, last_error), "
            "updated_at = ? WHERE id = ?",
            (state, error, iso_ms(now), row_id),
        )

    async def reschedule(
        self, row_id: int, at: float, error: str | None, now: float, *, count_attempt: bool
    ) -> None:
        await self._db.execute(
            "UPDATE outbox SET state = 'todo', next_attempt_at = ?, last_error = ?, "
            "attempts = attempts - ?, updated_at = ? WHERE id = ?",
            (iso_ms(at), error, int(not count_attempt), iso_ms(now), row_id),
        )

    async def reset_doing(self, now: float) -> int:
        """Rows a crash left in 'doing' go back to 'todo'; their handlers check before redoing."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE outbox SET state = 'todo', updated_at = ? WHERE state = 'doing'",
                (iso_ms(now),),
            )
            return cursor.rowcount

    async def purge_finished(self, before: float) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM outbox WHERE state IN ('done', 'failed') AND updated_at < ?",
                (iso_ms(before),),
            )
            return cursor.rowcount

    async def count(self, thread_id: int, states: Sequence[OutboxState]) -> int:
        row = await self._db.fetch_one(
            "SELECT count(*) AS n FROM outbox WHERE thread_id = ? "
            "AND state IN (SELECT value FROM json_each(?))",
            (thread_id, json.dumps(list(states))),
        )
        return row["n"] if row else 0

    async def rows(self, thread_id: int) -> list[OutboxRow]:
        found = await self._db.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE thread_id = ? ORDER BY id", (thread_id,)
        )
        return [_outbox(r) for r in found]


# --- webhooks and push nonces ----------------------------------------------------------------


class WebhookRepository:
    """Webhook ids per channel; never tokens."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, channel_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT webhook_id FROM webhooks WHERE channel_id = ?", (channel_id,)
        )
        return row["webhook_id"] if row else None

    async def set(self, channel_id: int, webhook_id: int) -> None:
        await self._db.execute(
            "INSERT INTO webhooks (channel_id, webhook_id) VALUES (?, ?) "
            "ON CONFLICT (channel_id) DO UPDATE SET webhook_id = excluded.webhook_id",
            (channel_id, webhook_id),
        )

    async def forget(self, channel_id: int, webhook_id: int) -> None:
        await self._db.execute(
            "DELETE FROM webhooks WHERE channel_id = ? AND webhook_id = ?",
            (channel_id, webhook_id),
        )


class NonceRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def remember(self, nonce: str, expires_at: float, now: float) -> bool:
        """Store the nonce; False if it was already seen (a replay)."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM push_nonces WHERE expires_at < ?", (iso_ms(now),))
            cursor = await conn.execute(
                "INSERT INTO push_nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (nonce, iso_ms(expires_at)),
            )
            return cursor.rowcount == 1
