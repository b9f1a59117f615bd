"""An in-memory DiscordPort that behaves like Discord where the mirror depends on it, and a
clock whose sleeps take no real time.

It checks every message against Discord's limits (and fails the test loudly if one is over),
records when each webhook request happened for pacing checks, and can fail, lose answers
(the write happens, then a timeout) or crash the worker between a send and its record.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from bot.sync.ports import DiscordUnavailable, MessageGone, PostedMessage, WebhookGone
from bot.sync.render import MessageSpec, carries_marker


class SimulatedCrash(BaseException):
    """The process dies: nothing after the raise runs (not even `except Exception`)."""


class FakeClock:
    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        target = self.now + max(seconds, 0.0)
        await asyncio.sleep(0)
        self.now = max(self.now, target)  # a cancelled sleep leaves time alone


@dataclass
class FakeMessage:
    id: int
    thread_id: int
    webhook_id: int | None  # None: posted by the bot itself
    payload: dict[str, Any]
    deleted: bool = False
    edits: int = 0


@dataclass
class Fault:
    action: str
    error: BaseException
    after: bool  # the write happens first, then the error (a lost answer or a crash)
    remaining: int = 1


@dataclass
class FakeDiscordPort:
    clock: FakeClock
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    webhooks: dict[int, int] = field(default_factory=dict)  # channel -> live webhook
    requests: list[tuple[float, str, int]] = field(default_factory=list)  # (time, action, channel)
    faults: list[Fault] = field(default_factory=list)
    created_webhooks: int = 0

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_000_000)

    # ---- test API

    def fail_next(
        self, action: str, error: BaseException, *, after: bool = False, n: int = 1
    ) -> None:
        self.faults.append(Fault(action, error, after, n))

    def live(self, thread_id: int) -> list[FakeMessage]:
        return [m for m in self.messages.values() if m.thread_id == thread_id and not m.deleted]

    def comment_messages(self, thread_id: int) -> list[FakeMessage]:
        return [m for m in self.live(thread_id) if m.webhook_id is not None]

    def texts(self, thread_id: int) -> list[str]:
        """Every comment text shown, in thread order (content or embed descriptions)."""
        shown = []
        for message in self.comment_messages(thread_id):
            if message.payload.get("content"):
                shown.append(message.payload["content"])
            shown += [e["description"] for e in message.payload.get("embeds") or []]
        return shown

    def delete_as_moderator(self, message_id: int) -> None:
        self.messages[message_id].deleted = True

    def delete_webhook(self, channel_id: int) -> None:
        del self.webhooks[channel_id]

    def inject(self, thread_id: int, channel_id: int, payload: dict[str, Any]) -> int:
        message = FakeMessage(next(self._ids), thread_id, self.webhooks[channel_id], payload)
        self.messages[message.id] = message
        return message.id

    def most_in_window(self, action: str, channel_id: int, seconds: float) -> int:
        """The most requests of this kind the channel saw in any `seconds`-long interval."""
        times = sorted(t for t, a, c in self.requests if a == action and c == channel_id)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    # ---- the DiscordPort protocol

    async def ensure_webhook(self, channel_id: int, known_webhook_id: int | None) -> int:
        if known_webhook_id is not None and self.webhooks.get(channel_id) == known_webhook_id:
            return known_webhook_id
        self.created_webhooks += 1
        self.webhooks[channel_id] = next(self._ids)
        return self.webhooks[channel_id]

    async def send_webhook_message(self, webhook_id: int, thread_id: int, spec: MessageSpec) -> int:
        channel = self._channel(webhook_id)
        self._fault("send", before=True)
        check_limits(spec)
        message = FakeMessage(next(self._ids), thread_id, webhook_id, dict(spec))
        self.messages[message.id] = message
        self.requests.append((self.clock.monotonic(), "send", channel))
        self._fault("send", before=False)
        return message.id

    async def edit_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int, spec: MessageSpec
    ) -> None:
        channel = self._channel(webhook_id)
        self._fault("edit", before=True)
        check_limits(spec)
        message = self._message(message_id, webhook_id)
        message.payload = dict(spec)
        message.edits += 1
        self.requests.append((self.clock.monotonic(), "edit", channel))

    async def delete_webhook_message(
        self, webhook_id: int, thread_id: int, message_id: int
    ) -> None:
        channel = self._channel(webhook_id)
        self._fault("delete", before=True)
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise MessageGone("Unknown Message")
        message.deleted = True  # older webhooks' messages are deleted as the bot
        self.requests.append((self.clock.monotonic(), "delete", channel))

    async def find_message_with_marker(
        self, thread_id: int, marker: str, after_message_id: int | None = None
    ) -> int | None:
        self._fault("find", before=True)
        for message in sorted(self.live(thread_id), key=lambda m: m.id):
            if message.id > (after_message_id or 0) and carries_marker(message.payload, marker):
                return message.id
        return None

    async def list_webhook_messages(self, thread_id: int) -> list[PostedMessage]:
        return [PostedMessage(m.id, dict(m.payload)) for m in self.comment_messages(thread_id)]

    async def post_message(self, thread_id: int, spec: MessageSpec) -> int:
        self._fault("post", before=True)
        message = FakeMessage(next(self._ids), thread_id, None, dict(spec))
        self.messages[message.id] = message
        self._fault("post", before=False)
        return message.id

    async def edit_message(self, thread_id: int, message_id: int, spec: MessageSpec) -> None:
        message = self._message(message_id, None)
        message.payload = dict(spec)
        message.edits += 1

    # ---- internals

    def _channel(self, webhook_id: int) -> int:
        for channel, live in self.webhooks.items():
            if live == webhook_id:
                return channel
        raise WebhookGone("Unknown Webhook")

    def _message(self, message_id: int, webhook_id: int | None) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.webhook_id != webhook_id:
            raise MessageGone("Unknown Message")
        return message

    def _fault(self, action: str, *, before: bool) -> None:
        for fault in self.faults:
            if fault.action == action and fault.remaining and fault.after != before:
                fault.remaining -= 1
                raise fault.error


def check_limits(spec: MessageSpec) -> None:
    """Discord's limits for a webhook message; a violation is a bug in the renderer."""
    assert len(spec.get("content", "")) <= 2000
    assert spec.get("allowed_mentions") == {"parse": []}
    name = spec.get("username", "x")
    assert 1 <= len(name) <= 80
    assert "discord" not in name.lower() and "clyde" not in name.lower()
    embeds = spec.get("embeds") or []
    assert len(embeds) <= 10
    total = 0
    for embed in embeds:
        assert len(embed.get("description", "")) <= 4096
        assert len(embed["author"]["name"]) <= 256
        total += len(embed.get("description", "")) + len(embed["author"]["name"])
    assert total <= 6000
    assert spec.get("content") or embeds


def timeout() -> DiscordUnavailable:
    return DiscordUnavailable("timed out")
