"""/setup as a server admin and as a member without permission meet it."""

import discord
import pytest

from discord_emulator import EmulatorError

from .conftest import BotHarness


async def test_admin_picks_the_review_channel_and_roles(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    ping = world.emu.create_role(world.guild, "Review pings", mentionable=True)
    authors = world.emu.create_role(world.guild, "Authors")
    result = await world.emu.run_command(
        world.moderator,
        world.channel,
        "setup channel",
        {"channel": world.channel, "ping_role": ping, "author_role": authors},
    )
    reply = await result.wait_for_message()
    assert reply.ephemeral
    assert f"<#{world.channel.id}>" in reply.content
    assert "missing" not in reply.content
    stored = await bot.guild_settings.get(world.guild.id)
    assert (stored.review_channel_id, stored.ping_role_id, stored.author_role_id) == (
        world.channel.id,
        ping.id,
        authors.id,
    )
    shown = await (
        await world.emu.run_command(world.moderator, world.channel, "setup show")
    ).wait_for_message()
    assert f"<@&{ping.id}>" in shown.content


async def test_forum_channel_is_accepted(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    result = await world.emu.run_command(
        world.moderator, world.channel, "setup channel", {"channel": world.forum}
    )
    reply = await result.wait_for_message()
    assert f"<#{world.forum.id}>" in reply.content
    assert (await bot.guild_settings.get(world.guild.id)).review_channel_id == world.forum.id


async def test_missing_bot_permissions_are_named(harness: BotHarness):
    await harness.start()
    world = harness.world
    locked = world.emu.create_channel(world.guild, "locked")
    world.emu.set_overwrite(
        locked,
        world.emu.bot_role(world.app, world.guild),
        deny=discord.Permissions(embed_links=True, manage_webhooks=True).value,
    )
    result = await world.emu.run_command(
        world.moderator, world.channel, "setup channel", {"channel": locked}
    )
    reply = await result.wait_for_message()
    assert "missing these permissions" in reply.content
    assert "Embed Links" in reply.content and "Manage Webhooks" in reply.content
    assert "Send Messages," in reply.content or "Send Messages" not in reply.content.split(":")[-1]


async def test_setup_is_hidden_from_members_by_default(harness: BotHarness):
    await harness.start()
    world = harness.world
    with pytest.raises(EmulatorError, match="hidden"):
        await world.emu.run_command(world.alice, world.channel, "setup show")


async def test_member_without_manage_server_is_refused_privately(harness: BotHarness):
    bot = await harness.start()
    world = harness.world
    # An admin exposed /setup to everyone in Integrations settings; the bot still checks.
    world.emu.grant_command(world.guild, "setup", world.alice)
    result = await world.emu.run_command(
        world.alice, world.channel, "setup channel", {"channel": world.channel}
    )
    reply = await result.wait_for_message()
    assert reply.ephemeral
    assert "Manage Server" in reply.content
    assert (await bot.guild_settings.get(world.guild.id)).review_channel_id is None
