"""What makes the mirror look at the blog: the watcher's polls and the plugin's pushes.

A poll names the new comments it saw: their reviews are hinted. When the comment total moved
more than the new comments explain (a trash, spam, unapproval or late approval), the poll
cannot say where, so every linked review is reconciled. WordPress comments have no modified
date, so a pure edit shows in no poll: every `reconcile_every` polls a full reconciliation
catches those (and anything a missed push or a restart left behind).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from bot.blog.models import CommentRef

log = logging.getLogger(__name__)

RECONCILE_EVERY = 10  # polls; with the default 60 s poll, edits show within ten minutes


class MirrorTarget(Protocol):
    async def hint(self, review_id: str, comment_id: str | None = None) -> None: ...

    def sync_all_soon(self) -> None: ...


class PollFollower:
    def __init__(self, engine: MirrorTarget, *, reconcile_every: int = RECONCILE_EVERY) -> None:
        self._engine = engine
        self._reconcile_every = reconcile_every
        self._polls = 0

    async def on_poll(self, new_comments: Sequence[CommentRef], total_changed: bool) -> None:
        """One watcher poll's comment news (called by the announcer after each poll)."""
        self._polls += 1
        if total_changed or self._polls % self._reconcile_every == 0:
            log.debug("mirror reconciliation poll=%d total_changed=%s", self._polls, total_changed)
            self._engine.sync_all_soon()
            return
        for ref in new_comments:
            await self._engine.hint(ref.review_id, ref.id)

    async def on_push(self, review_id: str, comment_id: str) -> None:
        """A verified push from the WordPress plugin (the push endpoint's `on_hint`)."""
        await self._engine.hint(review_id, comment_id)
