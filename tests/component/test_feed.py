"""Reading a blog through its RSS/Atom feed: cheap conditional polls, one review per guid."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import pytest

from bot.blog.errors import ReadOnlyBlog
from bot.blog.feed import FeedBlog, entry_id, reviews_from_feed
from bot.blog.models import PollState
from tests.component.conftest import FAST_RETRY
from tests.component.fake_wordpress import FakeWordPress

DUPLICATED_GUIDS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
<item><title>Her</title><link>https://blog.example/her/</link><guid>tag:blog,1</guid>
<pubDate>Sun, 04 Nov 2018 20:30:00 +0100</pubDate><description>Score: 10/10</description>
<enclosure url="https://blog.example/her.jpg" type="image/jpeg" length="1"/></item>
<item><title>Her (again)</title><link>https://blog.example/her/</link><guid>tag:blog,1</guid>
<pubDate>Sun, 04 Nov 2018 20:30:00 +0100</pubDate></item>
<item><title>Arrival</title><link>https://blog.example/arrival/</link><guid>tag:blog,2</guid>
<pubDate>Sun, 07 Apr 2019 11:15:00 +0200</pubDate>
<media:thumbnail url="https://blog.example/arrival.jpg"/></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom blog</title>
<entry><id>urn:uuid:1</id><title>Ex Machina</title><link href="https://atom.example/ex"/>
<published>2019-07-14T21:45:00+02:00</published><updated>2019-07-15T08:00:00+02:00</updated>
<author><name>Mara Ellison</name></author><category term="Film"/>
<content type="html">&lt;p&gt;A chamber piece.&lt;/p&gt;&lt;p&gt;Score: 87/100&lt;/p&gt;</content>
</entry></feed>"""


@pytest.fixture
def feed(wp: FakeWordPress, session: aiohttp.ClientSession) -> FeedBlog:
    return FeedBlog(session, f"{wp.url}/feed/", retry=FAST_RETRY)


async def test_feed_entries_become_reviews(wp: FakeWordPress, feed: FeedBlog) -> None:
    wp.add_post(
        "Her",
        "It is a film 10/10 and deserving of it.",
        categories=["Film"],
        tags=["Spike Jonze"],
        date=datetime(2018, 11, 4, 19, 30, tzinfo=UTC),
    )
    (review,) = await feed.list_reviews()
    assert review.title == "Her"
    assert review.author == "Mara Ellison"
    assert review.published == datetime(2018, 11, 4, 19, 30, tzinfo=UTC)
    assert review.categories == ("Film", "Spike Jonze")
    assert review.score is not None and review.score.display == "10/10"
    assert await feed.find_review_by_url(review.url) == review
    assert await feed.get_review(review.id) == review


async def test_unchanged_feed_costs_one_304_and_reports_nothing(
    wp: FakeWordPress, feed: FeedBlog
) -> None:
    wp.add_post("Her")
    first = await feed.poll(PollState())
    assert first.reviews == () and first.state.etag
    wp.reset_counts()
    second = await feed.poll(first.state)
    assert second.reviews == () and second.state == first.state
    assert wp.count() == 1
    post = wp.add_post("Arrival")
    third = await feed.poll(second.state)
    assert [r.title for r in third.reviews] == ["Arrival"] and post.title == "Arrival"
    assert (await feed.poll(third.state)).reviews == ()


def test_repeated_guid_is_one_review_and_images_come_from_enclosures() -> None:
    reviews = reviews_from_feed(DUPLICATED_GUIDS, "https://blog.example/feed/")
    assert [r.title for r in reviews] == ["Arrival", "Her"]
    her = reviews[1]
    assert her.published == datetime(2018, 11, 4, 19, 30, tzinfo=UTC)
    assert her.image_url == "https://blog.example/her.jpg"
    assert reviews[0].image_url == "https://blog.example/arrival.jpg"


def test_long_or_url_guids_become_short_stable_ids() -> None:
    guid = "https://blog.example/?p=1234&utm_source=" + "x" * 200
    assert entry_id(guid) == entry_id(guid)
    assert entry_id(guid).startswith("feed-") and len(entry_id(guid)) <= 40
    assert entry_id("abc-123") == "abc-123"


def test_atom_feed_is_read_too() -> None:
    (review,) = reviews_from_feed(ATOM, "https://atom.example/feed.atom")
    assert (review.id, review.author, review.categories) == (
        entry_id("urn:uuid:1"),
        "Mara Ellison",
        ("Film",),
    )
    assert review.published == datetime(2019, 7, 14, 19, 45, tzinfo=UTC)
    assert review.modified == datetime(2019, 7, 15, 6, 0, tzinfo=UTC)
    assert review.score is not None and review.score.value == 87


async def test_feed_blog_has_no_comments_and_refuses_writes(feed: FeedBlog) -> None:
    assert not feed.writable
    assert await feed.list_comments("x") == []
    with pytest.raises(ReadOnlyBlog, match="read-only"):
        await feed.create_comment("x", parent_id=None, author_name="M", content_html="<p>x</p>")
    with pytest.raises(ReadOnlyBlog):
        await feed.delete_comment("1")
