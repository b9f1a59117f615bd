"""Posting, editing and trashing comments on WordPress, and every refusal it can answer."""

from __future__ import annotations

import aiohttp
import pytest

from bot.blog.errors import (
    BadCredentials,
    CommentFlood,
    CommentsClosed,
    DuplicateComment,
    InsufficientRole,
    InvalidParent,
    NotFound,
    ReadOnlyBlog,
)
from bot.blog.wordpress import WordPressBlog
from tests.component.conftest import BOT_LOGIN, FAST_RETRY
from tests.component.fake_wordpress import FakeWordPress


async def test_member_reply_appears_under_parent_with_member_name(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her")
    reader = wp.add_comment(post, "Loved it", author_name="Claire")
    created = await blog.create_comment(
        str(post.id),
        parent_id=str(reader.id),
        author_name="DiscordMember",
        content_html="<p>Me too!</p>",
        marker="msg-1234",
    )
    assert (created.parent_id, created.author, created.status) == (
        str(reader.id),
        "DiscordMember",
        "approved",
    )
    stored = wp.comments[int(created.id)]
    assert stored.user_id == wp.users[2].id  # still owned by the bot's Editor account
    thread = await blog.list_comments(str(post.id))
    assert [c.id for c in thread] == [str(reader.id), created.id]
    assert "msg-1234" not in thread[1].as_json()["text"]


async def test_reply_to_a_comment_of_another_review_is_refused_before_posting(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    her, arrival = wp.add_post("Her"), wp.add_post("Arrival")
    elsewhere = wp.add_comment(arrival, "On Arrival")
    with pytest.raises(InvalidParent, match="another review"):
        await blog.create_comment(
            str(her.id), parent_id=str(elsewhere.id), author_name="M", content_html="<p>x</p>"
        )
    with pytest.raises(InvalidParent, match="no longer exists"):
        await blog.create_comment(
            str(her.id), parent_id="9999", author_name="M", content_html="<p>x</p>"
        )
    assert wp.count(method="POST") == 0


async def test_held_comment_comes_back_as_held(
    wp: FakeWordPress, blog: WordPressBlog, session: aiohttp.ClientSession
) -> None:
    wp.add_user("author", "pass word", role="author")
    post = wp.add_post("Her")
    as_author = WordPressBlog(session, wp.url, "author", "pass word", retry=FAST_RETRY)
    wp.moderation = True
    created = await as_author.create_comment(
        str(post.id), parent_id=None, author_name="M", content_html="<p>Hold me</p>"
    )
    assert created.status == "hold"
    assert await blog.list_comments(str(post.id)) == []


async def test_marker_finds_a_comment_whose_answer_was_lost(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her")
    created = await blog.create_comment(
        str(post.id), parent_id=None, author_name="M", content_html="<p>Once</p>", marker="rb-42"
    )
    found = await blog.find_comment_by_marker(str(post.id), "rb-42")
    assert found is not None and found.id == created.id
    assert await blog.find_comment_by_marker(str(post.id), "rb-4") is None
    with pytest.raises(ValueError, match="marker"):
        await blog.create_comment(
            str(post.id),
            parent_id=None,
            author_name="M",
            content_html="<p>x</p>",
            marker="bad--marker",
        )


async def test_edit_changes_content_hash_and_delete_is_idempotent(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her")
    comment = wp.add_comment(post, "Typo'd")
    before = await blog.get_comment(str(comment.id))
    edited = await blog.edit_comment(str(comment.id), "<p>Fixed</p>")
    assert before is not None and edited.content_hash != before.content_hash
    await blog.delete_comment(str(comment.id))
    assert wp.comments[comment.id].status == "trash"
    await blog.delete_comment(str(comment.id))  # already trashed: 410, fine
    await blog.delete_comment("31337")  # never existed: 404, fine


async def test_wrong_app_password_is_reported_as_bad_credentials(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    post = wp.add_post("Her")
    wrong = WordPressBlog(session, wp.url, BOT_LOGIN, "not the password", retry=FAST_RETRY)
    with pytest.raises(BadCredentials, match="Application Password"):
        await wrong.create_comment(
            str(post.id), parent_id=None, author_name="M", content_html="<p>x</p>"
        )
    with pytest.raises(BadCredentials):
        await wrong.check_write_access()


async def test_author_account_is_told_to_become_an_editor(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    wp.add_user("author", "pass word", role="author")
    comment = wp.add_comment(wp.add_post("Her"), "Someone else's")
    as_author = WordPressBlog(session, wp.url, "author", "pass word", retry=FAST_RETRY)
    with pytest.raises(InsufficientRole, match="must be an Editor"):
        await as_author.edit_comment(str(comment.id), "<p>x</p>")
    with pytest.raises(InsufficientRole, match="must be an Editor"):
        await as_author.check_write_access()


async def test_author_account_meets_the_flood_check(
    wp: FakeWordPress, session: aiohttp.ClientSession
) -> None:
    wp.add_user("author", "pass word", role="author")
    post = wp.add_post("Her")
    as_author = WordPressBlog(session, wp.url, "author", "pass word", retry=FAST_RETRY)
    await as_author.create_comment(
        str(post.id), parent_id=None, author_name="A", content_html="<p>one</p>"
    )
    with pytest.raises(CommentFlood, match="too quickly"):
        await as_author.create_comment(
            str(post.id), parent_id=None, author_name="B", content_html="<p>two</p>"
        )


async def test_closed_duplicate_and_missing_are_told_apart(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    closed = wp.add_post("Old review", comments_open=False)
    with pytest.raises(CommentsClosed, match="closed"):
        await blog.create_comment(
            str(closed.id), parent_id=None, author_name="M", content_html="<p>x</p>"
        )
    post = wp.add_post("Her")
    await blog.create_comment(
        str(post.id), parent_id=None, author_name="M", content_html="<p>same</p>"
    )
    with pytest.raises(DuplicateComment, match="already has this exact comment"):
        await blog.create_comment(
            str(post.id), parent_id=None, author_name="M", content_html="<p>same</p>"
        )
    with pytest.raises(NotFound, match="not found"):
        await blog.create_comment("777", parent_id=None, author_name="M", content_html="<p>x</p>")
    with pytest.raises(NotFound):
        await blog.edit_comment("9999", "<p>x</p>")


async def test_blog_without_credentials_is_read_only(
    wp: FakeWordPress, reader_blog: WordPressBlog
) -> None:
    post = wp.add_post("Her")
    assert not reader_blog.writable
    with pytest.raises(ReadOnlyBlog, match="Application Password"):
        await reader_blog.create_comment(
            str(post.id), parent_id=None, author_name="M", content_html="<p>x</p>"
        )
    assert wp.count(method="POST") == 0


def test_repr_never_shows_the_password(blog: WordPressBlog) -> None:
    assert "abcd" not in repr(blog) and "***" in repr(blog)
