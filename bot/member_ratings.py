"""Member ratings as actions: find the review, record or withdraw a score, report the result.

The one path shared by `/rate` and the rating select on announcements, so both refuse the same
inputs with the same words. Plain async Python over the repositories: no Discord here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.text import escape_markdown, neutralize_mentions, strip_invisible
from bot.errors import UserFacingError
from bot.ratings import validate_score
from bot.storage.reviews import (
    RatingRepository,
    RatingSummary,
    ReviewRepository,
    StoredReview,
)

MAX_SHOWN_REFERENCE = 80  # how much of an unknown review name an error message repeats


@dataclass(frozen=True)
class RatingChange:
    review: StoredReview
    score: float | None  # the member's rating now; None once withdrawn
    previous: float | None  # the rating it replaced or withdrew
    summary: RatingSummary  # the community's count and mean after the change


def safe_inline(text: str) -> str:
    """Text by a stranger (a title, a name) made inert for a Discord message on one line."""
    return neutralize_mentions(escape_markdown(" ".join(strip_invisible(text).split())))


class MemberRatings:
    """Rating actions for one bot: cheap to build, holds no state beyond its repositories."""

    def __init__(self, reviews: ReviewRepository, ratings: RatingRepository) -> None:
        self.reviews = reviews
        self.ratings = ratings

    async def find_review(self, reference: str) -> StoredReview:
        """The review an id (what autocomplete sends) or a typed title names.

        A typed title must name one review: exactly (ignoring case) or as the only match.
        """
        review = await self.reviews.get(reference)
        if review is None and any(char.isalnum() for char in reference):
            matches = await self.reviews.autocomplete(reference, limit=5)
            wanted = " ".join(reference.split()).casefold()
            exact = [m for m in matches if " ".join(m.title.split()).casefold() == wanted]
            chosen = exact if exact else matches
            if len(chosen) == 1:
                review = await self.reviews.get(chosen[0].review_id)
        if review is None:
            shown = safe_inline(reference[:MAX_SHOWN_REFERENCE])
            raise UserFacingError(
                f"I could not find a review called “{shown}”. "
                "Start typing its title and pick it from the list."
            )
        return review

    async def review_by_id(self, review_id: str) -> StoredReview:
        """The review with this id (from a rating menu), or UserFacingError if it is gone."""
        review = await self.reviews.get(review_id)
        if review is None:
            raise UserFacingError("This review is no longer in my list, so it cannot be rated.")
        return review

    async def rate(
        self, guild_id: int, review: StoredReview, user_id: int, score: float
    ) -> RatingChange:
        """Record the member's score, replacing an earlier one."""
        score = validate_score(score)
        if review.status != "published":
            raise UserFacingError(
                f"“{safe_inline(review.title)}” was taken off the blog, so it cannot be rated."
            )
        previous = await self.ratings.set_rating(guild_id, review.review_id, user_id, score)
        summary = await self.ratings.summary(guild_id, review.review_id)
        return RatingChange(review, score, previous, summary)

    async def withdraw(self, guild_id: int, review: StoredReview, user_id: int) -> RatingChange:
        """Remove the member's score; UserFacingError if they had not rated the review."""
        previous = await self.ratings.rating_of(guild_id, review.review_id, user_id)
        if previous is None or not await self.ratings.remove_rating(
            guild_id, review.review_id, user_id
        ):
            raise UserFacingError(
                f"You have not rated “{safe_inline(review.title)}”, so there is nothing to remove."
            )
        summary = await self.ratings.summary(guild_id, review.review_id)
        return RatingChange(review, None, previous, summary)
