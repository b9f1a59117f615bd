"""Discord -> blog intake: members' messages in mirrored threads become blog comments.

Every event (a new message, an edit, a deletion, a consent answer, a moderator's decision) is
one transaction that stores the reply's new state together with the outbox rows that carry
it to the blog; the worker is woken at once (`Outbox.notify`). What the member sees (status
reactions, the consent question, the moderators' card) follows through `ReplyPort`, best
effort: the database is the truth, and questions never posted are asked again at start.

Replies sent held (approval mode "blog") wait for a blog moderator, who tells nobody:
`watch_held` looks their comments up on the blog periodically, a hundred per request, and
follows the decision (published, or taken off the blog).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.blog.errors import BlogError
from bot.domain.replies import (
    ON_THE_BLOG,
    STATUS_EMOJI,
    STATUS_OF_EMOJI,
    Approval,
    Consent,
    Source,
    Status,
    after_consent,
    decide,
    explain,
    new_reply_marker,
    shows_several,
    target_filter,
)
from bot.errors import UserFacingError
from bot.storage.database import Database
from bot.storage.mirror import MirrorRepository, MirrorThread, ReplyTarget
from bot.storage.replies import (
    ApprovalSettings,
    NewReply,
    ReplyBatch,
    ReplyRepository,
    StoredReply,
)
from bot.sync.outbox import Outbox
from bot.sync.ports import Clock
from bot.sync.to_blog import BlogProvider, create_row, delete_row, edit_row

log = logging.getLogger(__name__)

DISCORD_EPOCH_MS = 1_420_070_400_000
# While the blog does not answer, held replies are looked up less and less often, up to this.
HELD_LONGEST_PAUSE = 900.0
# What a member is told when /comment reply_to names no comment this thread shows.
NOT_A_TARGET = (
    "`reply_to` must be a blog comment shown in this thread: start typing its commenter's "
    "name or its first words and pick it from the list."
)
# The error a reply keeps when a blog moderator took its held comment off the blog; "Blog
# status" shows it (a Discord moderator's rejection has no error: the prefix tells them apart).
# What a blog moderator did to a held comment, by its status on the blog (None: deleted for
# good). "post-trashed" is not here: the review itself is in the trash, its comments come back
# with it, and the reply stays held meanwhile.
_TAKEN_OFF: dict[str | None, str] = {
    "trash": "moved it to the trash",
    "spam": "marked it as spam",
    None: "deleted it",
}


@dataclass(frozen=True, slots=True)
class Incoming:
    """A member's message as the cog read it from Discord."""

    message_id: int
    thread_id: int
    guild_id: int
    author_id: int
    author_name: str  # server display name
    content: str  # Discord markdown
    content_html: str  # `discord_to_html` of it, mentions and emoji named
    source: Source
    reply_to_id: int | None = None  # the Discord message it replies to
    reply_to_comment_id: str | None = None  # the blog comment chosen (/comment reply_to)


class ReplyPort(Protocol):
    """What the intake shows in Discord. Every method is best effort and never raises."""

    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        """The status reaction on the reply's message (and the previous one taken off)."""
        ...

    async def ask_consent(self, reply: StoredReply, *, first_time: bool) -> int | None:
        """Ask the author in the thread, visibly to them only by mention, with buttons only
        they may use; return the question's message id (None if it could not be posted)."""
        ...

    async def delete_message(self, channel_id: int, message_id: int) -> None: ...

    async def ask_approval(self, reply: StoredReply, channel_id: int) -> int | None:
        """Post the moderators' card with Approve/Reject; return its message id."""
        ...

    async def close_approval(self, reply: StoredReply, channel_id: int, outcome: str) -> None:
        """Turn the card into a record of the decision (buttons gone)."""
        ...


@runtime_checkable
class ModerationLookup(Protocol):
    """A blog that tells many comments' moderation status in one go (WordPress does)."""

    async def comment_statuses(self, comment_ids: Sequence[str]) -> dict[str, str]:
        """Each comment's status ("approved", "hold", "spam", "trash"); deleted ones left out."""
        ...


@dataclass(frozen=True, slots=True)
class Change:
    """A reply whose status an event changed, for the Discord side to follow."""

    reply: StoredReply
    previous: Status | None


@dataclass(frozen=True, slots=True)
class CatchUp:
    """A thread whose history after `after_message_id` must be read again at start;
    `recheck`: members' messages of it were taken in, whose edits and deletions made while the
    bot was away must be looked for too."""

    thread_id: int
    guild_id: int
    after_message_id: int
    recheck: bool = False


class ReplyService:
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        port: ReplyPort,
        blog: BlogProvider,
        clock: Clock,
    ) -> None:
        self.replies = ReplyRepository(database)
        self._mirror = MirrorRepository(database)
        self._outbox = outbox
        self._port = port
        self._blog = blog
        self._clock = clock
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- taking messages in --------------------------------------------------------------

    async def thread(self, thread_id: int) -> MirrorThread | None:
        """The mirrored thread, or None when the channel mirrors no review."""
        return await self._mirror.thread(thread_id)

    async def reply_targets(self, thread_id: int, typed: str, limit: int) -> list[ReplyTarget]:
        """The comments the thread shows that fit what the member typed, newest first."""
        fits = target_filter(typed) if typed.strip() else None
        return await self._mirror.reply_targets(thread_id, limit, fits)

    async def reply_target(self, thread_id: int, chosen: str) -> ReplyTarget:
        """The comment a member chose to answer: an id from the autocomplete list, or typed
        words that fit exactly one comment. Only comments this thread shows qualify (another
        review's comment would nest the reply under the wrong post). Raises UserFacingError."""
        target = await self._mirror.reply_target(thread_id, chosen.strip())
        if target is None:
            fitting = await self.reply_targets(thread_id, chosen, limit=2)
            target = fitting[0] if len(fitting) == 1 else None
        if target is None:
            raise UserFacingError(NOT_A_TARGET)
        return target

    async def receive(self, message: Incoming) -> StoredReply | None:
        """A member's message in a thread: store it with its outbox row, at once. A message
        seen before (a replayed event, the start-up catch-up) is not taken twice; a changed
        text is an edit. None when the thread mirrors no review."""
        # One thread's messages are taken in the order they arrived, so a reply's outbox row
        # always follows the row of the message it answers.
        async with self._locks[message.thread_id]:
            return await self._receive(message)

    async def _receive(self, message: Incoming) -> StoredReply | None:
        if await self._mirror.thread(message.thread_id) is None:
            return None
        known = await self.replies.get(message.message_id)
        if known is not None:
            if known.content != message.content and known.status is not Status.DELETED:
                await self._edited(message)
            return await self.replies.get(message.message_id)
        async with self.replies.batch(self._now()) as batch:
            consent = await batch.consent(message.guild_id, message.author_id)
            approval = await batch.approval(message.guild_id)
            status = decide(consent, approval.mode, message.source)
            new = NewReply(
                message_id=message.message_id,
                thread_id=message.thread_id,
                guild_id=message.guild_id,
                author_id=message.author_id,
                author_name=message.author_name,
                source=message.source,
                content=message.content,
                content_html=message.content_html,
                marker=new_reply_marker(message.thread_id),
                reply_to_id=message.reply_to_id,
                reply_to_comment_id=message.reply_to_comment_id,
            )
            await batch.insert(new, status, held=approval.mode is Approval.BLOG)
            if status is Status.QUEUED:
                await batch.enqueue([create_row(message.thread_id, message.message_id)])
            await batch.advance_cursor(message.thread_id, message.message_id)
        self._outbox.notify()
        stored = await self.replies.get(message.message_id)
        if stored is not None:
            log.info(
                "reply message=%d thread=%d author=%d: %s",
                stored.message_id,
                stored.thread_id,
                stored.author_id,
                stored.status.value,
            )
            await self._announce([Change(stored, None)], approval)
        return stored

    async def request(self, message: Incoming) -> StoredReply:
        """An explicit "publish this" (the message menu or /comment): take the message in,
        or publish (or update) one already known. Raises UserFacingError when it cannot go."""
        if message.source is Source.MESSAGE:
            raise ValueError("request() is for explicit requests")
        chosen = message.reply_to_comment_id
        if chosen is not None and not await self._mirror.reply_target(message.thread_id, chosen):
            raise UserFacingError(NOT_A_TARGET)
        stored = await self.receive(message)
        if stored is None:
            raise UserFacingError(
                "This thread is not linked to a review, so there is no blog post to comment on."
            )
        if stored.author_id != message.author_id:
            raise UserFacingError("You can only publish your own messages.")
        if stored.status in (Status.AWAITING_CONSENT, Status.DISCORD_ONLY):
            consent = await self.replies.consent(message.guild_id, message.author_id)
            if consent is Consent.NEVER:
                raise UserFacingError(
                    "You chose to keep your messages in Discord. "
                    "Change that with `/mirror consent` first."
                )
            if consent is not None:
                changes = await self._proceed([stored.message_id], message.guild_id)
                return changes[0].reply if changes else stored
        if stored.status is Status.REJECTED:
            raise UserFacingError(explain(stored.status, stored.error))
        if stored.status is Status.DELETED:
            raise UserFacingError("This message was deleted.")
        return stored

    async def edited(self, message: Incoming) -> StoredReply | None:
        """The member edited a message: the blog follows with its last version."""
        async with self._locks[message.thread_id]:
            return await self._edited(message)

    async def _edited(self, message: Incoming) -> StoredReply | None:
        async with self.replies.batch(self._now()) as batch:
            reply = await batch.get(message.message_id)
            if reply is None or reply.status is Status.DELETED or reply.content == message.content:
                return reply
            await batch.update_content(
                reply.message_id, message.content, message.content_html, message.author_name
            )
            if reply.status in (*ON_THE_BLOG, Status.QUEUED):
                await batch.enqueue([edit_row(reply.thread_id, reply.message_id)])
        self._outbox.notify()
        return await self.replies.get(message.message_id)

    async def deleted(self, message_id: int) -> None:
        """The message was deleted in Discord: its comment goes to the blog's trash."""
        reply = await self._withdraw(message_id, Status.DELETED, (Status.DELETED,))
        if reply is None:
            return
        if reply.prompt_message_id is not None:
            await self._port.delete_message(reply.thread_id, reply.prompt_message_id)
        await self._close_card(reply, "deleted by its author")

    async def _withdraw(
        self, message_id: int, status: Status, unless: Sequence[Status]
    ) -> StoredReply | None:
        """Take a reply back: note the status and trash whatever reached (or may have
        reached) the blog."""
        async with self.replies.batch(self._now()) as batch:
            reply = await batch.get(message_id)
            if reply is None or reply.status in unless:
                return None
            await batch.set_status(message_id, status, error=None)
            if reply.comment_id is not None or reply.sent_version:
                await batch.enqueue([delete_row(reply.thread_id, message_id)])
        self._outbox.notify()
        return reply

    # --- consent -------------------------------------------------------------------------

    async def answer(self, message_id: int, user_id: int, answer: str) -> list[Change]:
        """The author answered a question about this message: "always", "ask" or "never"
        the first time, "yes" or "no" when asked each time."""
        reply = await self.replies.get(message_id)
        if reply is None:
            raise UserFacingError("That message is gone.")
        if reply.author_id != user_id:
            raise UserFacingError(f"This question is for <@{reply.author_id}>.")
        if reply.status is not Status.AWAITING_CONSENT:
            return []
        if answer in ("yes", "no"):
            if answer == "yes":
                return await self._proceed([message_id], reply.guild_id)
            return await self._keep_in_discord([message_id], reply.guild_id)
        choice = Consent(answer)
        explicit = None if reply.source is Source.MESSAGE else message_id
        return await self.set_consent(reply.guild_id, user_id, choice, explicit=explicit)

    async def set_consent(
        self, guild_id: int, user_id: int, choice: Consent, *, explicit: int | None = None
    ) -> list[Change]:
        """Store the member's choice and apply it to their messages still waiting: "always"
        publishes them, "never" keeps them (and queued ones) in Discord. `explicit` is a
        message its author asked to publish (menu, /comment): "ask" publishes it too."""
        async with self.replies.batch(self._now()) as batch:
            await batch.set_consent(guild_id, user_id, choice)
            waiting = await batch.of_author(guild_id, user_id, [Status.AWAITING_CONSENT])
        ids = [r.message_id for r in waiting]
        if choice is Consent.ALWAYS:
            return await self._proceed(ids, guild_id)
        if choice is Consent.NEVER:
            async with self.replies.batch(self._now()) as batch:
                queued = await batch.of_author(
                    guild_id, user_id, [Status.QUEUED, Status.AWAITING_APPROVAL]
                )
            unsent = [r.message_id for r in queued if not r.sent_version and r.comment_id is None]
            return await self._keep_in_discord([*ids, *unsent], guild_id)
        if explicit is not None:
            return await self._proceed([explicit], guild_id)
        return []

    async def consent(self, guild_id: int, user_id: int) -> Consent | None:
        return await self.replies.consent(guild_id, user_id)

    async def _proceed(self, message_ids: Sequence[int], guild_id: int) -> list[Change]:
        """Its author said yes: on to the moderators or the blog."""
        changes: list[Change] = []
        async with self.replies.batch(self._now()) as batch:
            approval = await batch.approval(guild_id)
            status = after_consent(approval.mode)
            for message_id in message_ids:
                reply = await batch.get(message_id)
                if reply is None or reply.status not in (
                    Status.AWAITING_CONSENT,
                    Status.DISCORD_ONLY,
                ):
                    continue
                await batch.set_status(message_id, status, held=approval.mode is Approval.BLOG)
                if status is Status.QUEUED:
                    await batch.enqueue([create_row(reply.thread_id, message_id)])
                changes.append(Change(reply, reply.status))
        return await self._after(changes, approval)

    async def _keep_in_discord(self, message_ids: Sequence[int], guild_id: int) -> list[Change]:
        changes: list[Change] = []
        async with self.replies.batch(self._now()) as batch:
            approval = await batch.approval(guild_id)
            for message_id in message_ids:
                reply = await batch.get(message_id)
                if reply is None:
                    continue
                await batch.set_status(message_id, Status.DISCORD_ONLY)
                changes.append(Change(reply, reply.status))
        return await self._after(changes, approval)

    # --- moderators ----------------------------------------------------------------------

    async def approval_settings(self, guild_id: int) -> ApprovalSettings:
        return await self.replies.approval(guild_id)

    async def set_approval(
        self, guild_id: int, mode: Approval, channel_id: int | None
    ) -> ApprovalSettings:
        if mode is Approval.DISCORD and channel_id is None:
            current = await self.replies.approval(guild_id)
            channel_id = current.channel_id
            if channel_id is None:
                raise UserFacingError(
                    "Discord approval needs a moderator channel: give the `channel` option."
                )
        return await self.replies.set_approval(guild_id, mode, channel_id, self._now())

    async def approve(self, message_id: int, guild_id: int) -> StoredReply:
        """A moderator approved it: it goes to the blog (published at once)."""
        async with self.replies.batch(self._now()) as batch:
            reply = await self._for_moderator(batch, message_id, guild_id)
            if reply.status is not Status.AWAITING_APPROVAL:
                raise UserFacingError(f"It is not waiting for approval ({reply.status.value}).")
            await batch.set_status(message_id, Status.QUEUED, held=False)
            await batch.enqueue([create_row(reply.thread_id, message_id)])
            approval = await batch.approval(guild_id)
        await self._after([Change(reply, reply.status)], approval)
        return await self._current(message_id)

    async def reject(self, message_id: int, guild_id: int) -> StoredReply:
        """A moderator declined it (or dropped a failed one): it stays in Discord only."""
        reply = await self.replies.get(message_id)
        if reply is None or reply.guild_id != guild_id:
            raise UserFacingError("There is no such reply in this server.")
        if reply.status not in (Status.AWAITING_APPROVAL, Status.FAILED, Status.QUEUED):
            raise UserFacingError(f"It cannot be dropped now ({reply.status.value}).")
        await self._withdraw(message_id, Status.REJECTED, ())
        approval = await self.replies.approval(guild_id)
        await self._after([Change(reply, reply.status)], approval)
        return await self._current(message_id)

    async def retry(self, message_id: int, guild_id: int) -> StoredReply:
        """A moderator retries a failed reply (after fixing what the error named)."""
        async with self.replies.batch(self._now()) as batch:
            reply = await self._for_moderator(batch, message_id, guild_id)
            if reply.status is not Status.FAILED:
                raise UserFacingError(f"Only failed replies can be retried ({reply.status.value}).")
            status = Status.PUBLISHED if reply.comment_id else Status.QUEUED
            await batch.set_status(message_id, status, error=None)
            row = edit_row if reply.comment_id else create_row
            await batch.enqueue([row(reply.thread_id, message_id)])
            approval = await batch.approval(guild_id)
        self._outbox.notify()
        await self._after([Change(reply, reply.status)], approval)
        return await self._current(message_id)

    async def pending(self, guild_id: int) -> list[StoredReply]:
        """What moderators see in /mirror status: waiting, queued, held and failed replies."""
        return await self.replies.in_guild(
            guild_id,
            [Status.AWAITING_APPROVAL, Status.QUEUED, Status.HELD, Status.FAILED],
        )

    async def _for_moderator(
        self, batch: ReplyBatch, message_id: int, guild_id: int
    ) -> StoredReply:
        reply = await batch.get(message_id)
        if reply is None or reply.guild_id != guild_id:
            raise UserFacingError("There is no such reply in this server.")
        return reply

    # --- the author's questions ----------------------------------------------------------

    async def explain(self, message_id: int) -> str:
        """Where the reply is, for its author. A held one is looked up on the blog first: a
        blog moderator may have decided since the last check."""
        reply = await self.replies.get(message_id)
        if reply is None:
            return "This message was never sent to the blog."
        if reply.status is Status.HELD and reply.comment_id is not None:
            reply = await self._refresh_held(reply)
        return await self.describe(reply)

    async def describe(self, reply: StoredReply) -> str:
        """Where the reply is as stored, for its author (no blog look-up)."""
        approval = await self.replies.approval(reply.guild_id)
        return explain(
            reply.status,
            reply.error,
            approval_channel=approval.channel_id,
            answered_packed=await self._answered_packed(reply),
        )

    async def _answered_packed(self, reply: StoredReply) -> bool:
        """True when it replies to a packed backfill message, which cannot say which of its
        comments is meant: the reply is (or becomes) top-level, and its author should know."""
        if reply.reply_to_id is None or reply.reply_to_comment_id or reply.parent_comment_id:
            return False  # not a reply, or one that knows (or found) its parent
        if await self.replies.get(reply.reply_to_id) is not None:
            return False  # it answers a member's message, not a mirrored one
        return shows_several(
            await self.replies.comments_of_message(reply.thread_id, reply.reply_to_id)
        )

    async def _refresh_held(self, reply: StoredReply) -> StoredReply:
        try:
            statuses = await self._moderation([reply.comment_id or ""])
        except BlogError as error:
            log.info("cannot look up held comment=%s: %s", reply.comment_id, error)
            return reply
        await self._follow_moderator(reply, statuses.get(reply.comment_id or ""))
        return await self._current(reply.message_id)

    # --- held replies: what a blog moderator decided -------------------------------------

    async def watch_held(self, every: float, *, longest: float = HELD_LONGEST_PAUSE) -> None:
        """Forever (a background task): every `every` seconds, `check_held`. While the blog
        does not answer nothing changes; the pause doubles up to `longest` and the outage is
        logged once, not at every try."""
        if every <= 0:
            raise ValueError("the held-reply check needs a positive interval")
        pause, down = every, False
        while True:
            await self._clock.sleep(pause)
            try:
                await self.check_held()
            except BlogError as error:
                if not down:
                    log.warning("held replies not checked, trying again later: %s", error)
                down, pause = True, min(pause * 2, max(longest, every))
                continue
            except Exception:  # a bug or a database hiccup must not end the watch for good
                log.exception("checking held replies failed")
                continue
            if down:
                log.info("the blog answers again: held replies checked")
            down, pause = False, every

    async def check_held(self) -> list[Change]:
        """Look every held reply's comment up on the blog and follow a blog moderator's
        decision: approved -> published; trashed, spammed or deleted -> kept in Discord, with
        the reason. Nothing is sent to the blog. However many replies wait, this costs one
        request per 100 (up to four when some left the queue), and none when none waits.
        Raises BlogError when the blog does not answer; nothing changes then."""
        held = await self.replies.held_on_blog()
        if not held:
            return []
        statuses = await self._moderation([r.comment_id or "" for r in held])
        changes = []
        for reply in held:
            change = await self._follow_moderator(reply, statuses.get(reply.comment_id or ""))
            if change is not None:
                changes.append(change)
        return changes

    async def _moderation(self, comment_ids: list[str]) -> dict[str, str]:
        blog = await self._blog()
        if isinstance(blog, ModerationLookup):
            return await blog.comment_statuses(comment_ids)
        found: dict[str, str] = {}
        for comment_id in comment_ids:  # a blog without the batch lookup: one at a time
            comment = await blog.get_comment(comment_id)
            if comment is not None:
                found[comment_id] = comment.status
        return found

    async def follow_blog(self, comment_ids: Sequence[str]) -> list[Change]:
        """The mirror saw these comments of members leave the blog's approved list: a blog
        moderator held them again, trashed, spammed or deleted them. Their published replies
        follow (held ones are watched by `watch_held`); one look-up per 100, none when none is
        published. A blog that does not answer now is asked again at the next sync."""
        published = await self.replies.published_as(comment_ids)
        if not published:
            return []
        try:
            statuses = await self._moderation([r.comment_id or "" for r in published])
        except BlogError as error:
            log.info("members' comments gone from the blog not looked up yet: %s", error)
            return []
        changes = []
        for reply in published:
            change = await self._follow_moderator(reply, statuses.get(reply.comment_id or ""))
            if change is not None:
                changes.append(change)
        return changes

    async def _follow_moderator(self, reply: StoredReply, on_blog: str | None) -> Change | None:
        """Apply the comment's status on the blog (`None`: deleted for good) to a reply seen
        held or published: approved, it is published; held, it is held; trashed, spammed or
        deleted, it stays in Discord. Checked again in the transaction: the member may have
        deleted it meanwhile, or another look-up (the "Blog status" menu) got there first;
        either way nothing is done."""
        after = _after_moderation(reply.status, on_blog)
        if after is None:
            return None
        async with self.replies.batch(self._now()) as batch:
            current = await batch.get(reply.message_id)
            if (
                current is None
                or current.status is not reply.status
                or current.comment_id != reply.comment_id
            ):
                return None
            if after is Status.REJECTED:
                await _take_off(batch, current, on_blog)
            else:
                await batch.set_status(reply.message_id, after, held=after is Status.HELD)
        updated = await self._current(reply.message_id)
        log.info(
            "reply message=%d comment=%s is %s on the blog: %s",
            reply.message_id,
            reply.comment_id,
            on_blog or "deleted",
            updated.status.value,
        )
        await self._port.show_status(updated, reply.status)
        return Change(updated, reply.status)

    # --- start-up ------------------------------------------------------------------------

    async def catch_up_points(self) -> list[CatchUp]:
        """Each unpaused mirrored thread with where its unread history starts."""
        points = []
        with_messages = await self.replies.threads_with_member_messages()
        for thread in await self._mirror.threads():
            if thread.paused:
                continue
            after = await self.replies.cursor(thread.thread_id)
            if after is None:
                after = snowflake_at(thread.linked_at)
            recheck = thread.thread_id in with_messages
            points.append(CatchUp(thread.thread_id, thread.guild_id, after, recheck))
        return points

    async def recheck(
        self,
        thread_id: int,
        shown: Sequence[Incoming],
        span: tuple[int, int],
        reactions: Mapping[int, Collection[str]],
    ) -> None:
        """What changed while the bot was away (Discord does not replay it): `shown` is what
        the thread holds now of members' messages with ids in `span` (first, last), a stretch
        of its history read in one piece, and `reactions` the bot's own on them. Every reply
        taken in from that stretch follows: gone from it means deleted, other text means
        edited, and a status reaction a stop left behind is put right."""
        now = {message.message_id: message for message in shown}
        for reply in await self.replies.member_messages_between(thread_id, *span):
            current = now.get(reply.message_id)
            if current is None:
                await self.deleted(reply.message_id)
                continue
            if current.content != reply.content:
                await self.edited(current)
            await self._put_right(reply.message_id, reactions.get(reply.message_id, ()))

    async def _put_right(self, message_id: int, mine: Collection[str]) -> None:
        reply = await self.replies.get(message_id)
        if reply is None:
            return
        wanted = STATUS_EMOJI.get(reply.status)
        stale = [STATUS_OF_EMOJI[e] for e in mine if e != wanted and e in STATUS_OF_EMOJI]
        for previous in stale:
            await self._port.show_status(reply, previous)
        if not stale and wanted is not None and wanted not in mine:
            await self._port.show_status(reply, None)

    async def caught_up(self, thread_id: int, last_message_id: int) -> None:
        await self.replies.advance_cursor(thread_id, last_message_id)

    async def ask_again(self) -> None:
        """Questions and moderator cards a stop kept from being posted."""
        for reply in await self.replies.unannounced():
            approval = await self.replies.approval(reply.guild_id)
            await self._announce([Change(reply, reply.status)], approval)

    # --- showing it in Discord -----------------------------------------------------------

    async def _after(self, changes: list[Change], approval: ApprovalSettings) -> list[Change]:
        self._outbox.notify()
        fresh = [Change(await self._current(c.reply.message_id), c.previous) for c in changes]
        for change in fresh:
            if change.previous is Status.AWAITING_CONSENT and change.reply.prompt_message_id:
                await self._port.delete_message(
                    change.reply.thread_id, change.reply.prompt_message_id
                )
                await self.replies.set_prompt(change.reply.message_id, None)
            if change.previous is Status.AWAITING_APPROVAL:
                await self._close_card(change.reply, change.reply.status.value)
        await self._announce(fresh, approval)
        return fresh

    async def _announce(self, changes: list[Change], approval: ApprovalSettings) -> None:
        for change in changes:
            reply = change.reply
            await self._port.show_status(reply, change.previous)
            if reply.status is Status.AWAITING_CONSENT and reply.source is Source.MESSAGE:
                consent = await self.replies.consent(reply.guild_id, reply.author_id)
                prompt = await self._port.ask_consent(reply, first_time=consent is None)
                await self.replies.set_prompt(reply.message_id, prompt)
            elif reply.status is Status.AWAITING_APPROVAL and approval.channel_id is not None:
                card = await self._port.ask_approval(reply, approval.channel_id)
                await self.replies.set_approval_card(reply.message_id, card)

    async def _close_card(self, reply: StoredReply, outcome: str) -> None:
        if reply.approval_message_id is None:
            return
        approval = await self.replies.approval(reply.guild_id)
        if approval.channel_id is not None:
            await self._port.close_approval(reply, approval.channel_id, outcome)

    async def _current(self, message_id: int) -> StoredReply:
        reply = await self.replies.get(message_id)
        if reply is None:
            raise UserFacingError("That message is gone.")
        return reply

    def _now(self) -> float:
        return self._clock.time()


async def _take_off(batch: ReplyBatch, reply: StoredReply, on_blog: str | None) -> None:
    """A blog moderator removed the comment: the reply stays in Discord only. Its comment
    is forgotten, so deleting the message later sends nothing (the blog moderator's trash or
    spam verdict stands) and the bot never posts it again by itself."""
    if reply.comment_id is not None:
        await batch.forget_mapping(reply.thread_id, reply.comment_id)
    await batch.forget_comment(reply.message_id)
    await batch.set_status(reply.message_id, Status.REJECTED, error=taken_off_reason(on_blog))


def _after_moderation(status: Status, on_blog: str | None) -> Status | None:
    """A held or published reply's new status once its comment is `on_blog` (None: deleted
    for good); None when nothing changes (or its review is in the trash, from where it may
    come back)."""
    if on_blog in _TAKEN_OFF:
        return Status.REJECTED
    if status is Status.HELD and on_blog == "approved":
        return Status.PUBLISHED
    if status is Status.PUBLISHED and on_blog == "hold":
        return Status.HELD
    return None


def taken_off_reason(on_blog: str | None) -> str:
    """Why a reply left the blog, for its author (`on_blog` None: deleted for good)."""
    return f"A blog moderator {_TAKEN_OFF[on_blog]}; it stays in Discord only."


def snowflake_at(stored_time: str) -> int:
    """The smallest Discord id of a message sent at that time (history "after" it)."""
    moment = datetime.fromisoformat(stored_time.replace("Z", "+00:00"))
    return max(int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS, 0) << 22
