"""Timeouts, retries with backoff and Retry-After, and writes whose outcome is unknown."""

from __future__ import annotations

import time

import aiohttp
import pytest

from bot.blog.errors import BlogUnavailable, OutcomeUnknown
from bot.blog.transport import RetryPolicy, retry_after_seconds
from bot.blog.wordpress import WordPressBlog
from tests.component.conftest import BOT_LOGIN, BOT_PASSWORD
from tests.component.fake_wordpress import FakeWordPress


async def test_reads_retry_server_errors_then_succeed(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    wp.add_post("Her")
    await blog.rest_root()
    wp.fail_next(2, status=500, path="/wp/v2/posts")
    reviews = await blog.list_reviews()
    assert [r.title for r in reviews] == ["Her"]
    assert wp.count(path="/wp/v2/posts") == 3


async def test_retry_after_is_honoured(wp: FakeWordPress, blog: WordPressBlog) -> None:
    wp.add_post("Her")
    await blog.rest_root()
    wp.fail_next(1, status=503, retry_after="1", path="/wp/v2/posts")
    started = time.monotonic()
    await blog.list_reviews()
    assert time.monotonic() - started >= 0.95


async def test_too_long_retry_after_gives_up_with_a_clear_message(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    await blog.rest_root()
    wp.fail_next(1, status=503, retry_after="3600", path="/wp/v2/posts")
    with pytest.raises(BlogUnavailable, match="wait 3600 s"):
        await blog.list_reviews()
    assert wp.count(path="/wp/v2/posts") == 1


async def test_lasting_outage_raises_blog_unavailable(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    await blog.rest_root()
    wp.fail_next(10, status=502, path="/wp/v2/comments")
    with pytest.raises(BlogUnavailable, match=r"HTTP 502.*try again later"):
        await blog.list_comments("1")
    assert wp.count(path="/wp/v2/comments") == 3  # FAST_RETRY.attempts


async def test_unreachable_blog_raises_blog_unavailable(session: aiohttp.ClientSession) -> None:
    fake = FakeWordPress()
    async with fake.serve():
        url = fake.url
    blog = WordPressBlog(session, url, retry=RetryPolicy(attempts=2, base_delay=0.01))
    with pytest.raises(BlogUnavailable, match="cannot connect"):
        await blog.list_reviews()


async def test_slow_read_times_out_and_is_retried(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    wp.add_post("Her")
    blog = WordPressBlog(
        session, wp.url, retry=RetryPolicy(attempts=2, base_delay=0.01, timeout=0.3)
    )
    await blog.rest_root()
    wp.delay_next(1, seconds=1.0, path="/wp/v2/posts")
    assert [r.title for r in await blog.list_reviews()] == ["Her"]


async def test_create_whose_answer_times_out_is_outcome_unknown_and_found_by_marker(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    blog = WordPressBlog(
        session,
        wp.url,
        BOT_LOGIN,
        BOT_PASSWORD,
        retry=RetryPolicy(attempts=3, base_delay=0.01, timeout=0.5),
    )
    post = wp.add_post("Her")
    await blog.rest_root()
    wp.delay_next(1, seconds=1.5, after_handling=True, method="POST", path="/wp/v2/comments")
    with pytest.raises(OutcomeUnknown, match="may or may not") as caught:
        await blog.create_comment(
            str(post.id),
            parent_id=None,
            author_name="M",
            content_html="<p>Hello</p>",
            marker="discord-99",
        )
    assert caught.value.marker == "discord-99"
    assert wp.count(method="POST") == 1  # never blindly repeated
    found = await blog.find_comment_by_marker(str(post.id), "discord-99")
    assert found is not None and found.author == "M"


async def test_create_answered_with_a_server_error_is_not_repeated(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her")
    await blog.rest_root()
    wp.fail_next(1, status=500, method="POST", path="/wp/v2/comments")
    with pytest.raises(OutcomeUnknown):
        await blog.create_comment(
            str(post.id), parent_id=None, author_name="M", content_html="<p>x</p>", marker="m-1"
        )
    assert wp.count(method="POST") == 1


async def test_rate_limited_create_is_retried(wp: FakeWordPress, blog: WordPressBlog) -> None:
    post = wp.add_post("Her")
    await blog.rest_root()
    wp.fail_next(1, status=429, retry_after="0", method="POST", path="/wp/v2/comments")
    created = await blog.create_comment(
        str(post.id), parent_id=None, author_name="M", content_html="<p>x</p>"
    )
    assert created.author == "M"
    assert wp.count(method="POST") == 2


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert 0.5 <= policy.backoff(0) <= 1.0
    assert 2.0 <= policy.backoff(2) <= 4.0
    assert 4.0 <= policy.backoff(10) <= 8.0
