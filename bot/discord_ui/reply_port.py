"""The Discord side of members' replies to the blog: reading a message into an `Incoming`, and
the `ReplyPort` the intake talks through (status reactions, the consent question in the
thread, the moderators' card). Every port call is best effort: it logs and never raises."""

from __future__ import annotations

import asyncio
import logging
import re

import aiohttp
import discord

from bot.discord_ui.approval import approval_embed, approval_view
from bot.discord_ui.consent import consent_view, question
from bot.domain.replies import STATUS_EMOJI, Source, Status
from bot.domain.text import discord_to_html
from bot.storage.replies import StoredReply
from bot.sync.pacing import Action, Pacer
from bot.sync.replies import Incoming

log = logging.getLogger(__name__)

MAX_FETCHED_MENTIONS = 5  # members are not cached: each unknown name costs a request
_USER_MENTION = re.compile(r"<@!?([0-9]{15,21})>")
TAKEN_TYPES = (discord.MessageType.default, discord.MessageType.reply)


def is_member_message(message: discord.Message) -> bool:
    """A person's message with text: not the bot, not a webhook (our mirrored comments), not
    another bot, not a system message."""
    return (
        message.webhook_id is None
        and not message.author.bot
        and message.type in TAKEN_TYPES
        and bool(message.content.strip())
    )


def incoming_from(
    message: discord.Message, source: Source, *, guild_id: int, thread_id: int
) -> Incoming:
    """The message as the intake takes it: Discord mentions and emoji become names."""
    guild = message.guild
    users = {user.id: user.display_name for user in message.mentions}
    roles = {role.id: role.name for role in message.role_mentions}
    channels: dict[int, str] = {}
    if guild is not None:
        for role_id in message.raw_role_mentions:
            role = guild.get_role(role_id)
            if role is not None:
                roles[role_id] = role.name
        for channel_id in message.raw_channel_mentions:
            channel = guild.get_channel_or_thread(channel_id)
            if channel is not None:
                channels[channel_id] = channel.name
    reference = message.reference
    reply_to = (
        reference.message_id
        if message.type is discord.MessageType.reply and reference is not None
        else None
    )
    return Incoming(
        message_id=message.id,
        thread_id=thread_id,
        guild_id=guild_id,
        author_id=message.author.id,
        author_name=message.author.display_name,
        content=message.content,
        content_html=discord_to_html(message.content, users=users, roles=roles, channels=channels),
        source=source,
        reply_to_id=reply_to,
    )


async def mention_names(guild: discord.Guild, text: str) -> dict[int, str]:
    """Display names of the members a text mentions (for /comment, which has no resolved
    mentions): fetched, as the bot keeps no member cache."""
    names: dict[int, str] = {}
    for raw in dict.fromkeys(_USER_MENTION.findall(text)):
        if len(names) >= MAX_FETCHED_MENTIONS:
            break
        try:
            member = guild.get_member(int(raw)) or await guild.fetch_member(int(raw))
        except discord.HTTPException:
            continue
        names[member.id] = member.display_name
    return names


def comment_html(guild: discord.Guild, text: str, users: dict[int, str]) -> str:
    roles = {role.id: role.name for role in guild.roles}
    channels = {channel.id: channel.name for channel in guild.channels}
    return discord_to_html(text, users=users, roles=roles, channels=channels)


class DiscordReplyPort:
    def __init__(self, client: discord.Client, pacer: Pacer) -> None:
        self._client = client
        self._pacer = pacer  # reactions: one per quarter second per channel
        self._reacting: dict[int, asyncio.Task[None]] = {}  # message -> its latest change
        self._pending: set[asyncio.Task[None]] = set()  # every change not done yet
        self._closed = False

    def _message(self, channel_id: int, message_id: int) -> discord.PartialMessage:
        return self._client.get_partial_messageable(channel_id).get_partial_message(message_id)

    async def show_status(self, reply: StoredReply, previous: Status | None) -> None:
        """Queued behind the message's earlier status changes, not awaited: reactions are
        rate limited per channel, and the blog's lane must not wait for them."""
        new = STATUS_EMOJI.get(reply.status)
        old = STATUS_EMOJI.get(previous) if previous is not None else None
        if new == old or reply.status is Status.DELETED or self._closed:
            return
        before = self._reacting.get(reply.message_id)
        task = asyncio.create_task(self._react(reply, old, new, before))
        self._reacting[reply.message_id] = task
        self._pending.add(task)
        task.add_done_callback(lambda done: self._forget(reply.message_id, done))

    def _forget(self, message_id: int, task: asyncio.Task[None]) -> None:
        self._pending.discard(task)
        if self._reacting.get(message_id) is task:
            del self._reacting[message_id]

    async def _react(
        self,
        reply: StoredReply,
        old: str | None,
        new: str | None,
        before: asyncio.Task[None] | None,
    ) -> None:
        if before is not None:
            await asyncio.wait([before])
        message = self._message(reply.thread_id, reply.message_id)
        try:
            if old is not None and self._client.user is not None:
                await self._pacer.acquire(reply.thread_id, Action.REACT)
                await message.remove_reaction(old, self._client.user)
            if new is not None:
                await self._pacer.acquire(reply.thread_id, Action.REACT)
                await message.add_reaction(new)
        except (discord.HTTPException, aiohttp.ClientError) as error:
            log.info("status reaction on message=%d failed: %s", reply.message_id, error)

    async def close(self) -> None:
        """Drop the reactions still waiting (the bot is stopping; they are cosmetic). Every
        queued change is cancelled, not only each message's latest, which waits on the rest."""
        self._closed = True
        tasks = list(self._pending)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def ask_consent(self, reply: StoredReply, *, first_time: bool) -> int | None:
        channel = self._client.get_partial_messageable(reply.thread_id)
        try:
            sent = await channel.send(
                question(reply, first_time=first_time, mention=True),
                view=consent_view(reply.message_id, first_time=first_time),
                reference=discord.MessageReference(
                    message_id=reply.message_id,
                    channel_id=reply.thread_id,
                    fail_if_not_exists=False,
                ),
                # Only the author is mentioned, and only they may answer.
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(reply.author_id)], replied_user=False
                ),
            )
        except discord.HTTPException as error:
            log.warning("consent question for message=%d failed: %s", reply.message_id, error)
            return None
        return sent.id

    async def delete_message(self, channel_id: int, message_id: int) -> None:
        try:
            await self._message(channel_id, message_id).delete()
        except discord.NotFound:
            pass
        except discord.HTTPException as error:
            log.info("deleting message=%d failed: %s", message_id, error)

    async def ask_approval(self, reply: StoredReply, channel_id: int) -> int | None:
        channel = self._client.get_partial_messageable(channel_id)
        try:
            sent = await channel.send(
                embed=approval_embed(reply), view=approval_view(reply.message_id)
            )
        except discord.HTTPException as error:
            log.warning("approval card for message=%d failed: %s", reply.message_id, error)
            return None
        return sent.id

    async def close_approval(self, reply: StoredReply, channel_id: int, outcome: str) -> None:
        if reply.approval_message_id is None:
            return
        try:
            await self._message(channel_id, reply.approval_message_id).edit(
                embed=approval_embed(reply, outcome), view=None
            )
        except discord.HTTPException as error:
            log.info("closing approval card of message=%d failed: %s", reply.message_id, error)
