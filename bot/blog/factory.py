"""Pick the connector that fits the configured blog."""

from __future__ import annotations

import logging

import aiohttp
from yarl import URL

from bot.blog.base import Blog
from bot.blog.errors import BlogError, NotFound
from bot.blog.feed import FeedBlog
from bot.blog.markup import parse_html
from bot.blog.transport import RetryPolicy, send
from bot.blog.wordpress import WordPressBlog

log = logging.getLogger(__name__)

FEED_TYPES = ("application/rss+xml", "application/atom+xml")


async def build_blog(
    session: aiohttp.ClientSession,
    *,
    site_url: str | None = None,
    feed_url: str | None = None,
    user: str | None = None,
    app_password: str | None = None,
    retry: RetryPolicy | None = None,
) -> Blog:
    """WordPress REST when the site has it, else its feed (given, or found on the home page).

    Credentials need the REST API: without it the error says so rather than silently
    connecting read-only.
    """
    if not site_url:
        if not feed_url:
            raise BlogError("Configure the blog's site address or its feed address.")
        return FeedBlog(session, feed_url, retry=retry)
    wordpress = WordPressBlog(session, site_url, user, app_password, retry=retry)
    try:
        await wordpress.rest_root()
        return wordpress
    except NotFound:
        if user and app_password:
            raise
    found = feed_url or await discover_feed(session, site_url, retry=retry or RetryPolicy())
    if not found:
        raise NotFound(
            f"{site_url} has neither a WordPress REST API nor an RSS/Atom feed link; "
            "configure the feed address."
        )
    log.info("no REST API, reading the feed site=%s feed=%s", site_url, found)
    return FeedBlog(session, found, retry=retry)


async def discover_feed(
    session: aiohttp.ClientSession, site_url: str, *, retry: RetryPolicy
) -> str | None:
    """The feed a page advertises with `<link rel="alternate" type="application/rss+xml">`."""
    page = await send(
        session, "GET", URL(site_url), policy=retry, idempotent=True, what=f"The blog at {site_url}"
    )
    soup = parse_html(page.body.decode("utf-8", "replace"))
    for link in soup.find_all("link", rel="alternate", href=True):
        if str(link.get("type", "")).lower() in FEED_TYPES:
            return str(page.url.join(URL(str(link["href"]))))
    return None
