import sqlite3

import pytest

from bot.storage import DatabaseError, GuildSettingsRepository, MetaRepository, open_database
from bot.storage.database import Migration, bundled_migrations


async def test_new_database_is_migrated_and_tuned(tmp_path):
    database = await open_database(tmp_path / "sub" / "bot.sqlite3")
    try:
        assert await database.schema_version() == len(bundled_migrations())
        mode = await database.fetch_one("PRAGMA journal_mode")
        assert mode[0] == "wal"
        assert (await database.fetch_one("PRAGMA foreign_keys"))[0] == 1
        assert (await database.fetch_one("PRAGMA synchronous"))[0] == 1  # NORMAL
    finally:
        await database.close()


async def test_guild_settings_survive_reopening(tmp_path):
    path = tmp_path / "bot.sqlite3"
    database = await open_database(path)
    await GuildSettingsRepository(database).update(42, review_channel_id=7, ping_role_id=9)
    await database.close()

    database = await open_database(path)
    settings = await GuildSettingsRepository(database).get(42)
    await database.close()
    assert settings.configured() == {"review_channel_id": 7, "ping_role_id": 9}


async def test_unknown_setting_is_refused(tmp_path):
    database = await open_database(tmp_path / "bot.sqlite3")
    with pytest.raises(ValueError, match="unknown"):
        await GuildSettingsRepository(database).update(1, review_channel_id_or_1=2)
    await database.close()


async def test_meta_values_replace(tmp_path):
    database = await open_database(tmp_path / "bot.sqlite3")
    meta = MetaRepository(database)
    await meta.set("k", "1")
    await meta.set("k", "2")
    assert await meta.get("k") == "2"
    assert await meta.get("missing") is None
    await database.close()


async def test_database_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "bot.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(DatabaseError, match="newer Reviewbridge"):
        await open_database(path)


async def test_failed_migration_leaves_the_previous_version(tmp_path):
    path = tmp_path / "bot.sqlite3"
    good = Migration(1, "001_a.sql", "CREATE TABLE a (x INTEGER);")
    bad = Migration(2, "002_b.sql", "CREATE TABLE b (x INTEGER);\nTHIS IS NOT SQL;")
    with pytest.raises(sqlite3.OperationalError):
        await open_database(path, [good, bad])
    database = await open_database(path, [good])
    assert await database.schema_version() == 1
    assert await database.fetch_one("SELECT name FROM sqlite_master WHERE name = 'b'") is None
    await database.close()


async def test_garbage_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseError, match="not a usable SQLite database"):
        await open_database(path)


@pytest.mark.parametrize("start", range(1, len(bundled_migrations())))
async def test_upgrade_from_every_earlier_schema_keeps_data(tmp_path, start):
    migrations = bundled_migrations()
    path = tmp_path / "bot.sqlite3"
    old = await open_database(path, migrations[:start])
    await GuildSettingsRepository(old).update(7, review_channel_id=70)
    await old.close()

    upgraded = await open_database(path)
    assert await upgraded.schema_version() == len(migrations)
    assert (await GuildSettingsRepository(upgraded).get(7)).review_channel_id == 70
    assert (await upgraded.fetch_one("PRAGMA foreign_key_check")) is None
    assert (await upgraded.fetch_one("PRAGMA integrity_check"))[0] == "ok"
    await upgraded.close()


async def test_the_periodic_held_reply_check_reads_an_index_not_the_replies_table(tmp_path):
    from bot.storage.replies import ReplyRepository

    database = await open_database(tmp_path / "bot.sqlite3")
    try:
        sql = ReplyRepository.HELD_ON_BLOG_SQL
        plan = " ".join(
            str(row[3]) for row in await database.fetch_all(f"EXPLAIN QUERY PLAN {sql}")
        )
        assert "USING INDEX discord_replies_held" in plan, plan  # the held rows only
    finally:
        await database.close()
