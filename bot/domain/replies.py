"""Discord -> blog decisions, without I/O: what happens to a member's message given their
consent and the guild's approval mode, how it is attributed on the blog, what its status
looks like on the message, and which blog comment a Discord reply answers (and how the
comments a member may choose from with `/comment reply_to` are labelled)."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum

from bot.domain.text import excerpt, strip_invisible

AUTHOR_SUFFIX = " (via Discord)"
MAX_AUTHOR_NAME = 60  # before the suffix; WordPress allows 255, people read far less
# Markers of comments the bot posts for members (see `bot.blog.wordpress.marker_tag`). The
# blog -> Discord planner skips comments carrying one: their Discord message is the member's.
MARKER_PREFIX = "dc-"
DISCORD_MARKER_TAG = f"<!-- rb:{MARKER_PREFIX}"
# The render key of such a comment in the thread's mapping: its message is the member's own,
# so the mirror never posts, edits, removes or re-checks a message for it.
FROM_DISCORD = "from_discord"


class Consent(StrEnum):
    ALWAYS = "always"  # publish my thread replies
    ASK = "ask"  # ask me each time
    NEVER = "never"  # keep everything I write in Discord


class Approval(StrEnum):
    OFF = "off"  # publish at once
    BLOG = "blog"  # send held, for the blog's moderation queue
    DISCORD = "discord"  # a moderator approves in the moderator channel first


class Source(StrEnum):
    MESSAGE = "message"  # a plain message in the thread (needs the Message Content intent)
    MENU = "menu"  # the "Publish to blog" message menu: an explicit request
    COMMAND = "command"  # /comment: an explicit request


class Status(StrEnum):
    AWAITING_CONSENT = "awaiting_consent"
    AWAITING_APPROVAL = "awaiting_approval"
    QUEUED = "queued"
    PUBLISHED = "published"
    HELD = "held"  # on the blog, in its moderation queue
    FAILED = "failed"
    DISCORD_ONLY = "discord_only"  # its author did not consent
    REJECTED = "rejected"  # a moderator declined it
    DELETED = "deleted"  # its author deleted it in Discord


# The reaction each status shows on the member's message (none while we wait for its author).
STATUS_EMOJI: dict[Status, str] = {
    Status.AWAITING_APPROVAL: "🛡️",
    Status.QUEUED: "⏳",
    Status.PUBLISHED: "✅",
    Status.HELD: "🛡️",
    Status.FAILED: "⚠️",
    Status.DISCORD_ONLY: "🔒",
    Status.REJECTED: "🔒",
}
# A status each reaction stands for (statuses sharing one look alike, which is all that counts).
STATUS_OF_EMOJI: dict[str, Status] = {emoji: status for status, emoji in STATUS_EMOJI.items()}
# Statuses whose blog comment may still change: the author's edits and deletions follow.
ON_THE_BLOG = frozenset({Status.PUBLISHED, Status.HELD})
# Statuses of a reply still on its way to the blog or on it (not kept in Discord, not deleted).
HEADING_FOR_BLOG = frozenset(
    {
        Status.AWAITING_CONSENT,
        Status.AWAITING_APPROVAL,
        Status.QUEUED,
        Status.PUBLISHED,
        Status.HELD,
        Status.FAILED,
    }
)
# Statuses a moderator sees as pending or failed in /mirror status.
PENDING = frozenset({Status.AWAITING_APPROVAL, Status.QUEUED})
RETRYABLE = frozenset({Status.FAILED})


def decide(consent: Consent | None, approval: Approval, source: Source) -> Status:
    """Where a new message starts. An explicit request (menu, /comment) is itself the answer
    to "ask me each time"; nothing leaves Discord without consent."""
    if consent is None:
        return Status.AWAITING_CONSENT
    if consent is Consent.NEVER:
        return Status.DISCORD_ONLY
    if consent is Consent.ASK and source is Source.MESSAGE:
        return Status.AWAITING_CONSENT
    return after_consent(approval)


def after_consent(approval: Approval) -> Status:
    """Where a message goes once its author said yes."""
    return Status.AWAITING_APPROVAL if approval is Approval.DISCORD else Status.QUEUED


def blog_author(display_name: str) -> str:
    """The name the blog shows: the member's server display name, marked as from Discord."""
    name = " ".join(strip_invisible(display_name).split())
    if len(name) > MAX_AUTHOR_NAME:
        name = name[: MAX_AUTHOR_NAME - 1].rstrip() + "…"
    return (name or "A Discord member") + AUTHOR_SUFFIX


def new_reply_marker(thread_id: int) -> str:
    """The idempotency marker of one member message's blog comment: the thread it was written
    in (another guild's thread of the same review still mirrors it) and 64 random bits."""
    return f"{MARKER_PREFIX}{thread_id}-{secrets.token_hex(8)}"


def carries_discord_marker(content_html: str, thread_id: int) -> bool:
    """True for a blog comment the bot posted for a member of this thread."""
    return f"{DISCORD_MARKER_TAG}{thread_id}-" in content_html


def parent_from_mapping(comment_ids: Sequence[str]) -> str | None:
    """The blog comment a Discord reply answers, from the comments its target message shows:
    one comment (or the parts of one) is precise; a packed message of several is not, and the
    reply becomes a top-level comment."""
    distinct = set(comment_ids)
    return comment_ids[0] if len(distinct) == 1 else None


def shows_several(comment_ids: Sequence[str]) -> bool:
    """True when a message shows several blog comments (a packed backfill message)."""
    return len(set(comment_ids)) > 1


# --- choosing the comment to answer (/comment reply_to) --------------------------------------

EXCERPT_CHARS = 100  # what mirrored_comments keeps of a comment's text
MAX_CHOICE_NAME = 100  # Discord's limit for an autocomplete choice name
MAX_CHOICE_AUTHOR = 40
_EXCERPT_HTML = 4000  # enough markup for 100 characters of text; bounds the work on huge ones
_HIDDEN_HTML = re.compile(
    r"<!--.*?(?:-->|$)|<(script|style|noscript|template|iframe|object|svg|math|head|title|"
    r"textarea|select)\b.*?(?:</\1\s*>|$)",
    re.DOTALL | re.IGNORECASE,
)
_BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|div|br|li|ul|ol|blockquote|pre|h[1-6]|tr|td|th|hr|dt|dd|figure)\b)[^>]*(?:>|$)",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^>]*(?:>|$)")
# Not strftime's %b: that follows the process locale.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def comment_excerpt(content_html: str) -> str:
    """The start of a blog comment as one line of plain text, at most EXCERPT_CHARS.

    Tags are stripped with regexes, not parsed: this runs for every comment the mirror plans
    (20,000 in a large backfill), where a full parse would cost more than the planning. The
    result only labels and finds a choice (plain text: Discord renders no markdown there), so a
    stray "<" read as a tag costs a few words at worst; invisible characters go."""
    text = _HIDDEN_HTML.sub(" ", content_html[:_EXCERPT_HTML])
    text = _ANY_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    return excerpt(html.unescape(text), EXCERPT_CHARS)


def target_label(
    author: str, published: datetime, text: str | None, *, now: datetime | None = None
) -> str:
    """An autocomplete choice name for a comment one may answer, 1..100 characters:
    "Claire · 6 Jan · It made me call my sister…" (the year only when it is not this year;
    just name and date when the text is not known)."""
    name = excerpt(author, MAX_CHOICE_AUTHOR) or "Anonymous"
    when = f"{published.day} {_MONTHS[published.month - 1]}"
    if now is None or published.year != now.year:
        when += f" {published.year}"
    label = f"{name} · {when}"
    room = MAX_CHOICE_NAME - len(label) - len(" · ")
    words = excerpt(text, room) if text else ""
    return f"{label} · {words}" if words else label


def target_filter(typed: str) -> Callable[[str, str | None, str], bool]:
    """A test of (commenter, text, comment id) for what the member typed: the words appear in
    the commenter's name or the text (case and spacing ignored), or it is the id. Built once
    per keystroke, it is cheap per comment: a thread may have thousands."""
    wanted = " ".join(typed.casefold().split())

    def fits(author: str, text: str | None, comment_id: str) -> bool:
        haystack = f"{author} {text}" if text else author
        return comment_id == wanted or wanted in " ".join(haystack.casefold().split())

    return fits


def explain(
    status: Status,
    error: str | None,
    *,
    approval_channel: int | None = None,
    answered_packed: bool = False,
) -> str:
    """One or two sentences for the message's author about where their reply is;
    `answered_packed`: it answers a message showing several comments, so it is top-level."""
    said = _where(status, error, approval_channel)
    if answered_packed and status in HEADING_FOR_BLOG:
        said += " " + _packed_note(status)
    return said


def _packed_note(status: Status) -> str:
    tense = "It was posted" if status in ON_THE_BLOG else "It goes to the blog"
    return (
        f"{tense} as a new comment, not as a reply: the message it answers shows several "
        "blog comments. To answer one of them, use `/comment` with `reply_to:`."
    )


def _where(status: Status, error: str | None, approval_channel: int | None) -> str:
    if status is Status.AWAITING_CONSENT:
        return "Waiting for you to say whether it may be published on the blog."
    if status is Status.AWAITING_APPROVAL:
        where = f" in <#{approval_channel}>" if approval_channel else ""
        return f"Waiting for a moderator{where} to approve it for the blog."
    if status is Status.QUEUED:
        later = f" The last try said: {error}" if error else ""
        return f"Queued: it goes to the blog as soon as the blog answers.{later}"
    if status is Status.PUBLISHED:
        return "Published on the blog."
    if status is Status.HELD:
        return "On the blog, held in its moderation queue until a blog moderator approves it."
    if status is Status.FAILED:
        reason = error or "the blog refused it."
        return f"It could not be published: {reason} A moderator can retry it."
    if status is Status.DISCORD_ONLY:
        return "Kept in Discord only (your consent setting). Change it with /mirror consent."
    if status is Status.REJECTED:  # `error`: why, when a blog moderator removed it
        return error or "A moderator kept it in Discord only."
    return "You deleted it; it was taken off the blog."
