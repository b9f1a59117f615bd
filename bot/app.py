"""The Bot subclass: builds the dependencies, loads the cogs, owns the HTTP session."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from typing import Any

import aiohttp
import discord
import yarl
from aiohttp import web
from discord.ext import commands

from bot import __version__
from bot.blog.safe_http import SafeFetcher
from bot.config import Settings
from bot.discord_ui.invite import required_intents
from bot.discord_ui.mirror_port import DiscordMirrorPort
from bot.discord_ui.reply_port import DiscordReplyPort
from bot.health import HealthBoard
from bot.storage import Database, GuildSettingsRepository, MetaRepository, open_database
from bot.storage.mirror import MirrorRepository, NonceRepository
from bot.storage.replies import ReplyRepository
from bot.storage.reviews import (
    AnnouncementRepository,
    GuildWatchRepository,
    RatingRepository,
    ReviewRepository,
)
from bot.sync.engine import MirrorEngine, MirrorSettings
from bot.sync.pacing import Pacer, PacingLimits
from bot.sync.ports import SystemClock
from bot.sync.push import PushSettings, PushVerifier, create_push_app
from bot.sync.replies import ReplyService
from bot.sync.to_blog import BlogWriter
from bot.sync.triggers import PollFollower
from bot.wiring import BlogHandle, HandleComments, safe_fetcher

log = logging.getLogger(__name__)

EXTENSIONS = (
    "cogs.errors",
    "cogs.about",
    "cogs.setup",
    "cogs.ratings",
    "cogs.reviews",
    "cogs.mirror",
    "cogs.comments",
)
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10)
HEARTBEAT_SECONDS = 30
# A long backfill's progress message is edited at most this often (bot messages: 5 per 5 s).
MIRROR_PROGRESS_SECONDS = 60.0


def point_discord_py_at(api_base: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST and gateway traffic to a Discord-compatible server (the emulator).

    discord.py reads these class attributes for every request and connection it makes.
    """
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def pace_bot_requests(http: discord.http.HTTPClient, pacer: Pacer) -> None:
    """Make every REST request discord.py sends with the bot token wait for room under
    Discord's global limit first. discord.py paces each route by its headers, but meets the
    global limit only after a global 429; wrapping the one method all its requests go through
    makes the pacer the limiter every feature shares. Interaction responses and webhook
    executions go through discord.py's webhook adapter instead: they are not under the global
    limit, and webhooks are paced by the mirror itself."""
    send = http.request

    async def paced(route: discord.http.Route, **kwargs: Any) -> Any:
        await pacer.acquire_bot_request()
        return await send(route, **kwargs)

    http.request = paced  # type: ignore[method-assign]


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
    mirror: MirrorEngine
    mirror_triggers: PollFollower
    discord_replies: ReplyService

    def __init__(
        self, settings: Settings, *, extensions: tuple[str, ...] = EXTENSIONS, **options: Any
    ) -> None:
        """`options` go to discord.py's client as they are (tests pass `guild_ready_timeout`)."""
        point_discord_py_at(settings.discord_api_base, settings.discord_gateway_url)
        # The bot has no voice: no warning at every start that voice libraries are missing.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
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
        # One limiter for all of the bot's Discord traffic. MIRROR_TIME_SCALE < 1 shrinks its
        # windows for a time-scaled Discord emulator, as the emulator's limits shrink.
        scale = settings.mirror_time_scale
        self.pacer = Pacer(SystemClock(), PacingLimits().scaled(scale))
        pace_bot_requests(self.http, self.pacer)
        self.version = __version__
        self.started_monotonic = time.monotonic()
        self._extensions_to_load = extensions
        self.health = HealthBoard()
        self._mirror_start: asyncio.Task[None] | None = None
        self._push_runner: web.AppRunner | None = None
        self.push_port: int | None = None  # where the push endpoint listens, once it does
        self._owns_resources = False
        self.reads_messages = False  # the Message Content intent, decided in setup_hook
        self.reply_port = DiscordReplyPort(self, self.pacer)
        self._heartbeat: asyncio.Task[None] | None = None
        self.set_up = False  # setup_hook has finished: closing no longer pulls things from under it

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
        self._decide_intents()
        self.mirror = self._build_mirror()
        self.discord_replies = self._build_replies()
        self.mirror_triggers = PollFollower(self.mirror)
        for extension in self._extensions_to_load:
            await self.load_extension(extension)
        await self.sync_commands_if_changed()
        await self._serve_push()
        self._mirror_start = asyncio.create_task(self._start_mirror(), name="mirror-start")
        self._heartbeat = asyncio.create_task(self._beat(), name="heartbeat")
        self.set_up = True

    async def _beat(self) -> None:
        """Record that this process is alive, for `reviewbridge check --live` (health checks)."""
        while True:
            try:
                await self.meta.record_heartbeat(time.time())
            except Exception:  # a busy or full disk must not end the heartbeat for good
                log.exception("could not record the heartbeat")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    def _build_mirror(self) -> MirrorEngine:
        settings = MirrorSettings(
            blog_name=self.settings.blog_display_name,
            progress_interval=MIRROR_PROGRESS_SECONDS * self.settings.mirror_time_scale,
        )
        return MirrorEngine(
            self.database,
            HandleComments(self.blog),
            DiscordMirrorPort(self),
            settings,
            pacer=self.pacer,
        )

    def _decide_intents(self) -> None:
        """Read members' thread replies only if the Message Content intent is enabled for the
        application: asking for it otherwise closes the gateway (4014). The flags are known
        only after login, and discord.py identifies with the intents its state holds, so they
        are replaced here, before the gateway connects."""
        flags = self.application_flags
        self.reads_messages = flags.gateway_message_content or flags.gateway_message_content_limited
        self._connection._intents = required_intents(message_content=self.reads_messages)
        if not self.reads_messages:
            log.warning(
                "the Message Content intent is not enabled: members' thread replies reach the "
                "blog only through the 'Publish to blog' menu and /comment"
            )

    def _build_replies(self) -> ReplyService:
        """Discord -> blog: its outbox rows run on the mirror's worker, in their own lanes."""
        port = self.reply_port
        clock = SystemClock()
        writer = BlogWriter(
            ReplyRepository(self.database),
            MirrorRepository(self.database),
            self.blog.get,
            port,
            clock,
        )
        writer.register(self.mirror.outbox)
        service = ReplyService(self.database, self.mirror.outbox, port, self.blog.get, clock)
        self.mirror.follow_members_gone(service.follow_blog)
        return service

    async def _start_mirror(self) -> None:
        """Work the mirror's outbox once the gateway delivered the guilds, catch up on what
        changed on the blog while the bot was away, then follow what the blog's moderators
        decide about replies held for them (approval mode "blog") until the bot closes."""
        await self.wait_until_ready()
        await self.mirror.start()
        self.mirror.sync_all_soon()
        await self.discord_replies.watch_held(self.settings.blog_poll_seconds)

    async def _serve_push(self) -> None:
        """The endpoint the WordPress plugin pushes to; off without PUSH_SECRET."""
        secret = self.settings.push_secret
        if secret is None:
            return
        verifier = PushVerifier(PushSettings(secret), NonceRepository(self.database), SystemClock())
        app = create_push_app(verifier, self.mirror_triggers.on_push)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.push_host, self.settings.push_port)
        try:
            await site.start()
        except OSError as error:  # the poll still follows the blog, only slower
            await runner.cleanup()
            where = f"{self.settings.push_host}:{self.settings.push_port}"
            log.error("push endpoint not started on %s: %s", where, error)
            self.health.component("push").failed(f"cannot listen on {where}: {error}")
            return
        self._push_runner = runner
        self.push_port = runner.addresses[0][1]
        self.health.component("push").succeeded()
        log.info("push endpoint listening on %s:%s", self.settings.push_host, self.push_port)

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
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await self._stop_mirror()
        await self.reply_port.close()
        await super().close()
        if self._owns_resources:
            self._owns_resources = False
            await self.http_session.close()
            await self.database.close()

    async def _stop_mirror(self) -> None:
        if self._push_runner is not None:
            runner, self._push_runner = self._push_runner, None
            await runner.cleanup()
        if self._mirror_start is not None:
            task, self._mirror_start = self._mirror_start, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # Discord and the database are still open: let due outbox rows finish (bounded).
            await self.mirror.stop(drain_seconds=self.settings.shutdown_drain_seconds)


def command_tree_digest(tree: discord.app_commands.CommandTree) -> str:
    """A stable hash of what a sync would send for the global commands."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    payload.sort(key=lambda c: (c.get("type", 1), c["name"]))
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
