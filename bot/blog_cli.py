"""`reviewbridge blog …` and `reviewbridge inspect`: the blog as the bot sees it."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bot.blog.base import Blog
from bot.blog.cards import card_from_url, review_from_html
from bot.blog.errors import BlogError
from bot.blog.models import BlogComment, Review, iso_utc
from bot.config import Settings
from bot.domain.text import html_to_discord
from bot.wiring import blog_from_settings, safe_fetcher

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=60)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def format_review(review: Review) -> str:
    score = review.score.display if review.score else "no score"
    return (
        f"{iso_utc(review.published)[:10]}  {review.title}  by {review.author or 'unknown'}  "
        f"[{score}]  {review.url}"
    )


def format_thread(comments: Sequence[BlogComment]) -> str:
    """Comments as an indented thread, each reply under its parent."""
    depth: dict[str, int] = {}
    blocks = []
    for comment in comments:
        level = depth.get(comment.parent_id, -1) + 1 if comment.parent_id else 0
        depth[comment.id] = level
        indent = "    " * level
        header = f"{indent}#{comment.id} {comment.author} · {iso_utc(comment.published)}"
        text = html_to_discord(comment.content_html, base_url=comment.link or None)
        body = "\n".join(f"{indent}  {line}" if line else "" for line in text.splitlines())
        blocks.append(f"{header}\n{body}")
    return "\n\n".join(blocks)


def format_card(review: Review) -> str:
    score = review.score
    lines = [
        review.title,
        f"  url:        {review.url}",
        f"  author:     {review.author or 'unknown'}",
        f"  published:  {iso_utc(review.published)}",
        f"  score:      {f'{score.display} ({score.normalized:.0%})' if score else 'none found'}",
        f"  image:      {review.image_url or 'none'}",
        f"  categories: {', '.join(review.categories) or 'none'}",
        f"  excerpt:    {review.excerpt}",
    ]
    return "\n".join(lines)


async def _with_blog(settings: Settings) -> tuple[aiohttp.ClientSession, Blog]:
    session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    try:
        return session, await blog_from_settings(settings, session)
    except BaseException:
        await session.close()
        raise


async def list_reviews(settings: Settings, *, limit: int, as_json: bool) -> int:
    session, blog = await _with_blog(settings)
    async with session:
        reviews = await blog.list_reviews(limit=limit)
    if as_json:
        _print_json([review.as_json() for review in reviews])
    else:
        print("\n".join(format_review(r) for r in reviews) or "No published reviews.")
    return 0


async def list_comments(settings: Settings, post_id: str, *, as_json: bool) -> int:
    session, blog = await _with_blog(settings)
    async with session:
        if await blog.get_review(post_id) is None:
            raise BlogError(f"No published review with id {post_id} on this blog.")
        comments = await blog.list_comments(post_id)
    if as_json:
        _print_json([comment.as_json() for comment in comments])
    else:
        print(format_thread(comments) or "No approved comments.")
    return 0


async def inspect(settings: Settings, target: str, *, as_json: bool) -> int:
    review = await _card(settings, target)
    if as_json:
        _print_json(review.as_json())
    else:
        print(format_card(review))
    return 0


async def _card(settings: Settings, target: str) -> Review:
    path = Path(target)
    if "://" not in target and path.is_file():
        return review_from_html(path.read_text("utf-8", errors="replace"), path.resolve().as_uri())
    if "://" not in target:
        raise BlogError(f"{target} is neither an existing file nor an http(s) link.")
    if not settings.blog_configured:
        return await card_from_url(safe_fetcher(settings), target)
    session, blog = await _with_blog(settings)
    async with session:
        return await card_from_url(safe_fetcher(settings), target, blog)


def report_blog_error(error: BlogError) -> int:
    print(f"blog: {error}", file=sys.stderr)
    return 1
