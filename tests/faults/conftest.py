"""Shared by the fault tests: the in-process harness (the real bot against the emulator), the
fake blog, a process that is killed with SIGKILL and started again, and how many seeded runs
each kill test makes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.discord_ui.invite import REQUIRED_PERMISSIONS
from discord_emulator import Application, Channel, DiscordEmulator, Member
from tests.component.fake_wordpress import FakeWordPress
from tests.e2e.conftest import TOKEN, emu, harness, world

__all__ = ["emu", "harness", "world"]


def fault_runs(default: int) -> int:
    """The seeds of one kill test: `default`, or FAULT_RUNS for every kill test at once.
    The defaults add up to at least 50 kill runs in every suite run (README.md)."""
    return int(os.environ.get("FAULT_RUNS", default))


class KillableProcess:
    """A child process that dies like a crashing bot: SIGKILL, no cleanup, no `finally`."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
    ) -> None:
        self._args = args
        self._cwd = cwd
        self._env = env
        self._log = log
        self._process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        output = self._log.open("ab") if self._log else None
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self._args,
                env=self._env,
                cwd=self._cwd,
                stdout=output or asyncio.subprocess.DEVNULL,
                stderr=output,
            )
        finally:
            if output:
                output.close()  # the child has its own copy of the descriptor

    async def kill(self) -> None:
        if self._process is None:
            return
        if self._process.returncode is None:
            self._process.kill()
            self.kills += 1
        await self._process.wait()

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; the exit status."""
        assert self._process is not None
        if self._process.returncode is None:
            self._process.terminate()
        return await asyncio.wait_for(self._process.wait(), timeout=30)


@pytest.fixture
async def blog() -> AsyncIterator[FakeWordPress]:
    fake = FakeWordPress()
    async with fake.serve():
        yield fake


def film_club(
    emu: DiscordEmulator, moderators: discord.Permissions
) -> tuple[Application, Channel, Member]:
    """The server of the kill tests: a review channel, a moderator, the bot installed."""
    app = emu.create_application("Reviewbridge", token=TOKEN)
    guild = emu.create_guild("Film Club")
    channel = emu.create_channel(guild, "reviews")
    role = emu.create_role(guild, "Moderators", permissions=int(moderators.value))
    moderator = emu.add_member(guild, emu.create_user("mod"), roles=[role])
    emu.install_app(app, guild, permissions=REQUIRED_PERMISSIONS.value)
    return app, channel, moderator


def bot_process(
    emu: DiscordEmulator, blog: FakeWordPress, home: Path, *, poll_seconds: int
) -> KillableProcess:
    """`reviewbridge run` against this emulator and blog, with its database and log in `home`
    (the operator's environment without their Discord and blog settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=emu.api_base,
        DISCORD_GATEWAY_URL=emu.gateway_url,
        BLOG_URL=blog.url,
        BLOG_ALLOW_PRIVATE_HOST="true",
        BLOG_POLL_SECONDS=str(poll_seconds),
        DATABASE_PATH=str(home / "bot.sqlite3"),
        MIRROR_TIME_SCALE=str(emu.time_scale),
    )
    return KillableProcess(
        [sys.executable, "-m", "bot", "run"], home, env=env, log=home / "bot.log"
    )
