"""Gateway events the emulator emits, each to the bots that would receive it on Discord."""

from __future__ import annotations

from typing import Any

from .gateway import GatewayHub, GatewaySession, Intent
from .models import Application, Channel, Guild, Message
from .permissions import Permission
from .state import EmulatorState, emoji_payload


class Events:
    def __init__(self, state: EmulatorState, hub: GatewayHub) -> None:
        self.state = state
        self.hub = hub

    def viewers(self, channel: Channel) -> set[int]:
        """Ids of apps whose bot can see ``channel``."""
        if channel.guild_id is None:
            return {
                app.id
                for app in self.state.applications.values()
                if app.bot.id in channel.recipient_ids
            }
        guild = self.state.guilds[channel.guild_id]
        return {
            app_id
            for app_id, bot_id in guild.installed_apps.items()
            if self.state.permissions(guild, bot_id, channel) & Permission.VIEW_CHANNEL
        }

    def _message_intent(self, channel: Channel) -> int:
        return Intent.GUILD_MESSAGES if channel.guild_id else Intent.DIRECT_MESSAGES

    def _render_message(self, message: Message) -> Any:
        def render(session: GatewaySession) -> dict[str, Any]:
            return self.state.message_payload(
                message, viewer=session.app, content_intent=session.message_content
            )

        return render

    def message_create(self, message: Message) -> None:
        if message.ephemeral:
            return
        channel = self.state.channels[message.channel_id]
        self.hub.dispatch(
            "MESSAGE_CREATE",
            self._render_message(message),
            app_ids=self.viewers(channel),
            intent=self._message_intent(channel),
        )

    def message_update(self, message: Message) -> None:
        if message.ephemeral:
            return
        channel = self.state.channels[message.channel_id]
        self.hub.dispatch(
            "MESSAGE_UPDATE",
            self._render_message(message),
            app_ids=self.viewers(channel),
            intent=self._message_intent(channel),
        )

    def message_delete(self, channel: Channel, message_ids: list[int]) -> None:
        base: dict[str, Any] = {"channel_id": str(channel.id)}
        if channel.guild_id:
            base["guild_id"] = str(channel.guild_id)
        if len(message_ids) == 1:
            event, data = "MESSAGE_DELETE", base | {"id": str(message_ids[0])}
        else:
            event, data = "MESSAGE_DELETE_BULK", base | {"ids": [str(i) for i in message_ids]}
        self.hub.dispatch(
            event,
            lambda s: data,
            app_ids=self.viewers(channel),
            intent=self._message_intent(channel),
        )

    def reaction(self, event: str, message: Message, user_id: int, emoji_key: str) -> None:
        channel = self.state.channels[message.channel_id]
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel.id),
            "message_id": str(message.id),
            "emoji": emoji_payload(emoji_key),
            "burst": False,
            "type": 0,
        }
        if channel.guild_id:
            guild = self.state.guilds[channel.guild_id]
            data["guild_id"] = str(guild.id)
            if event == "MESSAGE_REACTION_ADD":
                data["message_author_id"] = str(message.author.id)
                if user_id in guild.members:
                    data["member"] = self.state.member_payload(guild.members[user_id])
        intent = (
            Intent.GUILD_MESSAGE_REACTIONS if channel.guild_id else Intent.DIRECT_MESSAGE_REACTIONS
        )
        self.hub.dispatch(event, lambda s: data, app_ids=self.viewers(channel), intent=intent)

    def channel_event(self, event: str, channel: Channel, *, newly_created: bool = False) -> None:
        """CHANNEL_* or THREAD_* (create/update) as each viewing bot sees the channel."""

        def render(session: GatewaySession) -> dict[str, Any]:
            payload = self.state.channel_payload(channel, viewer_id=session.app.bot.id)
            if newly_created and channel.is_thread:
                payload["newly_created"] = True
            return payload

        self.hub.dispatch(event, render, app_ids=self.viewers(channel), intent=Intent.GUILDS)

    def channel_delete(self, channel: Channel, viewers: set[int]) -> None:
        """``viewers`` is computed before deletion, when permissions could still be resolved."""
        if channel.is_thread:
            event = "THREAD_DELETE"
            data = {
                "id": str(channel.id),
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "type": int(channel.type),
            }
        else:
            event, data = "CHANNEL_DELETE", self.state.channel_payload(channel)
        self.hub.dispatch(event, lambda s: data, app_ids=viewers, intent=Intent.GUILDS)

    def thread_members_update(
        self, thread: Channel, added: int | None, removed: int | None
    ) -> None:
        data: dict[str, Any] = {
            "id": str(thread.id),
            "guild_id": str(thread.guild_id),
            "member_count": min(len(thread.member_ids), 50),
        }
        if added is not None:
            data["added_members"] = [self.state.thread_member_payload(thread, added)]
        if removed is not None:
            data["removed_member_ids"] = [str(removed)]
        self.hub.dispatch(
            "THREAD_MEMBERS_UPDATE",
            lambda s: data,
            app_ids=self.viewers(thread),
            intent=Intent.GUILD_MEMBERS,
        )

    def thread_joined(self, thread: Channel, app: Application) -> None:
        """A bot joining a thread gets THREAD_MEMBER_UPDATE for itself (no intent needed)."""
        data = self.state.thread_member_payload(thread, app.bot.id) | {
            "guild_id": str(thread.guild_id)
        }
        self.hub.dispatch("THREAD_MEMBER_UPDATE", lambda s: data, app_ids={app.id})

    def guild_create(self, guild: Guild, app: Application) -> None:
        self.hub.dispatch(
            "GUILD_CREATE",
            lambda s: self.state.guild_create_payload(
                guild, app.bot.id, members=bool(s.intents & Intent.GUILD_MEMBERS)
            ),
            app_ids={app.id},
        )

    def member_add(self, guild: Guild, user_id: int) -> None:
        data = self.state.member_payload(guild.members[user_id]) | {"guild_id": str(guild.id)}
        self.hub.dispatch(
            "GUILD_MEMBER_ADD",
            lambda s: data,
            app_ids=set(guild.installed_apps),
            intent=Intent.GUILD_MEMBERS,
        )

    def webhooks_update(self, channel: Channel) -> None:
        data = {"guild_id": str(channel.guild_id), "channel_id": str(channel.id)}
        self.hub.dispatch(
            "WEBHOOKS_UPDATE",
            lambda s: data,
            app_ids=self.viewers(channel),
            intent=Intent.GUILD_WEBHOOKS,
        )

    def interaction_create(self, app: Application, payload: dict[str, Any]) -> None:
        self.hub.dispatch(
            "INTERACTION_CREATE", lambda s: payload, app_ids={app.id}, only_latest=True
        )

    def ready_guilds(self, session: GatewaySession) -> list[tuple[str, dict[str, Any]]]:
        app = session.app
        return [
            (
                "GUILD_CREATE",
                self.state.guild_create_payload(
                    g, app.bot.id, members=bool(session.intents & Intent.GUILD_MEMBERS)
                ),
            )
            for g in self.state.guilds.values()
            if app.id in g.installed_apps
        ]
