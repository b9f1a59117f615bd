"""Catalogue questions of the watcher: which blog reviews are published, what to backfill."""

from __future__ import annotations

from bot.storage.database import Database
from bot.storage.reviews import StoredReview

_COLUMNS = ", ".join(f"r.{name}" for name in StoredReview.__dataclass_fields__)
# The guild's pre-baseline blog reviews nobody claimed there, newest first (the page to backfill).
_BACK_CATALOGUE = f"""
SELECT {_COLUMNS}
FROM reviews r JOIN guild_watch w ON w.guild_id = ?
WHERE r.seq <= w.baseline_seq AND r.status = 'published' AND r.source = 'blog'
  AND NOT EXISTS (SELECT 1 FROM announcements a
                  WHERE a.guild_id = w.guild_id AND a.review_id = r.review_id)
ORDER BY r.published_at DESC, r.seq DESC
LIMIT ?
"""


class CatalogueRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def published_blog_ids(self) -> set[str]:
        """Ids of the blog reviews stored as published (shared links left out)."""
        rows = await self._db.fetch_all(
            "SELECT review_id FROM reviews WHERE source = 'blog' AND status = 'published'"
        )
        return {row[0] for row in rows}

    async def back_catalogue(self, guild_id: int, limit: int) -> list[StoredReview]:
        """The `limit` newest reviews from before the guild's baseline not announced there yet,
        oldest first (the order to post them in). Empty while the guild has no baseline."""
        rows = await self._db.fetch_all(_BACK_CATALOGUE, (guild_id, limit))
        return [StoredReview.from_row(row) for row in reversed(rows)]
