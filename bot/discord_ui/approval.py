"""The moderators' card for a member's reply when the guild approves replies in Discord.

Approve and Reject are `DynamicItem`s (`rb:approval:<decision>:<message id>`), registered by
the comments cog, so a card keeps working after a restart. Only members who may manage
threads (the /mirror moderators) can decide.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.discord_ui.replies import answer_component, reply_ephemeral
from bot.discord_ui.review_cards import safe_inline
from bot.domain.replies import blog_author
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.app import ReviewBridge
    from bot.storage.replies import StoredReply


MAX_TEXT = 3500
OUTCOMES = {
    "queued": "✅ Approved: on its way to the blog",
    "published": "✅ Approved and published",
    "held": "✅ Approved (held by the blog's moderation)",
    "rejected": "🔒 Rejected: it stays in Discord",
    "discord_only": "🔒 Its author withdrew consent",
    "deleted": "🗑️ Deleted by its author",
}


def jump(reply: StoredReply) -> str:
    return f"https://discord.com/channels/{reply.guild_id}/{reply.thread_id}/{reply.message_id}"


def approval_embed(reply: StoredReply, outcome: str | None = None) -> discord.Embed:
    text = reply.content if len(reply.content) <= MAX_TEXT else reply.content[:MAX_TEXT] + "…"
    embed = discord.Embed(
        title="A reply for the blog",
        description=text,
        color=discord.Color.gold() if outcome is None else discord.Color.dark_grey(),
    )
    embed.add_field(name="As", value=safe_inline(blog_author(reply.author_name), 200))
    embed.add_field(name="In", value=f"<#{reply.thread_id}> · [message]({jump(reply)})")
    if outcome is not None:
        embed.add_field(name="Decision", value=OUTCOMES.get(outcome, outcome), inline=False)
    embed.set_footer(text=f"Reply {reply.message_id}")
    return embed


def approval_view(message_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton("approve", message_id))
    view.add_item(ApprovalButton("reject", message_id))
    return view


class ApprovalButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rb:approval:(?P<decision>approve|reject):(?P<message_id>[0-9]+)",
):
    def __init__(self, decision: str, message_id: int) -> None:
        approve = decision == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.secondary,
                custom_id=f"rb:approval:{decision}:{message_id}",
            )
        )
        self.decision = decision
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ApprovalButton:
        return cls(match["decision"], int(match["message_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_component(
            interaction, self._decide(interaction), what=f"approval message={self.message_id}"
        )

    async def _decide(self, interaction: discord.Interaction) -> None:
        member = interaction.user
        if (
            interaction.guild_id is None
            or not isinstance(member, discord.Member)
            or not member.guild_permissions.manage_threads
        ):
            raise UserFacingError("Only moderators (Manage Threads) can approve replies.")
        service = cast("ReviewBridge", interaction.client).discord_replies
        if self.decision == "approve":
            reply = await service.approve(self.message_id, interaction.guild_id)
        else:
            reply = await service.reject(self.message_id, interaction.guild_id)
        await reply_ephemeral(interaction, OUTCOMES.get(reply.status.value, reply.status.value))
