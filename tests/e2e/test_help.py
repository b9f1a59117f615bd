"""/help lists every command the bot registered with Discord, says who may use the restricted
ones, and explains one command's options; all privately."""

from __future__ import annotations

from discord_emulator import AppCommand

from .conftest import BotHarness

SUBCOMMAND, GROUP = 1, 2
SLASH, MESSAGE_MENU = 1, 3


def registered_names(commands: list[AppCommand]) -> list[str]:
    """Every slash command and subcommand as members type it, and every message menu."""
    names = []
    for command in commands:
        if command.type == MESSAGE_MENU:
            names.append(f"Apps → {command.name}")
            continue
        subcommands = [o for o in command.options if o["type"] in (SUBCOMMAND, GROUP)]
        if not subcommands:
            names.append(f"/{command.name}")
        for sub in subcommands:
            names.append(f"/{command.name} {sub['name']}")
    return names


def lines(embed: dict) -> list[str]:
    return [line for field in embed["fields"] for line in field["value"].splitlines()]


async def test_help_lists_every_registered_command_with_who_may_use_it(harness: BotHarness):
    await harness.start()
    world = harness.world
    result = await world.emu.run_command(world.alice, world.channel, "help")
    answer = await result.wait_for_message()
    assert result.ephemeral
    [embed] = answer.embeds
    shown = lines(embed)
    for name in registered_names(world.emu.commands(world.app)):
        assert any(line.startswith(f"`{name}`") for line in shown), name
    by_name = {line.split("`")[1]: line for line in shown}
    assert by_name["/mirror link"].endswith("*Manage Threads*")
    assert by_name["/setup channel"].endswith("*Manage Server*")
    assert by_name["/review announce"].endswith("*Manage Messages or the author role*")
    assert "*" not in by_name["/rate"].split("`")[2]  # everyone's: no restriction shown
    assert [f["name"] for f in embed["fields"]][:2] == ["Reviews", "Ratings"]


async def test_help_explains_one_command_and_refuses_an_unknown_one(harness: BotHarness):
    await harness.start()
    world = harness.world
    [choice] = await world.emu.autocomplete(
        world.alice, world.channel, "help", {"command": "sea"}, focused="command"
    )
    assert choice == {"name": "/review search", "value": "review search"}

    result = await world.emu.run_command(
        world.alice, world.channel, "help", {"command": choice["value"]}
    )
    [embed] = (await result.wait_for_message()).embeds
    assert embed["title"] == "/review search"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Who may use it"] == "everyone" and fields["Area"] == "Reviews"
    assert fields["Options"].startswith("`words`: Words to look for")

    unknown = await world.emu.run_command(world.alice, world.channel, "help", {"command": "@here"})
    told = await unknown.wait_for_message()
    assert unknown.ephemeral and "no such command" in told.content
    assert not told.pings.any
