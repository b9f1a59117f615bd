"""Members' replies in mirrored threads go to the blog: the message listener (with the Message
Content intent), the "Publish to blog" menu and /comment (without it), /mirror consent (also
/blog-consent), the "Blog status" menu, and catching up on threads after a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.discord_ui.approval import ApprovalButton
from bot.discord_ui.consent import ConsentButton, consent_view, question
from bot.discord_ui.help import WHO
from bot.discord_ui.replies import reply_ephemeral
from bot.discord_ui.reply_port import (
    comment_html,
    incoming_from,
    is_member_message,
    mention_names,
)
from bot.discord_ui.reply_text import echo_text
from bot.domain.replies import Consent, Source, Status, target_label
from bot.errors import UserFacingError
from bot.storage.replies import StoredReply
from bot.sync.replies import CatchUp, Incoming, ReplyService

log = logging.getLogger(__name__)

MAX_COMMENT = 1800  # the echo adds the member's name; a message holds 2000 characters
MAX_CHOICES = 25  # Discord's limits for autocomplete answers
MAX_CHOICE_VALUE = 100
# At start, the latest messages of each thread with synced replies are read again (one history
# page) for edits and deletions made while the bot was away.
RECHECK_MESSAGES = 100
CONSENT_CHOICES = [
    app_commands.Choice(name="Publish my thread replies", value=Consent.ALWAYS.value),
    app_commands.Choice(name="Ask me each time", value=Consent.ASK.value),
    app_commands.Choice(name="Never: keep them in Discord", value=Consent.NEVER.value),
]
CONSENT_SAID = {
    Consent.ALWAYS: "Your replies in review threads are published on the blog.",
    Consent.ASK: "I ask you about each message before it goes to the blog.",
    Consent.NEVER: "Your messages stay in Discord.",
}


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("This works only inside a server.")
    return interaction.guild_id


class Comments(commands.Cog):
    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot
        self.service = bot.discord_replies
        only_in_guilds = app_commands.guild_only()
        self.publish_menu = only_in_guilds(
            app_commands.ContextMenu(
                name="Publish to blog",
                callback=self.publish,
                extras={
                    "area": "Comment threads",
                    "description": "Publish one of your messages in a review thread on the blog",
                    WHO: "the message's author",
                },
            )
        )
        self.status_menu = only_in_guilds(
            app_commands.ContextMenu(
                name="Blog status",
                callback=self.blog_status,
                extras={
                    "area": "Comment threads",
                    "description": "Where a message is on its way to the blog, and why",
                    WHO: "the message's author, moderators",
                },
            )
        )
        self._catching_up: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConsentButton, ApprovalButton)
        self.bot.tree.add_command(self.publish_menu)
        self.bot.tree.add_command(self.status_menu)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ConsentButton, ApprovalButton)
        self.bot.tree.remove_command(self.publish_menu.name, type=self.publish_menu.type)
        self.bot.tree.remove_command(self.status_menu.name, type=self.status_menu.type)
        if self._catching_up is not None:
            self._catching_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catching_up

    # --- messages in threads (Message Content intent) ------------------------------------

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if not self.bot.reads_messages or message.guild is None:
            return
        if is_member_message(message):
            await self.service.receive(
                incoming_from(
                    message, Source.MESSAGE, guild_id=message.guild.id, thread_id=message.channel.id
                )
            )

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        # Without the intent an edit arrives without its text: only the menu updates then.
        if not self.bot.reads_messages or payload.guild_id is None:
            return
        if is_member_message(payload.message):
            await self.service.edited(
                incoming_from(
                    payload.message,
                    Source.MESSAGE,
                    guild_id=payload.guild_id,
                    thread_id=payload.channel_id,
                )
            )

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self.service.deleted(payload.message_id)

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        for message_id in sorted(payload.message_ids):
            await self.service.deleted(message_id)

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Every (re)connection with a new session: events missed meanwhile are not replayed,
        so read the threads' history after what was taken in last."""
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.create_task(self._catch_up(), name="replies-catch-up")

    async def _catch_up(self) -> None:
        try:
            await self.service.ask_again()
            if not self.bot.reads_messages:
                return
            for point in await self.service.catch_up_points():
                try:
                    await self._catch_up_thread(point)
                except discord.HTTPException as error:
                    log.warning("catch-up of thread=%d failed: %s", point.thread_id, error)
        except Exception:  # a background task must not die silently
            log.exception("catching up on mirrored threads failed")

    async def _catch_up_thread(self, point: CatchUp) -> None:
        channel = self.bot.get_partial_messageable(point.thread_id, guild_id=point.guild_id)
        if point.recheck:
            await self._recheck_thread(channel, point)
        last = None
        async for message in channel.history(
            after=discord.Object(point.after_message_id), oldest_first=True, limit=None
        ):
            last = message.id
            if is_member_message(message):
                await self.service.receive(
                    incoming_from(
                        message, Source.MESSAGE, guild_id=point.guild_id, thread_id=point.thread_id
                    )
                )
        if last is not None:
            await self.service.caught_up(point.thread_id, last)

    async def _recheck_thread(self, channel: discord.PartialMessageable, point: CatchUp) -> None:
        """The thread's latest messages, one request: members' edits and deletions made while
        the bot was away reach the blog, and status reactions a stop cut short are put right.
        Older messages are not read again (see README)."""
        window = [m async for m in channel.history(limit=RECHECK_MESSAGES)]  # newest first
        if not window:
            return
        first = window[-1].id if len(window) == RECHECK_MESSAGES else 0  # 0: the whole thread
        shown = [
            incoming_from(m, Source.MESSAGE, guild_id=point.guild_id, thread_id=point.thread_id)
            for m in window
            if is_member_message(m)
        ]
        mine = {m.id: {str(r.emoji) for r in m.reactions if r.me} for m in window}
        await self.service.recheck(point.thread_id, shown, (first, window[0].id), mine)

    # --- explicit requests (no intent needed) --------------------------------------------

    async def publish(self, interaction: discord.Interaction, message: discord.Message) -> None:
        guild_id = _guild_id(interaction)
        if message.author.id != interaction.user.id:
            raise UserFacingError("You can only publish your own messages.")
        if not is_member_message(message):
            raise UserFacingError("Only text messages written by members can go to the blog.")
        reply = await self.service.request(
            incoming_from(message, Source.MENU, guild_id=guild_id, thread_id=message.channel.id)
        )
        await self._answer_request(interaction, reply)

    async def reply_to_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The blog comments this thread shows, newest first, fitting what was typed."""
        if interaction.channel_id is None:
            return []
        targets = await self.service.reply_targets(interaction.channel_id, current, MAX_CHOICES)
        now = datetime.now(UTC)
        return [
            app_commands.Choice(
                name=target_label(t.author, t.published, t.excerpt, now=now), value=t.comment_id
            )
            for t in targets
            if len(t.comment_id) <= MAX_CHOICE_VALUE
        ]

    @app_commands.command(name="comment", description="Comment on this review on the blog")
    @app_commands.guild_only()
    @app_commands.describe(
        text="Your comment; Discord formatting works",
        reply_to="The blog comment you answer (start typing its commenter or words)",
    )
    @app_commands.autocomplete(reply_to=reply_to_choices)
    async def comment(
        self,
        interaction: discord.Interaction,
        text: app_commands.Range[str, 1, MAX_COMMENT],
        reply_to: str | None = None,
    ) -> None:
        guild = interaction.guild
        channel = interaction.channel
        if guild is None or channel is None or not isinstance(channel, discord.abc.Messageable):
            raise UserFacingError("This works only inside a server.")
        if await self.service.thread(channel.id) is None:
            raise UserFacingError("Use /comment inside a review's discussion thread.")
        if await self.service.consent(guild.id, interaction.user.id) is Consent.NEVER:
            raise UserFacingError(
                "You chose to keep your messages in Discord. Change that with `/mirror consent`."
            )
        # Checked before the echo is posted: a refused choice leaves nothing in the thread.
        parent = None if reply_to is None else await self.service.reply_target(channel.id, reply_to)
        await interaction.response.defer(ephemeral=True, thinking=True)
        answering = None if parent is None else parent.author
        echo = await channel.send(echo_text(interaction.user.display_name, text, answering))
        users = await mention_names(guild, text)
        reply = await self.service.request(
            Incoming(
                message_id=echo.id,
                thread_id=channel.id,
                guild_id=guild.id,
                author_id=interaction.user.id,
                author_name=interaction.user.display_name,
                content=text,
                content_html=comment_html(guild, text, users),
                source=Source.COMMAND,
                reply_to_comment_id=None if parent is None else parent.comment_id,
            )
        )
        await self._answer_request(interaction, reply)

    async def _answer_request(self, interaction: discord.Interaction, reply: StoredReply) -> None:
        if reply.status is Status.AWAITING_CONSENT:
            content = question(reply, first_time=True, mention=False)
            view = consent_view(reply.message_id, first_time=True)
            if interaction.response.is_done():
                await interaction.followup.send(content, view=view, ephemeral=True)
            else:
                await interaction.response.send_message(content, view=view, ephemeral=True)
            return
        await reply_ephemeral(interaction, await self.service.describe(reply))

    # --- the author's view ---------------------------------------------------------------

    async def blog_status(self, interaction: discord.Interaction, message: discord.Message) -> None:
        _guild_id(interaction)
        reply = await self.service.replies.get(message.id)
        if reply is None:
            await reply_ephemeral(interaction, "This message was never sent to the blog.")
            return
        member = interaction.user
        moderator = isinstance(member, discord.Member) and member.guild_permissions.manage_threads
        if reply.author_id != member.id and not moderator:
            raise UserFacingError("Only its author (or a moderator) can see this.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reply_ephemeral(interaction, await self.service.explain(message.id))

    @app_commands.command(
        name="blog-consent",
        description="Whether your replies in review threads may be published on the blog",
    )
    @app_commands.guild_only()
    @app_commands.describe(choice="Leave it out to see your current choice")
    @app_commands.choices(choice=CONSENT_CHOICES)
    async def blog_consent(
        self, interaction: discord.Interaction, choice: app_commands.Choice[str] | None = None
    ) -> None:
        await answer_consent(self.service, interaction, choice)


async def answer_consent(
    service: ReplyService,
    interaction: discord.Interaction,
    choice: app_commands.Choice[str] | None,
) -> None:
    """Show or change a member's consent; behind both /mirror consent and /blog-consent."""
    guild_id = _guild_id(interaction)
    if choice is None:
        current = await service.consent(guild_id, interaction.user.id)
        said = CONSENT_SAID[current] if current else "You have not chosen yet: I ask first."
        await reply_ephemeral(interaction, said)
        return
    chosen = Consent(choice.value)
    changes = await service.set_consent(guild_id, interaction.user.id, chosen)
    moved = f" ({len(changes)} waiting message(s) updated.)" if changes else ""
    await reply_ephemeral(interaction, CONSENT_SAID[chosen] + moved)


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(Comments(bot))
