"""Rating math: member scores, Bayesian averages, critic comparison and text renderings.

Pure functions only, so the cogs, the storage queries and the tests agree on one definition.

Member scores run from 1 to 10 in steps of 0.5. On the shared 0..1 scale a member score `s`
is `s / 10`, so a member's 10 and the critic's best possible score are both 1.0 (the critic's
`normalized` puts the worst possible value at 0; a member's 1 sits at 0.1).

Leaderboards rank by a Bayesian average, which pulls reviews with few ratings toward the
guild's mean so that a single 10 does not beat twenty 9s:

    bayesian = (C * m + sum) / (C + n)

with `n` ratings summing to `sum`, `m` the guild-wide mean of all ratings and `C` the prior
weight: how many "average" ratings every review starts with (DEFAULT_PRIOR_WEIGHT). With C = 5
a lone 10 scores (5m + 10) / 6, which stays below twenty 9s while the guild mean is under 8.8.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.errors import UserFacingError

MIN_SCORE = 1.0
MAX_SCORE = 10.0
SCORE_STEPS = tuple(step / 2 for step in range(2, 21))  # 1.0, 1.5, ... 10.0
DEFAULT_PRIOR_WEIGHT = 5.0
BAD_SCORE_MESSAGE = (
    "Scores go from 1 to 10 in steps of 0.5, for example 7 or 7.5. Please try again."
)

_FULL_BLOCK, _HALF_BLOCK, _EMPTY_BLOCK = "█", "▌", "░"
_FULL_STAR, _HALF_STAR, _EMPTY_STAR = "★", "½", "☆"


def is_valid_score(value: float) -> bool:
    """True for 1.0, 1.5, ... 10.0."""
    return math.isfinite(value) and MIN_SCORE <= value <= MAX_SCORE and (value * 2).is_integer()


def validate_score(value: float) -> float:
    """The score as a float, or UserFacingError for anything off the 1..10 half-step grid."""
    if not is_valid_score(value):
        raise UserFacingError(BAD_SCORE_MESSAGE)
    return float(value)


def parse_score(text: str) -> float:
    """A score typed by a member: "7", "7.5", "7,5" or "7.5/10"."""
    cleaned = text.strip().replace(",", ".").removesuffix("/10").strip()
    try:
        value = float(cleaned)
    except ValueError:
        raise UserFacingError(BAD_SCORE_MESSAGE) from None
    return validate_score(value)


def bayesian_average(
    count: int, total: float, prior_mean: float, prior_weight: float = DEFAULT_PRIOR_WEIGHT
) -> float:
    """(C*m + sum) / (C + n); the prior mean itself when there is nothing to average."""
    if count < 0 or prior_weight < 0:
        raise ValueError("count and prior_weight cannot be negative")
    if count + prior_weight == 0:
        return prior_mean
    return (prior_weight * prior_mean + total) / (prior_weight + count)


def member_normalized(score: float) -> float:
    """A member score (or a mean of them) on the critic's 0..1 scale: s / 10."""
    return score / MAX_SCORE


@dataclass(frozen=True)
class CriticComparison:
    community_on_10: float
    critic_on_10: float

    @property
    def difference(self) -> float:
        """Community minus critic, in points out of 10."""
        return self.community_on_10 - self.critic_on_10

    def describe(self) -> str:
        gap = round(self.difference, 1)
        if abs(gap) < 0.5:  # half a point is one rating step: closer than that is agreement
            return "The community agrees with the critic."
        direction = "higher" if gap > 0 else "lower"
        return f"The community rates it {abs(gap):.1f} points {direction} than the critic."


def compare_with_critic(community_mean: float, critic_normalized: float) -> CriticComparison:
    """Put a community mean (1..10) and a critic score (0..1) on the same 10-point scale."""
    return CriticComparison(
        community_on_10=community_mean, critic_on_10=critic_normalized * MAX_SCORE
    )


def text_bar(score: float, width: int = 10) -> str:
    """A bar such as "███████▌░░ 7.5/10": a block per 10/width points, half blocks between."""
    halves = _round_half_up(_clamp(score) / MAX_SCORE * width * 2)
    full, half = divmod(halves, 2)
    bar = _FULL_BLOCK * full + _HALF_BLOCK * half + _EMPTY_BLOCK * (width - full - half)
    return f"{bar} {score:.1f}/10"


def stars(score: float) -> str:
    """A 1..10 score as five stars in half steps: 9 -> "★★★★½", 6 -> "★★★☆☆"."""
    full, half = divmod(_round_half_up(_clamp(score)), 2)
    return _FULL_STAR * full + _HALF_STAR * half + _EMPTY_STAR * (5 - full - half)


def _clamp(score: float) -> float:
    # Renderings must not grow or shrink past their width for an out-of-range mean.
    return min(max(score, 0.0), MAX_SCORE)


def _round_half_up(value: float) -> int:
    # round() rounds halves to even, which would draw 8.5 and 9.5 with different rules.
    return math.floor(value + 0.5)


class Period(Enum):
    """Leaderboard windows: rolling, so "month" means the last 30 days on any date."""

    WEEK = ("week", timedelta(days=7))
    MONTH = ("month", timedelta(days=30))
    YEAR = ("year", timedelta(days=365))
    ALL = ("all", None)

    def __init__(self, label: str, length: timedelta | None) -> None:
        self.label = label
        self.length = length

    def since(self, now: datetime) -> datetime | None:
        """The start of the window ending at `now`; None for all time."""
        return None if self.length is None else now - self.length


_PERIOD_ALIASES = {"all-time": Period.ALL, "alltime": Period.ALL}


def parse_period(text: str) -> Period:
    """'week', 'month', 'year' or 'all' (any case); UserFacingError for anything else."""
    key = text.strip().lower()
    for period in Period:
        if key == period.label:
            return period
    if key in _PERIOD_ALIASES:
        return _PERIOD_ALIASES[key]
    raise UserFacingError("Pick a period: week, month, year or all.")


def format_score(score: float) -> str:
    """A member score as members type it: 9.0 -> "9", 7.5 -> "7.5"."""
    return f"{score:g}"


@dataclass(frozen=True)
class CriticAgreement:
    """How one member's ratings compare with the critic's scores on the same reviews."""

    compared: int  # ratings of reviews that have a critic score
    mean_difference: float | None  # member minus critic, points out of 10; None if none compared

    def describe(self, who: str) -> str:
        """One sentence about `who` (already safe to show), e.g. "Alice rates 1.2 points higher"."""
        if self.mean_difference is None:
            return f"{who} has not rated any review with a critic score yet."
        reviews = f"{self.compared} review{'' if self.compared == 1 else 's'}"
        gap = round(self.mean_difference, 1)
        if abs(gap) < 0.5:  # within one rating step, as in CriticComparison.describe
            return f"{who} agrees with the critic (over {reviews})."
        direction = "higher" if gap > 0 else "lower"
        return f"{who} rates {abs(gap):.1f} points {direction} than the critic (over {reviews})."


def compare_member_with_critic(
    ratings: Iterable[tuple[float, float | None]],
) -> CriticAgreement:
    """Mean of (member score - critic score on 10) over (score, critic normalized) pairs.

    Pairs whose review has no critic score are left out.
    """
    differences = [score - critic * MAX_SCORE for score, critic in ratings if critic is not None]
    if not differences:
        return CriticAgreement(0, None)
    return CriticAgreement(len(differences), sum(differences) / len(differences))
