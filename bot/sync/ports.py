"""The ports the sync engine talks through. The cog layer implements `DiscordPort` with
discord.py; tests implement it in memory. Nothing here knows discord.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from bot.sync.render import MessageSpec


class DiscordPortError(Exception):
    """Base class for what a DiscordPort raises on purpose."""


class DiscordUnavailable(DiscordPortError):
    """Timeout, connection error, 5xx or an unexpected 429: retry later. For a send, the
    message may or may not exist: the engine looks for its marker before sending again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MessageGone(DiscordPortError):
    """The message was deleted (Unknown Message) or can no longer be edited by our webhook."""


class WebhookGone(DiscordPortError):
    """Our webhook was deleted: the engine forgets its id and asks `ensure_webhook` again."""


class ThreadUnavailable(DiscordPortError):
    """The thread is deleted, locked, or the bot lost access: mirroring pauses until a
    moderator fixes it and resumes."""


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """A message one of our webhooks posted in a thread, as Discord returns it."""

    message_id: int
    payload: Mapping[str, Any] = field(default_factory=dict)  # "content", "embeds" (JSON shape)


@runtime_checkable
class DiscordPort(Protocol):
    """What the engine needs from Discord. Webhook tokens stay inside the adapter.

    Every message must be sent with mentions disabled (`allowed_mentions` in the spec).
    """

    async def ensure_webhook(self, channel_id: int, known_webhook_id: int | None) -> int:
        """Our webhook in this parent channel: the known one if it still exists, else a new one."""
        ...

    async def send_webhook_message(self, webhook_id: int, thread_id: int, spec: MessageSpec) -> int:
        """Execute the webhook into the thread (wait=true) and return the new message's id."""
        ...

    async def edit_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int, spec: MessageSpec
    ) -> None: ...

    async def delete_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int
    ) -> None:
        """Delete the message; one sent by an older webhook of ours is deleted as the bot."""
        ...

    async def find_message_with_marker(
        self, thread_id: int, marker: str, after_message_id: int | None = None
    ) -> int | None:
        """Oldest message from us (our webhooks or the bot) after `after_message_id` that
        carries `marker` (see `render.carries_marker`), or None."""
        ...

    async def list_webhook_messages(self, thread_id: int) -> list[PostedMessage]:
        """Every message our webhooks posted in the thread, oldest first (for resync)."""
        ...

    async def post_message(self, thread_id: int, spec: MessageSpec) -> int:
        """A message from the bot itself (the backfill's progress message)."""
        ...

    async def edit_message(self, thread_id: int, message_id: int, spec: MessageSpec) -> None: ...


class Clock(Protocol):
    """Time for pacing and retry schedules; tests substitute a fake that sleeps instantly."""

    def time(self) -> float:
        """Seconds since the epoch (stored schedules)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps (pacing windows)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))
