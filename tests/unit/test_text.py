"""Safe text between the blog and Discord: nothing a stranger types becomes markup, pings or
spoofed links on the other side, and nothing they send makes the conversion fail."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text import (
    clamp_persona_name,
    discord_to_html,
    excerpt,
    html_to_discord,
    neutralize_mentions,
    plain_text,
    split_for_discord,
)

ZWSP = "\u200b"
LIVE_MENTION = re.compile(r"@(?:everyone|here)|<@[!&]?[0-9]+>|<#[0-9]+>", re.IGNORECASE)
ALLOWED_TAGS = {"p", "br", "strong", "em", "u", "del", "code", "pre", "blockquote", "a"}
BLOG = "https://blog.example/2024/her/"

# --- blog HTML to Discord --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<p>line one<br>line two</p>", "line one\nline two"),
        ("<p>Tom &amp; Jerry &lt;3 &eacute;t&eacute;</p>", "Tom & Jerry <3 été"),
        (
            "<p><b>bold</b> <strong>strong</strong> <i>it</i> <em>em</em></p>",
            "**bold** **strong** *it* *em*",
        ),
        (
            "<p><u>under</u> <del>gone</del> <s>struck</s> <code>x = 1</code></p>",
            "__under__ ~~gone~~ ~~struck~~ `x = 1`",
        ),
        ("<p><code>a`b</code></p>", "`` a`b ``"),
        ("<blockquote><p>Quoted</p><p>Twice</p></blockquote>", "> Quoted\n>\n> Twice"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<ol><li>first</li><li>second</li></ol>", "1. first\n2. second"),
        ("<h2>Verdict</h2><p>Great.</p>", "**Verdict**\n\nGreat."),
        ("<p>Hi</p><script>alert(1)</script><style>p{}</style><iframe src=x></iframe>", "Hi"),
        ("<p>a</p><p></p><p></p><div><br><br><br><br></div><p>b</p>", "a\n\nb"),
        ("<p>unclosed <b>bold <i>and", "unclosed **bold *and***"),
        ("", ""),
    ],
)
def test_blog_structure_arrives_as_discord_markdown(html: str, expected: str) -> None:
    assert html_to_discord(html) == expected


def test_code_blocks_keep_their_language_and_cannot_be_closed_by_their_content() -> None:
    html = '<pre class="wp-block-code"><code class="language-python">x = """```"""\n</code></pre>'
    assert html_to_discord(html) == f'```python\nx = """`{ZWSP}``"""\n```'


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a href="https://imdb.com/title/tt1798709/">Her on IMDb</a>',
            "[Her on IMDb](https://imdb.com/title/tt1798709/)",
        ),
        ('<a href="/about/">about me</a>', "[about me](https://blog.example/about/)"),
        ('<a href="../older/">older</a>', "[older](https://blog.example/2024/older/)"),
        ('<a href="//cdn.example/x">cdn</a>', "[cdn](https://cdn.example/x)"),
        ('<a href="javascript:alert(1)">click</a>', "click"),
        ('<a href=" JaVa\tScRiPt:alert(1)">click</a>', "click"),
        ('<a href="data:text/html,hi">data</a>', "data"),
        ('<a href="mailto:me@example.com">mail</a>', "mail"),
        ("<a>no href</a>", "no href"),
        ('<a href="https://example.com/a_(b)">paren</a>', "[paren](https://example.com/a_%28b%29)"),
        (
            '<a href="https://x.example/p?q=1">https://x.example/p?q=1</a>',
            "<https://x.example/p?q=1>",
        ),
        ('<a href="https://x.example/"><img src="/i.png"></a>', "<https://x.example/>"),
    ],
)
def test_links_work_only_for_web_urls_and_relative_ones_resolve_against_the_post(
    html: str, expected: str
) -> None:
    assert html_to_discord(html, base_url=BLOG) == expected


def test_spaces_inside_a_link_stay_outside_the_markdown() -> None:
    html = '<p>see<a href="https://example.com/"> the site </a>now</p>'
    assert html_to_discord(html) == "see [the site](https://example.com/) now"


def test_a_look_alike_international_domain_is_shown_in_punycode() -> None:
    html = '<a href="https://раypal.com/">pay here</a>'
    assert html_to_discord(html) == "[pay here](https://xn--ypal-43d9g.com/)"


def test_relative_links_without_a_base_url_keep_only_their_text() -> None:
    assert html_to_discord('<a href="/about/">about me</a>') == "about me"


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<a href="https://evil.example/login">paypal.com</a>',
            "paypal.com (<https://evil.example/login>)",
        ),
        (
            '<a href="https://evil.example/">https://paypal.com/login</a>',
            "https://paypal.com/login (<https://evil.example/>)",
        ),
        (
            '<a href="https://evil.example/">Log in at www.PayPal.com now</a>',
            "Log in at www.PayPal.com now (<https://evil.example/>)",
        ),
        (
            '<a href="https://paypal.com@evil.example/">account</a>',
            "[account](https://evil.example/)",
        ),
        (
            '<a href="https://www.example.com/x">example.com</a>',
            "[example.com](https://www.example.com/x)",
        ),
        (
            '<a href="https://shop.example.com/x">example.com</a>',
            "[example.com](https://shop.example.com/x)",
        ),
    ],
)
def test_a_link_cannot_show_one_site_and_lead_to_another(html: str, expected: str) -> None:
    assert html_to_discord(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (
            '<img src="/poster.jpg" alt="Poster of Her">',
            "[Poster of Her](https://blog.example/poster.jpg)",
        ),
        ('<img src="/poster.jpg">', "[image](https://blog.example/poster.jpg)"),
        ('<img src="data:image/png;base64,xx" alt="inline">', "inline"),
        ('<img src="javascript:x">', ""),
    ],
)
def test_images_become_a_link_or_their_alt_text(html: str, expected: str) -> None:
    assert html_to_discord(html, base_url=BLOG) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("**bold**", r"\*\*bold\*\*"),
        ("__underline__", r"\_\_underline\_\_"),
        ("~~strike~~", r"\~\~strike\~\~"),
        ("||spoiler||", r"\|\|spoiler\|\|"),
        ("`code`", r"\`code\`"),
        ("[x](https://evil.example)", r"\[x\](<https://evil.example>)"),
        ("# heading", r"\# heading"),
        ("### heading", r"\### heading"),
        ("-# subtext", r"\-# subtext"),
        ("> quote", r"\> quote"),
        (">>> quote", r"\>>> quote"),
        ("- item", r"\- item"),
        ("1. item", r"1\. item"),
        (r"back\slash", r"back\\slash"),
        ("snake_case_name", r"snake\_case\_name"),
    ],
)
def test_markdown_typed_as_text_by_a_commenter_renders_literally(typed: str, expected: str) -> None:
    assert html_to_discord(f"<p>{typed}</p>") == expected
    assert html_to_discord(f"<p>first<br>{typed}</p>") == f"first\n{expected}"


def test_bare_urls_in_text_stay_clickable_without_escapes_or_embeds() -> None:
    assert html_to_discord("<p>See https://example.com/a_b.</p>") == (
        "See <https://example.com/a_b>."
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("@everyone look", f"@{ZWSP}everyone look"),
        ("@HERE look", f"@{ZWSP}HERE look"),
        ("&lt;@123&gt;", f"<{ZWSP}@123>"),
        ("&lt;@!123&gt;", f"<{ZWSP}@!123>"),
        ("&lt;@&amp;123&gt;", f"<{ZWSP}@&123>"),
        ("&lt;#123&gt;", f"<{ZWSP}#123>"),
        ("&lt;/ban user:123&gt;", f"<{ZWSP}/ban user:123>"),
        ("<span>&lt;@</span>123&gt;", f"<{ZWSP}@123>"),
        ("@\u200beveryone", f"@{ZWSP}everyone"),
        ('<img alt="@everyone" src="x">', f"@{ZWSP}everyone"),
    ],
)
def test_mentions_written_on_the_blog_never_ping_anyone(html: str, expected: str) -> None:
    assert html_to_discord(html) == expected


def test_invisible_characters_that_reorder_or_hide_text_are_removed() -> None:
    html = "<p>a\u202eb\u2066c\u2069d\u200be\u200df\u2060g\ufeffh\x07i&#x202E;j</p>"
    assert html_to_discord(html) == "abcdefghij"


@pytest.mark.parametrize(
    "html",
    [
        pytest.param("<div>" * 5000 + "deep" + "</div>" * 5000, id="deeply-nested"),
        pytest.param("<b>x" * 3000, id="unclosed-nested"),
        pytest.param("<p>" + "x" * 300_000, id="huge"),
        pytest.param("\x00\x01\ufffe<\x80>\udcff" * 100, id="binary-ish"),
        pytest.param("<<<>>><a href=><img src=><table><td><tr></li></ol>", id="broken-tags"),
        pytest.param("<![CDATA[x]]><!-- c --><!DOCTYPE html><?php echo 1 ?>", id="declarations"),
        pytest.param(
            '<a href="http://[::1">x</a><a href="https://a b.example">y</a>', id="bad-urls"
        ),
    ],
)
def test_hostile_html_converts_without_error(html: str) -> None:
    assert isinstance(html_to_discord(html), str)
    assert isinstance(plain_text(html), str)


def test_very_deep_nesting_still_keeps_the_text() -> None:
    assert "deep" in html_to_discord("<div>" * 5000 + "deep" + "</div>" * 5000)


html_fragments = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "<p>",
                "</p>",
                "<b>",
                "</b>",
                "<i>",
                "<br>",
                "<pre>",
                "<code>",
                "</code>",
                "<li>",
                "<blockquote>",
                "<a href='javascript:alert(1)'>",
                "<a href='https://e.example'>",
                "</a>",
                "<img alt='@everyone' src='https://e.example/i'>",
                "@everyone",
                "@here",
                "&lt;@123&gt;",
                "&lt;@&amp;9&gt;",
                "&lt;@!1&gt;",
                "&lt;#5&gt;",
                "<",
                "@",
                "&lt;",
                "&#x202e;",
                "\u200b",
                "```",
                "**",
                "||",
                "> ",
                "\n",
                "# ",
                "[x](https://e)",
            ]
        ),
        st.text(max_size=20),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=100)
@given(html_fragments)
def test_any_blog_html_converts_without_a_live_mention(html: str) -> None:
    markdown = html_to_discord(html)
    assert not LIVE_MENTION.search(markdown)
    for chunk in split_for_discord(markdown, 50):
        assert not LIVE_MENTION.search(chunk)


# --- splitting for Discord -------------------------------------------------------------------


def test_empty_or_blank_markdown_gives_no_messages() -> None:
    assert split_for_discord("") == []
    assert split_for_discord(" \n\n ") == []


def test_a_message_within_the_limit_is_sent_whole() -> None:
    assert split_for_discord("Hello **there**", 2000) == ["Hello **there**"]


@pytest.mark.parametrize(
    ("markdown", "limit", "expected"),
    [
        ("aaaa bbbb\n\ncccc\ndddd", 16, ["aaaa bbbb", "cccc\ndddd"]),
        ("aaaa\nbbbb cccc dddd", 16, ["aaaa", "bbbb cccc dddd"]),
        ("One two. Three four five six.", 20, ["One two.", "Three four five six."]),
        ("one two three four", 10, ["one two", "three four"]),
        ("abcdefghijkl", 5, ["abcde", "fghij", "kl"]),
    ],
)
def test_long_messages_split_at_paragraphs_then_lines_sentences_words_then_anywhere(
    markdown: str, limit: int, expected: list[str]
) -> None:
    assert split_for_discord(markdown, limit) == expected


@pytest.mark.parametrize(
    "atom",
    ["[a masked link](https://example.com/x)", "`some inline code`", "<https://e.example/x>"],
)
def test_a_split_never_cuts_through_a_link_or_inline_code(atom: str) -> None:
    markdown = f"{'word ' * 8}{atom} {'more ' * 8}"
    chunks = split_for_discord(markdown, len(atom) + 12)
    assert any(atom in chunk for chunk in chunks)


def test_a_split_never_separates_a_backslash_from_what_it_escapes() -> None:
    chunks = split_for_discord(r"abcd\*efgh", 5)
    assert chunks == ["abcd", r"\*efg", "h"]


def test_a_split_does_not_turn_mid_line_text_into_a_quote_or_heading() -> None:
    for chunk in split_for_discord("a > b # c - d 1. e", 4):
        assert not re.match(r"(?:>|#|-|1\.) ", chunk)


def test_a_code_block_cut_in_two_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"print({i})" for i in range(30))
    chunks = split_for_discord(f"Intro.\n\n```python\n{code}\n```\nOutro.", 120)
    assert len(chunks) > 2
    for chunk in chunks:
        assert len(chunk) <= 120
        assert chunk.count("```") % 2 == 0
    code_chunks = [chunk for chunk in chunks if "print(" in chunk]
    assert all(chunk.startswith("```python\n") for chunk in code_chunks[1:])
    assert all(chunk.endswith("\n```") for chunk in code_chunks[:-1])
    rejoined = "".join(re.sub(r"```(?:python)?", "", chunk) for chunk in chunks)
    assert rejoined.split() == f"Intro. {code} Outro.".split()


def test_the_limit_must_allow_at_least_one_character() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_for_discord("x", 0)


markdown_text = st.lists(
    st.sampled_from([*"ab c.!?\n\\*_~|[]()<>#-@:/1", "\n\n", "https://", "](http://x)", "`"]),
    max_size=300,
).map("".join)


def _visible(text: str, *, ignoring: str = "") -> str:
    """Text without whitespace and without what a split may add (fence markers, languages)."""
    return "".join(re.sub(ignoring, "", text).split()) if ignoring else "".join(text.split())


@settings(max_examples=100)
@given(markdown_text, st.integers(min_value=1, max_value=63))
def test_chunks_fit_the_limit_are_never_empty_and_rejoin_to_the_same_text(
    markdown: str, limit: int
) -> None:
    chunks = split_for_discord(markdown, limit)
    assert all(0 < len(chunk) <= limit and chunk.strip() for chunk in chunks)
    assert _visible("".join(chunks)) == _visible(markdown)  # below 64, fences are not repaired


code_documents = st.lists(
    st.one_of(
        st.text(alphabet="ab .\n", min_size=1, max_size=80),
        st.builds(
            lambda lang, body: f"```{lang}\n{body}\n```",
            st.sampled_from(["", "py", "sh"]),  # letters that the texts never use
            st.text(alphabet="xz =()\n", min_size=1, max_size=200),
        ),
    ),
    max_size=6,
).map("\n\n".join)


@settings(max_examples=100)
@given(code_documents, st.integers(min_value=64, max_value=150))
def test_chunks_of_code_fit_the_limit_and_keep_every_fence_balanced(
    markdown: str, limit: int
) -> None:
    chunks = split_for_discord(markdown, limit)
    assert all(0 < len(chunk) <= limit for chunk in chunks)
    assert all(chunk.count("```") % 2 == 0 for chunk in chunks)
    added = r"`|py|sh"
    assert _visible("".join(chunks), ignoring=added) == _visible(markdown, ignoring=added)


@settings(max_examples=100)
@given(html_fragments, st.integers(min_value=20, max_value=300))
def test_blog_html_splits_into_chunks_that_fit_and_rejoin_to_the_same_text(
    html: str, limit: int
) -> None:
    markdown = html_to_discord(html)
    chunks = split_for_discord(markdown, limit)
    assert all(0 < len(chunk) <= limit and chunk.strip() for chunk in chunks)
    # <pre> blocks carry no language here, so a repaired fence only adds backticks.
    assert _visible("".join(chunks), ignoring="`") == _visible(markdown, ignoring="`")


# --- Discord to blog HTML --------------------------------------------------------------------

USERS = {123: "Alice", 456: "Bob <b>"}
ROLES = {7: "Critics"}
CHANNELS = {8: "film-club"}


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("Hello", "<p>Hello</p>"),
        ("one\ntwo\n\nthree", "<p>one<br>\ntwo</p><p>three</p>"),
        (
            "**bold** *it* _it_ __under__ ~~gone~~",
            "<p><strong>bold</strong> <em>it</em> <em>it</em> <u>under</u> <del>gone</del></p>",
        ),
        ("***both***", "<p><strong><em>both</em></strong></p>"),
        ("snake_case_name", "<p>snake_case_name</p>"),
        (r"\*not italic\*", "<p>*not italic*</p>"),
        ("`a <b> *c*`", "<p><code>a &lt;b&gt; *c*</code></p>"),
        ("```py\nif a < b:\n    **x**\n```", "<pre><code>if a &lt; b:\n    **x**</code></pre>"),
        (
            "> quoted\n> twice\nafter",
            "<blockquote><p>quoted<br>\ntwice</p></blockquote><p>after</p>",
        ),
        (">>> all\nof this", "<blockquote><p>all<br>\nof this</p></blockquote>"),
        ("||spoiler||", "<p>spoiler</p>"),
        ("-# small print", "<p>small print</p>"),
        ("# Big", "<p>Big</p>"),
        (
            "[masked](https://example.com/a?b=1&c=2)",
            '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow ugc">masked</a></p>',
        ),
        (
            "see https://example.com/x.",
            '<p>see <a href="https://example.com/x" rel="nofollow ugc">https://example.com/x</a>.</p>',
        ),
        (
            "<https://example.com>",
            '<p><a href="https://example.com" rel="nofollow ugc">https://example.com</a></p>',
        ),
        ("[evil](javascript:alert(1))", "<p>[evil](javascript:alert(1))</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ('<img src=x onerror="alert(1)">', '<p>&lt;img src=x onerror="alert(1)"&gt;</p>'),
    ],
)
def test_a_members_discord_message_becomes_safe_comment_html(markdown: str, expected: str) -> None:
    assert discord_to_html(markdown) == expected


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("hi <@123>", "<p>hi @Alice</p>"),
        ("hi <@!456>", "<p>hi @Bob &lt;b&gt;</p>"),
        ("hi <@999>", "<p>hi @unknown-user</p>"),
        ("ping <@&7>", "<p>ping @Critics</p>"),
        ("in <#8>", "<p>in #film-club</p>"),
        ("use </rate film:42>", "<p>use /rate film</p>"),
        ("<:blobcat:123> <a:dance:456>", "<p>:blobcat: :dance:</p>"),
        ("at <t:1700000000:R>", "<p>at 2023-11-14 22:13 UTC</p>"),
        ("at <t:99999999999999>", "<p>at &lt;t:99999999999999&gt;</p>"),
    ],
)
def test_mentions_emoji_and_timestamps_read_as_names_on_the_blog(
    markdown: str, expected: str
) -> None:
    assert discord_to_html(markdown, users=USERS, roles=ROLES, channels=CHANNELS) == expected


def test_invisible_characters_in_a_message_do_not_reach_the_blog() -> None:
    assert discord_to_html("a\u202eb\u200bc\x00d") == "<p>abcd</p>"


discord_markdown = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "**",
                "*",
                "_",
                "__",
                "~~",
                "||",
                "`",
                "```",
                "```py\n",
                "> ",
                ">>> ",
                "\n",
                "\n\n",
                "<@1>",
                "<@&2>",
                "<#3>",
                "<t:1>",
                "<:e:4>",
                "[x](",
                "](https://e.example)",
                ")",
                "javascript:alert(1)",
                "<script>",
                "<a href='javascript:x'>",
                "\\",
                "\ue000",
                "-# ",
            ]
        ),
        st.text(max_size=15),
    ),
    max_size=25,
).map("".join)
TAG = re.compile(r"<\s*/?\s*([a-zA-Z][^\s/>]*)")
TAG_BODY = re.compile(r"<[^>]*>")


@settings(max_examples=100)
@given(discord_markdown)
def test_any_discord_message_gives_only_allowed_tags_and_no_script_links(markdown: str) -> None:
    html = discord_to_html(markdown, users=USERS)
    assert {name.lower() for name in TAG.findall(html)} <= ALLOWED_TAGS
    for tag in TAG_BODY.findall(html):
        assert "javascript:" not in tag.lower()
    assert all(
        href.startswith(("http://", "https://")) for href in re.findall(r'href="([^"]*)"', html)
    )


# --- plain text, excerpts, names -------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>Rating: <b>4</b>/5</p><p>Next &amp;   para</p>", "Rating: 4/5\nNext & para"),
        ("<div>a<script>var x = 1;</script>b<style>p {}</style></div>", "ab"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("plain &lt;not a tag&gt;", "plain <not a tag>"),
        ("", ""),
    ],
)
def test_plain_text_is_what_a_reader_sees(html: str, expected: str) -> None:
    assert plain_text(html) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("short text", 300, "short text"),
        ("one two three four", 12, "one two…"),
        ("one, two three", 9, "one, two…"),
        ("one, two three", 8, "one…"),
        ("abcdefghijklmnop", 6, "abcde…"),
        ("  spaced\n\nout  ", 300, "spaced out"),
        ("anything", 1, "…"),
    ],
)
def test_excerpts_cut_at_a_word_boundary(text: str, limit: int, expected: str) -> None:
    assert excerpt(text, limit) == expected


@given(st.text(), st.integers(min_value=1, max_value=400))
def test_excerpts_never_exceed_their_limit(text: str, limit: int) -> None:
    assert len(excerpt(text, limit)) <= limit


@pytest.mark.parametrize(
    ("name", "suffix", "expected"),
    [
        ("Jane Doe", " · My Blog", "Jane Doe · My Blog"),
        ("  Jane \n\t Doe  ", "", "Jane Doe"),
        ("", " · My Blog", "Anonymous · My Blog"),
        ("\u200b\u202e ", "", "Anonymous"),
        ("Discord Mod", "", "D1scord Mod"),
        ("CLYDE", "", "C1YDE"),
        ("discordiscord", "", "d1scord1scord"),
        ("ｄｉｓｃｏｒｄ", "", "d1scord"),
        ("Dis", "cord", "D1scord"),
        ("Ev\u202eil\u200bName", "", "EvilName"),
    ],
)
def test_a_strangers_name_becomes_an_acceptable_webhook_persona(
    name: str, suffix: str, expected: str
) -> None:
    assert clamp_persona_name(name, suffix) == expected


def test_a_long_name_is_cut_with_an_ellipsis_and_keeps_the_suffix() -> None:
    persona = clamp_persona_name("x" * 200, " · My Blog")
    assert len(persona) == 80
    assert persona.endswith("… · My Blog")


@given(st.text(), st.text(max_size=120))
def test_any_persona_name_is_1_to_80_chars_without_discord_or_clyde(name: str, suffix: str) -> None:
    persona = clamp_persona_name(name, suffix)
    assert 1 <= len(persona) <= 80
    assert "discord" not in persona.casefold()
    assert "clyde" not in persona.casefold()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@everyone and @here", f"@{ZWSP}everyone and @{ZWSP}here"),
        (
            "<@1> <@!2> <@&3> <#4> </x y:5>",
            f"<{ZWSP}@1> <{ZWSP}@!2> <{ZWSP}@&3> <{ZWSP}#4> <{ZWSP}/x y:5>",
        ),
        ("mail me@example.com, <t:1> <:e:2>", "mail me@example.com, <t:1> <:e:2>"),
    ],
)
def test_neutralised_mentions_stay_readable_but_cannot_ping(text: str, expected: str) -> None:
    assert neutralize_mentions(text) == expected
