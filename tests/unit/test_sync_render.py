"""Blog comments as Discord messages: personas, safe text, splitting, packing and markers."""

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sync.render import (
    DEFAULT_AVATARS,
    MAX_CONTENT,
    CommentSnapshot,
    Entry,
    ParentRef,
    carries_marker,
    jump_url,
    markers_in,
    new_marker,
    pack_fits,
    pack_marker,
    part_marker,
    progress_spec,
    render_pack,
    render_single,
    visible_form,
)
from tests.component.fake_discord_port import check_limits

BLOG = "Fake Reviews"
LINK = "https://blog.example/2024/05/her/#comment-12"
PUBLISHED = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)
LIVE_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?[0-9]+>|<#[0-9]+>", re.IGNORECASE)


def entry(html: str = "<p>Loved it.</p>", *, author: str = "Ada", **changes) -> Entry:
    snapshot = CommentSnapshot(
        id="12",
        parent_id=None,
        author=author,
        avatar_url=changes.pop("avatar_url", "https://secure.gravatar.com/avatar/abc?s=96"),
        link=changes.pop("link", LINK),
        published=PUBLISHED,
        content_html=html,
    )
    return Entry(snapshot, changes.pop("marker", "rb0123456789ab"), **changes)


def content(e: Entry) -> str:
    return "\n".join(spec["content"] for spec in render_single(e, blog_name=BLOG))


# --- one comment per message -----------------------------------------------------------------


def test_a_comment_is_shown_as_its_commenter_with_the_blogs_name_and_avatar():
    [spec] = render_single(entry(), blog_name=BLOG)
    assert spec["username"] == "Ada · Fake Reviews"
    assert spec["avatar_url"] == "https://secure.gravatar.com/avatar/abc?s=96"
    assert spec["allowed_mentions"] == {"parse": []}
    assert spec["content"].startswith("Loved it.\n-# posted <t:1551675967:f> · [on the blog](")
    assert "#comment-12)" in spec["content"]


@pytest.mark.parametrize(
    "name",
    ["Discord Staff", "clyde", "x" * 300, "  ", "Ｄｉｓｃｏｒｄ", "Ada\n@everyone\u202e"],
)
def test_persona_names_are_clamped_and_keep_the_blog_suffix(name):
    [spec] = render_single(entry(author=name), blog_name=BLOG)
    check_limits(spec)
    assert spec["username"].endswith(" · Fake Reviews")
    assert "\n" not in spec["username"] and "\u202e" not in spec["username"]


def test_commenters_without_a_usable_avatar_get_a_stable_default():
    first = render_single(entry(avatar_url=None), blog_name=BLOG)[0]["avatar_url"]
    again = render_single(entry(avatar_url="http://insecure.example/a.png"), blog_name=BLOG)
    assert first in DEFAULT_AVATARS
    assert again[0]["avatar_url"] == first


def test_hostile_text_cannot_ping_or_spoof_links():
    hostile = (
        "<p>@everyone @here &lt;@123&gt; &lt;@&amp;456&gt; &lt;#789&gt;"
        ' <a href="https://evil.example/login">https://paypal.com</a>'
        " [paypal.com](https://evil.example) **bold**</p>"
    )
    text = content(entry(hostile))
    assert not LIVE_MENTION.search(text)
    assert "](https://evil.example" not in text  # no masked link may hide where it goes
    assert "<https://evil.example/login>" in text
    assert "\\*\\*bold\\*\\*" in text


def test_a_10k_comment_is_split_into_parts_that_stay_readable():
    words = [f"word{n}" for n in range(1500)]
    html = "".join(f"<p>{' '.join(words[i : i + 50])}</p>" for i in range(0, 1500, 50))
    specs = render_single(entry(html), blog_name=BLOG)
    assert len(html) > 10_000 and len(specs) > 4
    for index, spec in enumerate(specs):
        check_limits(spec)
        assert len(spec["content"]) <= MAX_CONTENT
        assert f"part {index + 1} of {len(specs)}" in spec["content"]
        assert markers_in(spec) == {part_marker("rb0123456789ab", index)}
    joined = " ".join(spec["content"] for spec in specs)
    assert all(re.search(rf"\b{w}\b", joined) for w in words)
    assert "posted <t:" in specs[-1]["content"] and "posted <t:" not in specs[0]["content"]


def test_an_enormous_comment_is_cut_rather_than_flooding_the_thread():
    specs = render_single(entry("<p>" + "blah " * 40_000 + "</p>"), blog_name=BLOG)
    assert len(specs) == 8
    assert "the rest is on the blog" in specs[-1]["content"]
    assert all(len(s["content"]) <= MAX_CONTENT for s in specs)


def test_a_reply_shows_a_quote_line_with_a_jump_link_to_its_parent():
    parent = ParentRef(
        "Bo", "<p>I think the score is <b>too</b> low, honestly.</p>", jump_url(1, 2, 3)
    )
    first_line = content(entry(parent=parent)).splitlines()[0]
    assert first_line == (
        "> ↪ **Bo**: “I think the score is too low, honestly.” · "
        "[jump](https://discord.com/channels/1/2/3)"
    )


def test_a_quote_line_cannot_be_used_to_ping_or_format():
    parent = ParentRef("**Bo** @everyone", "<p>" + "@here " * 40 + "</p>", None)
    first_line = content(entry(parent=parent)).splitlines()[0]
    assert not LIVE_MENTION.search(first_line)
    assert first_line.startswith("> ↪ **\\*\\*Bo\\*\\* @\u200beveryone**: “")
    assert len(first_line) < 300


def test_a_reply_to_a_hidden_or_deleted_comment_stays_readable():
    first_line = content(entry(parent=ParentRef(None))).splitlines()[0]
    assert first_line == "> ↪ *In reply to a comment not shown here*"


def test_a_late_approved_comment_is_marked_with_its_original_time():
    assert "approved late · originally posted <t:1551675967:f>" in content(entry(late=True))


def test_a_link_that_could_break_markdown_is_encoded_or_replaced_by_a_ref():
    odd = content(entry(link="https://blog.example/a (b)/?x=1#comment-12"))
    assert "(https://blog.example/a%20%28b%29/?x=1&rb=rb0123456789ab.0#comment-12)" in odd
    missing = content(entry(link="javascript:alert(1)"))
    assert "ref rb0123456789ab.0" in missing and "javascript" not in missing


# --- packed messages -------------------------------------------------------------------------


def test_up_to_ten_short_comments_share_one_message_each_with_its_author():
    entries = [entry(f"<p>comment {n}</p>", author=f"Reader {n}") for n in range(10)]
    assert pack_fits(entries)
    assert not pack_fits([*entries, entry()])
    spec = render_pack(entries, blog_name=BLOG, marker=pack_marker("rb0123456789ab"))
    check_limits(spec)
    assert [e["author"]["name"] for e in spec["embeds"]] == [f"Reader {n}" for n in range(10)]
    assert all(e["author"]["icon_url"].startswith("https://") for e in spec["embeds"])
    assert spec["embeds"][0]["timestamp"] == "2019-03-04T05:06:07Z"
    assert spec["username"] == "Fake Reviews · comments"


def test_a_pack_never_exceeds_discords_limits_even_after_edits():
    entries = [entry("<p>" + "long text " * 450 + "</p>") for _ in range(3)]
    assert not pack_fits(entries)  # ~13500 characters
    spec = render_pack(entries, blog_name=BLOG, marker="rb0123456789ab.k")
    check_limits(spec)
    assert all("the rest is on the blog" in e["description"] for e in spec["embeds"])
    assert min(len(e["description"]) for e in spec["embeds"]) > 1500  # cut fairly


def test_a_comment_too_long_for_an_embed_cannot_be_packed():
    assert not pack_fits([entry("<p>" + "x " * 2100 + "</p>")])


def test_a_reply_packed_with_its_parent_points_above():
    reply = entry(parent=ParentRef("Bo", "<p>hi</p>", above=True))
    spec = render_pack([entry(), reply], blog_name=BLOG, marker="rb0123456789ab.k")
    assert spec["embeds"][1]["description"].startswith("> ↪ **Bo**: “hi” (above)\n")


# --- markers, progress, comparison -----------------------------------------------------------


def test_markers_are_random_and_matched_exactly():
    assert new_marker() != new_marker()
    spec = render_single(entry(), blog_name=BLOG)[0]
    assert carries_marker(spec, "rb0123456789ab.0")
    assert not carries_marker(spec, "rb0123456789ab.1")
    assert not carries_marker(spec, "rb0123456789ab")
    packed = render_pack([entry()], blog_name=BLOG, marker="rb0123456789ab.k")
    assert markers_in(packed) == {"rb0123456789ab.k"}


def test_a_commenter_typing_a_marker_as_text_does_not_carry_it():
    spec = render_single(
        entry("<p>see rb=rbffffffffffff.0 and ref-rbffffffffffff.0</p>"), blog_name=BLOG
    )[0]
    assert markers_in(spec) == {"rb0123456789ab.0"}


def test_the_progress_message_links_the_review_with_its_marker():
    spec = progress_spec(
        done=3,
        total=40,
        finished=False,
        link="https://blog.example/her/#comments",
        marker="rbaaaaaaaaaaaa",
    )
    assert spec["content"].startswith("📥 Mirroring 40 comments from [the blog](")
    assert carries_marker(spec, "rbaaaaaaaaaaaa")
    done = progress_spec(done=40, total=40, finished=True, link="", marker="rbaaaaaaaaaaaa")
    assert done["content"].startswith("✅ Mirrored 40 comments") and carries_marker(
        done, "rbaaaaaaaaaaaa"
    )


def test_visible_form_ignores_what_readers_do_not_see():
    spec = render_single(entry(), blog_name=BLOG)[0]
    assert visible_form(spec) == visible_form({"content": spec["content"] + "\n", "id": "1"})
    assert visible_form(spec) != visible_form({"content": "tampered"})


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=6000), st.text(max_size=100))
def test_any_comment_renders_within_limits_without_live_mentions(text, name):
    html = "<p>" + text.replace("<", "&lt;") + "</p>"
    for spec in render_single(entry(html, author=name), blog_name=BLOG):
        check_limits(spec)
        assert not LIVE_MENTION.search(spec["content"])
