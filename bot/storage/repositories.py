"""Queries over the schema, grouped by what they are about. No SQL lives outside bot/storage."""

from __future__ import annotations

from dataclasses import dataclass, fields

from bot.storage.database import Database


@dataclass(frozen=True)
class GuildSettings:
    guild_id: int
    review_channel_id: int | None = None
    ping_role_id: int | None = None
    author_role_id: int | None = None

    def configured(self) -> dict[str, int]:
        """The settings that have a value, by name (for /about and /setup show)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "guild_id" and getattr(self, f.name) is not None
        }


_GUILD_SETTING_COLUMNS = frozenset(f.name for f in fields(GuildSettings)) - {"guild_id"}


class GuildSettingsRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, guild_id: int) -> GuildSettings:
        row = await self._db.fetch_one(
            "SELECT guild_id, review_channel_id, ping_role_id, author_role_id "
            "FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        return GuildSettings(**dict(row)) if row else GuildSettings(guild_id)

    async def update(self, guild_id: int, **values: int | None) -> GuildSettings:
        unknown = set(values) - _GUILD_SETTING_COLUMNS
        if unknown:
            raise ValueError(f"unknown guild settings: {sorted(unknown)}")
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO guild_settings (guild_id) VALUES (?) ON CONFLICT DO NOTHING",
                (guild_id,),
            )
            for column, value in values.items():
                # Column names come from the dataclass fields checked above, never from users.
                await conn.execute(
                    f"UPDATE guild_settings SET {column} = ?, "
                    "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE guild_id = ?",
                    (value, guild_id),
                )
        return await self.get(guild_id)


HEARTBEAT_KEY = "heartbeat"


class MetaRepository:
    """Small facts the bot keeps about itself, such as the hash of its last synced commands."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM bot_meta WHERE key = ?", (key,))
        return row["value"] if row else None

    async def record_heartbeat(self, at: float) -> None:
        """The running bot says it is alive (epoch seconds), for health checks."""
        await self.set(HEARTBEAT_KEY, repr(at))

    async def last_heartbeat(self) -> float | None:
        value = await self.get(HEARTBEAT_KEY)
        return float(value) if value is not None else None

    async def set(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO bot_meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
