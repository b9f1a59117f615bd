"""Fixtures: a started emulator with a small world, and discord.py pointed at it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import discord
import pytest
import yarl

from discord_emulator import Application, Channel, DiscordEmulator, Guild, Member

TOKEN = "emulated-bot-token"


@dataclass
class World:
    emu: DiscordEmulator
    app: Application
    guild: Guild
    channel: Channel
    forum: Channel
    alice: Member
    bob: Member


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with DiscordEmulator(time_scale=0.01, interaction_deadline=3.0) as emulator:
        yield emulator


@pytest.fixture
def world(emu: DiscordEmulator) -> World:
    app = emu.create_application("Reviewbridge", token=TOKEN)
    guild = emu.create_guild("Readers")
    channel = emu.create_channel(guild, "reviews")
    forum = emu.create_channel(guild, "discussions", type="forum", available_tags=["book", "film"])
    alice = emu.add_member(guild, emu.create_user("alice"))
    bob = emu.add_member(guild, emu.create_user("bob"))
    emu.install_app(app, guild)
    return World(emu, app, guild, channel, forum, alice, bob)


@pytest.fixture
def discord_at_emulator(emu: DiscordEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", emu.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(emu.gateway_url)
    )


@contextlib.asynccontextmanager
async def running(client: discord.Client, token: str = TOKEN) -> AsyncIterator[discord.Client]:
    """Run ``client`` against the emulator until the block ends."""
    task = asyncio.create_task(client.start(token))
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait({task, ready}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await client.close()
        if task in done:
            task.result()  # surface the start-up error
        raise TimeoutError("the client did not become ready")
    try:
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task
