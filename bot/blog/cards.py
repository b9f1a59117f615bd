"""Review cards from any shared link: Open Graph, JSON-LD and plain HTML, in that order of trust."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Tag

from bot.blog.base import Blog
from bot.blog.errors import BlogUnavailable, LinkUnavailable
from bot.blog.markup import first_image, jsonld_items, parse_html, types_of
from bot.blog.models import Review
from bot.blog.safe_http import SafeFetcher
from bot.domain.scores import find_critic_score
from bot.domain.text import excerpt, plain_text

log = logging.getLogger(__name__)

REVIEW_TYPES = frozenset({"Review", "CriticReview"})
ARTICLE_TYPES = frozenset({"Article", "BlogPosting", "NewsArticle", "ReportageNewsArticle"})
# Where the article text lives, most specific first; comments and navigation are left out.
BODY_SELECTORS = (
    "[itemprop=reviewBody]", ".entry-content", ".wp-block-post-content", ".post-content",
    "article", "main", "body",
)  # fmt: skip
NOT_BODY = "script, style, noscript, nav, header, footer, aside, form, #comments, .comments-area"


async def card_from_url(fetcher: SafeFetcher, url: str, blog: Blog | None = None) -> Review:
    """The review a shared link points to: from the blog's API when it is ours, else the page."""
    if blog is not None:
        try:
            if review := await blog.find_review_by_url(url):
                return review
        except BlogUnavailable as exc:
            log.warning("blog lookup failed, reading the page instead url=%s error=%s", url, exc)
    page = await fetcher.fetch_page(url)
    if page.status >= 400:
        raise LinkUnavailable(f"{url} answered HTTP {page.status}, so there is no card to show.")
    return review_from_html(page.text, page.url)


def review_from_html(html: str, url: str, *, now: datetime | None = None) -> Review:
    """A review card from a page; `now` dates pages that give no date at all."""
    soup = parse_html(html)
    jsonld = jsonld_items(soup)
    items = _main_items(jsonld)
    meta = _meta(soup)
    body = _article_body(soup)
    canonical = _canonical(soup, meta, url)
    published = (
        _date(_field(items, "datePublished"))
        or _date(_first(meta, "article:published_time"))
        or now
        or datetime.now(UTC)
    )
    modified = (
        _date(_field(items, "dateModified"))
        or _date(_first(meta, "article:modified_time"))
        or published
    )
    return Review(
        id=canonical,
        title=_title(soup, meta, items) or canonical,
        url=canonical,
        author=_author(items, meta),
        published=published,
        modified=max(modified, published),
        excerpt=excerpt(_description(meta, items) or _first_paragraph(body)),
        image_url=_image(meta, items, body, canonical),
        categories=tuple(meta.get("article:section", [])),
        tags=tuple(meta.get("article:tag", [])),
        score=find_critic_score(plain_text(str(body)), jsonld),
    )


def _main_items(jsonld: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The review (also one nested in a Movie's `review`), the article, then reviewed things."""
    reviews: list[Mapping[str, Any]] = []
    articles: list[Mapping[str, Any]] = []
    subjects: list[Mapping[str, Any]] = []
    for item in jsonld:
        kinds = types_of(dict(item))
        nested = item.get("review")
        for candidate in nested if isinstance(nested, list) else [nested]:
            if isinstance(candidate, dict) and types_of(candidate) & REVIEW_TYPES:
                reviews.append(candidate)
                subjects.append(item)
        if kinds & REVIEW_TYPES:
            reviews.append(item)
        elif kinds & ARTICLE_TYPES:
            articles.append(item)
    return reviews + articles + subjects


def _field(items: Iterable[Mapping[str, Any]], key: str) -> Any:
    return next((item[key] for item in items if item.get(key)), None)


def _meta(soup: BeautifulSoup) -> dict[str, list[str]]:
    found: defaultdict[str, list[str]] = defaultdict(list)
    for tag in soup.find_all("meta", content=True):
        key = tag.get("property") or tag.get("name")
        if key and str(tag["content"]).strip():
            found[str(key).lower()].append(str(tag["content"]).strip())
    return dict(found)


def _first(meta: Mapping[str, list[str]], *keys: str) -> str | None:
    return next((meta[key][0] for key in keys if meta.get(key)), None)


def _canonical(soup: BeautifulSoup, meta: Mapping[str, list[str]], url: str) -> str:
    link = soup.find("link", rel="canonical", href=True)
    found = str(link["href"]) if isinstance(link, Tag) else _first(meta, "og:url")
    return urljoin(url, found) if found else url


def _title(soup: BeautifulSoup, meta: Mapping[str, list[str]], items: list[Any]) -> str:
    title = _first(meta, "og:title", "twitter:title") or _field(items, "headline")
    if not title and soup.title and soup.title.string:
        title = soup.title.string
    return plain_text(str(title or _field(items, "name") or "")).strip()


def _author(items: list[Mapping[str, Any]], meta: Mapping[str, list[str]]) -> str:
    names = list(_names(_field(items, "author")))
    if names:
        return ", ".join(names)
    # article:author is often a profile URL rather than a name.
    candidates = [*meta.get("article:author", []), *meta.get("author", [])]
    return next((c for c in candidates if not c.startswith(("http://", "https://"))), "")


def _names(value: Any) -> Iterable[str]:
    for person in value if isinstance(value, list) else [value]:
        name = person.get("name") if isinstance(person, dict) else person
        if isinstance(name, str) and name.strip():
            yield name.strip()


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    # A bare date or time without zone: UTC is the least surprising reading.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _description(meta: Mapping[str, list[str]], items: list[Mapping[str, Any]]) -> str:
    text = _first(meta, "og:description", "description", "twitter:description")
    return plain_text(str(text or _field(items, "description") or ""))


def _image(
    meta: Mapping[str, list[str]], items: list[Mapping[str, Any]], body: Tag, base: str
) -> str | None:
    image = _first(meta, "og:image", "og:image:url", "twitter:image") or _field(items, "image")
    if isinstance(image, list):
        image = image[0] if image else None
    if isinstance(image, dict):
        image = image.get("url")
    if isinstance(image, str) and image:
        return urljoin(base, image)
    return first_image(BeautifulSoup(str(body), "lxml"), base)


def _article_body(soup: BeautifulSoup) -> Tag:
    body = next((found for s in BODY_SELECTORS if (found := soup.select_one(s))), soup)
    body = BeautifulSoup(str(body), "lxml")  # a copy: the page itself stays intact
    for tag in body.select(NOT_BODY):
        tag.decompose()
    return body


def _first_paragraph(body: Tag) -> str:
    for paragraph in body.find_all("p"):
        text = paragraph.get_text(" ", strip=True)
        if text:
            return text
    return ""
