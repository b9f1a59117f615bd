"""/about: what this bot is, how it is doing, and what is configured here; /help: its
commands."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.config import Settings
from bot.discord_ui import help as command_help
from bot.discord_ui.replies import reply_ephemeral
from bot.domain.text import escape_markdown, excerpt, neutralize_mentions
from bot.errors import UserFacingError
from bot.health import ComponentHealth
from bot.sync.engine import ThreadStatus


def describe_blog(settings: Settings) -> str:
    if settings.blog_url:
        host = urlsplit(settings.blog_url).hostname
        mode = "read and write" if settings.blog_writable else "read only"
        return f"WordPress at {host} ({mode})"
    if settings.blog_feed_url:
        return f"feed at {urlsplit(settings.blog_feed_url).hostname} (read only)"
    return "not configured (set BLOG_URL or BLOG_FEED_URL)"


def describe_watcher(health: ComponentHealth | None, blog_configured: bool) -> str:
    if not blog_configured:
        return "off (no blog configured)"
    if health is None or (health.last_success is None and health.last_error is None):
        return "starting"
    if health.ok:
        assert health.last_success is not None
        return f"ok, last check <t:{int(health.last_success.timestamp())}:R>"
    error = neutralize_mentions(escape_markdown(excerpt(health.last_error or "", 300)))
    return f"⚠️ failing ({health.consecutive_failures}× in a row): {error}"


def describe_comment_sync(statuses: Sequence[ThreadStatus]) -> str:
    """Threads mirrored here, work waiting in the outbox, the last sync and the last error."""
    if not statuses:
        return "no thread linked yet"
    queued = sum(s.queued for s in statuses)
    failed = sum(s.failed for s in statuses)
    paused = sum(s.paused for s in statuses)
    parts = [f"{len(statuses)} threads", f"outbox {queued} queued"]
    if failed:
        parts.append(f"{failed} failed (see /mirror status)")
    if paused:
        parts.append(f"{paused} paused")
    synced = [s.last_sync_at for s in statuses if s.last_sync_at]
    if synced:
        parts.append(f"last sync <t:{int(datetime.fromisoformat(max(synced)).timestamp())}:R>")
    errors = [s for s in statuses if s.last_error]
    if errors:
        last = neutralize_mentions(escape_markdown(excerpt(errors[-1].last_error or "", 200)))
        parts.append(f"last error: {last}")
    return ", ".join(parts)


def format_uptime(seconds: float) -> str:
    return str(timedelta(seconds=int(seconds)))


def format_latency(seconds: float) -> str:
    return "measuring…" if not math.isfinite(seconds) else f"{seconds * 1000:.0f} ms"


class About(commands.Cog):
    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What this bot is and how it is doing")
    async def about(self, interaction: discord.Interaction) -> None:
        embed = discord.Embed(
            title="Reviewbridge",
            description="Reviews, ratings and comment threads from the blog, here on Discord.",
            colour=discord.Colour.blurple(),
        )
        embed.add_field(name="Version", value=self.bot.version)
        embed.add_field(name="Uptime", value=format_uptime(self.bot.uptime_seconds))
        embed.add_field(name="Latency", value=format_latency(self.bot.latency))
        embed.add_field(name="Blog", value=describe_blog(self.bot.settings), inline=False)
        watcher = describe_watcher(
            self.bot.health.components.get("watcher"), self.bot.blog.configured
        )
        embed.add_field(name="Blog watcher", value=watcher, inline=False)
        if interaction.guild_id is not None:
            statuses = await self.bot.mirror.statuses(interaction.guild_id)
            embed.add_field(
                name="Comment sync", value=describe_comment_sync(statuses), inline=False
            )
        embed.add_field(
            name="This server", value=await self._guild_summary(interaction), inline=False
        )
        await reply_ephemeral(interaction, embed=embed)

    async def command_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = command_help.choices(self.bot.tree, current)
        return [app_commands.Choice(name=f"/{name}", value=name) for name in names]

    @app_commands.command(name="help", description="The bot's commands, or one in detail")
    @app_commands.describe(command="A command to explain, e.g. review search")
    @app_commands.autocomplete(command=command_choices)
    async def help(
        self,
        interaction: discord.Interaction,
        command: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        if command is None:
            await reply_ephemeral(interaction, embed=command_help.overview(self.bot.tree))
            return
        entry = command_help.find(self.bot.tree, command)
        if entry is None:
            raise UserFacingError(
                "There is no such command. Run `/help` without an option to see them all."
            )
        await reply_ephemeral(interaction, embed=command_help.detail(entry))

    async def _guild_summary(self, interaction: discord.Interaction) -> str:
        if interaction.guild_id is None:
            return "not in a server"
        configured = (await self.bot.guild_settings.get(interaction.guild_id)).configured()
        if not configured:
            return "nothing set up yet"
        return ", ".join(name.replace("_id", "").replace("_", " ") for name in configured)


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(About(bot))
