"""The outbox worker of the Discord -> blog direction, alone in a process so that a test can
kill it with SIGKILL at any instant: `python -m tests.faults.worker DATABASE BLOG_URL`.

It does what the bot does at start (reset rows a stop left in 'doing'), then works the outbox.
Rows come from another process, which cannot wake this one: it looks again every few ms.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from bot.blog.base import Blog
from bot.blog.transport import RetryPolicy as HttpRetry
from bot.blog.wordpress import WordPressBlog
from bot.domain.replies import Status
from bot.storage import open_database
from bot.storage.mirror import MirrorRepository, OutboxRepository
from bot.storage.replies import ReplyRepository, StoredReply
from bot.sync.outbox import Outbox, RetryPolicy
from bot.sync.ports import SystemClock
from bot.sync.to_blog import BlogWriter

BOT_LOGIN = "reviewbridge"
BOT_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
# Test-sized: a timeout is a lost answer after 0.3 s; outages are retried within 0.2 s.
HTTP = HttpRetry(attempts=2, base_delay=0.01, max_delay=0.05, timeout=0.3)
OUTAGES = RetryPolicy(base=0.05, cap=0.2)
LOOK_AGAIN = 0.01


class NoStatus:
    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        return None


async def work(database_path: Path, blog_url: str) -> None:
    database = await open_database(database_path)
    clock = SystemClock()
    async with aiohttp.ClientSession() as session:
        blog = WordPressBlog(session, blog_url, BOT_LOGIN, BOT_PASSWORD, retry=HTTP)

        async def provider() -> Blog:
            return blog

        outbox = Outbox(OutboxRepository(database), clock, policy=RetryPolicy(base=0.05, cap=0.2))
        writer = BlogWriter(
            ReplyRepository(database),
            MirrorRepository(database),
            provider,
            NoStatus(),
            clock,
            outage_retry=OUTAGES,
        )
        writer.register(outbox)
        await outbox.recover()
        print("ready", flush=True)
        while True:
            await outbox.drain()
            await asyncio.sleep(LOOK_AGAIN)


if __name__ == "__main__":
    asyncio.run(work(Path(sys.argv[1]), sys.argv[2]))
