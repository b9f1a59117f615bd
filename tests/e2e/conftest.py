"""End-to-end harness: the real ReviewBridge bot (same class, same config loader) against the
Discord emulator, with members acting through the emulator's control API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import discord
import pytest
import yarl

from bot.app import EXTENSIONS, ReviewBridge
from bot.config import parse_settings
from bot.discord_ui.invite import REQUIRED_PERMISSIONS
from discord_emulator import Application, Channel, DiscordEmulator, Guild, Member

TOKEN = "MTA1NTU1NTU1NTU1NTU1NTU1.Gemu01.emulated-token-for-tests-only-000000"


@dataclass
class World:
    emu: DiscordEmulator
    app: Application
    guild: Guild
    channel: Channel
    forum: Channel
    alice: Member
    moderator: Member


@dataclass
class BotHarness:
    """Starts, stops and restarts the bot on one database, like an operator would."""

    world: World
    database_path: Path
    env: dict[str, str] = field(default_factory=dict)
    extensions: tuple[str, ...] = EXTENSIONS
    bot: ReviewBridge | None = None
    _task: asyncio.Task[None] | None = None

    def environ(self) -> dict[str, str]:
        return {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_BASE": self.world.emu.api_base,
            "DISCORD_GATEWAY_URL": self.world.emu.gateway_url,
            "DATABASE_PATH": str(self.database_path),
            # Pace the mirror's webhooks as the emulator's shrunk rate limits require.
            "MIRROR_TIME_SCALE": str(self.world.emu.time_scale),
            **self.env,
        }

    async def start(self, extra_env: Mapping[str, str] | None = None) -> ReviewBridge:
        settings = parse_settings({**self.environ(), **(extra_env or {})})
        bot = ReviewBridge(settings, extensions=self.extensions, guild_ready_timeout=0.05)
        self.bot = bot
        self._task = asyncio.create_task(bot.start(TOKEN))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {self._task, ready}, timeout=10, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            await self.stop()
            raise TimeoutError("the bot did not become ready")
        return bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.bot, self._task = None, None

    async def restart(self) -> ReviewBridge:
        await self.stop()
        return await self.start()


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(time_scale=0.05) as emulator:
        yield emulator


def make_world(emu: DiscordEmulator, *, content_intent: bool = False) -> World:
    """A server with a review channel, a forum, a member and a moderator, and the bot in it;
    `content_intent` enables the privileged Message Content intent for the application."""
    intents = {"message_content"} if content_intent else set()
    app = emu.create_application("Reviewbridge", token=TOKEN, privileged_intents=intents)
    guild = emu.create_guild("Film Club")
    channel = emu.create_channel(guild, "reviews")
    forum = emu.create_channel(guild, "review-forum", type="forum", available_tags=["Film"])
    alice = emu.add_member(guild, emu.create_user("alice", global_name="Alice"))
    mods = emu.create_role(
        guild,
        "Moderators",
        permissions=int(
            discord.Permissions(manage_guild=True, manage_threads=True, manage_messages=True).value
        ),
    )
    moderator = emu.add_member(guild, emu.create_user("mod"), roles=[mods])
    emu.install_app(app, guild, permissions=REQUIRED_PERMISSIONS.value)
    return World(emu, app, guild, channel, forum, alice, moderator)


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    return make_world(emu)


@pytest.fixture
async def harness(world: World, tmp_path: Path) -> AsyncIterator[BotHarness]:
    harness = BotHarness(world, tmp_path / "bot.sqlite3")
    yield harness
    await harness.stop()
    # The bot points discord.py's class-level URLs at the emulator; put them back.
    discord.http.Route.BASE = "https://discord.com/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("wss://gateway.discord.gg/")
