"""The bot's blog connector and its CLI against the real WordPress, as an operator uses them."""

import json
import os
import subprocess
import sys
import uuid

import aiohttp
import pytest

from bot.blog.errors import BadCredentials, InvalidParent
from bot.blog.models import PollState
from bot.blog.wordpress import WordPressBlog


def reviewbridge(wordpress, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_", "WORD"))}
    clean.update(wordpress.bot_environ(), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=clean, capture_output=True, text=True, timeout=60
    )


def test_blog_comments_shows_the_reader_comment_with_the_author_reply_under_it(wordpress):
    result = reviewbridge(wordpress, "blog", "comments", str(wordpress.her_post_id), "--json")
    assert result.returncode == 0, result.stderr
    comments = json.loads(result.stdout)
    assert [(c["id"], c["parent"]) for c in comments] == [
        (wordpress.her_reader_comment_id, 0),
        (wordpress.her_reply_comment_id, wordpress.her_reader_comment_id),
    ]
    reader, reply = comments
    assert reader["author"] == "Claire Ashworth"
    assert reader["text"].startswith("Oh, I’m so glad you reminded me of this film.")
    assert reply["author"] == "Mara Ellison"
    assert reader["published"].endswith("Z") and reader["published"] < reply["published"]

    text = reviewbridge(wordpress, "blog", "comments", str(wordpress.her_post_id))
    reader_at = text.stdout.index("Claire Ashworth")
    reply_line = next(line for line in text.stdout.splitlines() if "Mara Ellison" in line)
    assert reply_line.startswith("    #")  # indented under the reader's comment
    assert text.stdout.index("Mara Ellison") > reader_at


def test_blog_reviews_lists_scores_in_every_format(wordpress):
    result = reviewbridge(wordpress, "blog", "reviews", "--json")
    assert result.returncode == 0, result.stderr
    by_title = {r["title"]: r for r in json.loads(result.stdout)}
    assert set(by_title["Her"]) >= {"id", "title", "url", "published", "author", "score"}
    assert by_title["Her"]["score"] == {
        "display": "10/10",
        "value": 10.0,
        "scale": 10.0,
        "normalized": 1.0,
    }
    assert by_title["Her"]["published"] == "2018-11-04T19:30:00Z"  # site time is Europe/Rome
    assert by_title["Blade Runner 2049"]["score"]["display"] == "4/5 stars"
    assert by_title["Arrival"]["score"]["normalized"] == pytest.approx(0.7)
    assert by_title["Ex Machina"]["score"]["display"] == "87/100"
    assert by_title["Minority Report, revisited"]["score"]["value"] == 8.0
    assert by_title["Rome Film Fest diary"]["score"] is None  # 10/10/2019 and 24/7 are not scores
    assert "Dune (draft)" not in by_title
    limited = reviewbridge(wordpress, "blog", "reviews", "--limit", "2", "--json")
    assert len(json.loads(limited.stdout)) == 2


def test_inspect_her_page_gives_ten_out_of_ten(wordpress):
    result = reviewbridge(wordpress, "inspect", f"{wordpress.url}/her/", "--json")
    assert result.returncode == 0, result.stderr
    card = json.loads(result.stdout)
    assert card["title"] == "Her"
    assert card["score"]["display"] == "10/10"
    assert card["score"]["normalized"] == 1.0


def test_check_passes_with_the_editor_and_explains_a_bad_app_password(wordpress, tmp_path):
    db = str(tmp_path / "bot.sqlite3")
    good = reviewbridge(wordpress, "check", DATABASE_PATH=db)
    assert good.returncode == 0, good.stdout
    assert "ok   WordPress credentials: reviewbridge can write" in good.stdout
    bad = reviewbridge(
        wordpress, "check", DATABASE_PATH=db, WORDPRESS_APP_PASSWORD="abcd efgh ijkl mnop qrst uvwx"
    )
    assert bad.returncode == 1
    failures = [line for line in bad.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1
    assert "Application Password" in failures[0]
    assert "abcd efgh" not in bad.stdout


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as session:
        yield session


async def test_reply_is_written_under_the_given_comment(fresh_wordpress, session, wp_admin):
    wp = fresh_wordpress
    blog = WordPressBlog(session, wp.url, wp.editor_user, wp.editor_app_password)
    marker = uuid.uuid4().hex
    created = await blog.create_comment(
        str(wp.her_post_id),
        parent_id=str(wp.her_reader_comment_id),
        author_name="Alex (via Discord)",
        content_html="<p>Same here, it stayed with me for weeks.</p>",
        marker=marker,
    )
    stored = await wp_admin.comment(int(created.id))
    assert stored["parent"] == wp.her_reader_comment_id
    assert stored["post"] == wp.her_post_id
    assert stored["author_name"] == "Alex (via Discord)"
    assert stored["status"] == "approved"
    found = await blog.find_comment_by_marker(str(wp.her_post_id), marker)
    assert found is not None and found.id == created.id
    thread = await blog.list_comments(str(wp.her_post_id))
    assert [c.id for c in thread][-1] == created.id


async def test_parent_from_another_review_is_refused(fresh_wordpress, session):
    wp = fresh_wordpress
    blog = WordPressBlog(session, wp.url, wp.editor_user, wp.editor_app_password)
    other_post = wp.ids["stars_post"]
    with pytest.raises(InvalidParent):
        await blog.create_comment(
            str(other_post),
            parent_id=str(wp.her_reader_comment_id),
            author_name="Alex (via Discord)",
            content_html="<p>Wrong thread</p>",
        )


async def test_bad_app_password_is_a_clear_error(wordpress, session):
    blog = WordPressBlog(
        session, wordpress.url, wordpress.editor_user, "abcd efgh ijkl mnop qrst uvwx"
    )
    with pytest.raises(BadCredentials, match="Application Password"):
        await blog.create_comment(
            str(wordpress.her_post_id),
            parent_id=None,
            author_name="Alex (via Discord)",
            content_html="<p>hello</p>",
        )


async def test_idle_poll_costs_at_most_two_requests(wordpress):
    requests = []

    async def count(session, context, params):
        requests.append(str(params.url))

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        blog = WordPressBlog(session, wordpress.url)
        await blog.rest_root()
        first = await blog.poll(PollState())
        requests.clear()
        idle = await blog.poll(first.state)
    assert len(requests) <= 2, requests
    assert idle.reviews == () or list(idle.reviews) == []
    assert not idle.comments_changed
