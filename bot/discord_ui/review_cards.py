"""Review cards as Discord shows them: the announcement embed, its buttons, lists of reviews.

Titles, excerpts, authors and categories come from strangers (blog authors, shared pages):
markdown is escaped, mentions made inert, invisible characters dropped, and everything is cut
to Discord's limits. Messages carrying them are sent with mentions off, except the one ping
role an announcement may name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import discord

from bot.discord_ui.rating_select import rating_custom_id, rating_select_item
from bot.domain.text import escape_markdown, excerpt, neutralize_mentions, strip_invisible
from bot.ratings import text_bar
from bot.storage.reviews import StoredReview

COLOUR = discord.Colour.from_rgb(214, 92, 56)
WITHDRAWN_COLOUR = discord.Colour.dark_grey()
WITHDRAWN_TEXT = "This review is no longer available."
MAX_THREAD_NAME = 100
MAX_BUTTON_URL = 512
MAX_IMAGE_URL = 2048
TITLE_CHARS = 120  # escaping at most doubles it, under the 256 of an embed title
EXCERPT_CHARS = 1000
LIST_TITLE_CHARS = 80


def one_line(text: str, limit: int) -> str:
    """Stranger's text on one line, without invisible characters, at most `limit` chars."""
    return excerpt(" ".join(strip_invisible(text).split()), limit)


def safe_inline(text: str, limit: int) -> str:
    """Stranger's text for markdown: one line, cut, escaped, mentions inert."""
    return neutralize_mentions(escape_markdown(one_line(text, limit)))


def thread_name(title: str) -> str:
    """A thread name (1..100 characters) from a review title."""
    return one_line(title, MAX_THREAD_NAME) or "Review"


def _web_url(url: str | None, limit: int) -> str | None:
    if not url or len(url) > limit:
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _markdown_url(url: str) -> str:
    """A URL that cannot end a markdown link early: no spaces, brackets or parentheses."""
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


def timestamp(review: StoredReview) -> str:
    """The published time as a Discord timestamp, relative ("3 hours ago")."""
    return f"<t:{int(review.published_at.timestamp())}:R>"


def score_text(review: StoredReview) -> str | None:
    """The critic's score as the blog wrote it, with a bar on a 10-point scale."""
    if review.score_display is None:
        return None
    shown = safe_inline(review.score_display, 40)
    if review.score_normalized is None:
        return shown
    return f"{shown} · `{text_bar(review.score_normalized * 10)}`"


def review_embed(review: StoredReview) -> discord.Embed:
    """The card: linked title, author, excerpt, image, critic score, time and categories."""
    embed = discord.Embed(
        title=safe_inline(review.title, TITLE_CHARS) or "Untitled review",
        url=_web_url(review.url, MAX_IMAGE_URL),
        description=neutralize_mentions(escape_markdown(excerpt(review.excerpt, EXCERPT_CHARS))),
        colour=COLOUR,
        timestamp=review.published_at,
    )
    if author := one_line(review.author, 200):
        embed.set_author(name=author)
    if score := score_text(review):
        embed.add_field(name="Critic score", value=score)
    embed.add_field(name="Published", value=timestamp(review))
    if review.categories:
        categories = ", ".join(safe_inline(c, 60) for c in review.categories)
        embed.add_field(name="Categories", value=excerpt(categories, 1000), inline=False)
    if image := _web_url(review.image_url, MAX_IMAGE_URL):
        embed.set_image(url=image)
    if host := urlsplit(review.url).hostname:
        embed.set_footer(text=host)
    return embed


def withdrawn_embed(review: StoredReview) -> discord.Embed:
    return discord.Embed(
        title=safe_inline(review.title, TITLE_CHARS) or "Untitled review",
        description=WITHDRAWN_TEXT,
        colour=WITHDRAWN_COLOUR,
    )


def review_view(review: StoredReview) -> discord.ui.View:
    """A "Read the review" link and the persistent rating select."""
    view = discord.ui.View(timeout=None)
    if url := _web_url(review.url, MAX_BUTTON_URL):
        view.add_item(discord.ui.Button(label="Read the review", url=url))
    view.add_item(rating_select_item(review.review_id))
    return view


def announcement_content(
    ping_role_id: int | None, requested_by: int | None
) -> tuple[str | None, discord.AllowedMentions]:
    """Message text and mentions: the ping role is pinged, nobody and nothing else."""
    parts: list[str] = []
    roles: list[discord.Object] = []
    if ping_role_id is not None:
        parts.append(f"<@&{ping_role_id}> a new review is out!")
        roles.append(discord.Object(id=ping_role_id))
    if requested_by is not None:
        parts.append(f"Shared by <@{requested_by}>")
    mentions = discord.AllowedMentions(everyone=False, users=False, roles=roles, replied_user=False)
    return (" · ".join(parts) or None), mentions


def matching_tags(forum: discord.ForumChannel, categories: Sequence[str]) -> list[discord.ForumTag]:
    """The forum's tags named like the review's categories (ignoring case), at most 5."""
    wanted = {c.strip().casefold() for c in categories}
    return [tag for tag in forum.available_tags if tag.name.casefold() in wanted][:5]


def is_card_of(message: discord.Message, review: StoredReview) -> bool:
    """Whether a message is a card of this review: its embed link or its rating select."""
    if any(embed.url == review.url for embed in message.embeds):
        return True
    marker = rating_custom_id(review.review_id)
    return any(
        getattr(child, "custom_id", None) == marker
        for row in message.components
        for child in getattr(row, "children", [])
    )


def review_line(review: StoredReview) -> str:
    """One review on one line of a list: linked title, score, author, time."""
    title = safe_inline(review.title, LIST_TITLE_CHARS) or "Untitled review"
    url = _web_url(review.url, MAX_IMAGE_URL)
    parts = [f"**[{title}]({_markdown_url(url)})**" if url else f"**{title}**"]
    if review.score_display:
        parts.append(safe_inline(review.score_display, 40))
    if review.author:
        parts.append(f"by {safe_inline(review.author, 60)}")
    parts.append(timestamp(review))
    return " · ".join(parts)


def review_list_embed(
    title: str, reviews: Sequence[StoredReview], *, footer: str | None = None
) -> discord.Embed:
    embed = discord.Embed(title=title, colour=COLOUR)
    embed.description = "\n".join(review_line(r) for r in reviews) or "No reviews here."
    if footer:
        embed.set_footer(text=footer)
    return embed


def send_options(review: StoredReview) -> dict[str, Any]:
    """Keyword arguments to send a review card with its buttons, mentions off."""
    return {
        "embed": review_embed(review),
        "view": review_view(review),
        "allowed_mentions": discord.AllowedMentions.none(),
    }
