"""Blog comments as Discord webhook messages: plain dicts in Discord's JSON shape, no I/O.

Every message carries a marker, a random token in the query string of its "on the blog" link
(`?rb=<token>`): invisible behind the masked link, unguessable by commenters, and what the
outbox looks for in the thread before re-sending a message whose first send may have landed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote, urlsplit, urlunsplit

from bot.blog.models import BlogComment, iso_utc, to_utc
from bot.domain.text import (
    clamp_persona_name,
    escape_markdown,
    excerpt,
    html_to_discord,
    neutralize_mentions,
    plain_text,
    split_for_discord,
)

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_TOTAL = 6000
MAX_PARTS = 8  # a 200 kB comment would otherwise flood the thread; the rest stays on the blog
MAX_LINK = 512  # longer blog links fall back to a visible "ref" marker
QUOTE_CHARS = 80
EMPTY_TEXT = "*(no text)*"
CUT_NOTE = "… *the rest is on the blog*"
# Discord's own default avatars: stable per name, and no third-party service sees the name.
DEFAULT_AVATARS = tuple(f"https://cdn.discordapp.com/embed/avatars/{i}.png" for i in range(6))
NO_MENTIONS: dict[str, list[str]] = {"parse": []}
MARKER_PARAM = "rb"
_MARKER = r"(rb[0-9a-f]{12}(?:\.[0-9a-z]+)?)(?!\w)"
_MARKERS = re.compile(rf"[?&]{MARKER_PARAM}={_MARKER}|\bref {_MARKER}")
REF_ROOM = 32  # an embed without a usable blog link shows its marker on a "ref" line instead


class MessageSpec(TypedDict, total=False):
    """A message as Discord's REST API takes it (webhook execute / edit, or a bot message)."""

    content: str
    username: str
    avatar_url: str
    embeds: list[dict[str, Any]]
    allowed_mentions: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class CommentSnapshot:
    """What a mirrored message shows of a blog comment; stored as JSON beside the mapping."""

    id: str
    parent_id: str | None
    author: str
    avatar_url: str | None
    link: str
    published: datetime
    content_html: str

    @classmethod
    def of(cls, comment: BlogComment) -> CommentSnapshot:
        return cls(
            comment.id,
            comment.parent_id,
            comment.author,
            comment.author_avatar_url,
            comment.link,
            comment.published,
            comment.content_html,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "author": self.author,
            "avatar_url": self.avatar_url,
            "link": self.link,
            "published": iso_utc(self.published),
            "content_html": self.content_html,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CommentSnapshot:
        published = to_utc(datetime.fromisoformat(data["published"].replace("Z", "+00:00")))
        return cls(
            str(data["id"]),
            data.get("parent_id"),
            data.get("author", ""),
            data.get("avatar_url"),
            data.get("link", ""),
            published,
            data.get("content_html", ""),
        )


@dataclass(frozen=True, slots=True)
class ParentRef:
    """What a reply's quote line says about the comment it answers."""

    author: str | None  # None: the parent is not shown in the thread (held, trashed, deleted)
    content_html: str = ""
    jump_url: str | None = None  # its mirrored message, when it has one
    above: bool = False  # it sits right above, in the same packed message


@dataclass(frozen=True, slots=True)
class Entry:
    """One comment ready to render: the snapshot plus what the thread knows around it."""

    comment: CommentSnapshot
    marker: str  # the comment's base marker; messages derive theirs from it
    parent: ParentRef | None = None  # None for a top-level comment
    late: bool = False  # appeared after newer comments: say when it was really posted


# --- markers ---------------------------------------------------------------------------------


def new_marker() -> str:
    """A fresh base marker: 48 random bits, so a commenter cannot guess one."""
    return "rb" + secrets.token_hex(6)


def part_marker(base: str, part: int) -> str:
    return f"{base}.{part}"


def pack_marker(base: str) -> str:
    return f"{base}.k"


def markers_in(payload: Mapping[str, Any]) -> set[str]:
    """The markers a message (as Discord returns it, or as we sent it) carries."""
    found: set[str] = set()
    for text in _texts(payload):
        for link_marker, ref_marker in _MARKERS.findall(text):
            found.add(link_marker or ref_marker)
    return found


def carries_marker(payload: Mapping[str, Any], marker: str) -> bool:
    """True if the message carries exactly this marker (the adapter's history scan uses it)."""
    return marker in markers_in(payload)


def _texts(payload: Mapping[str, Any]) -> list[str]:
    texts = [str(payload.get("content") or "")]
    for embed in payload.get("embeds") or []:
        texts += [str(embed.get("url") or ""), str(embed.get("description") or "")]
        texts.append(str((embed.get("author") or {}).get("url") or ""))
        texts.append(str((embed.get("footer") or {}).get("text") or ""))
    return texts


def marked_url(link: str, marker: str) -> str | None:
    """The blog link with the marker in its query, or None if the link is unusable."""
    try:
        parts = urlsplit(link.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    query = f"{parts.query}&" if parts.query else ""
    url = urlunsplit(parts._replace(query=f"{query}{MARKER_PARAM}={marker}"))
    # Percent-encode what could end the markdown link early or smuggle markup into it.
    url = quote(url, safe="/:?#[]!$&*+,;=%~@.-_")
    return url if len(url) <= MAX_LINK else None


def _blog_link(link: str, marker: str, label: str) -> str:
    url = marked_url(link, marker)
    return f"[{label}]({url})" if url else f"ref {marker}"


# --- one comment per message -----------------------------------------------------------------


def persona(author: str, blog_name: str) -> str:
    """The webhook name: the commenter, then the blog, so nobody takes it for a member."""
    return clamp_persona_name(author, f" · {blog_name}")


def avatar_for(comment: CommentSnapshot) -> str:
    url = comment.avatar_url or ""
    if url.startswith("https://") and len(url) <= MAX_LINK:
        return url
    digest = hashlib.sha256(comment.author.strip().lower().encode()).digest()
    return DEFAULT_AVATARS[digest[0] % len(DEFAULT_AVATARS)]


def comment_markdown(comment: CommentSnapshot) -> str:
    return _markdown(comment.content_html, comment.link or None)


@functools.lru_cache(maxsize=4096)
def _markdown(content_html: str, base_url: str | None) -> str:
    # Packing measures each comment several times while it fills a message: convert once.
    return html_to_discord(content_html, base_url=base_url) or EMPTY_TEXT


def render_single(entry: Entry, *, blog_name: str) -> list[MessageSpec]:
    """The comment as one message, or as consecutive parts of at most 2000 characters."""
    header = quote_line(entry.parent)
    reserved = len(header) + len(_footer(entry, 98, 99)) + 2  # 2 newlines around the body
    chunks = split_for_discord(comment_markdown(entry.comment), MAX_CONTENT - reserved)
    chunks = _at_most_parts(chunks, MAX_CONTENT - reserved) or [EMPTY_TEXT]
    specs = []
    for index, chunk in enumerate(chunks):
        lines = [header] if index == 0 and header else []
        lines += [chunk, _footer(entry, index, len(chunks))]
        specs.append(
            MessageSpec(
                content="\n".join(lines),
                username=persona(entry.comment.author, blog_name),
                avatar_url=avatar_for(entry.comment),
                allowed_mentions=NO_MENTIONS,
            )
        )
    return specs


def _at_most_parts(chunks: list[str], budget: int) -> list[str]:
    if len(chunks) <= MAX_PARTS:
        return chunks
    last = split_for_discord(chunks[MAX_PARTS - 1], budget - len(CUT_NOTE) - 1)[0]
    return [*chunks[: MAX_PARTS - 1], f"{last}\n{CUT_NOTE}"]


def _footer(entry: Entry, index: int, total: int) -> str:
    pieces = [f"part {index + 1} of {total}"] if total > 1 else []
    if index == total - 1:
        pieces.append(_when(entry))
    pieces.append(_blog_link(entry.comment.link, part_marker(entry.marker, index), "on the blog"))
    return "-# " + " · ".join(pieces)


def _when(entry: Entry) -> str:
    stamp = f"<t:{int(entry.comment.published.timestamp())}:f>"
    return f"approved late · originally posted {stamp}" if entry.late else f"posted {stamp}"


def quote_line(parent: ParentRef | None) -> str:
    """ "> ↪ **Name**: “first words…” · [jump](…)" for a reply; "" for a top-level comment."""
    if parent is None:
        return ""
    if parent.author is None:
        return "> ↪ *In reply to a comment not shown here*"
    line = f"> ↪ **{_inline(parent.author, QUOTE_CHARS)}**"
    snippet = _inline(plain_text(parent.content_html), QUOTE_CHARS)
    if snippet:
        line += f": “{snippet}”"
    if parent.above:
        return line + " (above)"
    return line + f" · [jump]({parent.jump_url})" if parent.jump_url else line


def _inline(text: str, limit: int) -> str:
    """Stranger's text for one line of markdown: cut, escaped, mentions inert."""
    return neutralize_mentions(escape_markdown(excerpt(text, limit)))


def jump_url(guild_id: int, thread_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{thread_id}/{message_id}"


# --- packed messages -------------------------------------------------------------------------


def pack_username(blog_name: str) -> str:
    return clamp_persona_name(blog_name, " · comments")


def embed_description(entry: Entry) -> str:
    header = quote_line(entry.parent)
    body = comment_markdown(entry.comment)
    return f"{header}\n{body}" if header else body


def _embed_cost(entry: Entry) -> int:
    """What an embed counts against the 6000 characters: author name plus description."""
    return len(clamp_persona_name(entry.comment.author)) + len(embed_description(entry)) + REF_ROOM


def fits_one_embed(entry: Entry) -> bool:
    return len(embed_description(entry)) <= MAX_EMBED_DESCRIPTION - REF_ROOM


def pack_fits(entries: Sequence[Entry]) -> bool:
    """True if these comments fit one message untrimmed: <= 10 embeds, <= 6000 characters."""
    return (
        0 < len(entries) <= MAX_EMBEDS
        and all(fits_one_embed(e) for e in entries)
        and sum(_embed_cost(e) for e in entries) <= MAX_EMBED_TOTAL
    )


def render_pack(entries: Sequence[Entry], *, blog_name: str, marker: str) -> MessageSpec:
    """Up to 10 comments as embeds of one message, each with its author's name and avatar.

    Members edited after packing may no longer fit together: the longest descriptions are then
    cut at a safe boundary and point to the blog for the rest.
    """
    if not 0 < len(entries) <= MAX_EMBEDS:
        raise ValueError("a packed message holds 1 to 10 comments")
    descriptions = _trimmed([embed_description(e) for e in entries], entries)
    embeds = [_embed(e, d, marker) for e, d in zip(entries, descriptions, strict=True)]
    return MessageSpec(
        username=pack_username(blog_name), embeds=embeds, allowed_mentions=NO_MENTIONS
    )


def _embed(entry: Entry, description: str, marker: str) -> dict[str, Any]:
    author: dict[str, Any] = {
        "name": clamp_persona_name(entry.comment.author),
        "icon_url": avatar_for(entry.comment),
    }
    url = marked_url(entry.comment.link, marker)
    if url:
        author["url"] = url
    else:
        description = f"{description}\n-# ref {marker}"
    embed: dict[str, Any] = {
        "author": author,
        "description": description,
        "timestamp": iso_utc(entry.comment.published),
    }
    return embed


def _trimmed(descriptions: list[str], entries: Sequence[Entry]) -> list[str]:
    names = sum(len(clamp_persona_name(e.comment.author)) for e in entries)
    budget = MAX_EMBED_TOTAL - names - REF_ROOM * len(entries)
    limit = min(
        MAX_EMBED_DESCRIPTION - REF_ROOM, _fair_share([len(d) for d in descriptions], budget)
    )
    return [d if len(d) <= limit else _cut(d, limit) for d in descriptions]


def _fair_share(lengths: list[int], budget: int) -> int:
    """The largest cap that fits the budget: short comments stay whole, long ones share."""
    low, high = 0, max(lengths)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(n, middle) for n in lengths) <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(description: str, limit: int) -> str:
    kept = split_for_discord(description, max(limit - len(CUT_NOTE) - 1, 1))[0]
    return f"{kept}\n{CUT_NOTE}"


# --- progress and comparison -----------------------------------------------------------------


def review_url(comment_link: str) -> str:
    """The review's page from one of its comments' links (".../#comment-12" -> ".../#comments")."""
    try:
        parts = urlsplit(comment_link)
    except ValueError:
        return ""
    return urlunsplit(parts._replace(fragment="comments")) if parts.hostname else ""


def progress_spec(*, done: int, total: int, finished: bool, link: str, marker: str) -> MessageSpec:
    """The backfill's progress message, posted by the bot itself and edited as it goes."""
    url = marked_url(link, marker)
    blog = f"[the blog]({url})" if url else "the blog"
    if finished:
        text = f"✅ Mirrored {total} comment{'s' * (total != 1)} from {blog}."
    else:
        text = f"📥 Mirroring {total} comments from {blog}: {done} of {total} so far…"
    return MessageSpec(
        content=text if url else f"{text}\n-# ref {marker}", allowed_mentions=NO_MENTIONS
    )


def spec_hash(spec: Mapping[str, Any]) -> str:
    """Identity of what a message shows, to skip edits that would change nothing."""
    encoded = json.dumps(spec, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def visible_form(payload: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What readers see of a message, to compare what Discord holds with what it should."""
    embeds = tuple(
        (str((e.get("author") or {}).get("name") or ""), str(e.get("description") or "").strip())
        for e in payload.get("embeds") or []
    )
    return str(payload.get("content") or "").strip(), embeds
