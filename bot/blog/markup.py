"""Small HTML readers shared by the connectors: JSON-LD items and images."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup
from extruct.jsonld import JsonLdExtractor

from bot.domain.scores import CriticScore, find_critic_score
from bot.domain.text import plain_text

log = logging.getLogger(__name__)


def parse_html(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


def jsonld_items(soup: BeautifulSoup) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, `@graph` flattened; a broken block is skipped alone."""
    extractor = JsonLdExtractor()
    items: list[dict[str, Any]] = []
    for script in soup.find_all("script", type="application/ld+json"):
        text = script.string or ""
        try:
            found = extractor.extract(f'<script type="application/ld+json">{text}</script>')
        except ValueError:
            log.info("skipped a JSON-LD block that is not valid JSON")
            continue
        items.extend(_flatten(found))
    return items


def _flatten(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        yield value
        yield from _flatten(value.get("@graph", []))


def types_of(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type", [])
    return {kind} if isinstance(kind, str) else {k for k in kind if isinstance(k, str)}


def first_image(soup: BeautifulSoup, base_url: str | None = None) -> str | None:
    img = soup.find("img", src=True)
    if img is None:
        return None
    src = str(img["src"])
    return urljoin(base_url, src) if base_url else src


def critic_score(html: str) -> CriticScore | None:
    """The critic's score of an article: its JSON-LD first, then its visible text."""
    soup = parse_html(html)
    jsonld = jsonld_items(soup)
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    return find_critic_score(plain_text(str(soup)), jsonld)
