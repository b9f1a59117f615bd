"""Fixtures: a fake WordPress on 127.0.0.1 and the real client pointed at it; a fresh
database and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.blog.transport import RetryPolicy
from bot.blog.wordpress import WordPressBlog
from bot.storage import Database, open_database
from tests.component.fake_discord_port import FakeClock
from tests.component.fake_wordpress import FakeWordPress

BOT_LOGIN = "reviewbridge"
BOT_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
# Real backoff shape, test-sized delays.
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=2.0, timeout=2.0)


@pytest.fixture
async def wp() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    fake.add_user(BOT_LOGIN, BOT_PASSWORD, role="editor", display_name="Reviewbridge")
    async with fake.serve():
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
def blog(wp: FakeWordPress, session: aiohttp.ClientSession) -> WordPressBlog:
    return WordPressBlog(session, wp.url, BOT_LOGIN, BOT_PASSWORD, retry=FAST_RETRY)


@pytest.fixture
def reader_blog(wp: FakeWordPress, session: aiohttp.ClientSession) -> WordPressBlog:
    return WordPressBlog(session, wp.url, retry=FAST_RETRY)


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "bot.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
