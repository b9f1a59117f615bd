"""The blog models the rest of the bot relies on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.blog.models import BlogComment, PollState, Review, thread_order

T0 = datetime(2024, 1, 1, 12, tzinfo=UTC)


def comment(
    cid: str, parent: str | None = None, minutes: int = 0, text: str = "<p>hi</p>"
) -> BlogComment:
    return BlogComment(
        id=cid,
        review_id="1",
        parent_id=parent,
        author="A",
        published=T0 + timedelta(minutes=minutes),
        content_html=text,
        link="",
    )


def test_review_json_is_utc_and_has_the_agreed_keys() -> None:
    paris = timezone(timedelta(hours=1))
    review = Review(
        id="7",
        title="Her",
        url="https://b.example/her/",
        author="Mara",
        published=datetime(2018, 11, 4, 20, 30, tzinfo=paris),
        modified=datetime(2018, 11, 4, 20, 30, tzinfo=paris),
    )
    data = review.as_json()
    assert data["published"] == "2018-11-04T19:30:00Z"
    assert {"id", "title", "url", "published", "author", "score"} <= set(data)
    assert data["score"] is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Review(
            id="1",
            title="t",
            url="u",
            author="a",
            published=datetime(2020, 1, 1),
            modified=datetime(2020, 1, 1),
        )


def test_comment_parent_is_zero_or_the_numeric_id() -> None:
    assert comment("5", parent="0").as_json()["parent"] == 0
    assert comment("6", parent="5").as_json() | {"text": ""} == {
        "id": 6,
        "parent": 5,
        "author": "A",
        "published": "2024-01-01T12:00:00Z",
        "text": "",
        "status": "approved",
        "avatar": None,
    }


def test_content_hash_ignores_whitespace_but_not_words() -> None:
    spaced, tight = comment("1", text="<p>a  b</p>\n"), comment("1", text="<p>a b</p>")
    assert spaced.content_hash == tight.content_hash
    assert comment("1", text="<p>a</p>").content_hash != tight.content_hash


def test_thread_order_survives_a_parent_cycle() -> None:
    # WordPress does not check parents; a hand-edited database can hold a loop.
    ordered = thread_order([comment("1", parent="2", minutes=1), comment("2", parent="1")])
    assert sorted(c.id for c in ordered) == ["1", "2"]


def test_poll_state_ignores_unknown_keys() -> None:
    state = PollState.from_json({"reviews_total": 3, "from_a_newer_version": True})
    assert state.reviews_total == 3 and not state.is_baseline
