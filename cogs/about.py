"""/about: what this bot is, how it is doing, and what is configured here."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlsplit

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.config import Settings
from bot.discord_ui.replies import reply_ephemeral
from bot.domain.text import escape_markdown, excerpt, neutralize_mentions
from bot.health import ComponentHealth


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
        embed.add_field(
            name="This server", value=await self._guild_summary(interaction), inline=False
        )
        await reply_ephemeral(interaction, embed=embed)

    async def _guild_summary(self, interaction: discord.Interaction) -> str:
        if interaction.guild_id is None:
            return "not in a server"
        configured = (await self.bot.guild_settings.get(interaction.guild_id)).configured()
        if not configured:
            return "nothing set up yet"
        return ", ".join(name.replace("_id", "").replace("_", " ") for name in configured)


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(About(bot))
