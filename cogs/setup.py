"""/setup: where reviews are announced, who gets pinged, who may announce by hand."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.discord_ui.channel_checks import missing_permissions
from bot.discord_ui.replies import reply_ephemeral
from bot.domain.replies import Approval
from bot.errors import UserFacingError
from bot.storage import GuildSettings

ReviewChannel = discord.TextChannel | discord.ForumChannel
APPROVAL_SAID = {
    Approval.OFF: "Members' replies go to the blog as soon as their authors agree.",
    Approval.BLOG: "Members' replies go to the blog held, for its moderation queue.",
    Approval.DISCORD: "Moderators approve each member's reply in <#{channel}> first.",
}


def describe_settings(settings: GuildSettings) -> str:
    def mention(kind: str, value: int | None) -> str:
        return f"<{kind}{value}>" if value else "not set"

    return "\n".join(
        [
            f"**Review channel:** {mention('#', settings.review_channel_id)}",
            f"**Ping role:** {mention('@&', settings.ping_role_id)}",
            f"**Author role:** {mention('@&', settings.author_role_id)}",
        ]
    )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Setup(commands.GroupCog, group_name="setup", group_description="Set up Reviewbridge here"):
    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot

    @app_commands.command(name="channel", description="Choose where new reviews are announced")
    @app_commands.describe(
        channel="A text channel (message + thread) or a forum (one post per review)",
        ping_role="A role to ping for each new review",
        author_role="Members with this role may announce reviews by hand",
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def channel(
        self,
        interaction: discord.Interaction,
        channel: ReviewChannel,
        ping_role: discord.Role | None = None,
        author_role: discord.Role | None = None,
    ) -> None:
        guild = interaction.guild
        if guild is None or guild.me is None:
            raise UserFacingError("This command works only inside a server.")
        resolved = guild.get_channel(channel.id)
        if not isinstance(resolved, ReviewChannel):
            raise UserFacingError("Pick a text channel or a forum channel.")
        if ping_role is not None and ping_role.is_default():
            raise UserFacingError("@everyone cannot be the ping role; create a role to ping.")
        values: dict[str, int | None] = {"review_channel_id": resolved.id}
        if ping_role is not None:
            values["ping_role_id"] = ping_role.id
        if author_role is not None:
            values["author_role_id"] = author_role.id
        settings = await self.bot.guild_settings.update(guild.id, **values)
        lines = [
            f"New reviews will be announced in {resolved.mention}.",
            describe_settings(settings),
        ]
        missing = missing_permissions(resolved, guild.me)
        if missing:
            lines.append(
                f"⚠️ I am missing these permissions in {resolved.mention}: {', '.join(missing)}. "
                "Grant them to my role, or announcements will fail."
            )
        if ping_role is not None and not ping_role.mentionable:
            can_ping = resolved.permissions_for(guild.me).mention_everyone
            if not can_ping:
                lines.append(
                    f"⚠️ {ping_role.mention} is not mentionable and I lack Mention Everyone, "
                    "so it will not be pinged. Make the role mentionable."
                )
        await reply_ephemeral(interaction, "\n".join(lines))

    @app_commands.command(
        name="approval", description="How members' replies are approved before the blog"
    )
    @app_commands.describe(
        mode="When a member's reply reaches the blog",
        channel="Where moderators approve replies (needed for discord)",
    )
    @app_commands.choices(
        mode=[
            app_commands.Choice(name="off: publish at once", value=Approval.OFF.value),
            app_commands.Choice(
                name="blog: held in the blog's moderation queue", value=Approval.BLOG.value
            ),
            app_commands.Choice(
                name="discord: a moderator approves each here first", value=Approval.DISCORD.value
            ),
        ]
    )
    @app_commands.checks.has_permissions(manage_guild=True)
    async def approval(
        self,
        interaction: discord.Interaction,
        mode: app_commands.Choice[str],
        channel: discord.TextChannel | None = None,
    ) -> None:
        guild = interaction.guild
        if guild is None or guild.me is None:
            raise UserFacingError("This command works only inside a server.")
        chosen = Approval(mode.value)
        if channel is not None and not channel.permissions_for(guild.me).send_messages:
            raise UserFacingError(f"I cannot send messages in {channel.mention}.")
        settings = await self.bot.discord_replies.set_approval(
            guild.id, chosen, channel.id if channel else None
        )
        said = APPROVAL_SAID[chosen].format(channel=settings.channel_id)
        await reply_ephemeral(interaction, said)

    @app_commands.command(name="show", description="Show this server's Reviewbridge settings")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def show(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # guild_only
        settings = await self.bot.guild_settings.get(interaction.guild_id)
        await reply_ephemeral(interaction, describe_settings(settings))

    @app_commands.command(name="clear", description="Stop announcing reviews in this server")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def clear(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # guild_only
        await self.bot.guild_settings.update(
            interaction.guild_id, review_channel_id=None, ping_role_id=None, author_role_id=None
        )
        await reply_ephemeral(interaction, "Reviews will no longer be announced here.")


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(Setup(bot))
