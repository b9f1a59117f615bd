"""Storage: the only package that knows the schema and speaks SQL."""

from bot.storage.database import Database, DatabaseError, open_database
from bot.storage.repositories import GuildSettings, GuildSettingsRepository, MetaRepository

__all__ = [
    "Database",
    "DatabaseError",
    "GuildSettings",
    "GuildSettingsRepository",
    "MetaRepository",
    "open_database",
]
