"""A local Discord for tests and ``reviewbridge sandbox``: REST API v10 and the gateway on
loopback, good enough for the unmodified discord.py client, plus a control API to act as
members and to inspect what the bot did.

Usage::

    async with DiscordEmulator(time_scale=0.01) as emu:
        app = emu.create_application("Reviewbridge", token="t0ken")
        guild = emu.create_guild("Readers")
        channel = emu.create_channel(guild, "reviews")
        alice = emu.add_member(guild, emu.create_user("alice"))
        emu.install_app(app, guild)  # the bot joins with DEFAULT_BOT_PERMISSIONS

        discord.http.Route.BASE = emu.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(emu.gateway_url)
        # ... start the bot with token "t0ken", await its readiness, then:

        result = await emu.run_command(alice, channel, "review add", {"title": "Dune"})
        reply = await result.wait_for_message()
        assert reply.ephemeral and "Dune" in reply.content
        assert emu.stats.total_429s == 0

World building: ``create_user``, ``create_application``, ``create_guild``, ``create_role``,
``set_role_permissions``, ``create_channel``, ``set_overwrite``, ``add_member``,
``install_app``, ``add_webhook``, ``dm_channel``.
Acting as a member: ``post_message``, ``edit_message``, ``delete_message``, ``add_reaction``,
``remove_reaction``, ``start_thread``, ``update_thread``, ``run_command``,
``run_message_command`` (a message context menu on a message), ``autocomplete``,
``click_button``, ``choose_select``, ``submit_modal`` (the last four return
``InteractionResult`` with ``wait_for_response/message/followups/edit`` and ``final_message``).
Inspection: ``messages_in``, ``threads_in``, ``commands``, ``command_overwrites``,
``webhooks_in``, ``stats`` (requests and 429s per route), ``session``, ``interactions``,
``wait_until``, ``wait_for_message``, ``wait_for_gateway``; every message records ``pings``
(who it would notify after allowed_mentions) and ``embeds_dropped``.
Faults: ``fail_next``, ``drop_gateway``, ``send_reconnect``, ``invalidate_session``.
"""

from .emulator import DEFAULT_BOT_PERMISSIONS, DiscordEmulator
from .errors import DiscordHTTPError, EmulatorError
from .gateway import GatewaySession, Intent
from .interactions import InteractionResult, ResponseType
from .messages import UploadedFile
from .models import (
    AppCommand,
    Application,
    Attachment,
    Channel,
    ChannelType,
    ForumTag,
    Guild,
    Member,
    Message,
    MessageFlag,
    Pings,
    Role,
    User,
    Webhook,
)
from .permissions import Overwrite, Permission
from .ratelimit import RateLimitStats, RouteLimit, SharedLimit

__all__ = [
    "DEFAULT_BOT_PERMISSIONS",
    "AppCommand",
    "Application",
    "Attachment",
    "Channel",
    "ChannelType",
    "DiscordEmulator",
    "DiscordHTTPError",
    "EmulatorError",
    "ForumTag",
    "GatewaySession",
    "Guild",
    "Intent",
    "InteractionResult",
    "Member",
    "Message",
    "MessageFlag",
    "Overwrite",
    "Permission",
    "Pings",
    "RateLimitStats",
    "ResponseType",
    "Role",
    "RouteLimit",
    "SharedLimit",
    "UploadedFile",
    "User",
    "Webhook",
]
