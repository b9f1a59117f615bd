"""The foundation as a member and an operator meet it, through the Discord emulator."""

import logging
import re

from bot.app import EXTENSIONS

from .conftest import BotHarness


def field_values(message) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


async def test_member_runs_about_and_gets_a_private_answer(harness: BotHarness):
    await harness.start()
    world = harness.world
    result = await world.emu.run_command(world.alice, world.channel, "about")
    reply = await result.wait_for_message()
    assert reply.ephemeral
    fields = field_values(reply)
    assert fields["Version"] == harness.bot.version
    assert fields["Blog"].startswith("not configured")
    assert fields["This server"] == "nothing set up yet"
    assert fields["Comment sync"] == "no thread linked yet"
    assert world.emu.messages_in(world.channel) == []  # nothing public


async def test_commands_sync_once_and_not_again_after_restart(harness: BotHarness):
    world = harness.world
    await harness.start()
    assert {c.name for c in world.emu.commands(world.app)} >= {"about", "setup"}
    assert world.emu.command_overwrites(world.app) == 1
    await harness.restart()
    assert world.emu.command_overwrites(world.app) == 1


async def test_dev_guild_gets_commands_on_every_start(harness: BotHarness):
    world = harness.world
    harness.env["DEV_GUILD_ID"] = str(world.guild.id)
    await harness.start()
    await harness.restart()
    assert "about" in {c.name for c in world.emu.commands(world.app, guild=world.guild)}
    assert world.emu.command_overwrites(world.app, guild=world.guild) == 2
    assert world.emu.command_overwrites(world.app) == 0


async def test_restart_keeps_guild_settings(harness: BotHarness):
    world = harness.world
    bot = await harness.start()
    await bot.guild_settings.update(world.guild.id, review_channel_id=world.channel.id)
    await harness.restart()
    result = await world.emu.run_command(world.alice, world.channel, "about")
    reply = await result.wait_for_message()
    assert field_values(reply)["This server"] == "review channel"


async def test_unexpected_error_shows_a_reference_not_a_traceback(harness: BotHarness, caplog):
    harness.extensions = (*EXTENSIONS, "tests.e2e.failing_cog")
    await harness.start()
    world = harness.world
    with caplog.at_level(logging.ERROR):
        result = await world.emu.run_command(world.alice, world.channel, "explode")
        reply = await result.wait_for_message()
    assert reply.ephemeral
    match = re.search(r"Reference: `([0-9a-f]{8})`", reply.content)
    assert match, reply.content
    assert "secret internals" not in reply.content
    logged = [r for r in caplog.records if f"ref={match.group(1)}" in r.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_user_error_is_explained_privately(harness: BotHarness):
    harness.extensions = (*EXTENSIONS, "tests.e2e.failing_cog")
    await harness.start()
    world = harness.world
    result = await world.emu.run_command(
        world.alice, world.channel, "explode", options={"user_error": True}
    )
    reply = await result.wait_for_message()
    assert reply.ephemeral
    assert reply.content == "That review does not exist. Try /review search."


async def test_out_of_range_argument_gets_an_explanation(harness: BotHarness):
    harness.extensions = (*EXTENSIONS, "tests.e2e.failing_cog")
    await harness.start()
    world = harness.world
    result = await world.emu.run_command(world.alice, world.channel, "count", {"amount": 99})
    reply = await result.wait_for_message()
    assert reply.ephemeral
    assert "99" in reply.content
    assert "Reference" not in reply.content
