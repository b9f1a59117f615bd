"""/rate and /ratings show|top|member, and the rating menu on announcements."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.charts import render_distribution_png
from bot.discord_ui.rating_embeds import (
    CHART_FILENAME,
    chart_title,
    choice_name,
    critic_score_on_10,
    leaderboard_embed,
    member_history_embed,
    rating_change_embed,
    review_ratings_embed,
    score_label,
)
from bot.discord_ui.rating_select import RatingSelect
from bot.discord_ui.replies import reply_ephemeral
from bot.errors import UserFacingError
from bot.member_ratings import MemberRatings
from bot.ratings import (
    SCORE_STEPS,
    Period,
    compare_member_with_critic,
    format_score,
    parse_period,
    parse_score,
)
from bot.storage.reviews import RatingSummary, StoredReview

DEFER_AFTER_SECONDS = 1.5  # half of Discord's deadline, leaving the rest for the deferral
MAX_CHOICES = 25  # Discord's limit for autocomplete answers
MAX_CHOICE_VALUE = 100
LEADERBOARD_SIZE = 10
HISTORY_SHOWN = 10
HISTORY_COMPARED = 1000  # the latest ratings a member's critic comparison is averaged over
NO_MENTIONS = discord.AllowedMentions.none()
NEED_SCORE = (
    "Give a score from 1 to 10 in steps of 0.5 (for example 7 or 7.5), "
    "or set `remove` to True to withdraw your rating."
)
PERIOD_CHOICES = [
    app_commands.Choice(name="this week", value=Period.WEEK.label),
    app_commands.Choice(name="this month", value=Period.MONTH.label),
    app_commands.Choice(name="this year", value=Period.YEAR.label),
    app_commands.Choice(name="all time", value=Period.ALL.label),
]


def _bot(interaction: discord.Interaction) -> ReviewBridge:
    client = interaction.client
    assert isinstance(client, ReviewBridge)
    return client


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("Ratings work only inside a server.")
    return interaction.guild_id


async def review_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Published titles matching what was typed; the value is the review id."""
    titles = await _bot(interaction).reviews.autocomplete(current, limit=MAX_CHOICES)
    return [
        app_commands.Choice(name=choice_name(title.title), value=title.review_id)
        for title in titles
        if len(title.review_id) <= MAX_CHOICE_VALUE
    ]


async def score_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """The 19 scores, 10 first, narrowed to those starting as typed ("7" -> 7 and 7.5)."""
    typed = current.strip().replace(",", ".")
    return [
        app_commands.Choice(name=score_label(score), value=format_score(score))
        for score in reversed(SCORE_STEPS)
        if format_score(score).startswith(typed)
    ]


async def category_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Categories containing what was typed, most used first."""
    typed = current.strip().casefold()
    categories = await _bot(interaction).reviews.categories()
    return [
        app_commands.Choice(name=choice_name(category.name), value=category.name)
        for category in categories
        if typed in category.name.casefold() and len(category.name) <= MAX_CHOICE_VALUE
    ][:MAX_CHOICES]


class Ratings(commands.Cog):
    ratings = app_commands.Group(
        name="ratings", description="Member ratings of the blog's reviews", guild_only=True
    )

    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot
        self.actions = MemberRatings(bot.reviews, bot.ratings)

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(RatingSelect)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(RatingSelect)

    @app_commands.command(
        name="rate", description="Rate a review from 1 to 10, or remove your rating"
    )
    @app_commands.guild_only()
    @app_commands.describe(
        review="Start typing the title",
        score="1 to 10 in steps of 0.5, e.g. 7.5",
        remove="True to withdraw your rating of this review",
    )
    @app_commands.autocomplete(review=review_choices, score=score_choices)
    async def rate(
        self,
        interaction: discord.Interaction,
        review: app_commands.Range[str, 1, 200],
        score: app_commands.Range[str, 1, 20] | None = None,
        remove: bool = False,
    ) -> None:
        guild_id = _guild_id(interaction)
        if remove:
            if score is not None:
                raise UserFacingError("Give either a score or `remove`, not both.")
            found = await self.actions.find_review(review)
            change = await self.actions.withdraw(guild_id, found, interaction.user.id)
        else:
            if score is None:
                raise UserFacingError(NEED_SCORE)
            value = parse_score(score)
            found = await self.actions.find_review(review)
            change = await self.actions.rate(guild_id, found, interaction.user.id, value)
        await reply_ephemeral(interaction, embed=rating_change_embed(change))

    @ratings.command(name="show", description="Critic vs community for a review, with a chart")
    @app_commands.describe(
        review="Start typing the title", private="True to see the answer only yourself"
    )
    @app_commands.autocomplete(review=review_choices)
    async def show(
        self,
        interaction: discord.Interaction,
        review: app_commands.Range[str, 1, 200],
        private: bool = False,
    ) -> None:
        guild_id = _guild_id(interaction)
        # Find the review before any deferral: the error must stay private, and after a public
        # deferral the follow-up carrying it would be public.
        found = await self.actions.find_review(review)
        chart = asyncio.ensure_future(self._chart(guild_id, found))
        # The chart usually takes tens of milliseconds: answer in one go. Only a slow one gets
        # a deferral, well inside Discord's 3 s deadline for the first response.
        try:
            done, _ = await asyncio.wait({chart}, timeout=DEFER_AFTER_SECONDS)
            if not done:
                await interaction.response.defer(ephemeral=private, thinking=True)
            summary, png = await chart
        finally:
            chart.cancel()  # nothing once it is done; no orphan if the deferral failed
        answer = {
            "embed": review_ratings_embed(found, summary, CHART_FILENAME),
            "file": discord.File(io.BytesIO(png), filename=CHART_FILENAME),
            "ephemeral": private,
            "allowed_mentions": NO_MENTIONS,
        }
        if interaction.response.is_done():
            await interaction.followup.send(**answer)
        else:
            await interaction.response.send_message(**answer)

    async def _chart(self, guild_id: int, review: StoredReview) -> tuple[RatingSummary, bytes]:
        summary = await self.bot.ratings.summary(guild_id, review.review_id)
        distribution = await self.bot.ratings.distribution(guild_id, review.review_id)
        png = await asyncio.to_thread(
            render_distribution_png,
            distribution,
            critic_score_on_10(review),
            chart_title(review.title),
        )
        return summary, png

    @ratings.command(name="top", description="The best-rated reviews, by Bayesian average")
    @app_commands.describe(
        category="Only reviews in this category",
        period="Only reviews published in this window (default: all time)",
        private="True to see the answer only yourself",
    )
    @app_commands.autocomplete(category=category_choices)
    @app_commands.choices(period=PERIOD_CHOICES)
    async def top(
        self,
        interaction: discord.Interaction,
        category: app_commands.Range[str, 1, 100] | None = None,
        period: app_commands.Choice[str] | None = None,
        private: bool = False,
    ) -> None:
        guild_id = _guild_id(interaction)
        window = Period.ALL if period is None else parse_period(period.value)
        if category is not None:
            category = await self._stored_category(category)
        entries = await self.bot.ratings.leaderboard(
            guild_id,
            category=category,
            since=window.since(datetime.now(UTC)),
            limit=LEADERBOARD_SIZE,
        )
        embed = leaderboard_embed(
            entries,
            period=window,
            category=category,
            prior_mean=await self.bot.ratings.guild_mean(guild_id),
        )
        await self._send(interaction, embed, private)

    @ratings.command(name="member", description="A member's ratings, compared with the critic")
    @app_commands.describe(
        member="Whose ratings (default: yours)", private="True to see the answer only yourself"
    )
    async def member(
        self,
        interaction: discord.Interaction,
        member: discord.Member | discord.User | None = None,
        private: bool = False,
    ) -> None:
        guild_id = _guild_id(interaction)
        who = member or interaction.user
        history = await self.bot.ratings.member_history(guild_id, who.id, limit=HISTORY_COMPARED)
        agreement = compare_member_with_critic(
            (rating.score, rating.critic_normalized) for rating in history
        )
        embed = member_history_embed(who.display_name, history[:HISTORY_SHOWN], agreement)
        await self._send(interaction, embed, private)

    async def _stored_category(self, typed: str) -> str:
        """The category as the blog spells it, matched ignoring case."""
        wanted = " ".join(typed.split()).casefold()
        for category in await self.bot.reviews.categories():
            if category.name.casefold() == wanted:
                return category.name
        raise UserFacingError(
            "There is no category by that name. Start typing and pick one from the list."
        )

    @staticmethod
    async def _send(interaction: discord.Interaction, embed: discord.Embed, private: bool) -> None:
        await interaction.response.send_message(
            embed=embed, ephemeral=private, allowed_mentions=NO_MENTIONS
        )


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(Ratings(bot))
