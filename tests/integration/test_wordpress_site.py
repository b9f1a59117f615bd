"""The real WordPress is what the bot expects: checked over HTTP with aiohttp (not the bot)."""

from __future__ import annotations

import html
import re
import uuid

import aiohttp
import pytest

from tests.integration.conftest import (
    REPO_ROOT,
    WordPressRest,
    WordPressSite,
    basic_auth_headers,
)

WRONG_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"


async def test_rest_root_discoverable_from_link_header(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> None:
    async with http.get(wordpress.url + "/") as resp:
        assert resp.status == 200
        api = resp.links.get("https://api.w.org/")
    assert api is not None, 'no Link: <...>; rel="https://api.w.org/" header'
    root_url = str(api["url"])
    assert root_url == wordpress.rest_url
    async with http.get(root_url) as resp:
        root = await resp.json()
    assert "wp/v2" in root["namespaces"]
    assert root["name"] == "Frame by Frame"
    assert root["timezone_string"] == "Europe/Rome"
    assert "application-passwords" in root["authentication"]


async def test_posts_list_her_with_utc_dates(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> None:
    async with http.get(wordpress.rest("/wp/v2/posts"), params={"per_page": 100}) as resp:
        assert resp.status == 200
        posts = await resp.json()
        total = int(resp.headers["X-WP-Total"])
    by_id = {p["id"]: p for p in posts}
    assert total == len(posts) == 8, "eight published posts; the draft is not public"
    assert wordpress.ids["draft_post"] not in by_id
    her = by_id[wordpress.her_post_id]
    assert her["title"]["rendered"] == "Her"
    assert her["link"] == wordpress.url + "/her/"
    # Europe/Rome in November is UTC+1: local date and date_gmt differ by an hour.
    assert her["date"] == "2018-11-04T20:30:00"
    assert her["date_gmt"] == "2018-11-04T19:30:00"
    content = her["content"]["rendered"]
    # The fixture's seven review paragraphs, verbatim.
    fixture = (REPO_ROOT / "scripts/wordpress/seed-data/her-review.txt").read_text("utf-8")
    expected = fixture.split("\n\n\n  1. ")[0].split("\n\n")
    paragraphs = [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", content, re.S)]
    assert paragraphs == expected
    assert "call a film 10/10" in content
    assert "thirty years time" in content
    assert her["excerpt"]["rendered"].startswith("<p>Spike Jonze")
    assert her["featured_media"] == wordpress.ids["her_image"]
    assert wordpress.ids["category_film"] in her["categories"]
    assert her["author"] == wordpress.ids["author_user"]
    # Newest first.
    dates = [p["date_gmt"] for p in posts]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("stars_post", "4/5 stars"),
        ("unicode_stars_post", "★★★½"),
        ("grade_post", "Grade: B+"),
        ("hundred_post", "87/100"),
        ("out_of_post", "Rating: 3.5 out of 5"),
        ("jsonld_post", '<script type="application/ld+json">'),
        ("noscore_post", "10/10/2019"),
    ],
)
async def test_score_format_posts(
    wordpress: WordPressSite, http: aiohttp.ClientSession, key: str, needle: str
) -> None:
    async with http.get(wordpress.rest(f"/wp/v2/posts/{wordpress.ids[key]}")) as resp:
        assert resp.status == 200
        post = await resp.json()
    assert needle in post["content"]["rendered"]
    assert post["date"] != post["date_gmt"]


async def test_her_comments_are_the_fixture_thread(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> None:
    params = {"post": wordpress.her_post_id, "per_page": 100}
    async with http.get(wordpress.rest("/wp/v2/comments"), params=params) as resp:
        assert resp.status == 200
        comments = {c["id"]: c for c in await resp.json()}
    assert set(comments) == {wordpress.her_reader_comment_id, wordpress.her_reply_comment_id}
    reader = comments[wordpress.her_reader_comment_id]
    reply = comments[wordpress.her_reply_comment_id]
    assert reader["parent"] == 0
    assert reader["author"] == 0
    assert reader["author_name"] == "Claire Ashworth"
    assert reader["author_url"].startswith("https://")
    assert reader["content"]["rendered"].count("<p>") == 3
    assert "Rome film festival five years ago" in reader["content"]["rendered"]
    assert reply["parent"] == reader["id"]
    assert reply["author"] == wordpress.ids["author_user"]
    assert reply["author_name"] == "Mara Ellison"
    assert reply["content"]["rendered"].count("<p>") == 2
    assert "🙂" in reply["content"]["rendered"]
    assert reader["date_gmt"] < reply["date_gmt"]
    assert reader["date"] != reader["date_gmt"]


async def test_held_spam_and_trashed_comments_are_not_public(
    wordpress: WordPressSite, http: aiohttp.ClientSession, wp_admin: WordPressRest
) -> None:
    hidden = {
        "her_held_comment": "hold",
        "her_spam_comment": "spam",
        "her_trashed_comment": "trash",
    }
    params = {"post": wordpress.her_post_id, "per_page": 100}
    async with http.get(wordpress.rest("/wp/v2/comments"), params=params) as resp:
        public = {c["id"] for c in await resp.json()}
    for key, status in hidden.items():
        comment_id = wordpress.ids[key]
        assert comment_id not in public
        async with http.get(wordpress.rest(f"/wp/v2/comments/{comment_id}")) as resp:
            assert resp.status == 401, key
        # A moderator sees them.
        assert (await wp_admin.comment(comment_id))["status"] == status


async def test_reply_chain_and_hostile_comment(
    wordpress: WordPressSite, wp_admin: WordPressRest
) -> None:
    chain = [wordpress.ids[f"chain_{n}_comment"] for n in range(1, 5)]
    comments = {c["id"]: c for c in await wp_admin.comments(post=wordpress.ids["stars_post"])}
    assert [comments[c]["parent"] for c in chain] == [0, *chain[:-1]]
    hostile = await wp_admin.comment(wordpress.ids["hostile_comment"])
    raw = hostile["content"]["raw"]
    assert hostile["status"] == "approved"
    assert len(raw) > 9_900
    for needle in (
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "**bold**",
        "[masked](https://evil.example)",
        "<b><i>unclosed",
        "\u200b",
        "\u202e",
    ):
        assert needle in raw, needle


async def test_editor_app_password_can_comment(
    fresh_wordpress: WordPressSite, http: aiohttp.ClientSession
) -> None:
    site = fresh_wordpress
    url = site.rest("/wp/v2/comments")
    body = {
        "post": site.her_post_id,
        "parent": site.her_reader_comment_id,
        "content": f"Posted from Discord by a member. {uuid.uuid4()}",
        "author_name": "DiscordMember",
    }
    # require_name_email is on (WordPress's default): a custom author_name alone is refused ...
    async with http.post(url, json=body, headers=site.editor_headers()) as resp:
        assert resp.status == 400
        assert (await resp.json())["code"] == "rest_comment_author_data_required"
    # ... unless `author` (the Editor's own user id) is sent too: the e-mail then comes from the
    # account, the comment stays attributed to it, and the shown name is author_name.
    body["author"] = site.ids["editor_user"]
    async with http.post(url, json=body, headers=site.editor_headers()) as resp:
        created = await resp.json()
        assert resp.status == 201, created
    assert created["post"] == site.her_post_id
    assert created["parent"] == site.her_reader_comment_id
    assert created["author_name"] == "DiscordMember"
    assert created["author"] == site.ids["editor_user"]
    assert created["status"] == "approved"
    # With author_email instead of author, the comment is NOT linked to the account (author 0).
    # An Editor has no comment flood check: a second comment right away is accepted.
    del body["author"]
    body.update(content=f"And another one. {uuid.uuid4()}", author_email="member@example.com")
    async with http.post(url, json=body, headers=site.editor_headers()) as resp:
        unlinked = await resp.json()
        assert resp.status == 201, unlinked
    assert unlinked["author"] == 0
    # Without author_name, the account's display name is used.
    plain = {"post": site.her_post_id, "content": f"Plain. {uuid.uuid4()}"}
    async with http.post(url, json=plain, headers=site.editor_headers()) as resp:
        own = await resp.json()
        assert resp.status == 201, own
    assert (own["author"], own["author_name"]) == (site.ids["editor_user"], "Reviewbridge")
    # Same text again: 409 comment_duplicate.
    async with http.post(url, json=plain, headers=site.editor_headers()) as resp:
        assert resp.status == 409
        assert (await resp.json())["code"] == "comment_duplicate"
    params = {"post": site.her_post_id, "per_page": 100}
    async with http.get(url, params=params) as resp:
        public = {c["id"] for c in await resp.json()}
    assert {created["id"], unlinked["id"], own["id"]} <= public


async def test_wrong_app_password_is_anonymous_401(
    wordpress: WordPressSite, http: aiohttp.ClientSession
) -> None:
    body = {"post": wordpress.her_post_id, "content": "should not land", "author_name": "x"}
    headers = basic_auth_headers(wordpress.editor_user, WRONG_PASSWORD)
    async with http.post(wordpress.rest("/wp/v2/comments"), json=body, headers=headers) as resp:
        assert resp.status == 401
        assert (await resp.json())["code"] == "rest_comment_login_required"


async def test_rest_route_query_form(wordpress: WordPressSite, http: aiohttp.ClientSession) -> None:
    url = wordpress.url + "/"
    params = {"rest_route": f"/wp/v2/posts/{wordpress.her_post_id}"}
    async with http.get(url, params=params) as resp:
        assert resp.status == 200
        assert (await resp.json())["title"]["rendered"] == "Her"
    params = {"rest_route": "/wp/v2/comments", "post": str(wordpress.her_post_id)}
    async with http.get(url, params=params) as resp:
        assert resp.status == 200
        assert len(await resp.json()) == 2


async def test_moderator_changes_are_undone_by_reseed(
    wordpress: WordPressSite, wp_admin: WordPressRest, reseed_wordpress
) -> None:
    reader = wordpress.her_reader_comment_id
    await wp_admin.edit_comment(reader, "Edited by a moderator.")
    await wp_admin.trash_comment(wordpress.her_reply_comment_id)
    await wp_admin.approve_comment(wordpress.ids["her_held_comment"])
    site = reseed_wordpress()
    assert site.ids == wordpress.ids, "seeded ids are stable across reseeds"
    assert site.editor_app_password == wordpress.editor_app_password
    comments = await wp_admin.comments(post=site.her_post_id, status="approve")
    assert {c["id"] for c in comments} == {reader, site.her_reply_comment_id}
    raw = (await wp_admin.comment(reader))["content"]["raw"]
    assert raw.startswith("Oh, I’m so glad")


def test_seed_copy_of_fixture_matches_shared_fixture() -> None:
    shared = REPO_ROOT.parent / "shared" / "fixtures" / "her-review.txt"
    if not shared.is_file():
        pytest.skip(f"{shared} not present")
    copy = REPO_ROOT / "scripts" / "wordpress" / "seed-data" / "her-review.txt"
    assert copy.read_bytes() == shared.read_bytes()
