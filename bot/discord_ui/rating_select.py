"""The rating select menu carried by review announcements: pick 1..10, see the new average.

It is a `DynamicItem`: the review id lives in the custom id (`rb:rate:<review_id>`) and the
ratings cog registers the class with `bot.add_dynamic_items`, so a menu on any message keeps
working after a restart without the message being sent again.

Put it on a message with `rating_select_item(review_id)`, in any `discord.ui.View`. Keep the
view's other interactive items dynamic too (or give the view `timeout=None`): when a view that
discord.py tracks by message (one with a plain custom-id button) times out or stops, discord.py
also unregisters the dynamic templates found in it, and the menus would go deaf until a restart.
Link buttons are fine anywhere.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

import discord

from bot.discord_ui.rating_embeds import rating_change_embed, score_label
from bot.discord_ui.replies import answer_component, reply_ephemeral
from bot.errors import UserFacingError
from bot.member_ratings import MemberRatings
from bot.ratings import SCORE_STEPS, format_score, parse_score

if TYPE_CHECKING:
    from bot.app import ReviewBridge


CUSTOM_ID_PREFIX = "rb:rate:"
MAX_CUSTOM_ID = 100  # Discord's limit
PLACEHOLDER = "Rate this review"


def rating_select_item(review_id: str) -> discord.ui.Item[Any]:
    """The select menu that rates `review_id` (ValueError if the id cannot fit a custom id)."""
    return RatingSelect(review_id)


def rating_custom_id(review_id: str) -> str:
    """`rb:rate:<review_id>`, percent-encoded so that feed ids such as "tag:x,2024:1" fit the
    template; ValueError past Discord's 100 characters."""
    custom_id = CUSTOM_ID_PREFIX + quote(review_id, safe="")
    if not review_id or len(custom_id) > MAX_CUSTOM_ID:
        raise ValueError(
            f"review id {review_id!r} does not fit in a {MAX_CUSTOM_ID}-char custom id"
        )
    return custom_id


def rating_options() -> list[discord.SelectOption]:
    """10 down to 1 in half steps: the scores members give most sit at the top of the list."""
    return [
        discord.SelectOption(label=score_label(score), value=format_score(score))
        for score in reversed(SCORE_STEPS)
    ]


class RatingSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=re.escape(CUSTOM_ID_PREFIX) + r"(?P<review_id>[^:]+)",
):
    def __init__(self, review_id: str) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=rating_custom_id(review_id),
                placeholder=PLACEHOLDER,
                min_values=1,
                max_values=1,
                options=rating_options(),
            )
        )
        self.review_id = review_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> RatingSelect:
        return cls(unquote(match["review_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_component(
            interaction, self._rate(interaction), what=f"rating select review={self.review_id}"
        )

    async def _rate(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is None:
            raise UserFacingError("Ratings work only inside a server.")
        bot = cast("ReviewBridge", interaction.client)
        score = parse_score(self.item.values[0])
        actions = MemberRatings(bot.reviews, bot.ratings)
        review = await actions.review_by_id(self.review_id)
        change = await actions.rate(interaction.guild_id, review, interaction.user.id, score)
        await reply_ephemeral(interaction, embed=rating_change_embed(change))
