"""Typed blog errors whose messages a person (member or admin) can act on."""

from __future__ import annotations


class BlogError(Exception):
    """Base class: anything the blog connectors raise on purpose."""


class BlogUnavailable(BlogError):
    """The blog did not answer usefully (network error, timeout or 5xx) after retries."""


class OutcomeUnknown(BlogUnavailable):
    """A write may or may not have happened; look for it by its marker before retrying."""

    def __init__(self, message: str, *, marker: str | None = None) -> None:
        super().__init__(message)
        self.marker = marker


class BadCredentials(BlogError):
    """WordPress treated the request as anonymous: user name or Application Password is wrong."""


class InsufficientRole(BlogError):
    """The WordPress user is logged in but may not do this."""


class CommentsClosed(BlogError):
    """Comments are closed on this review."""


class DuplicateComment(BlogError):
    """WordPress refused an identical comment posted a second time."""


class CommentFlood(BlogError):
    """WordPress refused a comment posted too soon after the previous one."""


class NotFound(BlogError):
    """The review, comment or API does not exist (or is not public)."""


class InvalidParent(BlogError):
    """The comment to reply to does not belong to the same review."""


class ReadOnlyBlog(BlogError):
    """The blog connector cannot write (a feed, or WordPress without credentials)."""


class UnsafeURL(BlogError):
    """A shared link the bot refuses to open (private address, bad scheme, too large...)."""


class LinkUnavailable(BlogError):
    """A shared link could not be loaded (timeout, connection refused)."""
