"""Build the blog-side services from the settings, for the bot and the CLI alike."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp

from bot.blog.base import Blog
from bot.blog.errors import BlogError
from bot.blog.factory import build_blog
from bot.blog.models import BlogComment, Review
from bot.blog.safe_http import SafeFetcher
from bot.config import Settings


def trusted_blog_hosts(settings: Settings) -> frozenset[str]:
    """The configured blog's own hosts, when the operator allowed them on private networks."""
    if not settings.blog_allow_private_host:
        return frozenset()
    urls = (settings.blog_url, settings.blog_feed_url)
    return frozenset(host for url in urls if url and (host := urlsplit(url).hostname))


def safe_fetcher(settings: Settings) -> SafeFetcher:
    return SafeFetcher(allowed_hosts=trusted_blog_hosts(settings))


async def blog_from_settings(settings: Settings, session: aiohttp.ClientSession) -> Blog:
    """The configured blog; raises BlogError with a fix when none is configured or reachable."""
    if not settings.blog_configured:
        raise BlogError("No blog is configured. Set BLOG_URL (WordPress) or BLOG_FEED_URL.")
    password = settings.wordpress_app_password
    return await build_blog(
        session,
        site_url=settings.blog_url,
        feed_url=settings.blog_feed_url,
        user=settings.wordpress_user,
        app_password=password.reveal() if password else None,
    )


class BlogHandle:
    """The configured blog, connected on first use and cached.

    Connecting asks the site for its API, so it must not happen at start-up: a blog that is
    down then would keep the bot from starting. Callers get a BlogError until it answers.
    """

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._settings = settings
        self._session = session
        self._blog: Blog | None = None
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return self._settings.blog_configured

    async def get(self) -> Blog:
        async with self._lock:
            if self._blog is None:
                self._blog = await blog_from_settings(self._settings, self._session)
            return self._blog


class HandleComments:
    """The mirror engine's `CommentSource` on a BlogHandle: the blog is connected on first use,
    so a blog that is down at start-up only delays mirroring (BlogError until it answers)."""

    def __init__(self, handle: BlogHandle) -> None:
        self._handle = handle

    async def get_review(self, review_id: str) -> Review | None:
        return await (await self._handle.get()).get_review(review_id)

    async def list_comments(self, review_id: str) -> list[BlogComment]:
        return await (await self._handle.get()).list_comments(review_id)
