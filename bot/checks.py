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
                "discord token", False, f"cannot reach Discord at {base} ({error!r}); retry later"
            )
        ]
    return [
        CheckResult("discord token", True, f"logged in as {me['username']} (id {me['id']})"),
        CheckResult("invite", True, invite_url(int(application["id"]))),
    ]


CHECKS: tuple[Check, ...] = (check_database, check_discord_token)


async def run_checks(settings: Settings, checks: tuple[Check, ...] = CHECKS) -> int:
    print(CheckResult("configuration", True, "all variables valid").line())
    failed = False
    async with aiohttp.ClientSession(timeout=CHECK_TIMEOUT) as session:
        for check in checks:
            for result in await check(settings, session):
                print(result.line(), flush=True)
                failed |= not result.ok
    return 1 if failed else 0
