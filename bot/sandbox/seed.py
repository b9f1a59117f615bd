"""The sandbox blog's content: the "Her" review with its two nested comments, and a back catalogue
of reviews whose scores come in every format the bot reads (like scripts/wordpress/seed.php)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from bot.sandbox.fake_wordpress import FakeComment, FakePost, FakeUser, FakeWordPress

BOT_LOGIN = "reviewbridge"


@dataclass(frozen=True)
class HerFixture:
    """The fixture page split the way seed.php splits it: 7 review paragraphs, the reader's
    comment (3 paragraphs) and the critic's reply nested under it (2 paragraphs)."""

    review: list[str]
    reader: list[str]
    reply: list[str]


@dataclass(frozen=True)
class HerReview:
    post: FakePost
    reader_comment: FakeComment
    reply_comment: FakeComment


def load_her_fixture() -> HerFixture:
    text = resources.files("bot.sandbox").joinpath("data/her-review.txt").read_text("utf-8")
    text = text.replace("\r\n", "\n")
    review, _, comments = text.partition("\n\n\n  1. ")
    reader, _, rest = comments.partition("\n\n    1. ")
    reply = rest.partition("\n\nLeave a comment")[0]
    fixture = HerFixture(_paragraphs(review), _paragraphs(reader), _paragraphs(reply))
    if (len(fixture.review), len(fixture.reader), len(fixture.reply)) != (7, 3, 2):
        raise ValueError("her-review.txt does not have the layout of the fixture page")
    return fixture


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.strip().split("\n\n") if p.strip()]


def add_bot_user(wp: FakeWordPress, app_password: str) -> FakeUser:
    """The Editor account the bot writes comments with (see the README's WordPress section)."""
    return wp.add_user(BOT_LOGIN, app_password, role="editor", display_name="Reviewbridge")


def seed_back_catalogue(wp: FakeWordPress) -> list[FakePost]:
    """Published reviews from before the bot arrived, one per score format."""

    def when(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    def paragraphs(*texts: str) -> str:
        return "\n\n".join(f"<p>{t}</p>" for t in texts)

    jsonld = {
        "@context": "https://schema.org",
        "@type": "Review",
        "name": "Minority Report review",
        "author": {"@type": "Person", "name": "Mara Ellison"},
        "itemReviewed": {"@type": "Movie", "name": "Minority Report", "dateCreated": "2002"},
        "reviewRating": {"@type": "Rating", "ratingValue": "8", "bestRating": "10"},
    }
    return [
        wp.add_post(
            "Blade Runner 2049",
            paragraphs(
                "Denis Villeneuve returns to Ridley Scott’s rain-soaked Los Angeles thirty years "
                "on, and somehow makes the sequel feel both reverent and new.",
                "<strong>Verdict:</strong> 4/5 stars",
            ),
            date=when(2019, 1, 20, 17),
            excerpt="A reverent, gorgeous sequel that stumbles in the middle.",
            categories=["Film reviews"],
            tags=["Denis Villeneuve", "Science fiction"],
        ),
        wp.add_post(
            "Arrival",
            paragraphs(
                "It is quiet, patient science fiction, and its last twenty minutes rearrange "
                "everything before them.",
                "Our rating: ★★★½",
            ),
            date=when(2019, 4, 7, 9, 15),
            categories=["Film reviews"],
            tags=["Denis Villeneuve", "Science fiction"],
        ),
        wp.add_post(
            "Ex Machina",
            paragraphs(
                "Alex Garland’s debut is a chamber piece with three characters, one of whom may "
                "not be a person.",
                "Score: 87/100",
            ),
            date=when(2019, 7, 14, 19, 45),
            categories=["Film reviews"],
            tags=["Alex Garland"],
        ),
        wp.add_post(
            "Minority Report, revisited",
            paragraphs(
                "Spielberg’s pre-crime thriller has aged better than most futures imagined in 2002."
            )
            + '\n\n<script type="application/ld+json">'
            + json.dumps(jsonld, ensure_ascii=False)
            + "</script>",
            date=when(2019, 9, 29, 14, 20),
            categories=["Film reviews"],
            tags=["Steven Spielberg"],
        ),
        wp.add_post(
            "Black Mirror: San Junipero",
            paragraphs(
                "The kindest hour Black Mirror ever made, set in a beach town that is not quite "
                "a place.",
                "Rating: 3.5 out of 5",
            ),
            date=when(2020, 2, 16, 21, 10),
            categories=["TV reviews"],
            tags=["Black Mirror"],
        ),
        wp.add_post(
            "Klara and the Sun",
            paragraphs(
                "Kazuo Ishiguro’s narrator is an Artificial Friend watching a family from a shop "
                "window and then from inside it.",
                "Grade: B+",
            ),
            date=when(2021, 3, 28, 7, 30),
            categories=["Book reviews"],
            tags=["Kazuo Ishiguro"],
        ),
    ]


def publish_her_review(wp: FakeWordPress) -> HerReview:
    """Publish "Her" now, with the reader's comment and the critic's reply nested under it."""
    fixture = load_her_fixture()
    post = wp.add_post(
        "Her",
        _html_paragraphs(fixture.review),
        slug="her",
        excerpt="Spike Jonze’s Her is a near-future love story that feels like the present, "
        "and one of the rare films that deserve a perfect score.",
        categories=["Film reviews"],
        tags=["Spike Jonze", "Joaquin Phoenix", "Science fiction"],
    )
    reader = wp.add_comment(
        post,
        _html_paragraphs(fixture.reader),
        author_name="Claire Ashworth",
        author_email="claire.ashworth@example.com",
        author_url="https://flashfilmreviews.example.com/",
    )
    critic = wp.critic
    reply = wp.add_comment(
        post,
        _html_paragraphs(fixture.reply),
        author_name=critic.display_name,
        author_email=critic.email,
        parent=reader,
        user=critic,
    )
    return HerReview(post, reader, reply)


def _html_paragraphs(paragraphs: list[str]) -> str:
    """Stored like WordPress stores typed text: escaped, blank lines between paragraphs."""
    return "\n\n".join(html.escape(p, quote=False) for p in paragraphs)
