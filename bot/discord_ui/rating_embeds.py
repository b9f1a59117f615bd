"""What rating answers look like in Discord: labels, autocomplete names and embeds.

Titles and names come from strangers (blog authors, members), so every one passes through
`safe_inline` (escaped markdown, inert mentions) and is cut to fit Discord's limits.
"""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.domain.text import excerpt, strip_invisible
from bot.member_ratings import RatingChange, safe_inline
from bot.ratings import (
    DEFAULT_PRIOR_WEIGHT,
    CriticAgreement,
    Period,
    compare_with_critic,
    format_score,
    stars,
    text_bar,
)
from bot.storage.reviews import LeaderboardEntry, MemberRating, RatingSummary, StoredReview

MAX_CHOICE_NAME = 100  # Discord's limit for an autocomplete choice name
TITLE_IN_HEADING = 120  # characters of a title in an embed title (256 after escaping)
TITLE_IN_LIST = 70  # characters of a title on one line of a list
COLOUR = discord.Colour.blurple()
CHART_FILENAME = "ratings.png"  # the attachment the /ratings show embed points its image at


def score_label(score: float) -> str:
    """A member score as stars and points: 9 -> "★★★★½ 9/10"."""
    return f"{stars(score)} {format_score(score)}/10"


def choice_name(text: str) -> str:
    """A title or category as an autocomplete choice name: one line, at most 100 characters."""
    return excerpt(strip_invisible(text), MAX_CHOICE_NAME) or "(untitled)"


def safe_title(title: str, limit: int = TITLE_IN_HEADING) -> str:
    return safe_inline(excerpt(title, limit)) or "(untitled)"


def chart_title(title: str) -> str:
    """A title for the chart: one line, no invisible characters (the chart shows "$" as is)."""
    return " ".join(strip_invisible(title).split())


def describe_count(count: int) -> str:
    return f"{count} rating{'' if count == 1 else 's'}"


def community_line(summary: RatingSummary) -> str:
    """ "Community average 8.4/10 from 12 ratings", or that nobody has rated yet."""
    if summary.mean is None:
        return "No ratings yet."
    return f"Community average **{summary.mean:.1f}/10** from {describe_count(summary.count)}."


def rating_change_embed(change: RatingChange) -> discord.Embed:
    """The private answer to a rating or a withdrawal."""
    title = safe_title(change.review.title)
    if change.score is None:
        heading = "Rating removed"
        what = f"Your rating of {score_label(change.previous or 0)} for **{title}** is removed."
    else:
        heading = "Rating saved" if change.previous is None else "Rating updated"
        what = f"You rated **{title}** {score_label(change.score)}."
        if change.previous is not None and change.previous != change.score:
            what += f" (was {format_score(change.previous)}/10)"
    embed = discord.Embed(title=heading, description=what, colour=COLOUR)
    embed.add_field(name="Community", value=community_line(change.summary), inline=False)
    return embed


def review_ratings_embed(
    review: StoredReview, summary: RatingSummary, chart_filename: str | None
) -> discord.Embed:
    """Critic and community on the same 10-point bars, with the distribution chart below."""
    embed = discord.Embed(title=safe_title(review.title), url=review.url, colour=COLOUR)
    critic_on_10 = critic_score_on_10(review)
    if critic_on_10 is None:
        critic = "No critic score for this review."
    else:
        shown = safe_inline(review.score_display or "")
        critic = f"`{text_bar(critic_on_10)}`" + (f" ({shown})" if shown else "")
    embed.add_field(name="Critic", value=critic, inline=False)
    if summary.mean is None:
        community = "No ratings yet: be the first with `/rate`."
    else:
        community = f"`{text_bar(summary.mean)}` from {describe_count(summary.count)}"
    embed.add_field(name="Community", value=community, inline=False)
    if review.score_normalized is not None and summary.mean is not None:
        embed.description = compare_with_critic(summary.mean, review.score_normalized).describe()
    if chart_filename is not None:
        embed.set_image(url=f"attachment://{chart_filename}")
    return embed


def critic_score_on_10(review: StoredReview) -> float | None:
    """The critic's score on the members' 10-point scale (see bot.ratings), if it has one."""
    if review.score_normalized is None:
        return None
    return review.score_normalized * 10


def leaderboard_embed(
    entries: Sequence[LeaderboardEntry],
    *,
    period: Period,
    category: str | None,
    prior_mean: float | None,
) -> discord.Embed:
    """The top reviews by Bayesian average, each with its mean, count and critic score."""
    scope = f" in {safe_inline(excerpt(category, TITLE_IN_LIST))}" if category else ""
    when = "of all time" if period is Period.ALL else f"published in the last {period.label}"
    embed = discord.Embed(title=f"Top rated{scope}, {when}", colour=COLOUR)
    if not entries:
        embed.description = "No rated reviews here yet. Rate one with `/rate`."
        return embed
    lines = []
    for rank, entry in enumerate(entries, start=1):
        critic = (
            f" · critic {entry.critic_normalized * 10:.1f}"
            if entry.critic_normalized is not None
            else ""
        )
        lines.append(
            f"**{rank}. {safe_title(entry.title, TITLE_IN_LIST)}**\n"
            f"{stars(entry.bayesian)} **{entry.bayesian:.2f}** · "
            f"mean {entry.mean:.1f} from {describe_count(entry.count)}{critic}"
        )
    embed.description = "\n".join(lines)
    if prior_mean is not None:
        embed.set_footer(
            text=f"Ranked by a Bayesian average: every review starts with "
            f"{DEFAULT_PRIOR_WEIGHT:g} ratings at the server's mean ({prior_mean:.1f}), "
            "so a single 10 does not top the list."
        )
    return embed


def member_history_embed(
    member_name: str,
    history: Sequence[MemberRating],
    agreement: CriticAgreement,
) -> discord.Embed:
    """A member's latest ratings beside the critic's, and how far apart they are on average."""
    name = safe_inline(excerpt(member_name, TITLE_IN_LIST)) or "This member"
    embed = discord.Embed(title=f"{name}'s ratings", colour=COLOUR)
    if not history:
        embed.description = f"{name} has not rated any review yet."
        return embed
    lines = [agreement.describe(name), ""]
    for rating in history:
        critic = (
            f" · critic {rating.critic_normalized * 10:.1f}"
            if rating.critic_normalized is not None
            else ""
        )
        lines.append(
            f"{score_label(rating.score)} **{safe_title(rating.title, TITLE_IN_LIST)}**{critic}"
        )
    embed.description = "\n".join(lines)
    return embed
