"""What the bot asks of Discord: gateway intents and channel permissions, and the invite URL."""

from __future__ import annotations

import discord

# Each permission is here for a feature that uses it; keep the list as short as the features.
REQUIRED_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the review and thread channels
    send_messages=True,  # announcements and replies outside interactions
    send_messages_in_threads=True,  # discussion threads
    create_public_threads=True,  # one thread per review
    manage_threads=True,  # rename/archive review threads and forum posts the bot opened
    embed_links=True,  # review cards are embeds
    attach_files=True,  # rating charts are PNG files
    read_message_history=True,  # catch up on threads after a restart
    add_reactions=True,  # sync status on members' messages
    manage_webhooks=True,  # mirrored blog comments speak as their commenters
)


def required_intents(*, message_content: bool = False) -> discord.Intents:
    """Only what the features read: guild and channel structure, and message events (members'
    replies in mirrored threads, their edits and deletions). The privileged Message Content
    intent only when the application has it enabled (see `ReviewBridge.setup_hook`)."""
    return discord.Intents(guilds=True, guild_messages=True, message_content=message_content)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=REQUIRED_PERMISSIONS, scopes=("bot", "applications.commands")
    )
