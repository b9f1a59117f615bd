"""/help: every command the bot has, read from its command tree (so it cannot go stale), grouped
by what it is for, with who may use it; and one command's options in detail."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import discord
from discord import app_commands

from bot.discord_ui.channel_checks import permission_labels
from bot.domain.text import excerpt

# The area of each cog's commands, in the order /help shows them.
AREAS = {
    "Reviews": "Reviews",
    "Ratings": "Ratings",
    "Mirror": "Comment threads",
    "Comments": "Comment threads",
    "Setup": "Server setup",
    "About": "This bot",
}
MORE = "More"
WHO = "who"  # a command's `extras` key: who may use it, when not everyone
FIELD_LIMIT = 1024  # characters in an embed field's value
EVERYONE = "everyone"
T = TypeVar("T", app_commands.Command, app_commands.ContextMenu)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of /help: a slash command (or a message menu) and what it does."""

    name: str  # "/review latest", or "Apps → Publish to blog"
    description: str
    area: str
    who: str
    command: app_commands.Command | app_commands.ContextMenu


def entries(tree: app_commands.CommandTree) -> list[Entry]:
    """Every command of the tree (subcommands one by one), in area order then tree order."""
    found = list(_slash_entries(tree.get_commands(type=discord.AppCommandType.chat_input)))
    for menu in tree.get_commands(type=discord.AppCommandType.message):
        assert isinstance(menu, app_commands.ContextMenu)
        found.append(
            Entry(
                f"Apps → {menu.name}",
                str(menu.extras.get("description", "a menu on messages")),
                str(menu.extras.get("area", MORE)),
                _who(menu),
                menu,
            )
        )
    order = [*dict.fromkeys(AREAS.values()), MORE]
    return sorted(found, key=lambda e: order.index(e.area) if e.area in order else len(order))


def _slash_entries(commands: Iterable[object]) -> Iterator[Entry]:
    for command in commands:
        if isinstance(command, app_commands.Group):
            yield from _slash_entries(command.commands)
        elif isinstance(command, app_commands.Command):
            yield Entry(
                f"/{command.qualified_name}",
                command.description,
                _area(command),
                _who(command),
                command,
            )


def _area(command: app_commands.Command) -> str:
    cog = command.binding
    return AREAS.get(type(cog).__name__, MORE) if cog is not None else MORE


def _who(command: app_commands.Command | app_commands.ContextMenu) -> str:
    """Who may use it: the command's own word for it, else its Discord default permissions."""
    said = command.extras.get(WHO)
    if said:
        return str(said)
    permissions = command.default_permissions
    parent = getattr(command, "parent", None)
    while permissions is None and parent is not None:
        permissions, parent = parent.default_permissions, parent.parent
    if permissions is None or permissions.value == 0:
        return EVERYONE
    return permission_labels([name for name, on in permissions if on])


def needs_permissions(**permissions: bool) -> Callable[[T], T]:
    """Above `@app_commands.command`: only members with these permissions may run it (checked
    at each use), and /help says so."""

    def decorate(command: T) -> T:
        command.extras[WHO] = permission_labels([n for n, on in permissions.items() if on])
        return app_commands.checks.has_permissions(**permissions)(command)

    return decorate


def overview(tree: app_commands.CommandTree) -> discord.Embed:
    embed = discord.Embed(
        title="Reviewbridge commands",
        description=(
            "Type `/` and pick one, or see one in detail with `/help command:`. "
            "*In italics:* who may use it, when not everyone."
        ),
        colour=discord.Colour.blurple(),
    )
    by_area: dict[str, list[str]] = {}
    for entry in entries(tree):
        line = f"`{entry.name}` {excerpt(entry.description, 90)}"
        if entry.who != EVERYONE:
            line += f" · *{entry.who}*"
        by_area.setdefault(entry.area, []).append(line)
    for area, lines in by_area.items():
        for number, value in enumerate(_fields(lines)):
            embed.add_field(
                name=area if number == 0 else f"{area} (more)", value=value, inline=False
            )
    return embed


def _fields(lines: list[str]) -> Iterator[str]:
    """The lines as field values within Discord's limit, split between lines."""
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > FIELD_LIMIT:
            yield "\n".join(chunk)
            chunk = []
        chunk.append(line[:FIELD_LIMIT])
    if chunk:
        yield "\n".join(chunk)


def find(tree: app_commands.CommandTree, asked: str) -> Entry | None:
    """The command a member asked about: "review search", "/review search" or a menu's name."""
    wanted = " ".join(asked.strip().lstrip("/").casefold().split())
    for entry in entries(tree):
        names = {entry.name.lstrip("/").casefold(), entry.command.name.casefold()}
        if wanted in names:
            return entry
    return None


def choices(tree: app_commands.CommandTree, typed: str, limit: int = 25) -> list[str]:
    """Command names containing what was typed, for autocomplete."""
    wanted = typed.strip().lstrip("/").casefold()
    names = [e.name.lstrip("/") for e in entries(tree) if not e.name.startswith("Apps")]
    return [n for n in names if wanted in n.casefold()][:limit]


def detail(entry: Entry) -> discord.Embed:
    embed = discord.Embed(
        title=entry.name, description=entry.description, colour=discord.Colour.blurple()
    )
    embed.add_field(name="Area", value=entry.area)
    embed.add_field(name="Who may use it", value=entry.who)
    command = entry.command
    if isinstance(command, app_commands.Command) and command.parameters:
        lines = [
            f"`{p.display_name}`{'' if p.required else ' (optional)'}: "
            f"{excerpt(p.description, 150)}"
            for p in command.parameters
        ]
        embed.add_field(name="Options", value="\n".join(lines)[:FIELD_LIMIT], inline=False)
    return embed
