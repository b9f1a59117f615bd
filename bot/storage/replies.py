"""Discord -> blog storage: members' replies, their consent, each guild's approval mode and the
catch-up cursor per thread. Writes that belong together run in one `ReplyBatch` transaction,
with the outbox rows that carry them out."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.domain.replies import FROM_DISCORD, Approval, Consent, Source, Status
from bot.storage.database import Database
from bot.storage.mirror import NewOutboxRow, _enqueue, iso_ms


@dataclass(frozen=True, slots=True)
class NewReply:
    """A member message as the bot took it in."""

    message_id: int
    thread_id: int
    guild_id: int
    author_id: int
    author_name: str
    source: Source
    content: str
    content_html: str
    marker: str
    reply_to_id: int | None = None
    reply_to_comment_id: str | None = None  # the blog comment chosen with /comment reply_to


@dataclass(frozen=True, slots=True)
class StoredReply:
    message_id: int
    thread_id: int
    guild_id: int
    author_id: int
    author_name: str
    source: Source
    reply_to_id: int | None
    content: str
    content_html: str
    version: int
    status: Status
    held: bool
    marker: str
    sent_version: int
    comment_id: str | None
    parent_comment_id: str | None
    published_version: int
    error: str | None
    prompt_message_id: int | None
    approval_message_id: int | None
    created_at: str
    updated_at: str
    # The blog comment its author chose to answer (/comment reply_to). Not parent_comment_id:
    # that is the parent the blog comment has, forgotten with it; a retry needs the choice.
    reply_to_comment_id: str | None = None


@dataclass(frozen=True, slots=True)
class ApprovalSettings:
    guild_id: int
    mode: Approval = Approval.OFF
    channel_id: int | None = None


@dataclass(frozen=True, slots=True)
class Published:
    """A blog comment the bot created for a reply, as the mapping records it."""

    comment_id: str
    parent_comment_id: str | None
    held: bool
    version: int  # the reply version the blog shows
    author: str
    published_at: str
    snapshot: dict[str, Any]  # `CommentSnapshot.as_json()`: replies on the blog quote it
    excerpt: str | None = None  # its first words (`comment_excerpt`), for /comment reply_to


_COLUMNS = (
    "message_id, thread_id, guild_id, author_id, author_name, source, reply_to_id, content, "
    "content_html, version, status, held, marker, sent_version, comment_id, parent_comment_id, "
    "published_version, error, prompt_message_id, approval_message_id, created_at, updated_at, "
    "reply_to_comment_id"
)


def _reply(row: aiosqlite.Row) -> StoredReply:
    values = dict(row)
    values.update(
        source=Source(values["source"]), status=Status(values["status"]), held=bool(values["held"])
    )
    return StoredReply(**values)


class ReplyBatch:
    """Statements of one transaction (see `ReplyRepository.batch`)."""

    def __init__(self, conn: aiosqlite.Connection, now: str) -> None:
        self._conn = conn
        self._now = now

    async def _one(self, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def get(self, message_id: int) -> StoredReply | None:
        row = await self._one(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE message_id = ?", (message_id,)
        )
        return _reply(row) if row else None

    async def consent(self, guild_id: int, user_id: int) -> Consent | None:
        row = await self._one(
            "SELECT choice FROM reply_consent WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return Consent(row["choice"]) if row else None

    async def set_consent(self, guild_id: int, user_id: int, choice: Consent) -> None:
        await self._conn.execute(
            "INSERT INTO reply_consent (guild_id, user_id, choice, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at",
            (guild_id, user_id, choice.value, self._now),
        )

    async def approval(self, guild_id: int) -> ApprovalSettings:
        row = await self._one(
            "SELECT approval, mod_channel_id FROM reply_settings WHERE guild_id = ?", (guild_id,)
        )
        if row is None:
            return ApprovalSettings(guild_id)
        return ApprovalSettings(guild_id, Approval(row["approval"]), row["mod_channel_id"])

    async def insert(self, reply: NewReply, status: Status, *, held: bool) -> bool:
        """Store a new reply; False when the message was taken in before (a replayed event)."""
        cursor = await self._conn.execute(
            "INSERT INTO discord_replies (message_id, thread_id, guild_id, author_id, "
            "author_name, source, reply_to_id, reply_to_comment_id, content, content_html, "
            "status, held, marker, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (message_id) DO NOTHING",
            (
                reply.message_id,
                reply.thread_id,
                reply.guild_id,
                reply.author_id,
                reply.author_name,
                reply.source.value,
                reply.reply_to_id,
                reply.reply_to_comment_id,
                reply.content,
                reply.content_html,
                status.value,
                int(held),
                reply.marker,
                self._now,
                self._now,
            ),
        )
        return cursor.rowcount == 1

    async def update_content(
        self, message_id: int, content: str, content_html: str, author_name: str
    ) -> None:
        await self._conn.execute(
            "UPDATE discord_replies SET content = ?, content_html = ?, author_name = ?, "
            "version = version + 1, updated_at = ? WHERE message_id = ?",
            (content, content_html, author_name, self._now, message_id),
        )

    async def set_status(
        self,
        message_id: int,
        status: Status,
        *,
        held: bool | None = None,
        error: str | None = None,
    ) -> None:
        await self._conn.execute(
            "UPDATE discord_replies SET status = ?, held = coalesce(?, held), error = ?, "
            "updated_at = ? WHERE message_id = ?",
            (status.value, None if held is None else int(held), error, self._now, message_id),
        )

    async def of_author(
        self, guild_id: int, author_id: int, statuses: Iterable[Status]
    ) -> list[StoredReply]:
        async with self._conn.execute(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE guild_id = ? AND author_id = ? "
            "AND status IN (SELECT value FROM json_each(?)) ORDER BY message_id",
            (guild_id, author_id, json.dumps([s.value for s in statuses])),
        ) as cursor:
            return [_reply(r) for r in await cursor.fetchall()]

    async def advance_cursor(self, thread_id: int, message_id: int) -> None:
        await self._conn.execute(
            "INSERT INTO reply_cursors (thread_id, last_message_id) VALUES (?, ?) "
            "ON CONFLICT DO UPDATE SET last_message_id = "
            "max(last_message_id, excluded.last_message_id)",
            (thread_id, message_id),
        )

    async def enqueue(self, rows: Sequence[NewOutboxRow]) -> None:
        await _enqueue(self._conn, rows, self._now)

    async def record_published(
        self, reply: StoredReply, published: Published, status: Status
    ) -> None:
        """The blog has the comment: note it on the reply and map it in the thread as coming
        from Discord (its message is the member's), so the blog -> Discord mirror never posts
        it again and blog replies to it link to the member's message."""
        await self._conn.execute(
            "UPDATE discord_replies SET comment_id = ?, parent_comment_id = ?, status = ?, "
            "held = ?, published_version = ?, error = NULL, updated_at = ? WHERE message_id = ?",
            (
                published.comment_id,
                published.parent_comment_id,
                status.value,
                int(published.held),
                published.version,
                self._now,
                reply.message_id,
            ),
        )
        await self._conn.execute(
            "INSERT INTO mirrored_comments (thread_id, comment_id, parent_comment_id, "
            "content_hash, render_key, author, published_at, position, marker, state, snapshot, "
            "excerpt, updated_at) VALUES (?, ?, ?, '', ?, ?, ?, 0, ?, 'mirrored', ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (
                reply.thread_id,
                published.comment_id,
                published.parent_comment_id,
                FROM_DISCORD,
                published.author,
                published.published_at,
                reply.marker,
                json.dumps(published.snapshot, ensure_ascii=False),
                published.excerpt,
                self._now,
            ),
        )
        await self._conn.execute(
            "INSERT INTO mirrored_messages (thread_id, comment_id, part, message_id, marker) "
            "VALUES (?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
            (reply.thread_id, published.comment_id, reply.message_id, reply.marker),
        )

    async def forget_comment(self, message_id: int) -> None:
        """The reply's comment is off the blog: a later retry creates a new one."""
        await self._conn.execute(
            "UPDATE discord_replies SET comment_id = NULL, parent_comment_id = NULL, "
            "sent_version = 0, published_version = 0, updated_at = ? WHERE message_id = ?",
            (self._now, message_id),
        )

    async def forget_mapping(self, thread_id: int, comment_id: str) -> None:
        await self._conn.execute(
            "DELETE FROM mirrored_comments WHERE thread_id = ? AND comment_id = ? "
            "AND render_key = ?",
            (thread_id, comment_id, FROM_DISCORD),
        )


class ReplyRepository:
    HELD_ON_BLOG_SQL = (
        f"SELECT {_COLUMNS} FROM discord_replies WHERE status = 'held' "
        "AND comment_id IS NOT NULL ORDER BY message_id"
    )

    def __init__(self, database: Database) -> None:
        self._db = database

    @asynccontextmanager
    async def batch(self, now: float) -> AsyncIterator[ReplyBatch]:
        async with self._db.transaction() as conn:
            yield ReplyBatch(conn, iso_ms(now))

    async def get(self, message_id: int) -> StoredReply | None:
        row = await self._db.fetch_one(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE message_id = ?", (message_id,)
        )
        return _reply(row) if row else None

    async def consent(self, guild_id: int, user_id: int) -> Consent | None:
        row = await self._db.fetch_one(
            "SELECT choice FROM reply_consent WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return Consent(row["choice"]) if row else None

    async def approval(self, guild_id: int) -> ApprovalSettings:
        row = await self._db.fetch_one(
            "SELECT approval, mod_channel_id FROM reply_settings WHERE guild_id = ?", (guild_id,)
        )
        if row is None:
            return ApprovalSettings(guild_id)
        return ApprovalSettings(guild_id, Approval(row["approval"]), row["mod_channel_id"])

    async def set_approval(
        self, guild_id: int, mode: Approval, channel_id: int | None, now: float
    ) -> ApprovalSettings:
        await self._db.execute(
            "INSERT INTO reply_settings (guild_id, approval, mod_channel_id, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET approval = excluded.approval, "
            "mod_channel_id = excluded.mod_channel_id, updated_at = excluded.updated_at",
            (guild_id, mode.value, channel_id, iso_ms(now)),
        )
        return await self.approval(guild_id)

    async def in_guild(self, guild_id: int, statuses: Iterable[Status]) -> list[StoredReply]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE guild_id = ? "
            "AND status IN (SELECT value FROM json_each(?)) ORDER BY message_id",
            (guild_id, json.dumps([s.value for s in statuses])),
        )
        return [_reply(r) for r in rows]

    async def in_thread(self, thread_id: int) -> list[StoredReply]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE thread_id = ? ORDER BY message_id",
            (thread_id,),
        )
        return [_reply(r) for r in rows]

    async def held_on_blog(self) -> list[StoredReply]:
        """Replies whose comment waits in the blog's moderation queue, as far as we know: a
        blog moderator may have approved, trashed or spammed it since."""
        rows = await self._db.fetch_all(self.HELD_ON_BLOG_SQL)
        return [_reply(r) for r in rows]

    async def published_as(self, comment_ids: Sequence[str]) -> list[StoredReply]:
        """Published replies whose blog comments are among `comment_ids`."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE status = 'published' "
            "AND comment_id IN (SELECT value FROM json_each(?)) ORDER BY message_id",
            (json.dumps(list(comment_ids)),),
        )
        return [_reply(r) for r in rows]

    async def threads_with_member_messages(self) -> set[int]:
        """Threads holding replies taken in from members' own messages (not /comment echoes,
        which are the bot's) that were not deleted: their edits and deletions matter."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT thread_id FROM discord_replies "
            "WHERE source != 'command' AND status != 'deleted'"
        )
        return {r["thread_id"] for r in rows}

    async def member_messages_between(
        self, thread_id: int, first_message_id: int, last_message_id: int
    ) -> list[StoredReply]:
        """Those replies of a thread whose message ids lie in the range, both ends included."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE thread_id = ? "
            "AND message_id BETWEEN ? AND ? AND source != 'command' AND status != 'deleted' "
            "ORDER BY message_id",
            (thread_id, first_message_id, last_message_id),
        )
        return [_reply(r) for r in rows]

    async def unannounced(self) -> list[StoredReply]:
        """Replies waiting for an answer whose question or card was never posted (a stop
        came in between): they are asked again at start."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM discord_replies WHERE "
            "(status = 'awaiting_consent' AND prompt_message_id IS NULL AND source = 'message') "
            "OR (status = 'awaiting_approval' AND approval_message_id IS NULL) "
            "ORDER BY message_id"
        )
        return [_reply(r) for r in rows]

    async def set_prompt(self, message_id: int, prompt_message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE discord_replies SET prompt_message_id = ? WHERE message_id = ?",
            (prompt_message_id, message_id),
        )

    async def set_approval_card(self, message_id: int, card_message_id: int | None) -> None:
        await self._db.execute(
            "UPDATE discord_replies SET approval_message_id = ? WHERE message_id = ?",
            (card_message_id, message_id),
        )

    async def mark_sent(self, message_id: int, version: int) -> None:
        """A create with this version is about to be sent: from now on its outcome may be
        unknown, and a retry looks for the comment by its marker first."""
        await self._db.execute(
            "UPDATE discord_replies SET sent_version = ? WHERE message_id = ?",
            (version, message_id),
        )

    async def set_published_version(self, message_id: int, version: int) -> None:
        await self._db.execute(
            "UPDATE discord_replies SET published_version = max(published_version, ?) "
            "WHERE message_id = ?",
            (version, message_id),
        )

    async def note_error(self, message_id: int, error: str) -> None:
        """Why the last try did not work (the reply keeps its status and is retried)."""
        await self._db.execute(
            "UPDATE discord_replies SET error = ? WHERE message_id = ?", (error[:500], message_id)
        )

    async def comments_of_message(self, thread_id: int, message_id: int) -> list[str]:
        """The blog comments a message in the thread shows (a packed one shows several)."""
        rows = await self._db.fetch_all(
            "SELECT comment_id FROM mirrored_messages WHERE thread_id = ? AND message_id = ? "
            "ORDER BY part",
            (thread_id, message_id),
        )
        return [r["comment_id"] for r in rows]

    async def cursor(self, thread_id: int) -> int | None:
        row = await self._db.fetch_one(
            "SELECT last_message_id FROM reply_cursors WHERE thread_id = ?", (thread_id,)
        )
        return row["last_message_id"] if row else None

    async def advance_cursor(self, thread_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await ReplyBatch(conn, "").advance_cursor(thread_id, message_id)
