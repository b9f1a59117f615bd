"""Which permissions the bot lacks in a channel, named as Discord's UI names them."""

from __future__ import annotations

import discord

ANNOUNCE_PERMISSIONS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "attach_files": "Attach Files",
    "read_message_history": "Read Message History",
    "create_public_threads": "Create Public Threads",
    "send_messages_in_threads": "Send Messages in Threads",
    "manage_threads": "Manage Threads",
    "manage_webhooks": "Manage Webhooks",
    "add_reactions": "Add Reactions",
}
# Where Discord's settings screens use another name than the API.
PERMISSION_LABELS = {
    "manage_guild": "Manage Server",
    "moderate_members": "Timeout Members",
    "view_channel": "View Channels",
}


def permission_labels(names: list[str]) -> str:
    """API permission names as members see them in Discord, joined with commas."""
    return ", ".join(PERMISSION_LABELS.get(n, n.replace("_", " ").title()) for n in names)


# A forum post is a thread: the bot needs no separate "create threads" there.
FORUM_EXEMPT = frozenset({"create_public_threads"})


def missing_permissions(
    channel: discord.TextChannel | discord.ForumChannel, member: discord.Member
) -> list[str]:
    granted = channel.permissions_for(member)
    exempt = FORUM_EXEMPT if isinstance(channel, discord.ForumChannel) else frozenset()
    return [
        label
        for name, label in ANNOUNCE_PERMISSIONS.items()
        if name not in exempt and not getattr(granted, name)
    ]
