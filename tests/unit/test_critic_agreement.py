"""How a member's ratings compare with the critic's: the mean gap on the 10-point scale."""

from hypothesis import given
from hypothesis import strategies as st

from bot.ratings import SCORE_STEPS, CriticAgreement, compare_member_with_critic, format_score


def test_scores_are_written_as_members_type_them():
    assert [format_score(s) for s in (1.0, 7.5, 10.0)] == ["1", "7.5", "10"]


def test_mean_gap_skips_reviews_without_a_critic_score():
    agreement = compare_member_with_critic([(8.0, 0.6), (9.0, 0.7), (3.0, None)])
    assert agreement == CriticAgreement(2, 2.0)


def test_no_comparable_ratings():
    assert compare_member_with_critic([(5.0, None)]) == CriticAgreement(0, None)
    assert "has not rated any review with a critic score" in CriticAgreement(0, None).describe("A")


def test_descriptions_agree_within_half_a_point():
    assert CriticAgreement(3, 0.4).describe("Al") == "Al agrees with the critic (over 3 reviews)."
    assert CriticAgreement(1, -1.25).describe("Al") == (
        "Al rates 1.2 points lower than the critic (over 1 review)."
    )


@given(st.lists(st.tuples(st.sampled_from(SCORE_STEPS), st.floats(0, 1)), min_size=1))
def test_gap_is_bounded_by_the_scale(pairs):
    agreement = compare_member_with_critic(pairs)
    assert agreement.compared == len(pairs)
    assert agreement.mean_difference is not None
    assert -9.0 - 1e-9 <= agreement.mean_difference <= 10.0 + 1e-9
