"""The emulator's REST behaviour seen over plain HTTP: Discord's limits, errors, rate limits,
permissions, webhooks and interaction rules."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from discord_emulator import (
    DiscordEmulator,
    Permission,
    RouteLimit,
    SharedLimit,
    UploadedFile,
)
from discord_emulator.interactions import InteractionType

from .conftest import TOKEN, World


@pytest.fixture
async def http(emu: DiscordEmulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=emu.http_base, headers={"Authorization": f"Bot {TOKEN}"}
    ) as session:
        yield session


async def call(
    http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with http.request(method, "/api/v10" + path, **kwargs) as response:
        text = await response.text()
        return response.status, json.loads(text) if text else None, response


async def test_login_with_wrong_token_is_401_and_json_is_plain_application_json(
    world: World, http: aiohttp.ClientSession
) -> None:
    status, body, response = await call(http, "GET", "/users/@me")
    assert status == 200
    assert body["id"] == str(world.app.bot.id) and body["bot"] is True
    assert response.headers["Content-Type"] == "application/json"
    status, body, _ = await call(http, "GET", "/users/@me", headers={"Authorization": "Bot wrong"})
    assert (status, body["code"]) == (401, 0)


async def test_too_long_content_and_embeds_answer_50035_trees(
    world: World, http: aiohttp.ClientSession
) -> None:
    path = f"/channels/{world.channel.id}/messages"
    status, body, _ = await call(http, "POST", path, json={"content": "x" * 2001})
    assert status == 400 and body["code"] == 50035
    assert body["errors"]["content"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"

    embeds = [{"title": "t" * 257, "fields": [{"name": "n", "value": "v" * 1025}]}]
    status, body, _ = await call(http, "POST", path, json={"embeds": embeds})
    assert body["errors"]["embeds"]["0"]["title"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert "value" in body["errors"]["embeds"]["0"]["fields"]["0"]

    big = [{"description": "d" * 4000}, {"description": "d" * 2001}]
    status, body, _ = await call(http, "POST", path, json={"embeds": big})
    assert body["errors"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"

    status, body, _ = await call(http, "POST", path, json={"embeds": [{"title": "a"}] * 11})
    assert "embeds" in body["errors"]

    status, body, _ = await call(http, "POST", path, json={"content": ""})
    assert (status, body["code"]) == (400, 50006)


async def test_component_limits(world: World, http: aiohttp.ClientSession) -> None:
    path = f"/channels/{world.channel.id}/messages"
    button = {"type": 2, "style": 1, "label": "x", "custom_id": "b"}
    six_rows = [{"type": 1, "components": [button | {"custom_id": f"r{i}"}]} for i in range(6)]
    _, body, _ = await call(http, "POST", path, json={"components": six_rows})
    assert body["errors"]["components"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"

    wide = [{"type": 1, "components": [button | {"custom_id": f"b{i}"} for i in range(6)]}]
    _, body, _ = await call(http, "POST", path, json={"components": wide})
    assert "components" in body["errors"]["components"]["0"]

    long_id = [{"type": 1, "components": [button | {"custom_id": "c" * 101, "label": "l" * 81}]}]
    _, body, _ = await call(http, "POST", path, json={"components": long_id})
    item = body["errors"]["components"]["0"]["components"]["0"]
    assert set(item) == {"custom_id", "label"}


async def test_message_route_announces_its_bucket_and_429s_with_via(
    world: World, http: aiohttp.ClientSession, emu: DiscordEmulator
) -> None:
    path = f"/channels/{world.channel.id}/messages"
    statuses = []
    for i in range(6):
        status, body, response = await call(http, "POST", path, json={"content": str(i)})
        statuses.append(status)
    assert statuses == [200] * 5 + [429]
    assert response.headers["Via"]
    assert response.headers["X-RateLimit-Scope"] == "user"
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < float(response.headers["X-RateLimit-Reset-After"]) <= 0.05  # 5 s scaled by 0.01
    assert body["global"] is False and 0 < body["retry_after"] <= 0.05
    key = "POST /channels/{channel_id}/messages"
    assert emu.stats.requests[key] == 6 and emu.stats.rate_limited[key] == 1
    await asyncio.sleep(body["retry_after"])
    status, _, response = await call(http, "POST", path, json={"content": "again"})
    assert status == 200 and response.headers["X-RateLimit-Remaining"] == "4"


async def test_webhook_shared_channel_limit_shows_only_as_shared_429(
    http: aiohttp.ClientSession,
) -> None:
    async with DiscordEmulator(
        time_scale=0.01,
        route_limits={"POST /webhooks/{webhook_id}/{webhook_token}": RouteLimit(5, 2.0)},
        shared_limits={
            "POST /webhooks/{webhook_id}/{webhook_token}": SharedLimit("channel", 3, 60.0)
        },
    ) as emu:
        guild = emu.create_guild("g")
        channel = emu.create_channel(guild, "c")
        owner = emu.state.users[guild.owner_id]
        hooks = [emu.add_webhook(channel, f"hook{i}", creator=owner) for i in range(2)]
        async with aiohttp.ClientSession(base_url=emu.http_base) as anon:
            statuses = []
            for i in range(4):
                hook = hooks[i % 2]
                async with anon.post(
                    f"/api/v10/webhooks/{hook.id}/{hook.token}", json={"content": "hi"}
                ) as response:
                    statuses.append(response.status)
            assert statuses == [204, 204, 204, 429]
            assert response.headers["X-RateLimit-Scope"] == "shared"
            # The announced per-webhook bucket still had room: this limit was unannounced.
            assert response.headers["X-RateLimit-Remaining"] != "0"


async def test_global_limit_is_per_token_and_flagged_global(world: World) -> None:
    world.emu.ratelimiter.global_limit = RouteLimit(3, 1.0)
    async with aiohttp.ClientSession(
        base_url=world.emu.http_base, headers={"Authorization": f"Bot {TOKEN}"}
    ) as http:
        statuses = [(await call(http, "GET", "/users/@me"))[0] for _ in range(3)]
        status, body, response = await call(http, "GET", "/users/@me")
    assert statuses == [200, 200, 200] and status == 429
    assert body["global"] is True and response.headers["X-RateLimit-Global"] == "true"


async def test_missing_permissions_and_access(world: World, http: aiohttp.ClientSession) -> None:
    emu = world.emu
    role = emu.bot_role(world.app, world.guild)
    emu.set_overwrite(world.channel, role, deny=Permission.SEND_MESSAGES)
    path = f"/channels/{world.channel.id}/messages"
    status, body, _ = await call(http, "POST", path, json={"content": "hi"})
    assert (status, body["code"], body["message"]) == (403, 50013, "Missing Permissions")

    hidden = emu.create_channel(world.guild, "staff")
    emu.set_overwrite(hidden, world.guild.everyone_role, deny=Permission.VIEW_CHANNEL)
    status, body, _ = await call(http, "GET", f"/channels/{hidden.id}/messages")
    assert (status, body["code"]) == (403, 50001)

    emu.set_role_permissions(role, Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
    other = emu.create_channel(world.guild, "plain")
    status, body, _ = await call(http, "POST", f"/channels/{other.id}/webhooks", json={"name": "x"})
    assert (status, body["code"]) == (403, 50013)
    # Discord drops embeds without EMBED_LINKS (the @everyone default has it, so deny it).
    emu.set_overwrite(other, world.guild.everyone_role, deny=Permission.EMBED_LINKS)
    status, body, _ = await call(
        http,
        "POST",
        f"/channels/{other.id}/messages",
        json={"content": "c", "embeds": [{"title": "t"}]},
    )
    assert status == 200 and body["embeds"] == []
    assert emu.messages_in(other)[-1].embeds_dropped


async def test_allowed_mentions_decide_who_is_pinged(
    world: World, http: aiohttp.ClientSession
) -> None:
    emu = world.emu
    quiet = emu.create_role(world.guild, "quiet")
    loud = emu.create_role(world.guild, "loud", mentionable=True)
    everyone = world.guild.everyone_role
    emu.set_role_permissions(everyone, everyone.permissions & ~Permission.MENTION_EVERYONE)
    path = f"/channels/{world.channel.id}/messages"
    content = f"@everyone {world.alice.mention} {quiet.mention} {loud.mention}"
    await call(http, "POST", path, json={"content": content})
    default = emu.messages_in(world.channel)[-1].pings
    # The bot lacks MENTION_EVERYONE: no @everyone and no non-mentionable role ping.
    assert default.users == {world.alice.id} and default.roles == {loud.id}
    assert default.everyone is False

    await call(http, "POST", path, json={"content": content, "allowed_mentions": {"parse": []}})
    assert not emu.messages_in(world.channel)[-1].pings.any

    await call(
        http,
        "POST",
        path,
        json={"content": content, "allowed_mentions": {"parse": [], "roles": [str(loud.id)]}},
    )
    assert emu.messages_in(world.channel)[-1].pings.roles == {loud.id}


async def test_history_paging_matches_discord_order(
    world: World, http: aiohttp.ClientSession
) -> None:
    posted = [await world.emu.post_message(world.alice, world.channel, f"m{i}") for i in range(10)]
    path = f"/channels/{world.channel.id}/messages"
    _, body, _ = await call(http, "GET", path, params={"limit": "3"})
    assert [m["content"] for m in body] == ["", "", ""]  # no message content intent
    assert [m["id"] for m in body] == [str(m.id) for m in posted[-1:-4:-1]]
    _, body, _ = await call(http, "GET", path, params={"limit": "3", "after": str(posted[2].id)})
    assert [m["id"] for m in body] == [str(m.id) for m in posted[5:2:-1]]
    _, body, _ = await call(http, "GET", path, params={"before": str(posted[2].id)})
    assert [m["id"] for m in body] == [str(posted[1].id), str(posted[0].id)]
    _, body, _ = await call(http, "GET", path, params={"limit": "4", "around": str(posted[5].id)})
    assert [m["id"] for m in body] == [str(m.id) for m in posted[6:2:-1]]


async def test_message_content_is_redacted_unless_mentioned(
    world: World, http: aiohttp.ClientSession
) -> None:
    plain = await world.emu.post_message(world.alice, world.channel, "secret")
    pinging = await world.emu.post_message(
        world.alice, world.channel, f"{world.app.bot.mention} hello"
    )
    path = f"/channels/{world.channel.id}/messages"
    _, body, _ = await call(http, "GET", f"{path}/{plain.id}")
    assert body["content"] == ""
    _, body, _ = await call(http, "GET", f"{path}/{pinging.id}")
    assert body["content"].endswith("hello")


async def test_files_are_stored_and_served(world: World, http: aiohttp.ClientSession) -> None:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(
        "payload_json",
        json.dumps(
            {
                "content": "file",
                "attachments": [{"id": 0, "filename": "a.txt", "description": "the file"}],
            }
        ),
    )
    form.add_field("files[0]", b"hello bytes", filename="a.txt", content_type="text/plain")
    status, body, _ = await call(http, "POST", f"/channels/{world.channel.id}/messages", data=form)
    assert status == 200
    attachment = body["attachments"][0]
    assert attachment["size"] == 11 and attachment["description"] == "the file"
    async with http.get(attachment["url"]) as response:
        assert await response.read() == b"hello bytes"


async def test_fault_injection_fails_the_next_calls(
    world: World, http: aiohttp.ClientSession
) -> None:
    world.emu.fail_next("GET /users/@me", times=2, status=503)
    statuses = [(await call(http, "GET", "/users/@me"))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]


async def test_a_stall_holds_only_the_next_call(world: World, http: aiohttp.ClientSession) -> None:
    world.emu.stall_next("GET /users/@me", seconds=0.3)
    began = time.monotonic()
    assert (await call(http, "GET", "/users/@me"))[0] == 200
    held = time.monotonic() - began
    began = time.monotonic()
    assert (await call(http, "GET", "/users/@me"))[0] == 200
    assert held >= 0.3 and time.monotonic() - began < 0.3


async def test_command_validation_and_overwrite_counting(
    world: World, http: aiohttp.ClientSession
) -> None:
    path = f"/applications/{world.app.id}/commands"
    bad = [
        {"name": "About", "description": "d"},
        {"name": "ok", "description": "d" * 101},
        {
            "name": "many",
            "description": "d",
            "options": [{"type": 3, "name": f"o{i}", "description": "d"} for i in range(26)],
        },
        {
            "name": "choices",
            "description": "d",
            "options": [
                {
                    "type": 3,
                    "name": "c",
                    "description": "d",
                    "choices": [{"name": str(i), "value": str(i)} for i in range(26)],
                }
            ],
        },
    ]
    status, body, _ = await call(http, "PUT", path, json=bad)
    assert (status, body["code"]) == (400, 50035)
    assert body["errors"]["0"]["name"]["_errors"][0]["code"] == "APPLICATION_COMMAND_INVALID_NAME"
    assert "description" in body["errors"]["1"]
    assert "options" in body["errors"]["2"]
    assert "choices" in body["errors"]["3"]["options"]["0"]
    good = [
        {
            "name": "review",
            "description": "Reviews",
            "options": [
                {
                    "type": 2,
                    "name": "admin",
                    "description": "Admin",
                    "options": [{"type": 1, "name": "sync", "description": "Sync"}],
                }
            ],
        }
    ]
    for _ in range(2):
        status, body, _ = await call(http, "PUT", path, json=good)
        assert status == 200
    assert world.emu.command_overwrites(world.app) == 2
    assert [c.name for c in world.emu.commands(world.app)] == ["review"]


async def test_webhook_rules_personas_and_threads(
    world: World, http: aiohttp.ClientSession
) -> None:
    emu = world.emu
    path = f"/channels/{world.channel.id}/webhooks"
    status, body, _ = await call(http, "POST", path, json={"name": "my discord hook"})
    assert body["errors"]["name"]["_errors"][0]["code"] == "USERNAME_INVALID_CONTAINS"
    status, hook, _ = await call(http, "POST", path, json={"name": "Mirror"})
    assert status == 200 and hook["application_id"] == str(world.app.id)
    status, listed, _ = await call(http, "GET", path)
    assert [h["id"] for h in listed] == [hook["id"]]

    exec_path = f"/webhooks/{hook['id']}/{hook['token']}"
    status, body, _ = await call(
        http,
        "POST",
        exec_path,
        params={"wait": "true"},
        json={"content": "hi", "username": "Clyde fan"},
    )
    assert body["errors"]["username"]["_errors"][0]["code"] == "USERNAME_INVALID_CONTAINS"
    status, body, _ = await call(
        http,
        "POST",
        exec_path,
        params={"wait": "true"},
        json={"content": "hi", "username": "Ann (blog)", "avatar_url": "http://x/a.png"},
    )
    assert status == 200 and body["webhook_id"] == hook["id"]
    assert body["author"]["username"] == "Ann (blog)"
    stored = emu.messages_in(world.channel)[-1]
    assert stored.avatar_url == "http://x/a.png" and stored.author_name == "Ann (blog)"

    thread = await emu.start_thread(world.alice, world.channel, "Dune")
    await emu.update_thread(thread, archived=True)
    status, body, _ = await call(
        http,
        "POST",
        exec_path,
        params={"wait": "true", "thread_id": str(thread.id)},
        json={"content": "in thread"},
    )
    assert body["channel_id"] == str(thread.id) and not thread.archived

    msg_path = f"{exec_path}/messages/{body['id']}"
    status, body, _ = await call(
        http, "PATCH", msg_path, params={"thread_id": str(thread.id)}, json={"content": "edited"}
    )
    assert status == 200 and body["content"] == "edited"
    status, _, _ = await call(http, "DELETE", msg_path, params={"thread_id": str(thread.id)})
    assert status == 204 and emu.messages_in(thread) == []

    status, body, _ = await call(
        http,
        "POST",
        exec_path,
        params={"thread_name": "x"},
        json={"content": "x", "thread_name": "x"},
    )
    assert body["code"] == 220003


async def test_forum_posts_need_known_tags_and_get_a_starter_message(
    world: World, http: aiohttp.ClientSession
) -> None:
    path = f"/channels/{world.forum.id}/threads"
    status, body, _ = await call(
        http,
        "POST",
        path,
        json={"name": "Dune", "applied_tags": ["1"], "message": {"content": "Review"}},
    )
    assert status == 400 and "applied_tags" in body["errors"]
    tag = world.forum.available_tags[0]
    status, body, _ = await call(
        http, "POST", path, json={"name": "n" * 101, "message": {"content": "Review"}}
    )
    assert body["errors"]["name"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"
    status, body, _ = await call(
        http,
        "POST",
        path,
        json={"name": "Dune", "applied_tags": [str(tag.id)], "message": {"content": "Review"}},
    )
    assert status == 201 and body["message"]["id"] == body["id"]
    assert body["applied_tags"] == [str(tag.id)]
    assert [t.name for t in world.emu.threads_in(world.forum)] == ["Dune"]


async def test_interaction_deadline_and_double_acknowledgement(
    world: World, http: aiohttp.ClientSession
) -> None:
    emu = world.emu
    emu.interaction_deadline = 0.05
    emu.state.commands.clear()
    await call(
        http,
        "PUT",
        f"/applications/{world.app.id}/commands",
        json=[{"name": "about", "description": "About"}],
    )
    late = await emu.run_command(world.alice, world.channel, "about")
    await asyncio.sleep(0.1)
    callback = f"/interactions/{late.interaction.id}/{late.interaction.token}/callback"
    status, body, _ = await call(http, "POST", callback, json={"type": 4, "data": {"content": "x"}})
    assert (status, body["code"]) == (404, 10062)

    emu.interaction_deadline = 3.0
    fresh = await emu.run_command(world.alice, world.channel, "about")
    callback = f"/interactions/{fresh.interaction.id}/{fresh.interaction.token}/callback"
    status, _, _ = await call(http, "POST", callback, json={"type": 5})
    assert status == 204 and fresh.message is not None and fresh.message.loading
    status, body, _ = await call(http, "POST", callback, json={"type": 4, "data": {"content": "x"}})
    assert (status, body["code"]) == (400, 40060)
    assert fresh.interaction.type == InteractionType.APPLICATION_COMMAND


async def test_member_actions_respect_permissions(world: World) -> None:
    from discord_emulator import EmulatorError

    emu = world.emu
    emu.set_overwrite(world.channel, world.bob, deny=Permission.SEND_MESSAGES)
    with pytest.raises(EmulatorError):
        await emu.post_message(world.bob, world.channel, "hi")
    message = await emu.post_message(
        world.alice, world.channel, "hi", files=[UploadedFile("a.txt", b"x")]
    )
    assert message.attachments[0].size == 1
