"""A test-only extension with commands that fail on purpose, to watch the error handler."""

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError


class Failing(commands.Cog):
    @app_commands.command(name="explode", description="Fails on purpose")
    async def explode(self, interaction: discord.Interaction, user_error: bool = False) -> None:
        if user_error:
            raise UserFacingError("That review does not exist. Try /review search.")
        raise RuntimeError("secret internals that users must not see")

    @app_commands.command(name="count", description="Takes a number")
    async def count(
        self, interaction: discord.Interaction, amount: app_commands.Range[int, 1, 10]
    ) -> None:
        await interaction.response.send_message(str(amount), ephemeral=True)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Failing())
