"""Rating actions on a real SQLite file: which review a member means, and what a change did."""

from datetime import UTC, datetime

import pytest

from bot.errors import UserFacingError
from bot.member_ratings import MemberRatings
from bot.ratings import BAD_SCORE_MESSAGE
from bot.storage import open_database
from bot.storage.reviews import RatingRepository, RatingSummary, ReviewRecord, ReviewRepository

WHEN = datetime(2024, 5, 1, tzinfo=UTC)
GUILD, ALICE = 1, 10


def record(review_id: str, title: str) -> ReviewRecord:
    return ReviewRecord(
        review_id=review_id,
        source="blog",
        title=title,
        url=f"https://blog.example/{review_id}",
        author="Critic",
        published_at=WHEN,
        modified_at=WHEN,
    )


@pytest.fixture
async def actions(tmp_path):
    database = await open_database(tmp_path / "bot.sqlite3")
    reviews = ReviewRepository(database)
    for review_id, title in (("1", "Dune"), ("2", "Dune: Part Two"), ("3", "Heat")):
        await reviews.upsert_review(record(review_id, title))
    yield MemberRatings(reviews, RatingRepository(database))
    await database.close()


async def test_a_review_is_found_by_id_exact_title_or_only_match(actions):
    assert (await actions.find_review("3")).title == "Heat"
    assert (await actions.find_review("  dune ")).review_id == "1"
    assert (await actions.find_review("part two")).review_id == "2"


@pytest.mark.parametrize("typed", ["du", "???", "Zzyzx"])
async def test_an_ambiguous_or_unknown_name_is_refused(actions, typed):
    with pytest.raises(UserFacingError, match="could not find a review"):
        await actions.find_review(typed)


async def test_rating_twice_replaces_and_withdrawing_reports_the_old_score(actions):
    review = await actions.find_review("1")
    first = await actions.rate(GUILD, review, ALICE, 8.0)
    assert (first.score, first.previous, first.summary) == (8.0, None, RatingSummary(1, 8.0))
    second = await actions.rate(GUILD, review, ALICE, 6.5)
    assert (second.previous, second.summary) == (8.0, RatingSummary(1, 6.5))
    gone = await actions.withdraw(GUILD, review, ALICE)
    assert (gone.score, gone.previous, gone.summary) == (None, 6.5, RatingSummary(0, None))
    with pytest.raises(UserFacingError, match="nothing to remove"):
        await actions.withdraw(GUILD, review, ALICE)


async def test_scores_off_the_grid_and_withdrawn_reviews_are_refused(actions):
    review = await actions.find_review("3")
    with pytest.raises(UserFacingError, match=BAD_SCORE_MESSAGE):
        await actions.rate(GUILD, review, ALICE, 7.3)
    await actions.rate(GUILD, review, ALICE, 7.0)
    await actions.reviews.mark_withdrawn("3")
    withdrawn = await actions.review_by_id("3")
    with pytest.raises(UserFacingError, match="taken off the blog"):
        await actions.rate(GUILD, withdrawn, ALICE, 8.0)
    assert (await actions.withdraw(GUILD, withdrawn, ALICE)).previous == 7.0
    with pytest.raises(UserFacingError, match="no longer in my list"):
        await actions.review_by_id("404")
