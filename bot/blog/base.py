"""The one interface the bot uses to talk to a blog, whatever engine serves it."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from bot.blog.models import BlogComment, PollResult, PollState, Review


@runtime_checkable
class Blog(Protocol):
    """A review blog. Reads work everywhere; writes raise ReadOnlyBlog unless `writable`."""

    @property
    def writable(self) -> bool: ...

    async def list_reviews(
        self, since: datetime | None = None, limit: int | None = None
    ) -> list[Review]:
        """Published reviews, newest first, optionally only those published after `since`."""
        ...

    async def get_review(self, review_id: str) -> Review | None: ...

    async def find_review_by_url(self, url: str) -> Review | None:
        """The review a link points to, or None when the link is not one of this blog's."""
        ...

    async def list_comments(self, review_id: str) -> list[BlogComment]:
        """Approved comments in display order: threads, parents first, oldest first."""
        ...

    async def get_comment(self, comment_id: str) -> BlogComment | None: ...

    async def poll(self, state: PollState) -> PollResult:
        """Cheap change probe: at most two requests when nothing changed."""
        ...

    async def create_comment(
        self,
        review_id: str,
        *,
        parent_id: str | None,
        author_name: str,
        content_html: str,
        marker: str | None = None,
        held: bool = False,
    ) -> BlogComment:
        """Post as the bot's account under `author_name`; `held` puts it in the blog's
        moderation queue instead of publishing it."""
        ...

    async def find_comment_by_marker(self, review_id: str, marker: str) -> BlogComment | None:
        """The comment a create with this marker made, to check before retrying it."""
        ...

    async def edit_comment(
        self, comment_id: str, content_html: str, *, marker: str | None = None
    ) -> BlogComment:
        """Replace the text; `marker` keeps the create's marker in it."""
        ...

    async def delete_comment(self, comment_id: str) -> None:
        """Move to the trash; a comment already gone is fine."""
        ...
