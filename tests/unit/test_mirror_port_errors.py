"""Discord's answers become the errors the mirror engine acts on."""

from __future__ import annotations

from types import SimpleNamespace

import discord
import pytest

from bot.discord_ui.mirror_port import port_error
from bot.sync.outbox import GiveUp
from bot.sync.ports import DiscordUnavailable, MessageGone, ThreadUnavailable, WebhookGone


def answer(kind: type[discord.HTTPException], status: int, code: int, **headers: str):
    response = SimpleNamespace(status=status, reason="", headers=headers)
    return kind(response, {"code": code, "message": "x"})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (answer(discord.NotFound, 404, 10008), MessageGone),
        (answer(discord.NotFound, 404, 10015), WebhookGone),
        (answer(discord.HTTPException, 401, 50027), WebhookGone),
        (answer(discord.NotFound, 404, 10003), ThreadUnavailable),
        (answer(discord.Forbidden, 403, 50013), ThreadUnavailable),
        (answer(discord.HTTPException, 400, 50083), ThreadUnavailable),
        (answer(discord.DiscordServerError, 502, 0), DiscordUnavailable),
        (answer(discord.HTTPException, 400, 50035), GiveUp),
    ],
)
def test_discord_errors_map_to_port_errors(error, expected):
    assert isinstance(port_error(error, "send"), expected)


def test_a_429_keeps_its_retry_after():
    mapped = port_error(answer(discord.HTTPException, 429, 0, **{"Retry-After": "2.5"}), "send")
    assert isinstance(mapped, DiscordUnavailable) and mapped.retry_after == 2.5
