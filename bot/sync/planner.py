"""What a thread must change to show a review's approved comments: a pure diff, no I/O.

The blog's snapshot (approved comments in display order) is compared with what the thread
shows. Every comment gets a render key, a hash of everything its message displays, including
whether and how its parent is shown: a deleted, held or edited parent changes its replies'
keys, so they are edited to stay readable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from bot.blog.models import BlogComment
from bot.domain.replies import FROM_DISCORD, carries_discord_marker

# Backfills with more new comments than this are packed (10 per message) to be ~10x cheaper;
# live traffic and short threads get one message per comment so replies can be precise.
PACK_THRESHOLD = 20


@dataclass(frozen=True, slots=True)
class Mirrored:
    """What the thread shows (or is about to show) of one comment."""

    render_key: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Create:
    comment: BlogComment
    render_key: str
    position: int  # in the blog's display order
    late: bool  # newer comments are already shown: mark it with its original time
    packed: bool


@dataclass(frozen=True, slots=True)
class Update:
    comment: BlogComment
    render_key: str
    position: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Removes first, then creates in display order (parents before replies), then updates,
    which may need a parent's newly created message for their jump link."""

    creates: tuple[Create, ...] = ()
    updates: tuple[Update, ...] = ()
    removes: tuple[str, ...] = ()
    backfill: bool = False  # the thread showed nothing before
    # Comments the bot wrote for members that are no longer approved on the blog (held again,
    # trashed, spammed or deleted by a blog moderator): nothing to do in the thread, but the
    # members' replies follow (the Discord -> blog side looks them up).
    members_gone: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.creates or self.updates or self.removes)

    @property
    def packed(self) -> bool:
        return any(c.packed for c in self.creates)


def render_key(comment: BlogComment, parent: BlogComment | None) -> str:
    """Hash of what the comment's message shows; `parent` is None when it is not shown."""
    fields = (
        comment.content_hash,
        comment.author,
        comment.author_avatar_url or "",
        comment.link,
        comment.parent_id or "",
        "shown" if parent else "absent",
        parent.author if parent else "",
        parent.content_hash if parent else "",
    )
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()[:24]


def plan_thread(
    comments: Sequence[BlogComment],
    mirrored: Mapping[str, Mirrored],
    *,
    pack_threshold: int = PACK_THRESHOLD,
    thread_id: int | None = None,
) -> Plan:
    """The changes that make a thread showing `mirrored` show `comments` (approved, in order).
    Comments the bot posted for members of `thread_id` are never shown again: the members'
    own messages show them (from the moment they are sent, before the mapping knows them)."""
    wanted = _unique(comments)
    keys = {c.id: render_key(c, wanted.get(c.parent_id or "")) for c in wanted.values()}
    newest_shown = max((m.published for m in mirrored.values()), default=None)
    creates, updates = [], []
    for position, comment in enumerate(wanted.values()):
        shown = mirrored.get(comment.id)
        from_thread = thread_id is not None and carries_discord_marker(
            comment.content_html, thread_id
        )
        if (shown is None and from_thread) or (
            shown is not None and shown.render_key == FROM_DISCORD
        ):
            continue  # a member's Discord message, posted on the blog by us: shown already
        if shown is None:
            late = newest_shown is not None and comment.published < newest_shown
            creates.append(Create(comment, keys[comment.id], position, late, packed=False))
        elif shown.render_key != keys[comment.id]:
            updates.append(Update(comment, keys[comment.id], position))
    backfill = not mirrored
    if backfill and len(creates) > pack_threshold:
        creates = [replace(c, packed=True) for c in creates]
    gone = [comment_id for comment_id in mirrored if comment_id not in wanted]
    removes = tuple(c for c in gone if mirrored[c].render_key != FROM_DISCORD)
    members_gone = tuple(c for c in gone if mirrored[c].render_key == FROM_DISCORD)
    return Plan(tuple(creates), tuple(updates), removes, backfill, members_gone)


def _unique(comments: Sequence[BlogComment]) -> dict[str, BlogComment]:
    """By id, in the given order; a comment listed twice (pages shifting) counts once."""
    unique: dict[str, BlogComment] = {}
    for comment in comments:
        unique.setdefault(comment.id, comment)
    return unique


def apply_plan(plan: Plan, mirrored: Mapping[str, Mirrored]) -> dict[str, Mirrored]:
    """What the thread shows once the plan is carried out (the store does the same in SQL)."""
    removed = set(plan.removes)
    result = {k: v for k, v in mirrored.items() if k not in removed}
    for change in (*plan.creates, *plan.updates):
        result[change.comment.id] = Mirrored(change.render_key, change.comment.published)
    return result
