"""Reviews, announcements, watch baselines and member ratings: the queries behind them.

Timestamps are stored as ISO 8601 UTC text to the second ("2024-05-01T12:00:00Z"), one format
for every column, so text comparison is time comparison.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import aiosqlite

from bot.ratings import DEFAULT_PRIOR_WEIGHT
from bot.storage.database import Database

if TYPE_CHECKING:
    from bot.blog.models import Review

ReviewSource = Literal["blog", "shared"]
ReviewStatus = Literal["published", "withdrawn"]
AnnouncementKind = Literal["announce", "share"]
AnnouncementState = Literal["pending", "posted", "withdrawn"]

MAX_SEARCH_TERMS = 16  # bounds the work one search can ask of the FTS index
# bm25 costs about 2 µs per match: past this many matches (a word in most reviews) the search
# lists newest first instead of ranking, which keeps it under ~5 ms on any catalogue.
MAX_RANKED_MATCHES = 2000
_TERM = re.compile(r"[^\W_]+")  # runs of letters and digits, as FTS5's unicode61 tokenizer sees
# Title matches matter most, then the author, then the excerpt.
_BM25 = "bm25(reviews_fts, 10.0, 1.0, 5.0)"


def _iso(value: datetime) -> str:
    """The stored form of a time: UTC, to the second, with a trailing Z."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: give it a time zone")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> str:
    return _iso(datetime.now(UTC))


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def match_query(text: str, *, prefix_last: bool = False) -> str | None:
    """An FTS5 MATCH expression for words a member typed, or None if they typed no words.

    Only letters and digits survive, each as a quoted phrase, so quotes, `NEAR(`, `*`, `-`,
    `AND`/`OR` or column names in the text are searched for as words, never run as syntax.
    """
    terms = _TERM.findall(unicodedata.normalize("NFKC", text))[:MAX_SEARCH_TERMS]
    if not terms:
        return None
    phrases = [f'"{term}"' for term in terms]
    if prefix_last:
        phrases[-1] += "*"
    return " ".join(phrases)


class ReviewConflictError(Exception):
    """Another stored review already has this URL and cannot be merged into this one."""


class UpsertOutcome(StrEnum):
    NEW = "new"
    CHANGED = "changed"  # something an announcement shows changed, or it was republished
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class ReviewRecord:
    """A review as the sync (or a shared link) hands it to storage."""

    review_id: str
    source: ReviewSource
    title: str
    url: str
    author: str
    published_at: datetime
    modified_at: datetime
    excerpt: str = ""
    image_url: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    score_display: str | None = None
    score_value: float | None = None
    score_scale: float | None = None
    score_normalized: float | None = None

    @classmethod
    def from_review(cls, review: Review, source: ReviewSource = "blog") -> ReviewRecord:
        score = review.score
        return cls(
            review_id=review.id,
            source=source,
            title=review.title,
            url=review.url,
            author=review.author,
            published_at=review.published,
            modified_at=review.modified,
            excerpt=review.excerpt,
            image_url=review.image_url,
            categories=tuple(review.categories),
            tags=tuple(review.tags),
            score_display=score.display if score else None,
            score_value=score.value if score else None,
            score_scale=score.scale if score else None,
            score_normalized=score.normalized if score else None,
        )

    @property
    def content_hash(self) -> str:
        """Changes when anything an announcement shows changes.

        `modified_at` is left out: WordPress bumps it on saves that change nothing visible,
        and an edit of the announcement for those would be noise.
        """
        shown = asdict(self)
        for hidden in ("review_id", "source", "modified_at"):
            del shown[hidden]
        shown["published_at"] = _iso(self.published_at)
        encoded = json.dumps(shown, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]

    def as_row(self, now: str) -> dict[str, Any]:
        return {
            **asdict(self),
            "published_at": _iso(self.published_at),
            "modified_at": _iso(self.modified_at),
            "categories": json.dumps(list(self.categories), ensure_ascii=False),
            "tags": json.dumps(list(self.tags), ensure_ascii=False),
            "content_hash": self.content_hash,
            "now": now,
        }


@dataclass(frozen=True)
class StoredReview:
    review_id: str
    source: ReviewSource
    title: str
    url: str
    author: str
    published_at: datetime
    modified_at: datetime
    excerpt: str
    image_url: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    score_display: str | None
    score_value: float | None
    score_scale: float | None
    score_normalized: float | None
    status: ReviewStatus
    content_hash: str
    first_seen_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> StoredReview:
        data = dict(row)
        for column in ("published_at", "modified_at", "first_seen_at", "updated_at"):
            data[column] = _parse_time(data[column])
        data["categories"] = tuple(json.loads(data["categories"]))
        data["tags"] = tuple(json.loads(data["tags"]))
        return cls(**data)


@dataclass(frozen=True)
class ReviewTitle:
    """One autocomplete choice."""

    review_id: str
    title: str


@dataclass(frozen=True)
class CategoryCount:
    name: str
    reviews: int


# The dataclass is the column list, so the two cannot drift apart.
_REVIEW_COLUMNS = ", ".join(f"r.{name}" for name in StoredReview.__dataclass_fields__)
# Matches among published reviews, by FTS rowid. Withdrawn reviews are few, so excluding them
# by rowid keeps the reviews table out of the loop over every match (a join there costs more
# than the full-text search itself, and the planner may even run the search once per review).
_PUBLISHED_MATCHES = (
    "FROM reviews_fts WHERE reviews_fts MATCH ? "
    "AND rowid NOT IN (SELECT seq FROM reviews WHERE status = 'withdrawn')"
)
# Rank first and read full rows only for the page; newer reviews win ties.
_SEARCH_PAGE = f"""
SELECT {_REVIEW_COLUMNS}
FROM (SELECT rowid AS seq, {_BM25} AS relevance {_PUBLISHED_MATCHES}
      ORDER BY relevance, rowid DESC LIMIT ? OFFSET ?) AS hit
CROSS JOIN reviews r ON r.seq = hit.seq
ORDER BY hit.relevance, hit.seq DESC
"""
# FTS5 walks rowids in order and stops at the limit, so this is fast for any number of matches.
_NEWEST_PAGE = f"""
SELECT {_REVIEW_COLUMNS}
FROM (SELECT rowid AS seq {_PUBLISHED_MATCHES} ORDER BY rowid DESC LIMIT ? OFFSET ?) AS hit
CROSS JOIN reviews r ON r.seq = hit.seq
ORDER BY hit.seq DESC
"""
_AUTOCOMPLETE = f"""
SELECT r.review_id, r.title
FROM (SELECT rowid AS seq {_PUBLISHED_MATCHES} ORDER BY rowid DESC LIMIT ?) AS hit
CROSS JOIN reviews r ON r.seq = hit.seq
ORDER BY hit.seq DESC
"""


class ReviewRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def upsert_review(self, record: ReviewRecord) -> UpsertOutcome:
        """Store the review; say whether it is new, changed (or republished) or unchanged."""
        async with self._db.transaction() as conn:
            previous = await _previous_version(conn, record)
            if previous is None:
                outcome = UpsertOutcome.NEW
            elif previous["content_hash"] != record.content_hash or (
                previous["status"] != "published"
            ):
                outcome = UpsertOutcome.CHANGED
            else:
                outcome = UpsertOutcome.UNCHANGED
            await conn.execute(
                _UPDATE_MODIFIED if outcome is UpsertOutcome.UNCHANGED else _UPSERT,
                record.as_row(_now()),
            )
        return outcome

    async def get(self, review_id: str) -> StoredReview | None:
        row = await self._db.fetch_one(
            f"SELECT {_REVIEW_COLUMNS} FROM reviews r WHERE r.review_id = ?", (review_id,)
        )
        return StoredReview.from_row(row) if row else None

    async def by_url(self, url: str) -> StoredReview | None:
        row = await self._db.fetch_one(
            f"SELECT {_REVIEW_COLUMNS} FROM reviews r WHERE r.url = ?", (url,)
        )
        return StoredReview.from_row(row) if row else None

    async def latest(self, limit: int = 10, offset: int = 0) -> list[StoredReview]:
        rows = await self._db.fetch_all(
            f"SELECT {_REVIEW_COLUMNS} FROM reviews r WHERE r.status = 'published' "
            "ORDER BY r.published_at DESC, r.seq DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [StoredReview.from_row(row) for row in rows]

    async def search(
        self, words: str, limit: int = 10, offset: int = 0
    ) -> tuple[list[StoredReview], int]:
        """Published reviews matching every word (title, excerpt, author), best first; total.

        Titles weigh most, then authors, then excerpts (bm25), and the latest stored wins ties.
        A search matching more than MAX_RANKED_MATCHES reviews lists the latest stored first.
        """
        query = match_query(words)
        if query is None:
            return [], 0
        row = await self._db.fetch_one(f"SELECT count(*) {_PUBLISHED_MATCHES}", (query,))
        total = int(row[0]) if row else 0
        if total == 0:
            return [], 0
        page = _SEARCH_PAGE if total <= MAX_RANKED_MATCHES else _NEWEST_PAGE
        rows = await self._db.fetch_all(page, (query, limit, offset))
        return [StoredReview.from_row(row) for row in rows], total

    async def autocomplete(self, prefix: str, limit: int = 25) -> list[ReviewTitle]:
        """Published titles with words starting as typed (newest stored first)."""
        query = match_query(prefix, prefix_last=True)
        if query is None:
            rows = await self._db.fetch_all(
                "SELECT review_id, title FROM reviews WHERE status = 'published' "
                "ORDER BY published_at DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = await self._db.fetch_all(_AUTOCOMPLETE, (f"title : ({query})", limit))
        return [ReviewTitle(row["review_id"], row["title"]) for row in rows]

    async def mark_withdrawn(self, review_id: str) -> bool:
        """True if the review was published until now."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE reviews SET status = 'withdrawn', updated_at = ? "
                "WHERE review_id = ? AND status = 'published'",
                (_now(), review_id),
            )
            return cursor.rowcount == 1

    async def categories(self) -> list[CategoryCount]:
        """Categories of published reviews, most used first."""
        rows = await self._db.fetch_all(
            "SELECT c.value AS name, count(*) AS reviews "
            "FROM reviews r, json_each(r.categories) c WHERE r.status = 'published' "
            "GROUP BY c.value ORDER BY reviews DESC, name"
        )
        return [CategoryCount(row["name"], row["reviews"]) for row in rows]


_UPSERT = """
INSERT INTO reviews (
    review_id, source, title, url, author, published_at, modified_at, excerpt, image_url,
    categories, tags, score_display, score_value, score_scale, score_normalized,
    status, content_hash, first_seen_at, updated_at
) VALUES (
    :review_id, :source, :title, :url, :author, :published_at, :modified_at, :excerpt, :image_url,
    :categories, :tags, :score_display, :score_value, :score_scale, :score_normalized,
    'published', :content_hash, :now, :now
)
ON CONFLICT (review_id) DO UPDATE SET
    source = excluded.source, title = excluded.title, url = excluded.url,
    author = excluded.author, published_at = excluded.published_at,
    modified_at = excluded.modified_at, excerpt = excluded.excerpt,
    image_url = excluded.image_url, categories = excluded.categories, tags = excluded.tags,
    score_display = excluded.score_display, score_value = excluded.score_value,
    score_scale = excluded.score_scale, score_normalized = excluded.score_normalized,
    status = 'published', content_hash = excluded.content_hash, updated_at = excluded.updated_at
"""
_UPDATE_MODIFIED = "UPDATE reviews SET modified_at = :modified_at WHERE review_id = :review_id"


async def _previous_version(
    conn: aiosqlite.Connection, record: ReviewRecord
) -> aiosqlite.Row | None:
    """The stored row this record updates, if any, merging a shared copy into a blog review."""
    async with conn.execute(
        "SELECT review_id, source, content_hash, status FROM reviews "
        "WHERE review_id = ? OR url = ?",
        (record.review_id, record.url),
    ) as cursor:
        rows = list(await cursor.fetchall())
    own = next((row for row in rows if row["review_id"] == record.review_id), None)
    if own is not None or not rows:
        return own
    other = rows[0]
    if other["source"] == "shared" and record.source == "blog":
        # A member shared the link before the poll saw the review: keep that copy's ratings and
        # announcements (ON UPDATE CASCADE) under the blog's id instead of a duplicate.
        await conn.execute(
            "UPDATE reviews SET review_id = ?, source = 'blog' WHERE review_id = ?",
            (record.review_id, other["review_id"]),
        )
        return other
    raise ReviewConflictError(
        f"review {other['review_id']} already has the URL {record.url}; "
        "look it up with by_url before storing a shared link"
    )


@dataclass(frozen=True)
class Announcement:
    guild_id: int
    review_id: str
    channel_id: int
    message_id: int | None
    thread_id: int | None
    state: AnnouncementState
    kind: AnnouncementKind
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: aiosqlite.Row) -> Announcement:
        data = dict(row)
        data["created_at"] = _parse_time(data["created_at"])
        data["updated_at"] = _parse_time(data["updated_at"])
        return cls(**data)


_ANNOUNCEMENT_COLUMNS = ", ".join(Announcement.__dataclass_fields__)


class AnnouncementRepository:
    """Once per guild and review: claim before posting, record the message after."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def claim(
        self, guild_id: int, review_id: str, kind: AnnouncementKind, channel_id: int
    ) -> bool:
        """Take the right to post; False if this guild already has (or is posting) it."""
        now = _now()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO announcements "
                "(guild_id, review_id, channel_id, kind, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, review_id, channel_id, kind, now, now),
            )
            return cursor.rowcount == 1

    async def record_posted(
        self, guild_id: int, review_id: str, message_id: int, thread_id: int | None = None
    ) -> None:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE announcements SET state = 'posted', message_id = ?, thread_id = ?, "
                "updated_at = ? WHERE guild_id = ? AND review_id = ?",
                (message_id, thread_id, _now(), guild_id, review_id),
            )
            if cursor.rowcount != 1:
                raise LookupError(f"no claim for review {review_id} in guild {guild_id}")

    async def release(self, guild_id: int, review_id: str) -> None:
        """Drop a pending claim whose post failed for good, so a later run may try again."""
        await self._db.execute(
            "DELETE FROM announcements WHERE guild_id = ? AND review_id = ? AND state = 'pending'",
            (guild_id, review_id),
        )

    async def pending(self) -> list[Announcement]:
        """Claims without a recorded post, oldest first: after a crash, check then finish."""
        rows = await self._db.fetch_all(
            f"SELECT {_ANNOUNCEMENT_COLUMNS} FROM announcements WHERE state = 'pending' "
            "ORDER BY created_at"
        )
        return [Announcement.from_row(row) for row in rows]

    async def mark_withdrawn(self, guild_id: int, review_id: str) -> None:
        await self._db.execute(
            "UPDATE announcements SET state = 'withdrawn', updated_at = ? "
            "WHERE guild_id = ? AND review_id = ?",
            (_now(), guild_id, review_id),
        )

    async def get(self, guild_id: int, review_id: str) -> Announcement | None:
        row = await self._db.fetch_one(
            f"SELECT {_ANNOUNCEMENT_COLUMNS} FROM announcements "
            "WHERE guild_id = ? AND review_id = ?",
            (guild_id, review_id),
        )
        return Announcement.from_row(row) if row else None

    async def for_review(self, review_id: str) -> list[Announcement]:
        """Every guild's announcement of a review, to edit or withdraw them all."""
        rows = await self._db.fetch_all(
            f"SELECT {_ANNOUNCEMENT_COLUMNS} FROM announcements WHERE review_id = ? "
            "ORDER BY guild_id",
            (review_id,),
        )
        return [Announcement.from_row(row) for row in rows]

    async def unannounced(self, guild_id: int, limit: int = 10) -> list[StoredReview]:
        """Blog reviews stored after the guild's baseline and not claimed there, oldest first.

        Empty until the guild's baseline is recorded.
        """
        rows = await self._db.fetch_all(
            f"SELECT {_REVIEW_COLUMNS} FROM reviews r JOIN guild_watch w ON w.guild_id = ? "
            "WHERE r.seq > w.baseline_seq AND r.status = 'published' AND r.source = 'blog' "
            "AND NOT EXISTS (SELECT 1 FROM announcements a "
            "                WHERE a.guild_id = w.guild_id AND a.review_id = r.review_id) "
            "ORDER BY r.published_at, r.seq LIMIT ?",
            (guild_id, limit),
        )
        return [StoredReview.from_row(row) for row in rows]


@dataclass(frozen=True)
class GuildWatch:
    guild_id: int
    baseline_seq: int
    baseline_done_at: datetime


class GuildWatchRepository:
    """The first watch run in a guild records what exists instead of announcing it."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildWatch | None:
        row = await self._db.fetch_one(
            "SELECT guild_id, baseline_seq, baseline_done_at FROM guild_watch WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return None
        return GuildWatch(row[0], row[1], _parse_time(row[2]))

    async def record_baseline(self, guild_id: int) -> GuildWatch:
        """Mark every review stored so far as seen in this guild; a second call keeps the first.

        Call it after the sync has stored the blog's current reviews, or they count as new.
        """
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_watch (guild_id, baseline_seq, baseline_done_at) "
                "VALUES (?, (SELECT coalesce(max(seq), 0) FROM reviews), ?) "
                "ON CONFLICT DO NOTHING",
                (guild_id, _now()),
            )
            async with conn.execute(
                "SELECT baseline_seq, baseline_done_at FROM guild_watch WHERE guild_id = ?",
                (guild_id,),
            ) as cursor:
                seq, done_at = await cursor.fetchone()
        return GuildWatch(guild_id, seq, _parse_time(done_at))


@dataclass(frozen=True)
class RatingSummary:
    count: int
    mean: float | None  # None without ratings


@dataclass(frozen=True)
class LeaderboardEntry:
    review_id: str
    title: str
    url: str
    count: int
    mean: float
    bayesian: float
    critic_display: str | None
    critic_normalized: float | None


@dataclass(frozen=True)
class MemberRating:
    review_id: str
    title: str
    url: str
    score: float
    rated_at: datetime
    critic_display: str | None
    critic_normalized: float | None


class RatingRepository:
    """Member ratings, one per member, review and guild. Scores are validated by the schema too."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def set_rating(
        self, guild_id: int, review_id: str, user_id: int, score: float
    ) -> float | None:
        """Store (or replace) the member's score; return the score it replaced, if any."""
        key = (guild_id, review_id, user_id)
        async with self._db.transaction() as conn:
            async with conn.execute(
                "SELECT score FROM ratings WHERE guild_id = ? AND review_id = ? AND user_id = ?",
                key,
            ) as cursor:
                previous = await cursor.fetchone()
            await conn.execute(
                "INSERT INTO ratings (guild_id, review_id, user_id, score, rated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET score = excluded.score, rated_at = excluded.rated_at",
                (*key, score, _now()),
            )
        return previous[0] if previous else None

    async def remove_rating(self, guild_id: int, review_id: str, user_id: int) -> bool:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "DELETE FROM ratings WHERE guild_id = ? AND review_id = ? AND user_id = ?",
                (guild_id, review_id, user_id),
            )
            return cursor.rowcount == 1

    async def rating_of(self, guild_id: int, review_id: str, user_id: int) -> float | None:
        row = await self._db.fetch_one(
            "SELECT score FROM ratings WHERE guild_id = ? AND review_id = ? AND user_id = ?",
            (guild_id, review_id, user_id),
        )
        return row[0] if row else None

    async def distribution(self, guild_id: int, review_id: str) -> dict[float, int]:
        """How many members gave each score; scores nobody gave are absent."""
        rows = await self._db.fetch_all(
            "SELECT score, count(*) FROM ratings WHERE guild_id = ? AND review_id = ? "
            "GROUP BY score ORDER BY score",
            (guild_id, review_id),
        )
        return {float(row[0]): int(row[1]) for row in rows}

    async def summary(self, guild_id: int, review_id: str) -> RatingSummary:
        row = await self._db.fetch_one(
            "SELECT count, total FROM rating_totals WHERE guild_id = ? AND review_id = ?",
            (guild_id, review_id),
        )
        return RatingSummary(row[0], row[1] / row[0]) if row else RatingSummary(0, None)

    async def guild_mean(self, guild_id: int) -> float | None:
        """The mean of every rating in the guild: the Bayesian prior's default."""
        row = await self._db.fetch_one(
            "SELECT sum(total) / sum(count) FROM rating_totals WHERE guild_id = ?", (guild_id,)
        )
        return row[0] if row else None

    async def leaderboard(
        self,
        guild_id: int,
        *,
        category: str | None = None,
        since: datetime | None = None,
        limit: int = 10,
        prior_weight: float = DEFAULT_PRIOR_WEIGHT,
        prior_mean: float | None = None,
    ) -> list[LeaderboardEntry]:
        """Rated published reviews by Bayesian average (see bot.ratings), best first.

        `since` keeps reviews published from then on; `category` matches ignoring ASCII case;
        `prior_mean` defaults to the guild's mean.
        """
        since_text = _iso(since) if since else None
        rows = await self._db.fetch_all(
            _LEADERBOARD, (guild_id, prior_mean, prior_weight, since_text, category, limit)
        )
        return [_leaderboard_entry(row) for row in rows]

    async def member_history(
        self, guild_id: int, user_id: int, limit: int = 10
    ) -> list[MemberRating]:
        """The member's ratings in this guild, newest first, with the critic's score beside."""
        rows = await self._db.fetch_all(
            "SELECT ra.review_id, r.title, r.url, ra.score, ra.rated_at, "
            "r.score_display, r.score_normalized "
            "FROM ratings ra JOIN reviews r ON r.review_id = ra.review_id "
            "WHERE ra.guild_id = ? AND ra.user_id = ? "
            "ORDER BY ra.rated_at DESC, r.published_at DESC LIMIT ?",
            (guild_id, user_id, limit),
        )
        return [
            MemberRating(row[0], row[1], row[2], row[3], _parse_time(row[4]), row[5], row[6])
            for row in rows
        ]


# The Bayesian average of bot.ratings.bayesian_average, in SQL so that only `limit` rows leave
# the database: (C*m + sum) / (C + n). Parameters: ?1 guild, ?2 prior mean or NULL for the
# guild's, ?3 prior weight, ?4 since or NULL, ?5 category or NULL, ?6 limit.
_LEADERBOARD = """
WITH prior AS (
    SELECT coalesce(?2, (SELECT sum(total) / sum(count) FROM rating_totals WHERE guild_id = ?1))
           AS m
)
SELECT r.review_id, r.title, r.url, t.count AS n, t.total,
       (?3 * prior.m + t.total) / (?3 + t.count) AS bayesian,
       r.score_display, r.score_normalized
FROM rating_totals t JOIN reviews r ON r.review_id = t.review_id, prior
WHERE t.guild_id = ?1
  AND r.status = 'published'
  AND (?4 IS NULL OR r.published_at >= ?4)
  AND (?5 IS NULL OR EXISTS (
        SELECT 1 FROM json_each(r.categories) c WHERE c.value = ?5 COLLATE NOCASE))
ORDER BY bayesian DESC, t.count DESC, r.published_at DESC
LIMIT ?6
"""


def _leaderboard_entry(row: Mapping[str, Any]) -> LeaderboardEntry:
    return LeaderboardEntry(
        review_id=row["review_id"],
        title=row["title"],
        url=row["url"],
        count=row["n"],
        mean=row["total"] / row["n"],
        bayesian=row["bayesian"],
        critic_display=row["score_display"],
        critic_normalized=row["score_normalized"],
    )
