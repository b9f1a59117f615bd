from bot.sync.engine import ThreadStatus
from cogs.about import describe_comment_sync


def status(**changes) -> ThreadStatus:
    values = dict(
        thread_id=1, review_id="1001", guild_id=2, paused=False, mirrored=3, pending=0,
        queued=0, failed=0, linked_at="2024-05-01T12:00:00.000Z", last_sync_at=None,
        last_error=None,
    )  # fmt: skip
    return ThreadStatus(**{**values, **changes})


def test_about_shows_outbox_depth_last_sync_and_a_harmless_last_error():
    text = describe_comment_sync(
        [
            status(queued=2, last_sync_at="2024-05-01T12:00:00.000Z"),
            status(thread_id=2, failed=1, paused=True, last_error="blog down @everyone"),
        ]
    )
    assert text.startswith("2 threads, outbox 2 queued, 1 failed")
    assert "1 paused" in text
    assert "last sync <t:1714564800:R>" in text
    assert "@everyone" not in text and "blog down" in text


def test_about_says_when_nothing_is_linked():
    assert describe_comment_sync([]) == "no thread linked yet"
