"""/mirror status as an embed: one field per mirrored thread."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.discord_ui.review_cards import one_line, safe_inline
from bot.storage.mirror import epoch
from bot.sync.engine import ThreadStatus

MAX_THREADS = 15  # 15 fields of <= ~350 characters stay under the 6000-character embed total
MAX_ERROR = 200
MAX_TITLE = 200


def status_field(status: ThreadStatus) -> str:
    state = "⏸️ paused" if status.paused else "▶️ mirroring"
    last_sync = f"<t:{int(epoch(status.last_sync_at))}:R>" if status.last_sync_at else "not yet"
    lines = [
        f"<#{status.thread_id}> · {state}",
        f"Mirrored **{status.mirrored}** · pending **{status.pending}** · "
        f"queued **{status.queued}** · failed **{status.failed}**",
        f"Last sync: {last_sync}",
    ]
    if status.last_error:
        lines.append(f"Last error: {safe_inline(status.last_error, MAX_ERROR)}")
    return "\n".join(lines)


def mirror_status_embed(
    statuses: Sequence[ThreadStatus], titles: Mapping[str, str]
) -> discord.Embed:
    """`titles` maps review ids to review titles (a missing one shows the id)."""
    embed = discord.Embed(title="Comment mirroring", color=discord.Color.blurple())
    if not statuses:
        embed.description = (
            "No thread mirrors blog comments here yet. Announced reviews are mirrored in their "
            "threads; link another thread with `/mirror link`."
        )
        return embed
    for status in statuses[:MAX_THREADS]:
        title = one_line(titles.get(status.review_id, ""), MAX_TITLE)
        embed.add_field(
            name=title or f"Review {status.review_id}", value=status_field(status), inline=False
        )
    if len(statuses) > MAX_THREADS:
        embed.set_footer(
            text=f"{len(statuses) - MAX_THREADS} more threads: run /mirror status in one of them"
        )
    return embed
