"""Carrying out the to_discord outbox rows: post, edit and remove mirrored comments, keep the
backfill's progress message current, and reconcile a thread with what Discord really holds.

Crash safety of a send: (1) reserve the mapping row(s) with the message's marker and no
message id, in their own transaction; (2) send; (3) record the message id. A reservation
found without a message id means the send's outcome is unknown: the thread is searched for
the marker (after the last message we know of) before anything is sent again.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import TypeVar

from bot.domain.replies import FROM_DISCORD
from bot.storage.mirror import (
    MirrorRepository,
    MirrorThread,
    NewOutboxRow,
    OutboxRow,
    Reservation,
    StoredComment,
    StoredMessage,
    WebhookRepository,
)
from bot.sync.outbox import Outbox, RetryLater
from bot.sync.pacing import Action, Pacer
from bot.sync.ports import (
    Clock,
    DiscordPort,
    MessageGone,
    PostedMessage,
    ThreadUnavailable,
    WebhookGone,
)
from bot.sync.render import (
    MAX_EMBEDS,
    CommentSnapshot,
    Entry,
    MessageSpec,
    ParentRef,
    jump_url,
    markers_in,
    new_marker,
    pack_fits,
    pack_marker,
    part_marker,
    progress_spec,
    render_pack,
    render_single,
    review_url,
    spec_hash,
    visible_form,
)

log = logging.getLogger(__name__)

TO_DISCORD = "to_discord"
T = TypeVar("T")


class Kind(StrEnum):
    POST = "post"
    EDIT = "edit"
    REMOVE = "remove"
    PROGRESS = "progress"
    RESYNC = "resync"


def post_row(thread_id: int, comment_id: str, marker: str) -> NewOutboxRow:
    # The marker makes a re-post (after a removal or a lost message) a new intent.
    key = f"post:{thread_id}:{comment_id}:{marker}"
    return NewOutboxRow(TO_DISCORD, thread_id, Kind.POST, key, {"comment_id": comment_id})


def edit_row(thread_id: int, comment_id: str) -> NewOutboxRow:
    key = f"edit:{thread_id}:{comment_id}"
    return NewOutboxRow(TO_DISCORD, thread_id, Kind.EDIT, key, {"comment_id": comment_id})


def remove_row(thread_id: int, comment_id: str) -> NewOutboxRow:
    key = f"remove:{thread_id}:{comment_id}"
    return NewOutboxRow(TO_DISCORD, thread_id, Kind.REMOVE, key, {"comment_id": comment_id})


def progress_row(thread_id: int, marker: str, *, final: bool) -> NewOutboxRow:
    key = f"progress:{thread_id}:{marker}:{'end' if final else 'start'}"
    payload = {"marker": marker, "final": final}
    return NewOutboxRow(TO_DISCORD, thread_id, Kind.PROGRESS, key, payload)


def resync_row(thread_id: int) -> NewOutboxRow:
    return NewOutboxRow(TO_DISCORD, thread_id, Kind.RESYNC, f"resync:{thread_id}", {})


class Delivery:
    def __init__(
        self,
        mirror: MirrorRepository,
        webhooks: WebhookRepository,
        port: DiscordPort,
        pacer: Pacer,
        clock: Clock,
        *,
        blog_name: str,
        progress_interval: float = 5.0,
    ) -> None:
        self._mirror = mirror
        self._webhooks = webhooks
        self._port = port
        self._pacer = pacer
        self._clock = clock
        self._blog_name = blog_name
        self._progress_interval = progress_interval
        self._webhook_ids: dict[int, int] = {}
        self._progress_edited: dict[int, float] = {}

    def register(self, outbox: Outbox) -> None:
        handlers: dict[Kind, Callable[[MirrorThread, OutboxRow], Awaitable[None]]] = {
            Kind.POST: self.post,
            Kind.EDIT: self.edit,
            Kind.REMOVE: self.remove,
            Kind.PROGRESS: self.progress,
            Kind.RESYNC: self.resync,
        }
        for kind, handler in handlers.items():
            outbox.register(TO_DISCORD, kind, self._guarded(handler))

    def _guarded(
        self, handler: Callable[[MirrorThread, OutboxRow], Awaitable[None]]
    ) -> Callable[[OutboxRow], Awaitable[None]]:
        async def run(row: OutboxRow) -> None:
            thread = await self._mirror.thread(row.thread_id)
            if thread is None:
                return  # unlinked meanwhile
            try:
                await handler(thread, row)
            except ThreadUnavailable as error:
                # Keep the row: it runs again once a moderator fixes the thread and resumes.
                await self._mirror.set_paused(thread.thread_id, True, f"paused: {error}")
                raise RetryLater(f"thread unavailable: {error}") from error

        return run

    # --- post ----------------------------------------------------------------------------

    async def post(self, thread: MirrorThread, row: OutboxRow) -> None:
        comment = await self._mirror.comment(thread.thread_id, row.payload["comment_id"])
        if comment is None or comment.state != "pending":
            return  # already in a packed message, or being removed
        if comment.packable:
            await self._post_pack(thread, comment)
        else:
            await self._post_single(thread, comment)
        await self._progress_tick(thread)

    async def _post_single(self, thread: MirrorThread, comment: StoredComment) -> None:
        specs = render_single(await self._entry(thread, comment), blog_name=self._blog_name)
        known = {
            m.part: m for m in await self._mirror.messages(thread.thread_id, comment.comment_id)
        }
        for part, spec in enumerate(specs):
            message = known.get(part)
            if message is not None and message.message_id is not None:
                continue  # this part was sent and recorded before a crash
            marker = part_marker(comment.marker, part)
            reservation = Reservation(comment.comment_id, part, False, marker)
            await self._send(thread, spec, [reservation], message.marker if message else None)
        await self._mirror.mark_mirrored(thread.thread_id, [comment.comment_id])

    async def _post_pack(self, thread: MirrorThread, lead: StoredComment) -> None:
        existing = await self._mirror.messages(thread.thread_id, lead.comment_id)
        if existing:  # a pack with it was reserved (outcome unknown) or sent before a crash
            await self._resume_pack(thread, existing[0])
            return
        candidates = await self._mirror.next_packable(thread.thread_id, lead.position, MAX_EMBEDS)
        # Candidates are consecutive in display order and the pack takes a prefix of them, so
        # a parent among the candidates is in the same message whenever its reply is.
        ids = frozenset(c.comment_id for c in candidates)
        entries: list[Entry] = []
        for candidate in candidates:
            entry = await self._entry(thread, candidate, pack_ids=ids)
            if not pack_fits([*entries, entry]):
                break
            entries.append(entry)
        if not entries or candidates[0].comment_id != lead.comment_id:
            await self._post_single(thread, lead)  # too long for an embed: split instead
            return
        marker = pack_marker(lead.marker)
        spec = render_pack(entries, blog_name=self._blog_name, marker=marker)
        reservations = [Reservation(e.comment.id, 0, True, marker) for e in entries]
        await self._send(thread, spec, reservations, None)
        await self._mirror.mark_mirrored(thread.thread_id, [e.comment.id for e in entries])

    async def _resume_pack(self, thread: MirrorThread, first: StoredMessage) -> None:
        group = await self._mirror.reserved(thread.thread_id, first.marker)
        ids = [m.comment_id for m in group]
        if first.message_id is None:
            entries = await self._pack_entries(thread, group)
            spec = render_pack(entries, blog_name=self._blog_name, marker=first.marker)
            reservations = [Reservation(m.comment_id, 0, True, m.marker) for m in group]
            await self._send(thread, spec, reservations, first.marker)
        await self._mirror.mark_mirrored(thread.thread_id, ids)

    async def _send(
        self,
        thread: MirrorThread,
        spec: MessageSpec,
        reservations: Sequence[Reservation],
        unknown_marker: str | None,
    ) -> int:
        """Send once: reserve, send, record. `unknown_marker` names an earlier attempt whose
        outcome is unknown; if the thread holds it, that message is adopted instead."""
        thread_id = thread.thread_id
        if unknown_marker is not None:
            found = await self._find(thread_id, unknown_marker, recent=True)
            if found is not None:
                await self._mirror.record_sent(thread_id, unknown_marker, found, None)
                await self._edit(thread, found, spec, None)  # bring it up to date
                return found
        await self._mirror.reserve(thread_id, reservations)
        await self._pacer.acquire(thread.channel_id, Action.EXECUTE)
        message_id = await self._with_webhook(
            thread.channel_id,
            lambda webhook: self._port.send_webhook_message(webhook, thread_id, spec),
        )
        await self._mirror.record_sent(
            thread_id, reservations[0].marker, message_id, spec_hash(spec)
        )
        return message_id

    async def _find(self, thread_id: int, marker: str, *, recent: bool = False) -> int | None:
        """The message carrying the marker. `recent`: the unknown send is the lane's latest
        write, so only messages after the last one recorded need scanning; otherwise (a
        reservation met later by an edit or removal) the whole thread is searched."""
        after = await self._mirror.last_message_id(thread_id) if recent else None
        found = await self._port.find_message_with_marker(thread_id, marker, after)
        log.info("thread=%d marker=%s unknown send %s", thread_id, marker, found or "not found")
        return found

    # --- edit ----------------------------------------------------------------------------

    async def edit(self, thread: MirrorThread, row: OutboxRow) -> None:
        comment = await self._mirror.comment(thread.thread_id, row.payload["comment_id"])
        if comment is None or comment.state != "mirrored":
            return  # a pending post will render the latest version; a removal wins
        await self._refresh(thread, comment)
        latest = await self._mirror.comment(thread.thread_id, comment.comment_id)
        if latest is not None and latest.version != comment.version:
            raise RetryLater("the comment changed while it was being edited")

    async def _refresh(self, thread: MirrorThread, comment: StoredComment) -> None:
        sent = _sent(await self._settle(thread, comment))
        if not sent:
            await self._repost(thread, comment, [])
        elif sent[0][0].packed:
            await self._refresh_pack(thread, sent[0][1])
        else:
            await self._refresh_single(thread, comment, [m for m, _ in sent])

    async def _settle(self, thread: MirrorThread, comment: StoredComment) -> list[StoredMessage]:
        """The comment's messages, with every reservation resolved (adopted or dropped)."""
        messages = await self._mirror.messages(thread.thread_id, comment.comment_id)
        for message in messages:
            if message.message_id is None:
                found = await self._find(thread.thread_id, message.marker)
                if found is None:
                    await self._mirror.drop_reservation(thread.thread_id, message.marker)
                else:
                    await self._mirror.record_sent(thread.thread_id, message.marker, found, None)
        return await self._mirror.messages(thread.thread_id, comment.comment_id)

    async def _refresh_single(
        self, thread: MirrorThread, comment: StoredComment, messages: list[StoredMessage]
    ) -> None:
        specs = render_single(await self._entry(thread, comment), blog_name=self._blog_name)
        sent = _sent(messages)
        try:
            for (message, message_id), spec in zip(sent, specs, strict=False):
                await self._edit(thread, message_id, spec, message.rendered_hash)
        except MessageGone:
            await self._repost(thread, comment, messages)
            return
        for part in range(len(sent), len(specs)):  # it grew: extra parts go at the end
            marker = part_marker(comment.marker, part)
            reservation = Reservation(comment.comment_id, part, False, marker)
            await self._send(thread, specs[part], [reservation], None)
        for _, message_id in sent[len(specs) :]:  # it shrank
            await self._delete(thread, message_id)
        await self._mirror.drop_messages(thread.thread_id, comment.comment_id, len(specs))

    async def _refresh_pack(
        self, thread: MirrorThread, message_id: int, without: frozenset[str] = frozenset()
    ) -> None:
        members = await self._mirror.members(thread.thread_id, message_id)
        members = [m for m in members if m.comment_id not in without]
        if not members:
            await self._delete(thread, message_id)
            return
        entries = await self._pack_entries(thread, members)
        spec = render_pack(entries, blog_name=self._blog_name, marker=members[0].marker)
        try:
            await self._edit(thread, message_id, spec, members[0].rendered_hash)
        except MessageGone:
            # Deleted in Discord: its comments come back one per message, marked late.
            comments = await self._mirror.comments(
                thread.thread_id, [m.comment_id for m in members]
            )
            for comment in comments.values():
                await self._repost(thread, comment, [])

    async def _pack_entries(
        self, thread: MirrorThread, members: Sequence[StoredMessage]
    ) -> list[Entry]:
        comments = await self._mirror.comments(thread.thread_id, [m.comment_id for m in members])
        ids = frozenset(comments)
        return [
            await self._entry(thread, comments[m.comment_id], pack_ids=ids)
            for m in members
            if m.comment_id in comments
        ]

    async def _edit(
        self, thread: MirrorThread, message_id: int, spec: MessageSpec, current: str | None
    ) -> None:
        rendered = spec_hash(spec)
        if rendered == current:
            return
        await self._pacer.acquire(thread.channel_id, Action.EDIT)
        await self._with_webhook(
            thread.channel_id,
            lambda webhook: self._port.edit_webhook_message(
                webhook, thread.thread_id, message_id, spec
            ),
        )
        await self._mirror.set_rendered(thread.thread_id, message_id, rendered)

    async def _repost(
        self, thread: MirrorThread, comment: StoredComment, messages: Sequence[StoredMessage]
    ) -> None:
        """Its messages are gone or unusable: delete what is left and post it again, late."""
        for message in messages:
            if message.message_id is not None:
                await self._delete(thread, message.message_id)
        await self._mirror.repost(thread.thread_id, comment.comment_id, new_marker(), self._now())
        fresh = await self._mirror.comment(thread.thread_id, comment.comment_id)
        if fresh is not None and fresh.state == "pending":
            await self._post_single(thread, fresh)

    # --- remove --------------------------------------------------------------------------

    async def remove(self, thread: MirrorThread, row: OutboxRow) -> None:
        comment = await self._mirror.comment(thread.thread_id, row.payload["comment_id"])
        if comment is None or comment.state != "removing":
            return  # approved again before the removal ran
        # Discord first, the mapping after: a crash in between only repeats a delete.
        for message, message_id in _sent(await self._settle(thread, comment)):
            if message.packed:
                await self._refresh_pack(thread, message_id, frozenset({comment.comment_id}))
            else:
                await self._delete(thread, message_id)
        await self._mirror.forget_removed(thread.thread_id, comment.comment_id)

    async def _delete(self, thread: MirrorThread, message_id: int) -> None:
        await self._pacer.acquire(thread.channel_id, Action.DELETE)
        with contextlib.suppress(MessageGone):
            await self._with_webhook(
                thread.channel_id,
                lambda webhook: self._port.delete_webhook_message(
                    webhook, thread.thread_id, message_id
                ),
            )

    # --- progress ------------------------------------------------------------------------

    async def progress(self, thread: MirrorThread, row: OutboxRow) -> None:
        marker, final = row.payload["marker"], bool(row.payload["final"])
        if final and thread.progress_marker != marker:
            return  # finished before a crash, or a newer backfill's message took over
        spec = await self._progress_spec(thread, marker, final=final)
        if thread.progress_marker == marker and thread.progress_message_id is not None:
            with contextlib.suppress(MessageGone):  # a moderator deleted it: fine
                await self._port.edit_message(thread.thread_id, thread.progress_message_id, spec)
        else:
            found = None
            if thread.progress_marker == marker:  # posted before a crash, maybe
                found = await self._find(thread.thread_id, marker)
            if found is None:
                await self._mirror.reserve_progress(thread.thread_id, marker)
                found = await self._port.post_message(thread.thread_id, spec)
            await self._mirror.record_progress(thread.thread_id, marker, found)
        if final:  # comments that come later must not turn it back into "Mirroring…"
            await self._mirror.finish_progress(thread.thread_id, marker)

    async def _progress_spec(
        self, thread: MirrorThread, marker: str, *, final: bool
    ) -> MessageSpec:
        counts = await self._mirror.counts(thread.thread_id)
        done, waiting = counts.get("mirrored", 0), counts.get("pending", 0)
        link = review_url(await self._mirror.any_link(thread.thread_id))
        return progress_spec(
            done=done, total=done + waiting, finished=final or not waiting, link=link, marker=marker
        )

    async def _progress_tick(self, thread: MirrorThread) -> None:
        """Best effort, at most every `progress_interval`: the final row has the last word."""
        if thread.progress_message_id is None or thread.progress_marker is None:
            return
        now = self._clock.monotonic()
        if (
            now - self._progress_edited.get(thread.thread_id, float("-inf"))
            < self._progress_interval
        ):
            return
        self._progress_edited[thread.thread_id] = now
        spec = await self._progress_spec(thread, thread.progress_marker, final=False)
        with contextlib.suppress(MessageGone, ThreadUnavailable):
            await self._port.edit_message(thread.thread_id, thread.progress_message_id, spec)

    # --- resync --------------------------------------------------------------------------

    async def resync(self, thread: MirrorThread, row: OutboxRow) -> None:
        """Compare the thread with the mapping: adopt or drop unknown sends, delete extra
        messages, re-post missing ones and edit stale ones."""
        listed = await self._port.list_webhook_messages(thread.thread_id)
        posted = {p.message_id: p for p in listed}
        await self._adopt_reservations(thread, posted)
        stored = await self._mirror.thread_messages(thread.thread_id)
        for message_id in posted.keys() - {m.message_id for m in stored}:
            await self._delete(thread, message_id)
        comments = await self._mirror.comments(thread.thread_id, {m.comment_id for m in stored})
        checked: set[int] = set()
        for message, message_id in _sent(stored):
            comment = comments.get(message.comment_id)
            if comment is None or comment.state != "mirrored" or message_id in checked:
                continue
            if comment.render_key == FROM_DISCORD:
                continue  # the member's own message shows it
            group = [m for m in stored if m.comment_id == comment.comment_id]
            if message.packed:
                group = [m for m in stored if m.message_id == message_id]
            checked.update(m.message_id for m in group if m.message_id is not None)
            await self._check(thread, comment, group, posted)

    async def _adopt_reservations(
        self, thread: MirrorThread, posted: dict[int, PostedMessage]
    ) -> None:
        carried = {
            marker: p.message_id for p in posted.values() for marker in markers_in(p.payload)
        }
        for message in await self._mirror.thread_messages(thread.thread_id):
            if message.message_id is not None:
                continue
            found = carried.get(message.marker)
            if found is None:
                await self._mirror.drop_reservation(thread.thread_id, message.marker)
            else:
                await self._mirror.record_sent(thread.thread_id, message.marker, found, None)

    async def _check(
        self,
        thread: MirrorThread,
        comment: StoredComment,
        group: list[StoredMessage],
        posted: dict[int, PostedMessage],
    ) -> None:
        """One comment's messages, or one packed message, against what Discord holds."""
        present = [m for m in group if m.message_id in posted]
        if len(present) < len(group):
            await self._restore(thread, comment, group, present)
            return
        specs = await self._expected(thread, comment, group)
        stale = len(specs) != len(group) or any(
            visible_form(spec) != visible_form(posted[message_id].payload)
            for spec, (_, message_id) in zip(specs, _sent(group), strict=False)
        )
        if stale:
            for _, message_id in _sent(group):
                await self._mirror.set_rendered(thread.thread_id, message_id, None)
            await self._refresh(thread, comment)

    async def _restore(
        self,
        thread: MirrorThread,
        comment: StoredComment,
        group: list[StoredMessage],
        present: list[StoredMessage],
    ) -> None:
        """Some of its messages were deleted in Discord: post the comment(s) again, late."""
        if not group[0].packed:
            await self._repost(thread, comment, present)
            return
        members = await self._mirror.comments(thread.thread_id, [m.comment_id for m in group])
        for member in members.values():
            await self._repost(thread, member, [])

    async def _expected(
        self, thread: MirrorThread, comment: StoredComment, group: list[StoredMessage]
    ) -> list[MessageSpec]:
        if group[0].packed:
            entries = await self._pack_entries(thread, group)
            return [render_pack(entries, blog_name=self._blog_name, marker=group[0].marker)]
        return render_single(await self._entry(thread, comment), blog_name=self._blog_name)

    # --- shared --------------------------------------------------------------------------

    async def _entry(
        self, thread: MirrorThread, comment: StoredComment, pack_ids: frozenset[str] = frozenset()
    ) -> Entry:
        parent = None
        if comment.parent_comment_id:
            parent = await self._parent(thread, comment.parent_comment_id, pack_ids)
        snapshot = CommentSnapshot.from_json(comment.snapshot)
        return Entry(snapshot, comment.marker, parent, comment.late)

    async def _parent(
        self, thread: MirrorThread, parent_id: str, pack_ids: frozenset[str]
    ) -> ParentRef:
        stored = await self._mirror.comment(thread.thread_id, parent_id)
        if stored is None or stored.state == "removing":
            return ParentRef(None)  # held, trashed or deleted on the blog: the reply stays
        parent = CommentSnapshot.from_json(stored.snapshot)
        if parent_id in pack_ids:
            return ParentRef(parent.author, parent.content_html, above=True)
        message_id = await self._mirror.first_message_id(thread.thread_id, parent_id)
        jump = jump_url(thread.guild_id, thread.thread_id, message_id) if message_id else None
        return ParentRef(parent.author, parent.content_html, jump)

    async def _with_webhook(self, channel_id: int, call: Callable[[int], Awaitable[T]]) -> T:
        webhook_id = await self._webhook(channel_id)
        try:
            return await call(webhook_id)
        except WebhookGone as error:
            # Someone deleted our webhook: forget it; the retry makes a new one.
            self._webhook_ids.pop(channel_id, None)
            await self._webhooks.forget(channel_id, webhook_id)
            raise RetryLater("the channel's webhook was deleted; making a new one") from error

    async def _webhook(self, channel_id: int) -> int:
        cached = self._webhook_ids.get(channel_id)
        if cached is not None:
            return cached
        known = await self._webhooks.get(channel_id)
        webhook_id = await self._port.ensure_webhook(channel_id, known)
        if webhook_id != known:
            await self._webhooks.set(channel_id, webhook_id)
        self._webhook_ids[channel_id] = webhook_id
        return webhook_id

    def _now(self) -> float:
        return self._clock.time()


def _sent(messages: Sequence[StoredMessage]) -> list[tuple[StoredMessage, int]]:
    """Messages with their ids; reservations (no id yet) are left out."""
    return [(m, m.message_id) for m in messages if m.message_id is not None]
