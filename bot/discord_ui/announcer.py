"""The announcer's Discord side: post review cards, find them after a crash, edit them.

In a text channel an announcement is a message with a thread started on it; in a forum it is
one post (a thread whose starter message is the card) with the tags matching the review's
categories.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

import discord

from bot.announcing import Destination, Posted, PostFailed
from bot.discord_ui.review_cards import (
    announcement_content,
    is_card_of,
    matching_tags,
    review_embed,
    review_view,
    thread_name,
    withdrawn_embed,
)
from bot.storage.reviews import Announcement, AnnouncementKind, StoredReview

if TYPE_CHECKING:
    from bot.app import ReviewBridge

log = logging.getLogger(__name__)

# How far before a claim's time a post may be dated (clock skew between us and Discord).
CLAIM_SLACK = timedelta(minutes=2)
HISTORY_LIMIT = 100
ARCHIVED_LIMIT = 50

ReviewChannel = discord.TextChannel | discord.ForumChannel


def _refusal(exc: discord.HTTPException) -> bool:
    """A 4xx other than 429: Discord refused for sure, so nothing was posted."""
    return 400 <= exc.status < 500 and exc.status != 429


class DiscordAnnouncements:
    """`bot.announcing.AnnouncementPort` on a running bot."""

    def __init__(self, bot: ReviewBridge) -> None:
        self._bot = bot

    async def destinations(self) -> list[Destination]:
        found = []
        for guild in self._bot.guilds:
            settings = await self._bot.guild_settings.get(guild.id)
            if settings.review_channel_id is not None:
                found.append(
                    Destination(guild.id, settings.review_channel_id, settings.ping_role_id)
                )
        return found

    async def _channel(
        self, channel_id: int
    ) -> discord.abc.GuildChannel | discord.abc.PrivateChannel | discord.Thread | None:
        """The channel from the cache, else from Discord; None when it is gone or hidden."""
        channel = self._bot.get_channel(channel_id)
        if channel is not None:
            return channel
        try:
            return await self._bot.fetch_channel(channel_id)
        except (discord.NotFound, discord.Forbidden):
            return None

    async def post(
        self, destination: Destination, review: StoredReview, kind: AnnouncementKind
    ) -> Posted:
        channel = await self._channel(destination.channel_id)
        if not isinstance(channel, ReviewChannel):
            raise PostFailed(
                f"channel {destination.channel_id} is gone or is not a text or forum channel; "
                "choose another one with /setup channel"
            )
        ping = destination.ping_role_id if kind == "announce" else None
        content, mentions = announcement_content(ping, destination.requested_by)
        try:
            if isinstance(channel, discord.ForumChannel):
                created = await channel.create_thread(
                    name=thread_name(review.title),
                    content=content,
                    embed=review_embed(review),
                    view=review_view(review),
                    applied_tags=matching_tags(channel, review.categories),
                    allowed_mentions=mentions,
                )
                return Posted(created.message.id, created.thread.id)
            message = await channel.send(
                content=content,
                embed=review_embed(review),
                view=review_view(review),
                allowed_mentions=mentions,
            )
        except discord.HTTPException as exc:
            if _refusal(exc):
                raise PostFailed(f"Discord refused the post in #{channel}: {exc.text}") from exc
            raise
        return Posted(message.id, await self._open_thread(message, review))

    async def _open_thread(self, message: discord.Message, review: StoredReview) -> int | None:
        """The discussion thread on a posted card; a failure here must not undo the post."""
        if message.thread is not None:
            return message.thread.id
        try:
            thread = await message.create_thread(name=thread_name(review.title))
        except discord.HTTPException as exc:
            log.warning(
                "thread not created message=%s review=%s error=%s",
                message.id,
                review.review_id,
                exc,
            )
            return None
        return thread.id

    async def find_posted(self, claim: Announcement, review: StoredReview) -> Posted | None:
        channel = await self._channel(claim.channel_id)
        since = claim.created_at - CLAIM_SLACK
        me = self._bot.user
        try:
            if isinstance(channel, discord.ForumChannel):
                for thread in await self._forum_threads(channel):
                    if thread.owner_id != getattr(me, "id", None) or thread.created_at is None:
                        continue
                    if thread.created_at < since:
                        continue
                    try:
                        starter = await thread.fetch_message(thread.id)
                    except discord.NotFound:
                        continue
                    if is_card_of(starter, review):
                        return Posted(starter.id, thread.id)
            elif isinstance(channel, discord.TextChannel):
                async for message in channel.history(limit=HISTORY_LIMIT, after=since):
                    if message.author == me and is_card_of(message, review):
                        return Posted(message.id, await self._open_thread(message, review))
        except discord.Forbidden:
            return None  # cannot look: the post fails the same way and releases the claim
        return None

    async def _forum_threads(self, forum: discord.ForumChannel) -> list[discord.Thread]:
        active = [t for t in await forum.guild.active_threads() if t.parent_id == forum.id]
        archived = [t async for t in forum.archived_threads(limit=ARCHIVED_LIMIT)]
        return active + archived

    async def update(self, announcement: Announcement, review: StoredReview) -> None:
        if announcement.message_id is None:
            return
        channel = await self._channel(announcement.channel_id)
        # A forum post's card lives in its thread; a text channel's card in the channel.
        where = (
            announcement.thread_id
            if isinstance(channel, discord.ForumChannel) and announcement.thread_id
            else announcement.channel_id
        )
        message = self._bot.get_partial_messageable(where).get_partial_message(
            announcement.message_id
        )
        try:
            if review.status == "withdrawn":
                await message.edit(embed=withdrawn_embed(review), view=None)
            else:
                await message.edit(embed=review_embed(review), view=review_view(review))
                await self._rename_thread(announcement.thread_id, thread_name(review.title))
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning(
                "announcement not updated guild=%s review=%s message=%s error=%s",
                announcement.guild_id,
                review.review_id,
                announcement.message_id,
                exc,
            )

    async def _rename_thread(self, thread_id: int | None, name: str) -> None:
        thread = self._bot.get_channel(thread_id) if thread_id else None
        if isinstance(thread, discord.Thread) and thread.name != name:
            await thread.edit(name=name)
