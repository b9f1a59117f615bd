"""Online backups with SQLite's backup API: safe while the bot runs and writes."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.storage.database import BUSY_TIMEOUT_MS, DatabaseError

PAGES_PER_STEP = 256  # copy in steps so a running bot's writers are not blocked for long


@dataclass(frozen=True)
class BackupResult:
    path: Path
    schema_version: int
    size_bytes: int


async def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy the database at `source` to `target` (a new file), then check the copy."""
    return await asyncio.to_thread(_backup, source, target)


def _backup(source: Path, target: Path) -> BackupResult:
    if not source.is_file():
        raise DatabaseError(f"there is no database at {source}; check DATABASE_PATH")
    if target.exists():
        raise DatabaseError(f"{target} already exists; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with _connect(source) as src, _connect(partial) as dst:
            src.backup(dst, pages=PAGES_PER_STEP)
            verdict = dst.execute("PRAGMA integrity_check").fetchone()[0]
            version = dst.execute("PRAGMA user_version").fetchone()[0]
        if verdict != "ok":
            raise DatabaseError(f"the backup failed its integrity check ({verdict})")
        partial.rename(target)
    except sqlite3.Error as exc:
        raise DatabaseError(f"backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, version, target.stat().st_size)


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return connection
