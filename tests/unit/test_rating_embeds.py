"""How rating answers read in Discord: labels, safe titles, bars, leaderboards and histories."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.discord_ui.rating_embeds import (
    CHART_FILENAME,
    chart_title,
    choice_name,
    leaderboard_embed,
    member_history_embed,
    rating_change_embed,
    review_ratings_embed,
    safe_title,
    score_label,
)
from bot.discord_ui.rating_select import rating_custom_id, rating_options, rating_select_item
from bot.member_ratings import RatingChange
from bot.ratings import SCORE_STEPS, CriticAgreement, Period, compare_member_with_critic
from bot.storage.reviews import LeaderboardEntry, MemberRating, RatingSummary, StoredReview

WHEN = datetime(2024, 5, 1, tzinfo=UTC)
HOSTILE = "**@everyone** <@123> [x](https://evil.example) `code`"


def stored(title: str = "Dune", critic: float | None = 0.8) -> StoredReview:
    return StoredReview(
        review_id="dune",
        source="blog",
        title=title,
        url="https://blog.example/dune",
        author="Critic",
        published_at=WHEN,
        modified_at=WHEN,
        excerpt="",
        image_url=None,
        categories=("Film",),
        tags=(),
        score_display=None if critic is None else f"{critic * 10:g}/10",
        score_value=None if critic is None else critic * 10,
        score_scale=None if critic is None else 10.0,
        score_normalized=critic,
        status="published",
        content_hash="x",
        first_seen_at=WHEN,
        updated_at=WHEN,
    )


def test_score_labels_show_stars_and_points():
    assert score_label(9) == "★★★★½ 9/10"
    assert score_label(7.5) == "★★★★☆ 7.5/10"
    assert score_label(1) == "½☆☆☆☆ 1/10"


def test_menu_offers_the_nineteen_scores_best_first():
    options = rating_options()
    assert [o.value for o in options] == [f"{s:g}" for s in reversed(SCORE_STEPS)]
    assert options[0].label == "★★★★★ 10/10"


def test_menu_custom_id_is_namespaced_and_bounded():
    assert rating_select_item("1234").custom_id == "rb:rate:1234"
    assert rating_custom_id("tag:blog,2024:7") == "rb:rate:tag%3Ablog%2C2024%3A7"
    assert len(rating_custom_id("x" * 92)) == 100
    for bad in ("", "x" * 93):
        with pytest.raises(ValueError):
            rating_select_item(bad)


def test_hostile_titles_are_escaped_and_cannot_ping():
    title = safe_title(HOSTILE)
    assert "**" not in title.replace("\\*", "")
    assert "@\u200beveryone" in title and "<\u200b@123>" in title
    assert "\\[x\\]" in title and "\\`code\\`" in title


@given(st.text())
def test_choice_names_fit_discord(title):
    name = choice_name(title)
    assert 1 <= len(name) <= 100 and "\n" not in name


def test_chart_titles_are_one_line_and_keep_dollars():
    assert chart_title("$5 and $10\n") == "$5 and $10"


def test_saved_rating_shows_the_score_and_the_community():
    change = RatingChange(stored(), 9.0, None, RatingSummary(3, 8.5))
    embed = rating_change_embed(change)
    assert embed.title == "Rating saved"
    assert embed.description == "You rated **Dune** ★★★★½ 9/10."
    assert embed.fields[0].value == "Community average **8.5/10** from 3 ratings."


def test_replaced_and_removed_ratings_say_what_they_were():
    updated = rating_change_embed(RatingChange(stored(), 6.5, 8.0, RatingSummary(1, 6.5)))
    assert updated.title == "Rating updated" and "(was 8/10)" in (updated.description or "")
    removed = rating_change_embed(RatingChange(stored(), None, 8.0, RatingSummary(0, None)))
    assert removed.title == "Rating removed"
    assert "★★★★☆ 8/10" in (removed.description or "")
    assert removed.fields[0].value == "No ratings yet."


def test_review_ratings_put_critic_and_community_on_one_scale():
    embed = review_ratings_embed(stored(critic=0.75), RatingSummary(4, 9.0), CHART_FILENAME)
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Critic"] == "`███████▌░░ 7.5/10` (7\\.5/10)"  # Discord shows "7.5"
    assert fields["Community"] == "`█████████░ 9.0/10` from 4 ratings"
    assert embed.description == "The community rates it 1.5 points higher than the critic."
    assert embed.image.url == "attachment://ratings.png"
    assert embed.url == "https://blog.example/dune"


def test_review_without_critic_score_or_ratings_says_so():
    embed = review_ratings_embed(stored(critic=None), RatingSummary(0, None), CHART_FILENAME)
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Critic"] == "No critic score for this review."
    assert fields["Community"].startswith("No ratings yet")
    assert embed.description is None


def test_leaderboard_lists_bayesian_mean_count_and_critic():
    entries = [
        LeaderboardEntry("a", "Loved", "u", 20, 9.0, 8.9, "9/10", 0.9),
        LeaderboardEntry("b", HOSTILE, "u", 1, 10.0, 8.7, None, None),
    ]
    embed = leaderboard_embed(entries, period=Period.MONTH, category="Film", prior_mean=8.46)
    assert embed.title == "Top rated in Film, published in the last month"
    lines = (embed.description or "").split("\n")
    assert lines[0] == "**1. Loved**"
    assert lines[1] == "★★★★½ **8.90** · mean 9.0 from 20 ratings · critic 9.0"
    assert lines[2].startswith("**2. \\*\\*@\u200beveryone")
    assert "mean 10.0 from 1 rating" in lines[3] and "critic" not in lines[3]
    assert "(8.5)" in (embed.footer.text or "")


def test_empty_leaderboard_invites_a_rating():
    embed = leaderboard_embed([], period=Period.ALL, category=None, prior_mean=None)
    assert embed.title == "Top rated, of all time"
    assert "/rate" in (embed.description or "")
    assert embed.footer.text is None


def test_member_history_compares_with_the_critic():
    history = [
        MemberRating("a", "Alpha", "u", 8.0, WHEN, "6/10", 0.6),
        MemberRating("c", "Gamma", "u", 3.0, WHEN, None, None),
    ]
    agreement = compare_member_with_critic((r.score, r.critic_normalized) for r in history)
    embed = member_history_embed("Al*ce", history, agreement)
    assert embed.title == "Al\\*ce's ratings"
    lines = (embed.description or "").split("\n")
    assert lines[0] == "Al\\*ce rates 2.0 points higher than the critic (over 1 review)."
    assert lines[2] == "★★★★☆ 8/10 **Alpha** · critic 6.0"
    assert lines[3] == "★½☆☆☆ 3/10 **Gamma**"


def test_member_without_ratings():
    embed = member_history_embed("Bob", [], CriticAgreement(0, None))
    assert embed.description == "Bob has not rated any review yet."
