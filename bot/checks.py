"""`reviewbridge check`: one line per check, each saying what is wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from bot.config import Settings
from bot.storage import DatabaseError, open_database

DISCORD_API_BASE = "https://discord.com/api/v10"
CHECK_TIMEOUT = aiohttp.ClientTimeout(total=15)


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


Check = Callable[[Settings, aiohttp.ClientSession], Awaitable[list[CheckResult]]]


async def check_database(settings: Settings, _: aiohttp.ClientSession) -> list[CheckResult]:
    try:
        database = await open_database(settings.database_path)
    except DatabaseError as error:
        return [CheckResult("database", False, str(error))]
    version = await database.schema_version()
    await database.close()
    return [CheckResult("database", True, f"{settings.database_path} (schema {version})")]


async def check_discord_token(
    settings: Settings, session: aiohttp.ClientSession
) -> list[CheckResult]:
    from bot.discord_ui.invite import invite_url

    if settings.discord_token is None:
        return [CheckResult("discord token", True, "not set; `run` needs DISCORD_TOKEN")]
    base = settings.discord_api_base or DISCORD_API_BASE
    headers = {"Authorization": f"Bot {settings.discord_token.reveal()}"}
    try:
        async with session.get(f"{base}/users/@me", headers=headers) as response:
            if response.status == 401:
                return [
                    CheckResult(
                        "discord token",
                        False,
                        "Discord rejected the token. Reset it in the Developer Portal "
                        "(Bot > Reset Token) and update DISCORD_TOKEN.",
                    )
                ]
            response.raise_for_status()
            me = await response.json()
        # The invite names the application, whose id may differ from the bot user's.
        async with session.get(f"{base}/oauth2/applications/@me", headers=headers) as response:
            response.raise_for_status()
            application = await response.json()
    except (aiohttp.ClientError, TimeoutError) as error:
        return [
            CheckResult(
                "discord token",
                False,
                f"cannot reach Discord at {base} ({error or 'timed out'}); retry later",
            )
        ]
    return [
        CheckResult("discord token", True, f"logged in as {me['username']} (id {me['id']})"),
        CheckResult("invite", True, invite_url(int(application["id"]))),
    ]


async def check_blog(settings: Settings, session: aiohttp.ClientSession) -> list[CheckResult]:
    if not settings.blog_configured:
        return [CheckResult("blog", True, "not configured; set BLOG_URL or BLOG_FEED_URL")]
    results = []
    if settings.blog_url:
        results += await _check_wordpress(settings, session)
    if settings.blog_feed_url:
        results.append(await _check_feed(settings.blog_feed_url, session))
    return results


async def _check_wordpress(settings: Settings, session: aiohttp.ClientSession) -> list[CheckResult]:
    from bot.blog.errors import BlogError
    from bot.blog.wordpress import WordPressBlog

    site = settings.blog_url or ""
    try:
        async with session.get(site) as response:
            reachable = CheckResult(
                "blog reachable", True, f"{site} answered HTTP {response.status}"
            )
    except (aiohttp.ClientError, TimeoutError) as error:
        fix = "check BLOG_URL and that the site is up"
        return [
            CheckResult(
                "blog reachable", False, f"{site} did not answer ({error or 'timed out'}); {fix}"
            )
        ]
    password = settings.wordpress_app_password
    blog = WordPressBlog(
        session, site, settings.wordpress_user, password.reveal() if password else None
    )
    try:
        root = await blog.rest_root()
    except BlogError as error:
        return [reachable, CheckResult("WordPress REST API", False, str(error))]
    results = [reachable, CheckResult("WordPress REST API", True, f"found at {root}")]
    if not settings.blog_writable:
        detail = "not set: read only (set WORDPRESS_USER and WORDPRESS_APP_PASSWORD to write)"
        return [*results, CheckResult("WordPress credentials", True, detail)]
    try:
        await blog.check_write_access()
    except BlogError as error:
        return [*results, CheckResult("WordPress credentials", False, str(error))]
    detail = f"{settings.wordpress_user} can write and moderate comments"
    return [*results, CheckResult("WordPress credentials", True, detail)]


async def _check_feed(feed_url: str, session: aiohttp.ClientSession) -> CheckResult:
    from bot.blog.errors import BlogError
    from bot.blog.feed import FeedBlog

    try:
        reviews = await FeedBlog(session, feed_url).list_reviews()
    except BlogError as error:
        return CheckResult("feed", False, str(error))
    if not reviews:
        return CheckResult("feed", False, f"{feed_url} has no entries; check BLOG_FEED_URL")
    return CheckResult("feed", True, f"{feed_url} parses ({len(reviews)} entries)")


LIVE_AFTER_SECONDS = 120  # four missed heartbeats


async def check_running_bot(settings: Settings, _: aiohttp.ClientSession) -> list[CheckResult]:
    """Whether a `reviewbridge run` on this database wrote its heartbeat lately."""
    import time

    from bot.storage import MetaRepository

    try:
        database = await open_database(settings.database_path)
    except DatabaseError as error:
        return [CheckResult("running bot", False, str(error))]
    try:
        beat = await MetaRepository(database).last_heartbeat()
    finally:
        await database.close()
    if beat is None:
        return [CheckResult("running bot", False, "no heartbeat yet; is `reviewbridge run` up?")]
    age = time.time() - beat
    if age > LIVE_AFTER_SECONDS:
        detail = f"last heartbeat {age:.0f} s ago; the bot is stuck or stopped, restart it"
        return [CheckResult("running bot", False, detail)]
    return [CheckResult("running bot", True, f"heartbeat {age:.0f} s ago")]


CHECKS: tuple[Check, ...] = (check_database, check_discord_token, check_blog)
LIVE_CHECKS: tuple[Check, ...] = (check_running_bot,)


async def run_checks(settings: Settings, checks: tuple[Check, ...] = CHECKS) -> int:
    print(CheckResult("configuration", True, "all variables valid").line())
    failed = False
    async with aiohttp.ClientSession(timeout=CHECK_TIMEOUT) as session:
        for check in checks:
            for result in await check(settings, session):
                print(result.line(), flush=True)
                failed |= not result.ok
    return 1 if failed else 0
