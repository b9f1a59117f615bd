"""Everything the emulated Discord knows, with lookups, permissions and JSON rendering.

REST handlers, the gateway and the control API all go through this one object, so what a
test inspects is exactly what the bot was served.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .errors import missing_access, missing_permissions, unknown
from .models import (
    AppCommand,
    Application,
    Attachment,
    Channel,
    ChannelType,
    Guild,
    Member,
    Message,
    Role,
    SnowflakeGenerator,
    User,
    Webhook,
    iso,
    utcnow,
)
from .permissions import Permission, base_permissions, channel_permissions

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


class EmulatorState:
    def __init__(self) -> None:
        self.ids = SnowflakeGenerator()
        self.users: dict[int, User] = {}
        self.applications: dict[int, Application] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        # channel id -> message id -> message, in creation (= id) order
        self.messages: dict[int, dict[int, Message]] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.attachments: dict[int, Attachment] = {}
        self.commands: dict[int, AppCommand] = {}
        # (route key, application or guild scope) -> how many bulk overwrites were received
        self.command_overwrites: dict[tuple[int, int | None], int] = {}
        # (guild id, command name, role or user id) an admin allowed in Integrations settings
        self.command_grants: set[tuple[int, str, int]] = set()
        self.http_base = ""

    # ----- lookups that fail the way Discord does -----
    def channel(self, channel_id: int | str) -> Channel:
        try:
            return self.channels[int(channel_id)]
        except (KeyError, ValueError):
            raise unknown("Channel") from None

    def guild(self, guild_id: int | str) -> Guild:
        try:
            return self.guilds[int(guild_id)]
        except (KeyError, ValueError):
            raise unknown("Guild") from None

    def message(self, channel: Channel, message_id: int | str) -> Message:
        try:
            return self.messages[channel.id][int(message_id)]
        except (KeyError, ValueError):
            raise unknown("Message") from None

    def webhook(self, webhook_id: int | str) -> Webhook:
        try:
            return self.webhooks[int(webhook_id)]
        except (KeyError, ValueError):
            raise unknown("Webhook") from None

    def member(self, guild: Guild, user_id: int | str) -> Member:
        try:
            return guild.members[int(user_id)]
        except (KeyError, ValueError):
            raise unknown("Member") from None

    def app_for_token(self, token: str) -> Application | None:
        return next((a for a in self.applications.values() if a.token == token), None)

    def app_by_bot(self, user_id: int) -> Application | None:
        return next((a for a in self.applications.values() if a.bot.id == user_id), None)

    def parent_of(self, channel: Channel) -> Channel:
        """The channel whose overwrites apply: a thread's parent, otherwise itself."""
        if channel.is_thread and channel.parent_id is not None:
            return self.channels[channel.parent_id]
        return channel

    def store_message(self, message: Message) -> None:
        self.messages.setdefault(message.channel_id, {})[message.id] = message
        channel = self.channels.get(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
                channel.total_message_sent += 1
                message.position = channel.total_message_sent - 1

    def visible_messages(self, channel: Channel) -> list[Message]:
        return [m for m in self.messages.get(channel.id, {}).values() if not m.ephemeral]

    def everyone_permissions(self, guild: Guild, channel: Channel) -> int:
        """What @everyone may do in ``channel``: the baseline a webhook persona gets."""
        return channel_permissions(
            guild.everyone_role.permissions,
            guild_id=guild.id,
            member_id=0,
            member_role_ids=(),
            overwrites=self.parent_of(channel).overwrites,
            in_thread=channel.is_thread,
        )

    def guild_channels(self, guild: Guild) -> list[Channel]:
        return [self.channels[c] for c in guild.channel_ids if not self.channels[c].is_thread]

    def guild_threads(self, guild: Guild) -> list[Channel]:
        return [self.channels[c] for c in guild.channel_ids if self.channels[c].is_thread]

    # ----- permissions -----
    def permissions(self, guild: Guild, user_id: int, channel: Channel | None = None) -> int:
        member = guild.members.get(user_id)
        if member is None:
            return 0
        base = base_permissions(
            guild.everyone_role.permissions,
            (guild.roles[r].permissions for r in member.role_ids if r in guild.roles),
            is_owner=guild.owner_id == user_id,
        )
        if channel is None:
            return base
        source = self.parent_of(channel)
        perms = channel_permissions(
            base,
            guild_id=guild.id,
            member_id=user_id,
            member_role_ids=member.role_ids,
            overwrites=source.overwrites,
            in_thread=channel.is_thread,
        )
        # Private threads are visible only to their members and to thread managers.
        if (
            channel.type == ChannelType.PRIVATE_THREAD
            and user_id not in channel.member_ids
            and not perms & Permission.MANAGE_THREADS
        ):
            return 0
        return perms

    def require(self, user_id: int, channel: Channel, *needed: Permission) -> int:
        """Raise 50001 when the channel is invisible, 50013 when a permission is missing."""
        if channel.guild_id is None:
            if user_id not in channel.recipient_ids:
                raise missing_access()
            return int(Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES)
        perms = self.permissions(self.guilds[channel.guild_id], user_id, channel)
        if not perms & Permission.VIEW_CHANNEL:
            raise missing_access()
        for permission in needed:
            if not perms & permission:
                raise missing_permissions()
        return perms

    # ----- JSON rendering -----
    def user_payload(self, user: User) -> dict[str, Any]:
        return {
            "id": str(user.id),
            "username": user.username,
            "global_name": user.global_name,
            "discriminator": "0",
            "avatar": user.avatar,
            "bot": user.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    def member_payload(
        self, member: Member, *, with_user: bool = True, channel: Channel | None = None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "roles": [str(r) for r in member.role_ids],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(member.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user_payload(member.user)
        if channel is not None:
            guild = self.guilds[member.guild_id]
            payload["permissions"] = str(self.permissions(guild, member.id, channel))
        return payload

    def role_payload(self, role: Role) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(role.id),
            "name": role.name,
            "color": role.color,
            "colors": {
                "primary_color": role.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": role.hoist,
            "icon": None,
            "unicode_emoji": None,
            "position": role.position,
            "permissions": str(role.permissions),
            "managed": role.managed,
            "mentionable": role.mentionable,
            "flags": 0,
        }
        if role.bot_id is not None:
            payload["tags"] = {"bot_id": str(role.bot_id)}
        return payload

    def channel_payload(self, channel: Channel, *, viewer_id: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(channel.id),
            "type": int(channel.type),
            "last_message_id": _opt_str(channel.last_message_id),
            "flags": channel.flags,
        }
        if channel.type == ChannelType.DM:
            payload["recipients"] = [
                self.user_payload(self.users[u]) for u in channel.recipient_ids if u != viewer_id
            ]
            return payload
        payload.update(
            guild_id=str(channel.guild_id),
            name=channel.name,
            parent_id=_opt_str(channel.parent_id),
            rate_limit_per_user=channel.rate_limit_per_user,
            nsfw=channel.nsfw,
        )
        if channel.is_thread:
            payload.update(self._thread_fields(channel, viewer_id))
            return payload
        payload.update(
            position=channel.position,
            permission_overwrites=[o.to_payload() for o in channel.overwrites],
            topic=channel.topic,
            default_auto_archive_duration=channel.default_auto_archive_duration,
        )
        if channel.is_forum:
            payload.update(
                available_tags=[t.to_payload() for t in channel.available_tags],
                default_reaction_emoji=None,
                default_thread_rate_limit_per_user=0,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return payload

    def _thread_fields(self, thread: Channel, viewer_id: int | None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "owner_id": _opt_str(thread.owner_id),
            "message_count": thread.message_count,
            "member_count": min(len(thread.member_ids), 50),
            "total_message_sent": thread.total_message_sent,
            "applied_tags": [str(t) for t in thread.applied_tags],
            "thread_metadata": {
                "archived": thread.archived,
                "auto_archive_duration": thread.auto_archive_duration,
                "archive_timestamp": iso(thread.archive_timestamp or thread.create_timestamp),
                "locked": thread.locked,
                "invitable": thread.invitable,
                "create_timestamp": iso(thread.create_timestamp),
            },
        }
        if viewer_id is not None and viewer_id in thread.member_ids:
            fields["member"] = self.thread_member_payload(thread, viewer_id)
        return fields

    def thread_member_payload(self, thread: Channel, user_id: int) -> dict[str, Any]:
        return {
            "id": str(thread.id),
            "user_id": str(user_id),
            "join_timestamp": iso(thread.create_timestamp or utcnow()),
            "flags": 0,
        }

    def guild_payload(self, guild: Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "widget_enabled": False,
            "widget_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [self.role_payload(r) for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_presences": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": guild.preferred_locale,
            "nsfw_level": 0,
            "nsfw": False,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }

    def guild_create_payload(self, guild: Guild, bot_id: int, *, members: bool) -> dict[str, Any]:
        """GUILD_CREATE as a bot receives it; without GUILD_MEMBERS only its own member."""
        payload = self.guild_payload(guild)
        listed = guild.members.values() if members else [guild.members[bot_id]]
        payload.update(
            joined_at=iso(guild.members[bot_id].joined_at),
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            members=[self.member_payload(m) for m in listed],
            channels=[
                self.channel_payload(c, viewer_id=bot_id)
                for c in self.guild_channels(guild)
                if self.permissions(guild, bot_id, c) & Permission.VIEW_CHANNEL
            ],
            threads=[
                self.channel_payload(t, viewer_id=bot_id)
                for t in self.guild_threads(guild)
                if not t.archived and self.permissions(guild, bot_id, t) & Permission.VIEW_CHANNEL
            ],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
            embedded_activities=[],
            application_command_counts={},
            lazy=True,
        )
        return payload

    def application_payload(self, app: Application) -> dict[str, Any]:
        return {
            "id": str(app.id),
            "name": app.name,
            "icon": None,
            "description": app.description,
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(app.name.encode()).hexdigest(),
            "flags": app.flags,
            "owner": self.user_payload(app.owner),
            "team": None,
            "bot": self.user_payload(app.bot),
            "hook": True,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": sum(
                1 for g in self.guilds.values() if app.id in g.installed_apps
            ),
        }

    def webhook_payload(self, webhook: Webhook, *, with_token: bool = True) -> dict[str, Any]:
        creator = self.users.get(webhook.creator_id)
        payload: dict[str, Any] = {
            "id": str(webhook.id),
            "type": webhook.type,
            "guild_id": str(webhook.guild_id),
            "channel_id": str(webhook.channel_id),
            "name": webhook.name,
            "avatar": webhook.avatar,
            "application_id": _opt_str(webhook.application_id),
            "user": None if creator is None else self.user_payload(creator),
        }
        if with_token:
            payload["token"] = webhook.token
        return payload

    def command_payload(self, command: AppCommand) -> dict[str, Any]:
        return {
            "id": str(command.id),
            "application_id": str(command.application_id),
            "guild_id": _opt_str(command.guild_id),
            "name": command.name,
            "name_localizations": command.name_localizations,
            "description": command.description,
            "description_localizations": command.description_localizations,
            "options": command.options,
            "default_member_permissions": command.default_member_permissions,
            "dm_permission": command.dm_permission,
            "contexts": command.contexts,
            "integration_types": command.integration_types,
            "nsfw": command.nsfw,
            "type": command.type,
            "version": str(command.version),
        }

    def message_payload(
        self,
        message: Message,
        *,
        viewer: Application | None = None,
        content_intent: bool | None = None,
        with_reference: bool = True,
    ) -> dict[str, Any]:
        """Render ``message`` as ``viewer`` sees it: without the message content intent an app
        gets empty content except for its own messages, DMs and messages mentioning it.

        ``content_intent`` is the gateway session's intent; REST uses the app's approval.
        """
        if viewer is not None and content_intent is None:
            content_intent = "message_content" in viewer.privileged_intents
        redact = viewer is not None and not (
            content_intent or self.exempt_from_content_intent(viewer, message)
        )
        guild = self.guilds.get(message.guild_id) if message.guild_id else None
        author = self.user_payload(message.author)
        if message.webhook_id is not None and message.application_id is None:
            author["discriminator"] = "0000"
        payload: dict[str, Any] = {
            "id": str(message.id),
            "type": message.type,
            "channel_id": str(message.channel_id),
            "author": author,
            "content": "" if redact else message.content,
            "embeds": [] if redact else message.embeds,
            "attachments": []
            if redact
            else [self.attachment_payload(a) for a in message.attachments],
            "components": [] if redact else message.components,
            "timestamp": iso(message.timestamp),
            "edited_timestamp": iso(message.edited_timestamp),
            "tts": message.tts,
            "flags": message.flags,
            "pinned": message.pinned,
            "mention_everyone": message.pings.everyone,
            "mentions": [self._mention_payload(u, guild) for u in sorted(message.pings.users)],
            "mention_roles": [str(r) for r in sorted(message.pings.roles)],
        }
        if guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(message.author.id)
            if member is not None and message.webhook_id is None:
                payload["member"] = self.member_payload(member, with_user=False)
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
        if message.application_id is not None:
            payload["application_id"] = str(message.application_id)
        if message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.position is not None:
            payload["position"] = message.position
        if message.reactions:
            me = viewer.bot.id if viewer is not None else None
            payload["reactions"] = [
                self.reaction_payload(key, users, me) for key, users in message.reactions.items()
            ]
        if message.interaction_metadata is not None:
            payload["interaction_metadata"] = message.interaction_metadata
        if message.thread_id is not None and message.thread_id in self.channels:
            payload["thread"] = self.channel_payload(self.channels[message.thread_id])
        if message.reference is not None:
            payload["message_reference"] = {
                k: str(v) for k, v in message.reference.items() if v is not None
            } | {"type": 0}
            if with_reference:
                ref_channel = self.channels.get(int(message.reference["channel_id"]))
                referenced = (
                    None
                    if ref_channel is None
                    else self.messages.get(ref_channel.id, {}).get(
                        int(message.reference["message_id"])
                    )
                )
                payload["referenced_message"] = (
                    None
                    if referenced is None
                    else self.message_payload(
                        referenced,
                        viewer=viewer,
                        content_intent=content_intent,
                        with_reference=False,
                    )
                )
        return payload

    def exempt_from_content_intent(self, viewer: Application, message: Message) -> bool:
        return (
            message.author.id == viewer.bot.id
            or message.application_id == viewer.id
            or message.guild_id is None
            or viewer.bot.id in message.pings.users
        )

    def _mention_payload(self, user_id: int, guild: Guild | None) -> dict[str, Any]:
        payload = self.user_payload(self.users[user_id])
        if guild is not None and user_id in guild.members:
            payload["member"] = self.member_payload(guild.members[user_id], with_user=False)
        return payload

    def attachment_payload(self, attachment: Any) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(attachment.id),
            "filename": attachment.filename,
            "size": attachment.size,
            "url": attachment.url,
            "proxy_url": attachment.url,
            "content_type": attachment.content_type,
            "ephemeral": attachment.ephemeral,
        }
        if attachment.description is not None:
            payload["description"] = attachment.description
        return payload

    def reaction_payload(self, key: str, users: list[int], me: int | None) -> dict[str, Any]:
        return {
            "count": len(users),
            "count_details": {"burst": 0, "normal": len(users)},
            "me": me in users,
            "me_burst": False,
            "burst_colors": [],
            "emoji": emoji_payload(key),
        }


def emoji_payload(key: str) -> dict[str, Any]:
    if ":" in key:
        name, emoji_id = key.split(":", 1)
        return {"id": emoji_id, "name": name}
    return {"id": None, "name": key}


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)
