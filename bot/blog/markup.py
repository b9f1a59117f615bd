"""Small HTML readers shared by the connectors: JSON-LD items and images."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import jstyleson
from bs4 import BeautifulSoup

from bot.domain.scores import CriticScore, find_critic_score
from bot.domain.text import plain_text

log = logging.getLogger(__name__)


def parse_html(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "lxml")


# Blocks sometimes start with an HTML or JavaScript comment line that JSON does not allow.
_COMMENT_LINE = re.compile(r"^\s*(//.*|<!--.*-->)", re.MULTILINE)


def jsonld_items(soup: BeautifulSoup) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, `@graph` flattened; a broken block is skipped alone."""
    items: list[dict[str, Any]] = []
    for script in soup.find_all("script", type="application/ld+json"):
        try:
            found = parse_jsonld_block(script.string or "")
        except ValueError:
            log.info("skipped a JSON-LD block that is not valid JSON")
            continue
        items.extend(_flatten(found))
    return items


def parse_jsonld_block(text: str) -> Any:
    """One block, read as leniently as extruct does (its JSON-LD reader in a few lines:
    extruct itself loads rdflib and pyRdfa, 25 MB resident, for extractors we never use).
    jstyleson tolerates the comments and trailing commas real pages carry."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return jstyleson.loads(_COMMENT_LINE.sub("", text), strict=False)


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
