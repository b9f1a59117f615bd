"""Previous/Next paging for lists of reviews, usable only by the member who asked."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import discord

from bot.discord_ui.replies import reply_ephemeral

PAGE_TIMEOUT = 600.0  # under the 15 minutes an interaction token lives
PREVIOUS_ID = "rb:page:previous"
NEXT_ID = "rb:page:next"


@dataclass(frozen=True)
class Page:
    embed: discord.Embed
    has_next: bool


PageSource = Callable[[int], Awaitable[Page]]  # page number (0-based) -> the page


class Pager(discord.ui.View):
    """Buttons that swap the message's embed for the previous or next page."""

    def __init__(self, owner_id: int, source: PageSource, first: Page) -> None:
        super().__init__(timeout=PAGE_TIMEOUT)
        self.owner_id = owner_id
        self.source = source
        self.page = 0
        self.message_interaction: discord.Interaction | None = None
        self._show(first)

    def _show(self, page: Page) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = not page.has_next

    @property
    def needed(self) -> bool:
        """Whether there is anywhere to go from the first page."""
        return not (self.previous.disabled and self.next.disabled)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await reply_ephemeral(
            interaction, "These buttons belong to whoever ran the command; run it yourself."
        )
        return False

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(self.page + step, 0)
        page = await self.source(self.page)
        self._show(page)
        await interaction.response.edit_message(embed=page.embed, view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary, custom_id=PREVIOUS_ID)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary, custom_id=NEXT_ID)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._turn(interaction, 1)

    async def on_timeout(self) -> None:
        if self.message_interaction is not None:
            # The answer may be dismissed or its token expired: then there is nothing to tidy.
            with contextlib.suppress(discord.HTTPException):
                await self.message_interaction.edit_original_response(view=None)
