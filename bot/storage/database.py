"""The SQLite connection: settings, numbered migrations and transactions.

One connection in autocommit mode; every multi-statement write runs inside `transaction()`,
which serialises writers on an asyncio lock because a single connection cannot hold two
transactions at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class DatabaseError(Exception):
    """The database cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The numbered `NNN_name.sql` files shipped in `bot/storage/migrations`, in order."""
    folder = resources.files("bot.storage").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise DatabaseError(f"migrations are not numbered 1..{len(found)} without gaps")
    return found


class Database:
    """An open, migrated database. Create it with `open_database`."""

    def __init__(self, connection: aiosqlite.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        async with self._write_lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                await self.connection.execute("ROLLBACK")
                raise
            await self.connection.execute("COMMIT")

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        async with self.connection.execute(sql, tuple(params)) as cursor:
            return await cursor.fetchone()

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        async with self.connection.execute(sql, tuple(params)) as cursor:
            return list(await cursor.fetchall())

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        """One write statement in its own transaction."""
        async with self.transaction() as conn:
            await conn.execute(sql, tuple(params))

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def close(self) -> None:
        await self.connection.close()


async def open_database(path: Path, migrations: list[Migration] | None = None) -> Database:
    """Open (creating folders as needed), configure and migrate the database at `path`."""
    migrations = bundled_migrations() if migrations is None else migrations
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
    except (OSError, aiosqlite.Error) as exc:
        raise DatabaseError(
            f"cannot open the database at {path} ({exc}). "
            "Check DATABASE_PATH and that its folder is writable."
        ) from exc
    connection.row_factory = aiosqlite.Row
    database = Database(connection, path)
    try:
        await _configure(connection)
        await _migrate(database, migrations)
    except BaseException:
        await connection.close()
        raise
    return database


async def _configure(connection: aiosqlite.Connection) -> None:
    try:
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute("PRAGMA foreign_keys = ON")
    except aiosqlite.DatabaseError as exc:
        raise _unusable(exc) from exc


async def _migrate(database: Database, migrations: list[Migration]) -> None:
    current = await database.schema_version()
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise DatabaseError(
            f"the database at {database.path} was written by a newer Reviewbridge "
            f"(schema {current}, this version knows {latest}). Upgrade Reviewbridge "
            "or restore a backup made by this version."
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("applying database migration %s", migration.name)
        try:
            async with database.transaction() as conn:
                for statement in _statements(migration.sql):
                    await conn.execute(statement)
                # PRAGMA takes no parameters; the version is an int we parsed from a file name.
                await conn.execute(f"PRAGMA user_version = {migration.version}")
        except aiosqlite.OperationalError as exc:
            if _primary_code(exc) in _CANNOT_WRITE:  # the disk, not the migration, is at fault
                raise _unusable(exc) from exc
            raise


# SQLite's primary result codes (the low byte of extended ones) that mean "cannot write here".
_READONLY, _IOERR, _FULL, _CANTOPEN = 8, 10, 13, 14
_CANNOT_WRITE = (_READONLY, _IOERR, _FULL, _CANTOPEN)


def _primary_code(exc: aiosqlite.DatabaseError) -> int:
    return (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF


def _unusable(exc: aiosqlite.DatabaseError) -> DatabaseError:
    """Say what to do: a read-only or full disk must not be mistaken for a broken file."""
    code = _primary_code(exc)
    if code in (_READONLY, _CANTOPEN):
        return DatabaseError(
            f"the database cannot be written ({exc}). "
            "Make the file and its folder writable by the bot's user."
        )
    if code in (_FULL, _IOERR):
        return DatabaseError(
            f"the database cannot be written ({exc}). "
            "Free disk space where DATABASE_PATH lives; the file itself is kept as it is."
        )
    return DatabaseError(
        f"the file is not a usable SQLite database ({exc}). "
        "Point DATABASE_PATH at a new file or restore a backup."
    )


def _statements(script: str) -> list[str]:
    """Split a migration into statements, since `executescript` would commit on its own."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements
