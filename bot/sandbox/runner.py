"""`reviewbridge sandbox`: the real bot against the Discord emulator and a built-in blog, shown
on a local web page. No Discord account and no token: the emulator is the Discord."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import sys
import tempfile
import webbrowser
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import discord
from aiohttp import web
from dotenv import dotenv_values

from bot.app import ReviewBridge
from bot.config import Settings, parse_settings
from bot.sandbox.fake_wordpress import FakeWordPress
from bot.sandbox.seed import (
    BOT_LOGIN,
    HerReview,
    add_bot_user,
    publish_her_review,
    seed_back_catalogue,
)
from bot.sandbox.web import SandboxWeb
from bot.sandbox.world import SandboxWorld, build_world
from discord_emulator import DiscordEmulator, EmulatorError

log = logging.getLogger(__name__)

BUILTIN_POLL_SECONDS = "2"
READY_TIMEOUT = 30.0
# Settings the operator may give the sandbox: their own blog, and how loud the log is. Everything
# Discord-side (token, API base, guild) belongs to the emulator.
OPERATOR_KEYS = (
    "BLOG_URL",
    "BLOG_FEED_URL",
    "WORDPRESS_USER",
    "WORDPRESS_APP_PASSWORD",
    "BLOG_ALLOW_PRIVATE_HOST",
    "BLOG_POLL_SECONDS",
    "LOG_LEVEL",
)
# The announcer's first run in a guild records the reviews that exist as already seen; "Her" is
# published once that baseline exists, so that it arrives as a new review and is announced.
BASELINE_WAIT_SECONDS = 20.0


@dataclass
class Sandbox:
    url: str
    world: SandboxWorld
    bot: ReviewBridge
    blog: FakeWordPress | None
    her_review: asyncio.Task[HerReview | None]
    bot_task: asyncio.Task[None]


def operator_environment(env_file: Path | None = None) -> dict[str, str]:
    """The operator's blog and log settings from `.env` and the environment (which wins)."""
    merged: dict[str, str] = {}
    path = env_file if env_file is not None else Path.cwd() / ".env"
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ)
    return {k: merged[k] for k in OPERATOR_KEYS if merged.get(k, "").strip()}


def sandbox_settings(
    operator: Mapping[str, str],
    emu: DiscordEmulator,
    database_path: Path,
    blog: FakeWordPress | None,
    blog_password: str,
) -> Settings:
    """Settings for the bot in the sandbox; raises ConfigError for a bad operator setting."""
    env = {
        "DISCORD_API_BASE": emu.api_base,
        "DISCORD_GATEWAY_URL": emu.gateway_url,
        "DATABASE_PATH": str(database_path),
        "LOG_LEVEL": operator.get("LOG_LEVEL", "INFO"),
    }
    if blog is None:
        env |= {k: v for k, v in operator.items() if k != "LOG_LEVEL"}
    else:
        env |= {
            "BLOG_URL": blog.url,
            "WORDPRESS_USER": BOT_LOGIN,
            "WORDPRESS_APP_PASSWORD": blog_password,
            "BLOG_ALLOW_PRIVATE_HOST": "true",
            "BLOG_POLL_SECONDS": BUILTIN_POLL_SECONDS,
        }
    return parse_settings(env)


def uses_own_blog(operator: Mapping[str, str]) -> bool:
    return bool(operator.get("BLOG_URL") or operator.get("BLOG_FEED_URL"))


@contextlib.asynccontextmanager
async def run_sandbox(
    *, port: int = 0, operator: Mapping[str, str] | None = None
) -> AsyncIterator[Sandbox]:
    """Start the emulator, the blog (built in unless `operator` names one), the bot and the
    page on 127.0.0.1:`port` (0: any free port); stop them all on exit."""
    operator = operator or {}
    saved_urls = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    async with contextlib.AsyncExitStack() as stack:
        emu = await stack.enter_async_context(DiscordEmulator())
        world = build_world(emu)
        blog: FakeWordPress | None = None
        password = secrets.token_urlsafe(18)
        if not uses_own_blog(operator):
            blog = FakeWordPress()
            add_bot_user(blog, password)
            seed_back_catalogue(blog)
            await stack.enter_async_context(blog.serve())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="rb-sandbox-")))
        settings = sandbox_settings(operator, emu, folder / "sandbox.sqlite3", blog, password)
        stack.callback(_restore_discord_urls, *saved_urls)
        bot, bot_task = await stack.enter_async_context(_running_bot(settings, world))
        await _choose_review_channel(world)
        her = asyncio.create_task(_publish_her_when_watched(bot, world, blog))
        stack.push_async_callback(_cancel, her)
        pages = SandboxWeb(world, blog=blog, blog_url=settings.blog_url or settings.blog_feed_url)
        runner = web.AppRunner(
            pages.application(), handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        bound = runner.addresses[0][1]
        yield Sandbox(f"http://127.0.0.1:{bound}/", world, bot, blog, her, bot_task)


@contextlib.asynccontextmanager
async def _running_bot(
    settings: Settings, world: SandboxWorld
) -> AsyncIterator[tuple[ReviewBridge, asyncio.Task[None]]]:
    bot = ReviewBridge(settings, guild_ready_timeout=0.1)
    task = asyncio.create_task(bot.start(world.app.token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {task, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # the bot's own error says best why it stopped
            raise TimeoutError(f"the bot did not connect to the emulator in {READY_TIMEOUT} s")
        yield bot, task
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _choose_review_channel(world: SandboxWorld) -> None:
    """What an admin does first: `/setup channel #reviews`, as the moderator."""
    try:
        result = await world.emu.run_command(
            world.moderator, world.reviews, "setup channel", {"channel": world.reviews}
        )
        await result.wait_for_message(timeout=10)
    except (EmulatorError, TimeoutError) as error:
        log.warning("could not run /setup channel #reviews for the sandbox: %s", error)


async def _publish_her_when_watched(
    bot: ReviewBridge, world: SandboxWorld, blog: FakeWordPress | None
) -> HerReview | None:
    if blog is None:
        return None
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BASELINE_WAIT_SECONDS
    while loop.time() < deadline and await bot.guild_watch.get(world.guild.id) is None:
        await asyncio.sleep(0.25)
    her = publish_her_review(blog)
    log.info("sandbox blog: published %r with two comments", her.post.title)
    return her


async def _cancel(task: asyncio.Task[HerReview | None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _restore_discord_urls(api_base: str, gateway: object) -> None:
    discord.http.Route.BASE = api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway  # type: ignore[assignment]


async def serve_sandbox(*, port: int, open_browser: bool, operator: Mapping[str, str]) -> None:
    """Run the sandbox until Ctrl-C or SIGTERM."""
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # the built-in blog's requests
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with run_sandbox(port=port, operator=operator) as sandbox:
        print(f"Reviewbridge sandbox: open {sandbox.url}  (Ctrl-C stops it)", flush=True)
        if open_browser and display_available():
            with contextlib.suppress(webbrowser.Error, OSError):
                await asyncio.to_thread(webbrowser.open, sandbox.url)
        stopping = asyncio.create_task(stop.wait())
        # Also stop when the bot stops by itself; leaving the block then raises its error.
        await asyncio.wait({stopping, sandbox.bot_task}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
    print("Reviewbridge sandbox stopped.", flush=True)


def display_available() -> bool:
    """Whether a graphical browser can open: always on macOS and Windows, with a display on
    other systems (a text browser would take over the terminal)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
