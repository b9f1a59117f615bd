"""Carrying out the to_blog outbox rows: create, edit and trash the blog comments of members'
Discord replies, exactly once.

Crash safety of a create: (1) note the version about to be sent (`sent_version`) in its own
transaction; (2) send, with the reply's marker inside the comment; (3) record the comment id,
the version it shows and the thread's mapping in one transaction. A reply found with
`sent_version` set and no comment id had a create whose outcome is unknown (a timeout, a 5xx
after the write, a crash): the blog is searched for its marker before anything is sent again.
Edits and deletions read the reply's latest state when they run, so a member editing twice
while the blog is down ends with the last version on the blog.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from bot.blog.base import Blog
from bot.blog.errors import (
    BlogError,
    BlogUnavailable,
    CommentFlood,
    InvalidParent,
    NotFound,
)
from bot.blog.models import BlogComment
from bot.domain.replies import Status, blog_author, comment_excerpt, parent_from_mapping
from bot.storage.mirror import MirrorRepository, NewOutboxRow, OutboxRow, iso_ms
from bot.storage.replies import Published, ReplyRepository, StoredReply
from bot.sync.outbox import Outbox, RetryLater, RetryPolicy
from bot.sync.ports import Clock
from bot.sync.render import CommentSnapshot

log = logging.getLogger(__name__)

TO_BLOG = "to_blog"
FLOOD_PAUSE = 20.0  # WordPress' flood window is 15 s
# A blog outage must not exhaust a reply's chances: retry for as long as it lasts, backing off.
OUTAGE_RETRY = RetryPolicy(base=1.0, cap=60.0)
T = TypeVar("T")
BlogProvider = Callable[[], Awaitable[Blog]]


def create_row(thread_id: int, message_id: int) -> NewOutboxRow:
    return NewOutboxRow(
        TO_BLOG, thread_id, "create", f"blog-create:{message_id}", {"message_id": message_id}
    )


def edit_row(thread_id: int, message_id: int) -> NewOutboxRow:
    # One pending edit stands for any number of edits: it sends the latest text when it runs.
    return NewOutboxRow(
        TO_BLOG, thread_id, "edit", f"blog-edit:{message_id}", {"message_id": message_id}
    )


def delete_row(thread_id: int, message_id: int) -> NewOutboxRow:
    return NewOutboxRow(
        TO_BLOG, thread_id, "delete", f"blog-delete:{message_id}", {"message_id": message_id}
    )


class StatusPort(Protocol):
    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        """Show the reply's status on its message (a reaction). Best effort: never raises."""
        ...


class _Failed(Exception):
    """The blog refused the reply for good; the reply is marked failed with this reason."""


class BlogWriter:
    def __init__(
        self,
        replies: ReplyRepository,
        mirror: MirrorRepository,
        blog: BlogProvider,
        port: StatusPort,
        clock: Clock,
        *,
        outage_retry: RetryPolicy = OUTAGE_RETRY,
        rng: random.Random | None = None,
    ) -> None:
        self._replies = replies
        self._mirror = mirror
        self._blog = blog
        self._port = port
        self._clock = clock
        self._outage_retry = outage_retry
        self._rng = rng or random.Random()

    def register(self, outbox: Outbox) -> None:
        outbox.register(TO_BLOG, "create", self.create)
        outbox.register(TO_BLOG, "edit", self.edit)
        outbox.register(TO_BLOG, "delete", self.delete)

    # --- create --------------------------------------------------------------------------

    async def create(self, row: OutboxRow) -> None:
        reply = await self._replies.get(row.payload["message_id"])
        if reply is None or reply.comment_id is not None:
            return  # forgotten (thread unlinked), or recorded before a stop
        thread = await self._mirror.thread(reply.thread_id)
        if thread is None:
            return
        try:
            blog = await self._call(row, reply, self._blog())
            if reply.sent_version:
                found = await self._call(
                    row, reply, blog.find_comment_by_marker(thread.review_id, reply.marker)
                )
                if found is not None:
                    log.info("reply message=%d was on the blog already", reply.message_id)
                    await self._record(reply, found, reply.sent_version)
                    return
            if reply.status is not Status.QUEUED:
                return  # deleted, dropped or kept in Discord before it was ever sent
            comment = await self._send(row, reply, blog, thread.review_id)
        except _Failed as failure:
            await self._fail(reply, str(failure))
            return
        await self._record(reply, comment, reply.version)

    async def _send(
        self, row: OutboxRow, reply: StoredReply, blog: Blog, review_id: str
    ) -> BlogComment:
        parent = await self._parent(reply)
        await self._replies.mark_sent(reply.message_id, reply.version)

        async def post(parent_id: str | None) -> BlogComment:
            return await blog.create_comment(
                review_id,
                parent_id=parent_id,
                author_name=blog_author(reply.author_name),
                content_html=reply.content_html,
                marker=reply.marker,
                held=reply.held,
            )

        try:
            return await self._call(row, reply, post(parent), passing=(InvalidParent,))
        except InvalidParent:
            # The comment it answers was trashed meanwhile (checked before posting: nothing
            # was sent). A top-level comment beats losing the reply.
            log.info("reply message=%d: parent %s gone, top-level now", reply.message_id, parent)
            return await self._call(row, reply, post(None))

    async def _parent(self, reply: StoredReply) -> str | None:
        """The comment its author chose (/comment reply_to), else the blog comment the Discord
        message it replies to stands for, if any. A reply's target was taken in earlier in the
        same lane, so it is settled by now."""
        if reply.reply_to_comment_id is not None:
            return reply.reply_to_comment_id
        if reply.reply_to_id is None:
            return None
        target = await self._replies.get(reply.reply_to_id)
        if target is not None:
            return target.comment_id  # None: that one never reached the blog
        shown = await self._replies.comments_of_message(reply.thread_id, reply.reply_to_id)
        return parent_from_mapping(shown)

    async def _record(self, reply: StoredReply, comment: BlogComment, version: int) -> None:
        held = comment.status == "hold"
        published = Published(
            comment_id=comment.id,
            parent_comment_id=comment.parent_id,
            held=held,
            version=version,
            author=comment.author,
            published_at=iso_ms(comment.published.timestamp()),
            snapshot=CommentSnapshot.of(comment).as_json(),
            excerpt=comment_excerpt(comment.content_html),
        )
        async with self._replies.batch(self._clock.time()) as batch:
            current = await batch.get(reply.message_id)
            if current is None:
                return
            withdrawn = current.status in (Status.DELETED, Status.REJECTED, Status.DISCORD_ONLY)
            status = current.status if withdrawn else (Status.HELD if held else Status.PUBLISHED)
            await batch.record_published(current, published, status)
            if withdrawn:  # deleted or dropped while the create was on its way
                await batch.enqueue([delete_row(current.thread_id, current.message_id)])
            elif current.version > version:  # edited meanwhile: bring the blog up to date
                await batch.enqueue([edit_row(current.thread_id, current.message_id)])
        log.info("reply message=%d -> comment=%s (%s)", reply.message_id, comment.id, status.value)
        updated = await self._replies.get(reply.message_id)
        if updated is not None and not withdrawn:
            await self._port.show_status(updated, reply.status)

    # --- edit ----------------------------------------------------------------------------

    async def edit(self, row: OutboxRow) -> None:
        reply = await self._replies.get(row.payload["message_id"])
        if (
            reply is None
            or reply.comment_id is None
            or reply.status
            not in (
                Status.PUBLISHED,
                Status.HELD,
            )
        ):
            return  # not on the blog (yet: the create sends the latest text)
        if reply.published_version >= reply.version:
            return
        try:
            blog = await self._call(row, reply, self._blog())
            await self._call(
                row,
                reply,
                blog.edit_comment(reply.comment_id, reply.content_html, marker=reply.marker),
                passing=(NotFound,),
            )
        except NotFound:
            await self._lost(reply)
            return
        except _Failed as failure:
            await self._replies.note_error(reply.message_id, f"edit: {failure}")
            return
        await self._replies.set_published_version(reply.message_id, reply.version)
        latest = await self._replies.get(reply.message_id)
        if latest is not None and latest.version != reply.version:
            raise RetryLater("the message was edited again while the blog was being updated")

    async def _lost(self, reply: StoredReply) -> None:
        """A blog moderator deleted the comment: the reply fails; a retry posts it anew."""
        async with self._replies.batch(self._clock.time()) as batch:
            if reply.comment_id is not None:
                await batch.forget_mapping(reply.thread_id, reply.comment_id)
            await batch.forget_comment(reply.message_id)
            await batch.set_status(
                reply.message_id,
                Status.FAILED,
                error="The comment is no longer on the blog (a blog moderator removed it).",
            )
        await self._show(reply.message_id, reply.status)

    # --- delete --------------------------------------------------------------------------

    async def delete(self, row: OutboxRow) -> None:
        """Trash the comment of a reply deleted in Discord (or dropped by a moderator)."""
        reply = await self._replies.get(row.payload["message_id"])
        if reply is None or reply.status not in (
            Status.DELETED,
            Status.REJECTED,
            Status.DISCORD_ONLY,
        ):
            return
        thread = await self._mirror.thread(reply.thread_id)
        if thread is None:
            return
        try:
            blog = await self._call(row, reply, self._blog())
            comment_id = reply.comment_id
            if comment_id is None and reply.sent_version:
                found = await self._call(
                    row, reply, blog.find_comment_by_marker(thread.review_id, reply.marker)
                )
                comment_id = found.id if found else None
            if comment_id is None:
                return
            await self._call(row, reply, blog.delete_comment(comment_id))
        except _Failed as failure:
            await self._replies.note_error(reply.message_id, f"delete: {failure}")
            return
        async with self._replies.batch(self._clock.time()) as batch:
            await batch.forget_mapping(reply.thread_id, comment_id)
            await batch.forget_comment(reply.message_id)
        log.info("reply message=%d: comment=%s trashed", reply.message_id, comment_id)

    # --- shared --------------------------------------------------------------------------

    async def _call(
        self,
        row: OutboxRow,
        reply: StoredReply,
        call: Awaitable[T],
        *,
        passing: tuple[type[BlogError], ...] = (),
    ) -> T:
        """Run one blog call. Outages and flood limits are retried for as long as they last
        (backing off); the `passing` errors are the caller's to handle; other refusals
        become `_Failed`."""
        try:
            return await call
        except passing:
            raise
        except (BlogUnavailable, CommentFlood) as error:
            await self._replies.note_error(reply.message_id, str(error))
            if isinstance(error, CommentFlood):
                delay = FLOOD_PAUSE
            else:
                delay = self._outage_retry.delay(row.attempts, self._rng)
            reason = f"{type(error).__name__}: {error}"
            raise RetryLater(reason, delay=delay, count_attempt=True) from error
        except BlogError as error:
            raise _Failed(str(error)) from error

    async def _fail(self, reply: StoredReply, reason: str) -> None:
        log.warning("reply message=%d failed: %s", reply.message_id, reason)
        async with self._replies.batch(self._clock.time()) as batch:
            await batch.set_status(reply.message_id, Status.FAILED, error=reason[:500])
        await self._show(reply.message_id, reply.status)

    async def _show(self, message_id: int, previous: Status) -> None:
        updated = await self._replies.get(message_id)
        if updated is not None:
            await self._port.show_status(updated, previous)
