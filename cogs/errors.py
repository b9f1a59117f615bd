"""One error handler for every application command.

User errors get a short private explanation; bugs get a private "something went wrong" with a
reference id that is also logged next to the traceback, so an operator can find it.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_ui.channel_checks import permission_labels
from bot.discord_ui.replies import reply_ephemeral
from bot.errors import UserFacingError

log = logging.getLogger(__name__)


def describe_user_error(error: app_commands.AppCommandError) -> str | None:
    """A message for errors the user can fix, or None when it is a bug."""
    original = getattr(error, "original", None)
    if isinstance(original, UserFacingError):
        return str(original)
    if isinstance(error, app_commands.MissingPermissions):
        needed = permission_labels(error.missing_permissions)
        return f"You need the {needed} permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        needed = permission_labels(error.missing_permissions)
        return f"I need the {needed} permission here. Ask a server admin to grant it."
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"Slow down a little: try again in {error.retry_after:.0f} s."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works only inside a server."
    if isinstance(error, app_commands.TransformerError):
        return f"'{discord.utils.escape_markdown(str(error.value))[:100]}' is not a valid value."
    if isinstance(error, app_commands.CheckFailure):
        return "You are not allowed to use this command here."
    return None


class ErrorHandler(commands.Cog):
    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._previous_handler = bot.tree.on_error
        bot.tree.on_error = self.on_app_command_error

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_handler

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        message = describe_user_error(error)
        if message is None:
            reference = secrets.token_hex(4)
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error(
                "unexpected error ref=%s command=%s guild=%s user=%s",
                reference,
                command,
                interaction.guild_id,
                interaction.user.id,
                exc_info=error,
            )
            message = f"Something went wrong on my side. Reference: `{reference}`"
        try:
            await reply_ephemeral(interaction, message)
        except discord.HTTPException:
            log.warning("could not tell user=%s about an error", interaction.user.id)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
