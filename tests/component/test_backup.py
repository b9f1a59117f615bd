import asyncio
import sqlite3

import pytest

from bot.storage import DatabaseError, GuildSettingsRepository, open_database
from bot.storage.backup import backup_database


async def test_backup_while_writing_is_a_consistent_copy(tmp_path):
    database = await open_database(tmp_path / "live.sqlite3")
    settings = GuildSettingsRepository(database)
    await settings.update(1, review_channel_id=10)

    async def keep_writing():
        for guild in range(2, 200):
            await settings.update(guild, review_channel_id=guild)

    writer = asyncio.create_task(keep_writing())
    result = await backup_database(tmp_path / "live.sqlite3", tmp_path / "copies" / "b.sqlite3")
    await writer
    await database.close()

    assert result.schema_version >= 1
    with sqlite3.connect(result.path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute(
            "SELECT review_channel_id FROM guild_settings WHERE guild_id = 1"
        ).fetchone() == (10,)
    restored = await open_database(result.path)  # a backup opens as a normal database
    assert (await GuildSettingsRepository(restored).get(1)).review_channel_id == 10
    await restored.close()


async def test_backup_refuses_to_overwrite(tmp_path):
    database = await open_database(tmp_path / "live.sqlite3")
    await database.close()
    (tmp_path / "exists.sqlite3").write_text("keep me")
    with pytest.raises(DatabaseError, match="already exists"):
        await backup_database(tmp_path / "live.sqlite3", tmp_path / "exists.sqlite3")
    assert (tmp_path / "exists.sqlite3").read_text() == "keep me"


async def test_backup_of_a_missing_database_says_so(tmp_path):
    with pytest.raises(DatabaseError, match="DATABASE_PATH"):
        await backup_database(tmp_path / "nope.sqlite3", tmp_path / "b.sqlite3")
