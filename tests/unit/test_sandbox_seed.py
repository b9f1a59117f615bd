"""The sandbox blog's "Her" review comes from a packaged copy of the WordPress seed's fixture."""

from pathlib import Path

from bot.sandbox.fake_wordpress import FakeWordPress
from bot.sandbox.seed import load_her_fixture, publish_her_review, seed_back_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_packaged_fixture_is_the_wordpress_seed_fixture():
    packaged = ROOT / "bot/sandbox/data/her-review.txt"
    seeded = ROOT / "scripts/wordpress/seed-data/her-review.txt"
    assert packaged.read_bytes() == seeded.read_bytes()


def test_fixture_splits_into_review_reader_comment_and_nested_reply():
    fixture = load_her_fixture()
    assert fixture.review[0].startswith("From the mind of Spike Jonze.")
    assert fixture.reader[0].startswith("Oh, I’m so glad you reminded me of this film.")
    assert fixture.reply[-1].startswith("It’s interesting how your life is the sequel")


def test_her_is_published_with_the_reply_nested_under_the_reader():
    wp = FakeWordPress()
    catalogue = seed_back_catalogue(wp)
    her = publish_her_review(wp)
    assert her.post.date_gmt >= max(p.date_gmt for p in catalogue)
    assert her.reply_comment.parent == her.reader_comment.id
    assert her.reply_comment.user_id == wp.critic.id
    assert "&lt;" not in her.post.content and "10/10" in her.post.content
