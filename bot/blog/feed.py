"""Read-only RSS/Atom connector: any blog with a feed, WordPress or not."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

import aiohttp
import feedparser
from yarl import URL

from bot.blog.errors import BlogError, NotFound, ReadOnlyBlog
from bot.blog.markup import critic_score, first_image, parse_html
from bot.blog.models import BlogComment, PollResult, PollState, Review, to_utc
from bot.blog.transport import Response, RetryPolicy, send
from bot.domain.text import excerpt, plain_text

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # entries without any date sort last, stably


class FeedBlog:
    """A blog known only by its feed: reviews yes, comments no, writes never."""

    def __init__(
        self, session: aiohttp.ClientSession, feed_url: str, *, retry: RetryPolicy | None = None
    ) -> None:
        self._session = session
        self.feed_url = URL(feed_url)
        self._retry = retry or RetryPolicy()
        self._etag: str | None = None
        self._last_modified: str | None = None
        self._reviews: list[Review] = []

    def __repr__(self) -> str:
        return f"FeedBlog(feed_url={str(self.feed_url)!r})"

    @property
    def writable(self) -> bool:
        return False

    async def _fetch(self, etag: str | None, last_modified: str | None) -> Response:
        """A conditional GET: an unchanged feed costs one 304 and no parsing."""
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = await send(
            self._session,
            "GET",
            self.feed_url,
            policy=self._retry,
            idempotent=True,
            what=f"The feed {self.feed_url}",
            headers=headers,
        )
        if response.status == 304 or response.ok:
            return response
        if response.status in (404, 410):
            raise NotFound(
                f"The feed {self.feed_url} does not exist (HTTP {response.status}); "
                "check the feed address."
            )
        raise BlogError(f"The feed {self.feed_url} answered HTTP {response.status}.")

    async def _current(self) -> list[Review]:
        response = await self._fetch(self._etag, self._last_modified)
        if response.status != 304:
            self._reviews = reviews_from_feed(response.body, str(response.url))
            self._etag = response.headers.get("ETag")
            self._last_modified = response.headers.get("Last-Modified")
        return self._reviews

    async def list_reviews(
        self, since: datetime | None = None, limit: int | None = None
    ) -> list[Review]:
        after = to_utc(since) if since is not None else None
        reviews = [r for r in await self._current() if after is None or r.published > after]
        return reviews[:limit] if limit is not None else reviews

    async def get_review(self, review_id: str) -> Review | None:
        return next((r for r in await self._current() if r.id == review_id), None)

    async def find_review_by_url(self, url: str) -> Review | None:
        wanted = _comparable(url)
        return next((r for r in await self._current() if _comparable(r.url) == wanted), None)

    async def list_comments(self, review_id: str) -> list[BlogComment]:
        return []  # a feed carries no comments

    async def get_comment(self, comment_id: str) -> BlogComment | None:
        return None

    async def poll(self, state: PollState) -> PollResult:
        response = await self._fetch(state.etag, state.last_modified)
        if response.status == 304:
            return PollResult(state=state)
        reviews = reviews_from_feed(response.body, str(response.url))
        new_state = PollState(
            review_versions={r.id: r.version for r in reviews},
            reviews_total=len(reviews),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )
        if state.is_baseline:
            return PollResult(state=new_state)
        known = state.review_versions
        changed = tuple(r for r in reviews if known.get(r.id) != r.version)
        return PollResult(state=new_state, reviews=changed)

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
        raise _read_only()

    async def find_comment_by_marker(self, review_id: str, marker: str) -> BlogComment | None:
        raise _read_only()

    async def edit_comment(
        self, comment_id: str, content_html: str, *, marker: str | None = None
    ) -> BlogComment:
        raise _read_only()

    async def delete_comment(self, comment_id: str) -> None:
        raise _read_only()


def _read_only() -> ReadOnlyBlog:
    return ReadOnlyBlog(
        "This blog is connected through its feed, which is read-only: comments from Discord "
        "stay in Discord. Connect the WordPress site with an Editor's Application Password "
        "to post them on the blog."
    )


def reviews_from_feed(body: bytes, base_url: str) -> list[Review]:
    """Entries of an RSS/Atom document as reviews, newest first, one per guid."""
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    if parsed.bozo and not parsed.entries:
        raise BlogError(f"{base_url} is not a readable RSS or Atom feed ({parsed.bozo_exception}).")
    reviews: dict[str, Review] = {}
    for entry in parsed.entries:
        review = review_from_entry(entry)
        reviews.setdefault(review.id, review)  # a repeated guid is the same review
    return sorted(reviews.values(), key=lambda r: r.published, reverse=True)


def entry_id(guid: str) -> str:
    """A short, stable review id from a feed guid, which is often a long URL.

    Ids end up in Discord custom ids (at most 100 characters), so they must stay short.
    """
    if len(guid) <= 40 and guid.replace("-", "").isalnum():
        return guid
    return "feed-" + hashlib.sha256(guid.encode()).hexdigest()[:24]


def review_from_entry(entry: Any) -> Review:
    content = entry["content"][0]["value"] if entry.get("content") else entry.get("summary", "")
    # dict.get skips feedparser's deprecated updated -> published aliasing.
    updated = dict.get(entry, "updated_parsed")
    published = _utc(dict.get(entry, "published_parsed") or updated)
    link = entry.get("link", "")
    return Review(
        id=entry_id(entry.get("id") or link),
        title=plain_text(entry.get("title", "")),
        url=link,
        author=entry.get("author", ""),
        published=published,
        modified=_utc(updated) if updated else published,
        excerpt=excerpt(plain_text(entry.get("summary", ""))),
        image_url=_entry_image(entry) or first_image(parse_html(content), link or None),
        categories=tuple(t["term"] for t in entry.get("tags", []) if t.get("term")),
        score=critic_score(content),
        content_html=content,
    )


def _utc(value: time.struct_time | None) -> datetime:
    # feedparser normalises every date it understands to a UTC struct_time.
    return datetime(*value[:6], tzinfo=UTC) if value else _EPOCH


def _entry_image(entry: Any) -> str | None:
    media = [*entry.get("media_content", []), *entry.get("media_thumbnail", [])]
    for item in media:
        if item.get("url") and item.get("medium", "image") == "image":
            return str(item["url"])
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return str(link["href"])
    return None


def _comparable(url: str) -> str:
    link = URL(url)
    host = (link.host or "").lower().removeprefix("www.")
    return f"{host}{link.path.rstrip('/')}?{link.query_string}"
