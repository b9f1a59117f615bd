"""Answering interactions without caring whether they were already acknowledged."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable

import discord

from bot.errors import UserFacingError

log = logging.getLogger(__name__)


async def reply_ephemeral(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> None:
    """Send a private answer: the first response if none was sent yet, else a follow-up."""
    kwargs: dict = {"ephemeral": True, "allowed_mentions": discord.AllowedMentions.none()}
    if embed is not None:
        kwargs["embed"] = embed
    if interaction.response.is_done():
        await interaction.followup.send(content, **kwargs)
    else:
        await interaction.response.send_message(content, **kwargs)


async def answer_component(
    interaction: discord.Interaction, action: Awaitable[None], *, what: str
) -> None:
    """Run a button's or select's action. Dynamic items bypass the command tree's error
    handler, so every outcome is answered here: user errors as they are, bugs with a
    reference id that is logged next to the traceback (`what` names the item and its ids)."""
    try:
        await action
    except UserFacingError as error:
        await reply_ephemeral(interaction, str(error))
    except Exception:
        reference = secrets.token_hex(4)
        log.exception(
            "%s failed ref=%s guild=%s user=%s",
            what,
            reference,
            interaction.guild_id,
            interaction.user.id,
        )
        await reply_ephemeral(
            interaction, f"Something went wrong on my side. Reference: `{reference}`"
        )
