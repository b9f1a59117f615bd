"""Short texts about members' replies: the /comment echo and the moderators' list."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.discord_ui.review_cards import one_line, safe_inline
from bot.domain.replies import STATUS_EMOJI, Status
from bot.storage.replies import StoredReply

MAX_LISTED = 15
MAX_ERROR = 120


def echo_text(display_name: str, text: str, answering: str | None = None) -> str:
    """What /comment shows in the thread: the member's words, said through the bot, and whose
    blog comment they answer when they chose one."""
    to = f", replying to **{safe_inline(answering, 40)}**" if answering else ""
    return f"**{safe_inline(display_name, 80)}** (for the blog{to}):\n{text}"


def pending_line(reply: StoredReply) -> str:
    emoji = STATUS_EMOJI.get(reply.status, "•")
    link = f"https://discord.com/channels/{reply.guild_id}/{reply.thread_id}/{reply.message_id}"
    line = f"{emoji} [{reply.status.value.replace('_', ' ')}]({link}) by <@{reply.author_id}>"
    if reply.status is Status.FAILED and reply.error:
        line += f": {safe_inline(reply.error, MAX_ERROR)}"
    return f"{line} · `{reply.message_id}`"


def reply_choice_name(reply: StoredReply) -> str:
    """An autocomplete entry (<= 100 characters): status, author and the start of the text."""
    text = one_line(reply.content, 60)
    return one_line(f"{reply.status.value.replace('_', ' ')} · {reply.author_name}: {text}", 100)


def pending_embed(replies: Sequence[StoredReply]) -> discord.Embed:
    """Replies waiting for a moderator, the blog or a retry (`/mirror status`)."""
    embed = discord.Embed(title="Replies for the blog", color=discord.Color.gold())
    if not replies:
        embed.description = "Nothing pending or failed."
        return embed
    lines = [pending_line(r) for r in replies[:MAX_LISTED]]
    if len(replies) > MAX_LISTED:
        lines.append(f"… and {len(replies) - MAX_LISTED} more")
    embed.description = "\n".join(lines)
    embed.set_footer(text="Retry or drop a failed one: /mirror retry, /mirror drop")
    return embed
