"""Choosing the blog comment a /comment answers: choice labels, excerpts, matching, and what
the author of a reply to a packed message is told."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.replies import (
    EXCERPT_CHARS,
    Status,
    comment_excerpt,
    explain,
    shows_several,
    target_filter,
    target_label,
)

JAN_6 = datetime(2025, 1, 6, 21, 30, tzinfo=UTC)
NOW = datetime(2025, 3, 1, tzinfo=UTC)
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# Strangers' names and texts: anything, with the awkward characters made likely.
awkward = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(["\ud800", "\u202e", "\u200b", "\n", "\r", "\t", " ", "·", "…", "<", "&"]),
    ),
    max_size=400,
)


def test_a_label_names_the_commenter_the_day_and_the_first_words():
    text = "It made me call my sister. " * 4
    label = target_label("Claire", JAN_6, text, now=NOW)
    assert label.startswith("Claire · 6 Jan · It made me call my sister.")
    assert label.endswith("…") and len(label) <= 100


def test_another_years_comment_shows_its_year_and_an_unknown_text_only_name_and_date():
    assert target_label("Claire", JAN_6, "Hi", now=datetime(2026, 1, 1, tzinfo=UTC)) == (
        "Claire · 6 Jan 2025 · Hi"
    )
    assert target_label("Claire", JAN_6, None, now=NOW) == "Claire · 6 Jan"
    assert target_label("  ", JAN_6, "   ", now=NOW) == "Anonymous · 6 Jan"


def test_a_long_name_is_cut_and_leaves_room_for_the_text():
    label = target_label("Bartholomew " * 20, JAN_6, "Short and sweet.", now=NOW)
    name = label.split(" · ")[0]
    assert len(name) <= 40 and name.endswith("…")
    assert label.endswith("· 6 Jan · Short and sweet.")


@given(
    author=awkward,
    text=st.one_of(st.none(), awkward),
    published=st.datetimes(timezones=st.just(UTC)),
)
def test_any_label_is_one_clean_line_of_1_to_100_characters(author, text, published):
    label = target_label(author, published, text, now=NOW)
    assert 1 <= len(label) <= 100
    assert "\n" not in label and "\r" not in label
    assert not INVISIBLE.search(label) and not any("\ud800" <= c <= "\udfff" for c in label)
    assert label == label.strip()


def test_the_excerpt_is_the_visible_text_on_one_line():
    html = (
        "<p>It made <em>me</em> call my sister&nbsp;&amp; cry.</p><!-- rb:dc-1-ff -->"
        "<blockquote>Quoted<br>line</blockquote><script>alert(1)</script><style>p{}</style>"
        "<p>4 &lt; 5 and <a href='https://x.example/very/long'>a link</a>.</p>"
    )
    assert comment_excerpt(html) == "It made me call my sister & cry. Quoted line 4 < 5 and a link."


def test_the_excerpt_of_a_long_or_broken_comment_is_cut():
    long = comment_excerpt("<p>" + "word " * 10_000 + "</p>")
    assert len(long) <= EXCERPT_CHARS and long.endswith("…")
    assert comment_excerpt("<p>Cut off <a href='https://x.example/") == "Cut off"
    assert comment_excerpt("") == "" and comment_excerpt("<p> </p>") == ""
    assert comment_excerpt("<p>hi\u202e there\u200b</p>") == "hi there"


@given(awkward)
def test_any_excerpt_is_short_and_on_one_line(html):
    text = comment_excerpt(html)
    assert len(text) <= EXCERPT_CHARS and "\n" not in text and text == text.strip()
    assert not INVISIBLE.search(text)


def test_typed_words_match_the_name_the_text_or_the_id():
    text = "It made me call my sister"
    assert target_filter("  CLAIRE ")("Claire", None, "5")
    assert target_filter("call my   sister")("Claire", text, "5")
    assert target_filter("ire it made")("Claire", text, "5")  # across name and text, as shown
    assert target_filter("claire ashworth")("Claire   Ashworth", None, "5")
    assert target_filter("5")("Claire", None, "5")
    assert not target_filter("ben")("Claire", text, "5")
    assert not target_filter("sister")("Claire", None, "5")  # the text is not known yet


def test_a_packed_message_shows_several_comments_a_split_one_does_not():
    assert shows_several(["5", "6"]) and not shows_several(["5", "5"]) and not shows_several([])


def test_the_author_of_a_reply_to_a_packed_message_learns_it_is_top_level_and_what_to_do():
    posted = explain(Status.PUBLISHED, None, answered_packed=True)
    waiting = explain(Status.QUEUED, None, answered_packed=True)
    assert posted.startswith("Published on the blog. It was posted as a new comment")
    assert waiting.startswith("Queued") and "It goes to the blog as a new comment" in waiting
    for told in (posted, waiting, explain(Status.HELD, None, answered_packed=True)):
        assert "several blog comments" in told and "`/comment` with `reply_to:`" in told
    for gone in (Status.DISCORD_ONLY, Status.REJECTED, Status.DELETED):
        assert "several" not in explain(gone, None, answered_packed=True)
    assert explain(Status.PUBLISHED, None) == "Published on the blog."


@given(typed=awkward, author=awkward, text=st.one_of(st.none(), awkward))
def test_any_typing_is_matched_without_error_and_nothing_typed_fits_all(typed, author, text):
    assert isinstance(target_filter(typed)(author, text, "5"), bool)
    assert target_filter("")(author, text, "5")
