"""The cheap change probe: what it costs when idle and what it notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.blog.models import PollResult, PollState
from bot.blog.wordpress import WordPressBlog
from tests.component.fake_wordpress import FakeWordPress

T0 = datetime(2020, 1, 1, tzinfo=UTC)


def fill(wp: FakeWordPress, posts: int, comments_per_post: int = 0) -> None:
    for n in range(posts):
        post = wp.add_post(f"Review {n}", date=T0 + timedelta(hours=n))
        for k in range(comments_per_post):
            wp.add_comment(post, f"Comment {k} on {n}", date=T0 + timedelta(hours=n, minutes=k))


async def baseline(blog: WordPressBlog) -> PollState:
    first = await blog.poll(PollState())
    assert first.reviews == () and not first.comments_changed  # a baseline reports nothing
    return first.state


async def test_idle_poll_costs_two_requests_on_a_big_blog(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    fill(wp, posts=1_000, comments_per_post=20)
    state = await baseline(blog)
    wp.reset_counts()
    result = await blog.poll(state)
    assert wp.count() <= 2
    assert result.reviews == () and not result.comments_changed
    assert result.state == state


async def test_new_review_is_reported_once(wp: FakeWordPress, blog: WordPressBlog) -> None:
    fill(wp, posts=150)
    state = await baseline(blog)
    post = wp.add_post("Her", date=T0 + timedelta(days=400))
    result = await blog.poll(state)
    assert [r.id for r in result.reviews] == [str(post.id)]
    assert result.reviews_total_changed
    assert (await blog.poll(result.state)).reviews == ()


async def test_edited_review_is_reported(wp: FakeWordPress, blog: WordPressBlog) -> None:
    fill(wp, posts=150)
    state = await baseline(blog)
    old = next(p for p in wp.posts.values() if p.title == "Review 3")
    wp.edit_post(old, content="Now with a score: 7/10", at=T0 + timedelta(days=500))
    result = await blog.poll(state)
    assert [r.title for r in result.reviews] == ["Review 3"]
    assert result.reviews[0].score is not None and result.reviews[0].score.value == 7
    assert not result.reviews_total_changed


async def test_scheduled_review_published_later_is_reported(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    fill(wp, posts=20)
    scheduled = wp.add_post("Scheduled", date=T0 + timedelta(days=30), status="future")
    state = await baseline(blog)
    wp.publish(scheduled)  # WP-Cron flips the status; `modified` stays as it was
    result = await blog.poll(state)
    assert [r.title for r in result.reviews] == ["Scheduled"]


async def test_more_than_a_page_of_changes_is_read_in_full(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    fill(wp, posts=300)
    state = await baseline(blog)
    for n, post in enumerate(list(wp.posts.values())[:180]):
        wp.edit_post(post, at=T0 + timedelta(days=600, minutes=n))
    result = await blog.poll(state)
    assert len(result.reviews) == 180


async def test_new_comment_names_its_review(wp: FakeWordPress, blog: WordPressBlog) -> None:
    fill(wp, posts=5, comments_per_post=3)
    state = await baseline(blog)
    post = wp.posts[2]
    comment = wp.add_comment(post, "New!")
    result = await blog.poll(state)
    assert [(c.id, c.review_id) for c in result.new_comments] == [(str(comment.id), "2")]
    assert not result.comments_total_changed  # the new comment explains the new total
    assert result.reviews == ()


async def test_many_new_comments_are_all_listed(wp: FakeWordPress, blog: WordPressBlog) -> None:
    fill(wp, posts=3, comments_per_post=2)
    state = await baseline(blog)
    for n in range(230):
        wp.add_comment(wp.posts[1], f"flood {n}")
    result = await blog.poll(state)
    assert len(result.new_comments) == 230


async def test_late_approval_and_trash_change_the_total(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    fill(wp, posts=3, comments_per_post=3)
    held = wp.add_comment(wp.posts[1], "Held at first", status="hold")
    wp.add_comment(wp.posts[1], "A newer comment")
    state = await baseline(blog)
    wp.approve(held)  # keeps its old id and date
    approved = await blog.poll(state)
    assert approved.new_comments == () and approved.comments_total_changed
    wp.trash(next(iter(wp.comments.values())))
    trashed = await blog.poll(approved.state)
    assert trashed.comments_total_changed and trashed.comments_changed


async def test_pure_comment_edit_is_left_to_reconciliation(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    """The documented limit: WordPress has no comment modified date, the probe cannot see it."""
    fill(wp, posts=2, comments_per_post=2)
    state = await baseline(blog)
    comment = next(iter(wp.comments.values()))
    before = {c.id: c.content_hash for c in await blog.list_comments(str(comment.post))}
    wp.edit_comment(comment, "Edited text")
    assert not (await blog.poll(state)).comments_changed
    after = {c.id: c.content_hash for c in await blog.list_comments(str(comment.post))}
    assert before[str(comment.id)] != after[str(comment.id)]


async def test_state_survives_a_json_round_trip(wp: FakeWordPress, blog: WordPressBlog) -> None:
    fill(wp, posts=3, comments_per_post=1)
    state = await baseline(blog)
    restored = PollState.from_json(state.as_json())
    assert restored == state
    result: PollResult = await blog.poll(restored)
    assert result.reviews == () and not result.comments_changed
