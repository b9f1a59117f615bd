"""Where a member's message goes, and how the blog names its author."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.replies import (
    AUTHOR_SUFFIX,
    MAX_AUTHOR_NAME,
    Approval,
    Consent,
    Source,
    Status,
    blog_author,
    carries_discord_marker,
    decide,
    explain,
    new_reply_marker,
)
from bot.sync.replies import snowflake_at


@pytest.mark.parametrize(
    ("consent", "approval", "source", "status"),
    [
        (None, Approval.OFF, Source.MESSAGE, Status.AWAITING_CONSENT),
        (None, Approval.OFF, Source.MENU, Status.AWAITING_CONSENT),
        (Consent.NEVER, Approval.OFF, Source.COMMAND, Status.DISCORD_ONLY),
        (Consent.ASK, Approval.OFF, Source.MESSAGE, Status.AWAITING_CONSENT),
        (Consent.ASK, Approval.OFF, Source.MENU, Status.QUEUED),  # the request is the answer
        (Consent.ALWAYS, Approval.OFF, Source.MESSAGE, Status.QUEUED),
        (Consent.ALWAYS, Approval.BLOG, Source.MESSAGE, Status.QUEUED),  # sent held
        (Consent.ALWAYS, Approval.DISCORD, Source.MESSAGE, Status.AWAITING_APPROVAL),
    ],
)
def test_nothing_leaves_discord_without_consent_and_approval_comes_after_it(
    consent, approval, source, status
):
    assert decide(consent, approval, source) is status


def test_the_blog_shows_the_display_name_marked_as_from_discord():
    assert blog_author("Alex") == "Alex (via Discord)"
    assert blog_author("  A\u200bl   ex \n") == "Al ex (via Discord)"
    assert blog_author("\u200b") == "A Discord member (via Discord)"


@given(st.text())
def test_any_display_name_gives_a_short_single_line_attributed_name(name):
    shown = blog_author(name)
    assert shown.endswith(AUTHOR_SUFFIX) and "\n" not in shown
    assert len(shown) <= MAX_AUTHOR_NAME + len(AUTHOR_SUFFIX)


def test_markers_name_their_thread_so_other_guilds_still_mirror_the_comment():
    marker = new_reply_marker(30)
    assert marker.startswith("dc-30-") and marker != new_reply_marker(30)
    html = f"<p>hi<!-- rb:{marker} --></p>"
    assert carries_discord_marker(html, 30) and not carries_discord_marker(html, 3)


def test_every_status_explains_itself_to_its_author():
    for status in Status:
        assert explain(status, "HTTP 500", approval_channel=7)
    assert "HTTP 500" in explain(Status.FAILED, "HTTP 500")
    assert "<#7>" in explain(Status.AWAITING_APPROVAL, None, approval_channel=7)


def test_catch_up_starts_at_the_snowflake_of_the_link_time():
    assert snowflake_at("2015-01-01T00:00:00.000Z") == 0
    assert snowflake_at("2024-05-01T12:00:00.000Z") >> 22 == 1714564800000 - 1420070400000
