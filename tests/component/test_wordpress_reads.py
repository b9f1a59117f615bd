"""Reading reviews and comments from WordPress through the REST API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import aiohttp

from bot.blog.wordpress import WordPressBlog
from tests.component.conftest import FAST_RETRY
from tests.component.fake_wordpress import FakeWordPress

HER_TEXT = (
    "From the mind of Spike Jonze. Her is one of the finest examples of dramatic filmmaking "
    "that truly captures you. It’s one of those rare examples that you can call a film 10/10 "
    "and have it be deserving of that ranking.\n\nIn Her, we examine the world of Theodore "
    "Twombly (Joaquin Phoenix), who is a gift card writer."
)
JSONLD = (
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Review",'
    '"reviewRating": {"@type": "Rating", "ratingValue": "8", "bestRating": "10"}}</script>'
)


async def test_rest_root_is_discovered_once_from_the_link_header(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    wp.add_post("Her", HER_TEXT)
    await blog.list_reviews()
    await blog.list_reviews()
    assert str(await blog.rest_root()) == f"{wp.url}/wp-json/"
    assert wp.count(path="/", method="GET") - wp.count(path="/wp/") == 1  # one home page visit


async def test_plain_permalinks_site_is_read_through_rest_route(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeWordPress(pretty_permalinks=False, link_header=False)
    fake.add_post("Her", HER_TEXT)
    async with fake.serve():
        blog = WordPressBlog(session, fake.url, retry=FAST_RETRY)
        reviews = await blog.list_reviews()
        assert str(await blog.rest_root()) == f"{fake.url}/?rest_route=/"
    assert [r.title for r in reviews] == ["Her"]
    assert reviews[0].url == f"{fake.url}/?p={reviews[0].id}"


async def test_site_that_hides_its_api_link_is_probed_with_rest_route(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeWordPress(link_header=False, html_api_link=False)
    fake.add_post("Her", HER_TEXT)
    async with fake.serve():
        blog = WordPressBlog(session, fake.url, retry=FAST_RETRY)
        assert [r.title for r in await blog.list_reviews()] == ["Her"]
        assert str(await blog.rest_root()) == f"{fake.url}/?rest_route=/"


async def test_250_reviews_come_newest_first_in_three_pages(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for day in range(250):
        wp.add_post(f"Review {day}", date=start + timedelta(days=day))
    reviews = await blog.list_reviews()
    assert len(reviews) == 250
    assert reviews[0].title == "Review 249" and reviews[-1].title == "Review 0"
    assert wp.count(path="/wp/v2/posts") == 3
    assert all(q.get("per_page") == "100" for q in (s.query for s in wp.requests if s.query))


async def test_limit_stops_paging_early(wp: FakeWordPress, blog: WordPressBlog) -> None:
    for n in range(150):
        wp.add_post(f"Review {n}", date=datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=n))
    reviews = await blog.list_reviews(limit=5)
    assert [r.title for r in reviews] == [f"Review {n}" for n in range(149, 144, -1)]
    assert wp.count(path="/wp/v2/posts") == 1


async def test_dates_are_utc_whatever_the_site_time_zone(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    # The fake site runs at UTC+10: `date` says 05:30 the next day, `date_gmt` says 19:30.
    wp.add_post("Her", HER_TEXT, date=datetime(2018, 11, 4, 19, 30, tzinfo=UTC))
    review = (await blog.list_reviews())[0]
    assert review.published == datetime(2018, 11, 4, 19, 30, tzinfo=UTC)
    assert review.as_json()["published"] == "2018-11-04T19:30:00Z"


async def test_since_is_sent_with_an_offset_and_compared_in_utc(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    published = datetime(2021, 3, 28, 7, 30, tzinfo=UTC)
    wp.add_post("Klara and the Sun", date=published)
    rome = timezone(timedelta(hours=2))
    assert await blog.list_reviews(since=published) == []  # "after" is strict
    just_before = (published - timedelta(seconds=1)).astimezone(rome)
    assert [r.title for r in await blog.list_reviews(since=just_before)] == ["Klara and the Sun"]
    sent = next(s.query["after"] for s in wp.requests if "after" in s.query)
    assert sent.endswith("+00:00")


async def test_review_carries_author_terms_image_excerpt_and_score(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post(
        "Minority Report, revisited",
        "Spielberg’s thriller has aged well.\n\n" + JSONLD,
        categories=["Film reviews"],
        tags=["Steven Spielberg", "Sci-fi & fantasy"],
        image="https://blog.example/wp-content/uploads/minority.jpg",
        excerpt="A pre-crime thriller that aged well.",
    )
    review = await blog.get_review(str(post.id))
    assert review is not None
    assert review.author == "Mara Ellison"
    assert review.categories == ("Film reviews",)
    assert review.tags == ("Steven Spielberg", "Sci-fi & fantasy")
    assert review.image_url == "https://blog.example/wp-content/uploads/minority.jpg"
    assert review.excerpt == "A pre-crime thriller that aged well."
    assert review.score is not None and review.score.as_json()["display"] == "8/10"
    assert set(review.as_json()) >= {"id", "title", "url", "published", "author", "score"}


async def test_her_text_scores_ten_out_of_ten(wp: FakeWordPress, blog: WordPressBlog) -> None:
    post = wp.add_post("Her", HER_TEXT)
    review = await blog.get_review(str(post.id))
    assert review is not None and review.score is not None
    assert (review.score.value, review.score.scale) == (10, 10)


async def test_missing_or_draft_review_is_none(wp: FakeWordPress, blog: WordPressBlog) -> None:
    draft = wp.add_post("Dune (draft)", "Probably 9/10.", status="draft")
    assert await blog.get_review(str(draft.id)) is None
    assert await blog.get_review("4242") is None


async def test_review_is_found_by_its_url_through_the_slug(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her", HER_TEXT, slug="her")
    review = await blog.find_review_by_url(f"{wp.url}/2018/11/her/?utm_source=discord")
    assert review is not None and review.id == str(post.id)
    assert await blog.find_review_by_url(f"{wp.url}/?p={post.id}") == review
    before = len(wp.requests)
    assert await blog.find_review_by_url("https://elsewhere.example/2018/11/her/") is None
    assert len(wp.requests) == before  # another site's link costs no request


async def test_comments_come_threaded_oldest_first_and_approved_only(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    t0 = datetime(2019, 1, 21, 7, 0, tzinfo=UTC)
    post = wp.add_post("Blade Runner 2049")
    first = wp.add_comment(post, "First!", author_name="Tomás", date=t0)
    second = wp.add_comment(post, "Second thread", author_name="Priya", date=t0 + timedelta(1))
    reply = wp.add_comment(post, "Reply", author_name="Mara", parent=first, date=t0 + timedelta(2))
    deeper = wp.add_comment(post, "Deeper", parent=reply, date=t0 + timedelta(3))
    wp.add_comment(post, "Held", date=t0 + timedelta(4), status="hold")
    wp.add_comment(post, "Spam", date=t0 + timedelta(5), status="spam")
    trashed = wp.add_comment(post, "Trashed parent", date=t0 + timedelta(hours=1))
    orphan = wp.add_comment(post, "Reply to trashed", parent=trashed, date=t0 + timedelta(6))
    wp.trash(trashed)
    comments = await blog.list_comments(str(post.id))
    assert [c.id for c in comments] == [str(c.id) for c in (first, reply, deeper, second, orphan)]
    assert comments[1].parent_id == str(first.id)
    assert comments[0].as_json()["parent"] == 0
    assert comments[1].as_json()["parent"] == first.id
    assert comments[0].author_avatar_url is not None and "s=96" in comments[0].author_avatar_url


async def test_comment_json_has_discord_text(wp: FakeWordPress, blog: WordPressBlog) -> None:
    post = wp.add_post("Her")
    comment = wp.add_comment(post, "I <strong>loved</strong> it", author_name="Claire & co")
    fetched = await blog.get_comment(str(comment.id))
    assert fetched is not None
    data = fetched.as_json()
    assert data["author"] == "Claire & co"
    assert data["text"] == "I **loved** it"
    assert data["published"].endswith(("Z", "+00:00"))


async def test_held_comment_is_invisible_to_anonymous_readers(
    wp: FakeWordPress, blog: WordPressBlog, reader_blog: WordPressBlog
) -> None:
    held = wp.add_comment(wp.add_post("Her"), "Is there a director's cut?", status="hold")
    assert await reader_blog.get_comment(str(held.id)) is None
    as_editor = await blog.get_comment(str(held.id))
    assert as_editor is not None and as_editor.status == "hold"
