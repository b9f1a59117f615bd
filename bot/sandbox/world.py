"""The emulated Discord server the sandbox shows: one guild, its channels, and a few members."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import discord

from bot.discord_ui.invite import REQUIRED_PERMISSIONS
from discord_emulator import Application, Channel, DiscordEmulator, Guild, Member

GUILD_NAME = "Reviewbridge Sandbox"


@dataclass(frozen=True)
class SandboxWorld:
    emu: DiscordEmulator
    app: Application
    guild: Guild
    reviews: Channel
    general: Channel
    forum: Channel
    visitor: Member
    alex: Member
    moderator: Member


def build_world(emu: DiscordEmulator) -> SandboxWorld:
    """The guild with the bot installed with exactly the permissions its invite asks for."""
    app = emu.create_application("Reviewbridge", token=f"sandbox.{secrets.token_urlsafe(32)}")
    guild = emu.create_guild(
        GUILD_NAME, owner=emu.create_user("sam", global_name="Sam (server owner)")
    )
    reviews = emu.create_channel(guild, "reviews", topic="New reviews from the blog")
    general = emu.create_channel(guild, "general", topic="Talk about anything")
    forum = emu.create_channel(
        guild, "review-forum", type="forum", available_tags=["Film", "TV", "Books"]
    )
    moderators = emu.create_role(
        guild,
        "Moderators",
        permissions=discord.Permissions(
            manage_guild=True, manage_threads=True, manage_messages=True
        ).value,
        hoist=True,
        color=0x3BA55D,
    )
    visitor = emu.add_member(guild, emu.create_user("visitor", global_name="You (visitor)"))
    alex = emu.add_member(guild, emu.create_user("alex", global_name="Alex"))
    moderator = emu.add_member(
        guild, emu.create_user("morgan", global_name="Morgan (moderator)"), roles=[moderators]
    )
    emu.install_app(app, guild, permissions=REQUIRED_PERMISSIONS.value)
    return SandboxWorld(emu, app, guild, reviews, general, forum, visitor, alex, moderator)
