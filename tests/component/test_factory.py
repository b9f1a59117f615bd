"""Choosing the connector from the configured addresses."""

from __future__ import annotations

import aiohttp
import pytest

from bot.blog.base import Blog
from bot.blog.errors import BlogError, NotFound
from bot.blog.factory import build_blog
from bot.blog.feed import FeedBlog
from bot.blog.wordpress import WordPressBlog
from tests.component.conftest import BOT_LOGIN, BOT_PASSWORD, FAST_RETRY
from tests.component.fake_wordpress import FakeWordPress


async def test_wordpress_site_gets_the_rest_connector(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    blog = await build_blog(
        session, site_url=wp.url, user=BOT_LOGIN, app_password=BOT_PASSWORD, retry=FAST_RETRY
    )
    assert isinstance(blog, WordPressBlog) and blog.writable
    assert isinstance(blog, Blog)


async def test_site_without_rest_api_falls_back_to_its_advertised_feed(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeWordPress(rest_api=False)
    fake.add_post("Her")
    async with fake.serve():
        blog = await build_blog(session, site_url=fake.url, retry=FAST_RETRY)
        assert isinstance(blog, FeedBlog) and str(blog.feed_url) == f"{fake.url}/feed/"
        assert [r.title for r in await blog.list_reviews()] == ["Her"]


async def test_credentials_without_rest_api_are_an_error_not_a_silent_read_only_blog(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeWordPress(rest_api=False)
    async with fake.serve():
        with pytest.raises(NotFound, match="No WordPress REST API"):
            await build_blog(
                session, site_url=fake.url, user="u", app_password="p", retry=FAST_RETRY
            )


async def test_feed_address_alone_gives_a_feed_blog(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    blog = await build_blog(session, feed_url=f"{wp.url}/feed/")
    assert isinstance(blog, FeedBlog) and not blog.writable
    assert isinstance(blog, Blog)
    with pytest.raises(BlogError, match="site address or its feed"):
        await build_blog(session)
