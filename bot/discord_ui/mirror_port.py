"""The comment mirror's `DiscordPort` on a running bot: one webhook per parent channel, posting
into threads as the blog's commenters.

Webhook tokens are credentials: they stay in this object's memory and are fetched again from
Discord after a restart (Discord returns them to the bot for the webhooks it created); the
database only keeps webhook ids. Discord's errors become the port's errors, so the engine can
tell "retry later" from "the message is gone" from "the thread is unusable".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot.sync.outbox import GiveUp
from bot.sync.ports import (
    DiscordUnavailable,
    MessageGone,
    PostedMessage,
    ThreadUnavailable,
    WebhookGone,
)
from bot.sync.render import MessageSpec, carries_marker

if TYPE_CHECKING:
    from bot.app import ReviewBridge

log = logging.getLogger(__name__)

WEBHOOK_NAME = "Reviewbridge comments"
REQUEST_TIMEOUT = 60.0  # seconds; a send cut off by it is checked by its marker before retrying
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE, UNKNOWN_WEBHOOK = 10003, 10008, 10015
INVALID_WEBHOOK_TOKEN, THREAD_ARCHIVED = 50027, 50083
MISSING_ACCESS, MISSING_PERMISSIONS = 50001, 50013
WebhookChannel = discord.TextChannel | discord.ForumChannel


def port_error(error: discord.HTTPException, what: str) -> Exception:
    """The port's error for a Discord error answer."""
    reason = f"{what}: {error.status} {error.text or type(error).__name__}"[:300]
    if error.code == UNKNOWN_MESSAGE:
        return MessageGone(reason)
    if error.code in (UNKNOWN_WEBHOOK, INVALID_WEBHOOK_TOKEN):
        return WebhookGone(reason)
    if error.code in (UNKNOWN_CHANNEL, THREAD_ARCHIVED, MISSING_ACCESS, MISSING_PERMISSIONS):
        return ThreadUnavailable(reason)
    if isinstance(error, (discord.NotFound, discord.Forbidden)):
        return ThreadUnavailable(reason)
    if error.status == 429 or error.status >= 500:
        return DiscordUnavailable(reason, retry_after=_retry_after(error))
    return GiveUp(reason)  # 400: Discord refused the content itself; retrying cannot help


def _retry_after(error: discord.HTTPException) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


@contextlib.asynccontextmanager
async def discord_call(what: str) -> AsyncIterator[None]:
    """Time-limit one call to Discord and translate what can go wrong into port errors."""
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            yield
    except discord.HTTPException as error:
        raise port_error(error, what) from error
    except (aiohttp.ClientError, TimeoutError, OSError) as error:
        raise DiscordUnavailable(f"{what}: {type(error).__name__} {error}"[:300]) from error


def _payload(message: discord.Message) -> dict[str, Any]:
    """A received message in the JSON shape the engine compares with what it sent."""
    return {"content": message.content, "embeds": [e.to_dict() for e in message.embeds]}


def _embeds(spec: MessageSpec) -> list[discord.Embed]:
    return [discord.Embed.from_dict(embed) for embed in spec.get("embeds") or []]


class DiscordMirrorPort:
    """`bot.sync.ports.DiscordPort` with discord.py."""

    def __init__(self, bot: ReviewBridge) -> None:
        self._bot = bot
        self._webhooks: dict[int, discord.Webhook] = {}  # parent channel -> our webhook
        self._ours: set[int] = set()  # every webhook id of ours seen since start

    # --- webhooks ------------------------------------------------------------------------

    async def ensure_webhook(self, channel_id: int, known_webhook_id: int | None) -> int:
        cached = self._webhooks.get(channel_id)
        if cached is not None and known_webhook_id in (None, cached.id):
            return cached.id
        webhook = None
        if known_webhook_id is not None:
            webhook = await self._fetch_webhook(known_webhook_id, channel_id)
        if webhook is None:
            channel = await self._parent(channel_id)
            async with discord_call("list webhooks"):
                existing = [w for w in await channel.webhooks() if self._is_ours(w)]
            if existing:
                webhook = existing[0]
            else:
                async with discord_call("create webhook"):
                    webhook = await channel.create_webhook(
                        name=WEBHOOK_NAME, reason="Mirror blog comments into threads"
                    )
                log.info("webhook created channel=%d webhook=%d", channel_id, webhook.id)
        self._webhooks[channel_id] = webhook
        self._ours.add(webhook.id)
        return webhook.id

    async def _fetch_webhook(self, webhook_id: int, channel_id: int) -> discord.Webhook | None:
        """Our known webhook with its token, or None if it was deleted (or is not ours)."""
        try:
            async with discord_call("fetch webhook"):
                webhook = await self._bot.fetch_webhook(webhook_id)
        except (WebhookGone, ThreadUnavailable):
            return None
        return webhook if webhook.channel_id == channel_id and self._is_ours(webhook) else None

    def _is_ours(self, webhook: discord.Webhook) -> bool:
        me = self._bot.user
        return (
            webhook.token is not None
            and webhook.name == WEBHOOK_NAME
            and webhook.user is not None
            and me is not None
            and webhook.user.id == me.id
        )

    async def _parent(self, channel_id: int) -> WebhookChannel:
        channel = self._bot.get_channel(channel_id)
        if channel is None:
            async with discord_call("fetch channel"):
                channel = await self._bot.fetch_channel(channel_id)
        if not isinstance(channel, WebhookChannel):
            raise ThreadUnavailable(f"channel {channel_id} is not a text or forum channel")
        return channel

    def _webhook(self, webhook_id: int) -> discord.Webhook:
        for webhook in self._webhooks.values():
            if webhook.id == webhook_id:
                return webhook
        raise WebhookGone(f"webhook {webhook_id} is not known since the start")

    @contextlib.asynccontextmanager
    async def _webhook_call(self, webhook_id: int, what: str) -> AsyncIterator[None]:
        try:
            async with discord_call(what):
                yield
        except WebhookGone:
            self._webhooks = {c: w for c, w in self._webhooks.items() if w.id != webhook_id}
            raise

    # --- comment messages ----------------------------------------------------------------

    async def send_webhook_message(self, webhook_id: int, thread_id: int, spec: MessageSpec) -> int:
        webhook = self._webhook(webhook_id)
        async with self._webhook_call(webhook_id, "send"):
            message = await webhook.send(
                content=spec.get("content") or discord.utils.MISSING,
                username=spec.get("username") or discord.utils.MISSING,
                avatar_url=spec.get("avatar_url") or discord.utils.MISSING,
                embeds=_embeds(spec),
                allowed_mentions=discord.AllowedMentions.none(),
                thread=discord.Object(thread_id),
                wait=True,
            )
        return message.id

    async def edit_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int, spec: MessageSpec
    ) -> None:
        webhook = self._webhook(webhook_id)
        async with self._webhook_call(webhook_id, "edit"):
            await webhook.edit_message(
                message_id,
                content=spec.get("content"),
                embeds=_embeds(spec),
                allowed_mentions=discord.AllowedMentions.none(),
                thread=discord.Object(thread_id),
            )

    async def delete_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int
    ) -> None:
        webhook = self._webhook(webhook_id)
        try:
            async with self._webhook_call(webhook_id, "delete"):
                await webhook.delete_message(message_id, thread=discord.Object(thread_id))
            return
        except MessageGone:
            pass  # gone, or sent by an older webhook of ours: delete it as the bot
        message = self._bot.get_partial_messageable(thread_id).get_partial_message(message_id)
        try:
            async with discord_call("delete as the bot"):
                await message.delete()
        except ThreadUnavailable as error:  # no Manage Messages: it stays, nothing to redo
            log.warning("not deleted thread=%d message=%d: %s", thread_id, message_id, error)
            raise MessageGone(str(error)) from error

    # --- the thread's history ------------------------------------------------------------

    def _from_us(self, message: discord.Message) -> bool:
        """Posted by the bot, or by a channel webhook of ours (not an interaction answer)."""
        me = self._bot.user
        if message.webhook_id is None:
            return me is not None and message.author.id == me.id
        if message.webhook_id == self._bot.application_id or message.interaction_metadata:
            return False
        return message.webhook_id in self._ours or (
            message.application_id is not None
            and message.application_id == self._bot.application_id
        )

    def _history(
        self, thread_id: int, after_message_id: int | None
    ) -> AsyncIterator[discord.Message]:
        thread = self._bot.get_partial_messageable(thread_id)
        after = discord.Object(after_message_id) if after_message_id else None
        return thread.history(limit=None, after=after, oldest_first=True)

    async def find_message_with_marker(
        self, thread_id: int, marker: str, after_message_id: int | None = None
    ) -> int | None:
        async with discord_call("read history"):
            async for message in self._history(thread_id, after_message_id):
                if self._from_us(message) and carries_marker(_payload(message), marker):
                    return message.id
        return None

    async def list_webhook_messages(self, thread_id: int) -> list[PostedMessage]:
        async with discord_call("read history"):
            return [
                PostedMessage(message.id, _payload(message))
                async for message in self._history(thread_id, None)
                if message.webhook_id is not None and self._from_us(message)
            ]

    # --- the bot's own messages ----------------------------------------------------------

    async def post_message(self, thread_id: int, spec: MessageSpec) -> int:
        thread = self._bot.get_partial_messageable(thread_id)
        async with discord_call("post"):
            message = await thread.send(
                content=spec.get("content"), allowed_mentions=discord.AllowedMentions.none()
            )
        return message.id

    async def edit_message(self, thread_id: int, message_id: int, spec: MessageSpec) -> None:
        message = self._bot.get_partial_messageable(thread_id).get_partial_message(message_id)
        async with discord_call("edit"):
            await message.edit(
                content=spec.get("content"), allowed_mentions=discord.AllowedMentions.none()
            )
