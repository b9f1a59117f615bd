"""Blog data the bot works with, independent of the blog engine."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from bot.domain.scores import CriticScore
from bot.domain.text import html_to_discord

CommentStatus = Literal["approved", "hold", "spam", "trash"]


def to_utc(value: datetime) -> datetime:
    """Return `value` in UTC; naive datetimes are refused because their zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: give it a time zone")
    return value.astimezone(UTC)


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, to the second."""
    return to_utc(value).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_id(value: str) -> int | str:
    return int(value) if value.isdigit() else value


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    title: str
    url: str
    author: str
    published: datetime
    modified: datetime
    excerpt: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    score: CriticScore | None = None
    content_html: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", to_utc(self.published))
        object.__setattr__(self, "modified", to_utc(self.modified))

    @property
    def version(self) -> str:
        """Changes whenever the review is edited; the poll compares it."""
        return iso_utc(self.modified)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "published": iso_utc(self.published),
            "author": self.author,
            "score": self.score.as_json() if self.score else None,
            "excerpt": self.excerpt,
            "image": self.image_url,
            "categories": list(self.categories),
            "tags": list(self.tags),
        }


def content_hash(html: str) -> str:
    """Hash of the rendered content, blind to whitespace-only differences."""
    normalized = re.sub(r"\s+", " ", html).strip()
    return hashlib.sha256(normalized.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class BlogComment:
    id: str
    review_id: str
    parent_id: str | None
    author: str
    published: datetime
    content_html: str
    link: str
    status: CommentStatus = "approved"
    author_avatar_url: str | None = None
    author_url: str | None = None
    content_hash: str = field(init=False, default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "published", to_utc(self.published))
        if self.parent_id in ("", "0"):
            object.__setattr__(self, "parent_id", None)
        # WordPress comments have no modified date: the hash is how edits show.
        object.__setattr__(self, "content_hash", content_hash(self.content_html))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": _json_id(self.id),
            "parent": _json_id(self.parent_id) if self.parent_id else 0,
            "author": self.author,
            "published": iso_utc(self.published),
            "text": html_to_discord(self.content_html, base_url=self.link or None),
            "status": self.status,
            "avatar": self.author_avatar_url,
        }


def _id_key(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def thread_order(comments: Iterable[BlogComment]) -> list[BlogComment]:
    """Order as WordPress displays threads: each parent before its replies, oldest first.

    Replies whose parent is not visible (held, trashed) follow at the end, as WordPress does.
    """
    ordered = sorted(comments, key=lambda c: (c.published, _id_key(c.id)))
    visible = {c.id for c in ordered}
    children: defaultdict[str, list[BlogComment]] = defaultdict(list)
    for comment in ordered:
        if comment.parent_id in visible:
            children[comment.parent_id].append(comment)
    roots = [c for c in ordered if c.parent_id is None]
    orphans = [c for c in ordered if c.parent_id is not None and c.parent_id not in visible]
    result: list[BlogComment] = []
    emitted: set[str] = set()
    # Last come comments in a parent loop (WordPress does not check parents): none is a root.
    for start in (*roots, *orphans, *ordered):
        stack = [start]
        while stack:
            comment = stack.pop()
            if comment.id not in emitted:
                emitted.add(comment.id)
                result.append(comment)
                stack.extend(reversed(children[comment.id]))
    return result


@dataclass(frozen=True, slots=True)
class CommentRef:
    """A comment seen by the cheap poll: enough to know which thread to refresh."""

    id: str
    review_id: str


@dataclass(frozen=True, slots=True)
class PollState:
    """What the previous poll saw; store `as_json()` and give it back to the next poll.

    An empty state (the default) only records a baseline: the first poll reports nothing.
    """

    review_versions: Mapping[str, str] = field(default_factory=dict)
    reviews_total: int | None = None
    comments_max_id: int | None = None
    comments_total: int | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def is_baseline(self) -> bool:
        return self.reviews_total is None

    def as_json(self) -> dict[str, Any]:
        return {
            "review_versions": dict(self.review_versions),
            "reviews_total": self.reviews_total,
            "comments_max_id": self.comments_max_id,
            "comments_total": self.comments_total,
            "etag": self.etag,
            "last_modified": self.last_modified,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PollState:
        return replace(cls(), **{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True, slots=True)
class PollResult:
    """Outcome of one cheap poll; `state` replaces the stored state once handled."""

    state: PollState
    reviews: tuple[Review, ...] = ()
    new_comments: tuple[CommentRef, ...] = ()
    comments_total_changed: bool = False
    reviews_total_changed: bool = False

    @property
    def comments_changed(self) -> bool:
        """New comments, or the approved total moved (late approval, trash, spam, unapproval)."""
        return bool(self.new_comments) or self.comments_total_changed
