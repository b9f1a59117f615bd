"""The Bot subclass: builds the dependencies, loads the cogs, owns the HTTP session."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from typing import Any

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot import __version__
from bot.blog.safe_http import SafeFetcher
from bot.config import Settings
from bot.discord_ui.invite import required_intents
from bot.health import HealthBoard
from bot.storage import Database, GuildSettingsRepository, MetaRepository, open_database
from bot.storage.reviews import (
    AnnouncementRepository,
    GuildWatchRepository,
    RatingRepository,
    ReviewRepository,
)
from bot.wiring import BlogHandle, safe_fetcher

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.errors", "cogs.about", "cogs.setup", "cogs.ratings", "cogs.reviews")
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)


def point_discord_py_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST and gateway traffic to a Discord-compatible server (the emulator).

    discord.py reads these class attributes for every request and connection it makes.
    """
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class ReviewBridge(commands.Bot):
    """The Reviewbridge bot. Everything it needs is built in `setup_hook` and closed in `close`."""

    database: Database
    http_session: aiohttp.ClientSession
    guild_settings: GuildSettingsRepository
    meta: MetaRepository
    reviews: ReviewRepository
    announcements: AnnouncementRepository
    guild_watch: GuildWatchRepository
    ratings: RatingRepository
    blog: BlogHandle
    fetcher: SafeFetcher

    def __init__(
        self, settings: Settings, *, extensions: tuple[str, ...] = EXTENSIONS, **options: Any
    ) -> None:
        """`options` go to discord.py's client as they are (tests pass `guild_ready_timeout`)."""
        point_discord_py_at(settings.discord_api_base, settings.discord_gateway_url)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=required_intents(),
            # Nothing reads cached members or messages: keep memory flat however big the guild.
            member_cache_flags=discord.MemberCacheFlags.none(),
            max_messages=None,
            chunk_guilds_at_startup=False,
            # Outside text must never ping; a feature that wants a ping allows exactly that one.
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.settings = settings
        self.version = __version__
        self.started_monotonic = time.monotonic()
        self._extensions_to_load = extensions
        self.health = HealthBoard()
        self._owns_resources = False

    async def setup_hook(self) -> None:
        self.database = await open_database(self.settings.database_path)
        self.http_session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
        self._owns_resources = True
        self.guild_settings = GuildSettingsRepository(self.database)
        self.meta = MetaRepository(self.database)
        self.reviews = ReviewRepository(self.database)
        self.announcements = AnnouncementRepository(self.database)
        self.guild_watch = GuildWatchRepository(self.database)
        self.ratings = RatingRepository(self.database)
        self.blog = BlogHandle(self.settings, self.http_session)
        self.fetcher = safe_fetcher(self.settings)
        for extension in self._extensions_to_load:
            await self.load_extension(extension)
        await self.sync_commands_if_changed()

    async def sync_commands_if_changed(self) -> None:
        """Sync the command tree only when it changed: the endpoint is heavily rate limited."""
        if self.settings.dev_guild_id is not None:
            guild = discord.Object(id=self.settings.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
            log.info("commands synced to development guild %s", self.settings.dev_guild_id)
            return
        key = f"commands_hash:{self.application_id}"
        digest = command_tree_digest(self.tree)
        if await self.meta.get(key) == digest:
            log.info("commands unchanged since last sync; not syncing")
            return
        await self.tree.sync()
        await self.meta.set(key, digest)
        log.info("commands synced globally")

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    async def on_ready(self) -> None:
        log.info(
            "connected as %s (id %s) to %d guilds", self.user, self.application_id, len(self.guilds)
        )

    async def close(self) -> None:
        await super().close()
        if self._owns_resources:
            self._owns_resources = False
            await self.http_session.close()
            await self.database.close()


def command_tree_digest(tree: discord.app_commands.CommandTree) -> str:
    """A stable hash of what a sync would send for the global commands."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
