"""Critic scores: the verdict a reader would see, and nothing that only looks like one."""

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.scores import CriticScore, find_critic_score, parse_critic_score, score_from_rating

HER_REVIEW = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "her-review.txt"


@pytest.mark.parametrize(
    ("text", "display", "value", "scale", "normalized"),
    [
        ("A film I'd call 10/10 without doubt.", "10/10", 10, 10, 1.0),
        ("Overall 8.5/10.", "8.5/10", 8.5, 10, 0.85),
        ("I give it 4/5 stars", "4/5 stars", 4, 5, 0.8),
        ("I give it 3.5 out of 5.", "3.5 out of 5", 3.5, 5, 0.7),
        ("A solid 7 out of 10 from me", "7 out of 10", 7, 10, 0.7),
        ("★★★★☆", "★★★★☆", 4, 5, 0.8),
        ("★★★½", "★★★½", 3.5, 5, 0.7),
        ("½☆☆☆☆", "½☆☆☆☆", 0.5, 5, 0.1),
        ("★★☆☆", "★★☆☆", 2, 4, 0.5),
        ("⭐⭐⭐", "⭐⭐⭐", 3, 5, 0.6),
        ("Easily 4½ stars.", "4½ stars", 4.5, 5, 0.9),
        ("Three and a bit: 3.5 stars", "3.5 stars", 3.5, 5, 0.7),
        ("It earns a 5-star rating", "5-star", 5, 5, 1.0),
        ("That is 87/100 in my book", "87/100", 87, 100, 0.87),
        ("Final: 16/20", "16/20", 16, 20, 0.8),
        ("Just 0/10.", "0/10", 0, 10, 0.0),
        ("9⁄10 with a fraction slash", "9⁄10", 9, 10, 0.9),
        ("9∕10 with a division slash", "9∕10", 9, 10, 0.9),
        ("a generous 9 / 10", "9 / 10", 9, 10, 0.9),
        ("(8/10)", "8/10", 8, 10, 0.8),
        ("3/4", "3/4", 3, 4, 0.75),
    ],
)
def test_reader_sees_the_score_the_blog_wrote(
    text: str, display: str, value: float, scale: float, normalized: float
) -> None:
    assert parse_critic_score(text) == CriticScore(display, value, scale, normalized, "text")


@pytest.mark.parametrize(
    "text",
    [
        "Released on 10/10/2019 in cinemas.",
        "Released 10/10/19.",
        "Filed 2019/10/10.",
        "Doors open at 10:30.",
        "Support is available 24/7",
        "A film about 9/11",
        "Only 1/2 hour long",
        "The last 3/4 of the film drags.",
        "It's a 50/50 chance.",
        "About 1/3 of the audience left.",
        "Only 2/5 of critics agreed.",
        "9 out of 10 dentists agree",
        "3 out of 5 times it works",
        "The song is in 4/4 time",
        "See page 3/10 of the booklet",
        "Part 1/5 of the series",
        "Episode 2/10 airs tonight",
        "It opens on 10/10 in most countries",
        "20/20 vision, they say",
        "Hindsight is 20/20",
        "That is thirty years away.",
        "I rate it ten out of ten",
        "A ridiculous 12/10",
        "Scored 7/7 on a quiz",
        "Seven of 3/2",
        "87% of people liked it",
        "A grade B+ movie",
        "★ Editor's pick",
        "Firmware v2.1/5 released",
        "costs $5/10 each",
        "8/10ths of a mile",
        "",
    ],
)
def test_dates_times_fractions_and_ratios_are_not_scores(text: str) -> None:
    assert parse_critic_score(text) is None


def test_the_last_plausible_score_in_the_text_wins() -> None:
    text = "Last year's entry was 6/10. This one? 8/10, easily."
    assert parse_critic_score(text).display == "8/10"


def test_a_rejected_candidate_does_not_hide_an_earlier_score() -> None:
    assert parse_critic_score("A 9/10 film, 3/4 of the runtime is great").display == "9/10"


def test_the_her_review_fixture_scores_a_perfect_ten() -> None:
    if not HER_REVIEW.exists():
        pytest.skip(f"fixture not found at {HER_REVIEW}")
    score = find_critic_score(HER_REVIEW.read_text(encoding="utf-8"))
    assert score is not None
    assert (score.display, score.normalized) == ("10/10", 1.0)


@pytest.mark.parametrize(
    ("text", "display", "value", "scale"),
    [
        ("Grade: A+", "A+", 12, 12),
        ("Grade: A", "A", 11, 12),
        ("Grade: A-", "A-", 10, 12),
        ("Grade: B+ - a strong effort", "B+", 9, 12),
        ("grade: B", "B", 8, 12),
        ("Grade: C−", "C−", 4, 12),
        ("Verdict: D+.", "D+", 3, 12),
        ("Grade: F", "F", 0, 12),
        ("Score: 87%", "87%", 87, 100),
        ("Our score: 8/10", "8/10", 8, 10),
        ("Our score is 8/10", "8/10", 8, 10),
        ("Our score 3.5 out of 5", "3.5 out of 5", 3.5, 5),
        ("RATING: ★★★★☆", "★★★★☆", 4, 5),
        ("Rating: ★", "★", 1, 5),
        ("**Rating:** **4/5**", "4/5", 4, 5),
        ("Rating:9/10", "9/10", 9, 10),
        ("Verdict — 4 stars", "4 stars", 4, 5),
    ],
)
def test_labelled_scores_are_read_including_letter_grades_and_percentages(
    text: str, display: str, value: float, scale: float
) -> None:
    score = find_critic_score(text)
    assert score is not None
    assert (score.display, score.value, score.scale, score.source) == (
        display,
        value,
        scale,
        "labelled",
    )


def test_letter_grades_span_f_at_zero_to_a_plus_at_one() -> None:
    grades = ["F", "D-", "D", "D+", "C-", "C", "C+", "B-", "B", "B+", "A-", "A", "A+"]
    normalized = [find_critic_score(f"Grade: {grade}").normalized for grade in grades]
    assert normalized[0] == 0.0
    assert normalized[-1] == 1.0
    assert normalized == sorted(normalized)
    assert find_critic_score("Grade: B+").normalized == 0.75


@pytest.mark.parametrize(
    "text",
    [
        "Verdict: A triumph of style.",
        "Verdict: Decent enough",
        "Grade: E",
        "Rating: pending",
        "The score: swelling strings everywhere",
    ],
)
def test_a_label_followed_by_prose_is_not_a_grade(text: str) -> None:
    assert find_critic_score(text) is None


def test_a_labelled_score_beats_a_later_score_in_the_text() -> None:
    text = "Rating: 4/5\nA commenter wrote: honestly 9/10 for me."
    assert find_critic_score(text).display == "4/5"


def test_a_label_at_the_end_of_a_paragraph_is_read_even_if_the_next_starts_with_a_plural() -> None:
    assert find_critic_score("Rating: 10/10\nMovies like this are rare").display == "10/10"


def test_of_several_labelled_scores_the_last_one_is_the_overall_verdict() -> None:
    text = "Story score: 7/10. Acting score: 9/10. Overall score: 8/10."
    assert find_critic_score(text).display == "8/10"


def _review(rating: dict[str, Any], review_type: Any = "Review") -> dict[str, Any]:
    return {"@type": review_type, "reviewRating": {"@type": "Rating", **rating}}


NINE_OF_TEN = {"ratingValue": 9, "bestRating": 10, "worstRating": 0}


@pytest.mark.parametrize(
    "jsonld",
    [
        [_review({"ratingValue": "9", "bestRating": "10", "worstRating": "0"})],
        [{"@graph": [{"@type": "WebPage"}, _review(NINE_OF_TEN)]}],
        [[_review(NINE_OF_TEN)]],
        [{"@type": "Movie", "name": "Her", "review": _review(NINE_OF_TEN)}],
        [{"@type": "WebPage", "itemReviewed": {"review": [_review(NINE_OF_TEN)]}}],
        [_review(NINE_OF_TEN, ["CreativeWork", "Review"])],
        [_review(NINE_OF_TEN, "http://schema.org/Review")],
        [_review(NINE_OF_TEN, "CriticReview")],
    ],
)
def test_the_pages_json_ld_review_rating_is_preferred_wherever_it_nests(jsonld: Any) -> None:
    score = find_critic_score("Rating: 2/5 and later 3/10", jsonld)
    assert score == CriticScore("9/10", 9, 10, 0.9, "jsonld")


def test_an_aggregate_rating_from_readers_is_not_the_critics_score() -> None:
    jsonld = [{"@type": "Movie", "aggregateRating": {"ratingValue": 2, "bestRating": 5}}]
    assert find_critic_score("I'd say 8/10.", jsonld).display == "8/10"


def test_an_unusable_json_ld_rating_falls_back_to_the_text() -> None:
    jsonld = [_review({"ratingValue": "great"}), {"@type": "Review"}, "not a mapping"]
    assert find_critic_score("Rating: 4/5", jsonld).source == "labelled"


@pytest.mark.parametrize(
    ("rating", "expected"),
    [
        # schema.org: without bestRating the scale is 1..5, and the worst value is the 0 point.
        ({"ratingValue": 4}, CriticScore("4/5", 4, 5, 0.75, "jsonld")),
        ({"ratingValue": "1"}, CriticScore("1/5", 1, 5, 0.0, "jsonld")),
        ({"ratingValue": "8", "bestRating": "10"}, CriticScore("8/10", 8, 10, 0.7778, "jsonld")),
        ({"ratingValue": 0, "bestRating": 10}, CriticScore("0/10", 0, 10, 0.0, "jsonld")),
        (
            {"ratingValue": "4,5", "bestRating": 5, "worstRating": 0},
            CriticScore("4.5/5", 4.5, 5, 0.9, "jsonld"),
        ),
        (
            {"ratingValue": 87.0, "bestRating": 100, "worstRating": "0"},
            CriticScore("87/100", 87, 100, 0.87, "jsonld"),
        ),
        ({"ratingValue": "nan"}, None),
        ({"ratingValue": True}, None),
        ({"ratingValue": None}, None),
        ({"ratingValue": 6}, None),
        ({"ratingValue": 3, "bestRating": 3, "worstRating": 3}, None),
        ({"ratingValue": 3, "bestRating": "ten"}, None),
        ({}, None),
    ],
)
def test_schema_org_ratings_are_normalised_from_their_worst_to_their_best(
    rating: dict[str, Any], expected: CriticScore | None
) -> None:
    assert score_from_rating(rating) == expected


def test_the_public_json_has_exactly_display_value_scale_and_normalized() -> None:
    score = parse_critic_score("8.5/10")
    assert score.as_json() == {"display": "8.5/10", "value": 8.5, "scale": 10.0, "normalized": 0.85}


score_like_text = st.text(
    alphabet=st.sampled_from(list("0123456789/ .,★⭐☆½⁄outfsaRrGgdeDCBF+-−%:\n")), max_size=60
)
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "@type",
                    "@graph",
                    "reviewRating",
                    "ratingValue",
                    "bestRating",
                    "worstRating",
                    "review",
                    "itemReviewed",
                ]
            ),
            children | st.sampled_from(["Review", "Rating", "5", "10", "0"]),
            max_size=5,
        )
    ),
    max_leaves=10,
)


def _assert_sane(score: CriticScore | None) -> None:
    if score is not None:
        assert 0 <= score.normalized <= 1
        assert score.value <= score.scale
        assert score.display


@settings(max_examples=100)
@given(st.one_of(score_like_text, st.text()))
def test_any_text_parses_without_error_to_a_sane_score_or_none(text: str) -> None:
    _assert_sane(parse_critic_score(text))
    _assert_sane(find_critic_score(text))


@settings(max_examples=50)
@given(score_like_text, st.lists(json_values, max_size=3))
def test_any_json_ld_gives_a_sane_score_or_none(text: str, jsonld: list[Any]) -> None:
    _assert_sane(find_critic_score(text, jsonld))
