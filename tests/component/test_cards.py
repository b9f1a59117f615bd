"""Review cards for links members share, from the blog API or from the page itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.blog.cards import card_from_url, review_from_html
from bot.blog.errors import UnsafeURL
from bot.blog.safe_http import SafeFetcher
from bot.blog.wordpress import WordPressBlog
from tests.component.fake_wordpress import FakeWordPress

PAGES = Path(__file__).parent / "pages"
NOW = datetime(2024, 5, 1, tzinfo=UTC)


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def test_open_graph_only_page() -> None:
    card = review_from_html(page("og_only.html"), "https://films.example/reviews/arrival?ref=x")
    assert card.title == "Arrival: patient, quiet science fiction"
    assert card.url == "https://films.example/reviews/arrival"
    assert card.image_url == "https://films.example/img/arrival.jpg"
    assert card.excerpt.startswith("Amy Adams talks to visitors")
    assert card.author == "Jo Park"  # article:author is a profile URL, not a name
    assert card.published == datetime(2019, 4, 7, 9, 15, tzinfo=UTC)
    assert (card.categories, card.tags) == (("Film",), ("Denis Villeneuve", "Science fiction"))
    assert card.score is None  # "1/2" in the navigation is no score


def test_json_ld_review_with_best_rating() -> None:
    card = review_from_html(
        page("jsonld_review_best10.html"), "https://critic.example/?p=1006", now=NOW
    )
    assert card.url == "https://critic.example/minority-report-revisited/"
    assert card.title == "Minority Report, revisited"
    assert card.author == "Mara Ellison"
    assert card.published == datetime(2019, 9, 29, tzinfo=UTC)
    assert card.score is not None
    assert (card.score.value, card.score.scale, card.score.display) == (8, 10, "8/10")


def test_json_ld_review_without_best_rating_is_out_of_five() -> None:
    card = review_from_html(
        page("jsonld_review_no_best.html"), "https://movies.example/ex", now=NOW
    )
    assert card.title == "Movie: Ex Machina"
    assert card.author == "Sam Reed"
    assert card.image_url == "https://movies.example/ex-machina.jpg"
    assert card.published == datetime(2019, 7, 14, 19, 45, tzinfo=UTC)
    assert card.score is not None and (card.score.value, card.score.scale) == (4, 5)


def test_wordpress_page_of_her_scores_ten_out_of_ten() -> None:
    card = review_from_html(page("wordpress_her.html"), "https://critic.example/?p=1001")
    assert card.title == "Her"
    assert card.url == "https://critic.example/2018/11/her/"
    assert card.author == "Mara Ellison"
    assert card.modified == datetime(2018, 11, 5, 8, tzinfo=UTC)
    assert card.excerpt.startswith("From the mind of Spike Jonze.")
    assert card.score is not None
    assert (card.score.display, card.score.normalized) == ("10/10", 1.0)  # not the comment's 7/10


def test_page_without_metadata_falls_back_to_title_and_first_paragraph() -> None:
    html = "<html><head><title>Plain page</title></head><body><p></p><p>First words.</p></body>"
    card = review_from_html(html, "https://plain.example/a", now=NOW)
    assert (card.title, card.excerpt, card.published) == ("Plain page", "First words.", NOW)
    assert card.as_json()["score"] is None


async def test_link_to_our_blog_is_read_through_the_api(
    wp: FakeWordPress, blog: WordPressBlog
) -> None:
    post = wp.add_post("Her", "You can call it a film 10/10.", slug="her")
    fetcher = SafeFetcher()  # no allowed hosts: the page itself would be refused
    card = await card_from_url(fetcher, f"{wp.url}/2018/11/her/", blog)
    assert card.id == str(post.id) and card.score is not None


async def test_foreign_link_is_fetched_safely(blog: WordPressBlog) -> None:
    with pytest.raises(UnsafeURL, match="loopback"):
        await card_from_url(SafeFetcher(), "http://localhost:9/review", blog)


def test_jsonld_blocks_with_comments_and_trailing_commas_are_read() -> None:
    from bot.blog.markup import parse_jsonld_block

    block = '<!-- schema -->\n{"@type": "Review", "reviewRating": {"ratingValue": 4,},}'
    assert parse_jsonld_block(block)["reviewRating"]["ratingValue"] == 4
    assert parse_jsonld_block('// generated\n[{"@type": "Movie"}]') == [{"@type": "Movie"}]
