"""Rating math: what members may type, how averages rank, how scores are drawn as text."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserFacingError
from bot.ratings import (
    BAD_SCORE_MESSAGE,
    SCORE_STEPS,
    Period,
    bayesian_average,
    compare_with_critic,
    is_valid_score,
    member_normalized,
    parse_period,
    parse_score,
    stars,
    text_bar,
    validate_score,
)

member_scores = st.sampled_from(SCORE_STEPS)


def test_the_grid_is_nineteen_half_steps():
    assert SCORE_STEPS[0] == 1.0
    assert SCORE_STEPS[-1] == 10.0
    assert len(SCORE_STEPS) == 19


@given(member_scores)
def test_every_grid_score_is_accepted(score):
    assert validate_score(score) == score
    assert parse_score(f"{score:g}") == score


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_valid_exactly_when_it_is_on_the_grid(value):
    on_grid = value in SCORE_STEPS
    assert is_valid_score(value) is on_grid
    if not on_grid:
        with pytest.raises(UserFacingError, match=r"1 to 10 in steps of 0\.5"):
            validate_score(value)


@given(st.text(max_size=12))
def test_any_typed_text_gives_a_score_or_the_friendly_message(text):
    try:
        assert parse_score(text) in SCORE_STEPS
    except UserFacingError as error:
        assert str(error) == BAD_SCORE_MESSAGE


@pytest.mark.parametrize(("typed", "score"), [("7", 7.0), (" 7.5 ", 7.5), ("7,5", 7.5),
                                              ("9/10", 9.0), ("10.0", 10.0)])  # fmt: skip
def test_members_may_type_scores_the_usual_ways(typed, score):
    assert parse_score(typed) == score


@pytest.mark.parametrize("typed", ["0", "11", "7.3", "seven", "", "nan", "inf", "1e1000", "5/5"])
def test_bad_typed_scores_get_the_message(typed):
    with pytest.raises(UserFacingError) as raised:
        parse_score(typed)
    assert str(raised.value) == BAD_SCORE_MESSAGE


def test_bayesian_average_formula():
    # (C*m + sum) / (C + n) with C=5, m=7: one 10 -> (35 + 10) / 6
    assert bayesian_average(1, 10.0, prior_mean=7.0) == pytest.approx(7.5)
    assert bayesian_average(0, 0.0, prior_mean=7.0) == 7.0
    assert bayesian_average(0, 0.0, prior_mean=7.0, prior_weight=0) == 7.0
    assert bayesian_average(3, 27.0, prior_mean=7.0, prior_weight=0) == 9.0


@given(st.floats(min_value=1.0, max_value=8.7))
def test_a_single_ten_does_not_beat_twenty_nines(guild_mean):
    # With C = 5 the single 10 scores (5m + 10) / 6, below 9 while the guild mean m < 8.8.
    assert bayesian_average(20, 180.0, guild_mean) > bayesian_average(1, 10.0, guild_mean)


@given(st.lists(member_scores, min_size=1, max_size=50), member_scores,
       st.floats(min_value=0.5, max_value=50))  # fmt: skip
def test_bayesian_average_lies_between_prior_and_sample_means(scores, prior_mean, weight):
    sample_mean = sum(scores) / len(scores)
    result = bayesian_average(len(scores), sum(scores), prior_mean, weight)
    low, high = sorted((prior_mean, sample_mean))
    assert low - 1e-9 <= result <= high + 1e-9


@given(st.lists(member_scores, min_size=1, max_size=30), member_scores)
def test_more_of_the_same_ratings_pull_further_from_the_prior(scores, prior_mean):
    sample_mean = sum(scores) / len(scores)
    once = bayesian_average(len(scores), sum(scores), prior_mean)
    twice = bayesian_average(2 * len(scores), 2 * sum(scores), prior_mean)
    assert abs(twice - sample_mean) <= abs(once - sample_mean) + 1e-9


def test_negative_counts_are_bugs():
    with pytest.raises(ValueError):
        bayesian_average(-1, 0.0, 5.0)


def test_member_and_critic_share_one_scale():
    assert member_normalized(10.0) == 1.0
    assert member_normalized(7.5) == 0.75
    comparison = compare_with_critic(community_mean=8.6, critic_normalized=0.7)
    assert comparison.critic_on_10 == pytest.approx(7.0)
    assert comparison.difference == pytest.approx(1.6)
    assert comparison.describe() == "The community rates it 1.6 points higher than the critic."
    assert "lower" in compare_with_critic(5.0, 0.8).describe()
    assert "agrees" in compare_with_critic(7.8, 0.8).describe()


@pytest.mark.parametrize(("score", "bar"), [
    (9.0, "█████████░ 9.0/10"), (7.5, "███████▌░░ 7.5/10"), (1.0, "█░░░░░░░░░ 1.0/10"),
    (10.0, "██████████ 10.0/10"), (7.34, "███████▌░░ 7.3/10"),
])  # fmt: skip
def test_text_bars(score, bar):
    assert text_bar(score) == bar


@pytest.mark.parametrize(("score", "drawn"), [(9.0, "★★★★½"), (10.0, "★★★★★"), (6.0, "★★★☆☆"),
                                              (1.0, "½☆☆☆☆"), (8.5, "★★★★½")])  # fmt: skip
def test_stars(score, drawn):
    assert stars(score) == drawn


@given(st.floats(min_value=-5, max_value=15))
def test_renderings_keep_their_width(score):
    assert len(stars(score)) == 5
    assert len(text_bar(score).split()[0]) == 10


def test_periods():
    now = datetime(2024, 6, 30, tzinfo=UTC)
    assert parse_period("Week").since(now) == now - timedelta(days=7)
    assert parse_period("month").since(now) == now - timedelta(days=30)
    assert parse_period(" year ").since(now) == now - timedelta(days=365)
    assert parse_period("all").since(now) is None
    assert parse_period("all-time") is Period.ALL


def test_unknown_period_is_a_user_error():
    with pytest.raises(UserFacingError, match="week, month, year or all"):
        parse_period("fortnight")
