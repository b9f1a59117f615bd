"""REST API v10 handlers for the bot: users, commands, guilds, channels, messages,
reactions and threads. Webhooks and interactions live in ``rest_webhooks``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import web

from .errors import DiscordHTTPError, FormErrors, missing_access, missing_permissions, unknown
from .http import API_PREFIX, bearer_token, json_response, no_content, read_body, read_json_list
from .messages import Author
from .models import (
    AppCommand,
    Application,
    Channel,
    ChannelType,
    Guild,
    Message,
    utcnow,
)
from .permissions import Permission
from .validation import check_command, check_commands, check_persona_name

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

MAX_WEBHOOKS_PER_CHANNEL = 15


class RestApi:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.state = emu.state
        self.ops = emu.ops

    def register(self, router: web.UrlDispatcher) -> None:
        r = self._route
        r(router, "GET", "/users/@me", self.get_me)
        r(router, "POST", "/users/@me/channels", self.create_dm)
        r(router, "GET", "/users/{user_id}", self.get_user)
        r(router, "GET", "/oauth2/applications/@me", self.get_application)
        r(router, "GET", "/applications/@me", self.get_application)
        r(router, "GET", "/gateway", self.get_gateway)
        r(router, "GET", "/gateway/bot", self.get_gateway_bot)
        for scope in (
            "/applications/{application_id}",
            "/applications/{application_id}/guilds/{guild_id}",
        ):
            r(router, "GET", f"{scope}/commands", self.list_commands)
            r(router, "PUT", f"{scope}/commands", self.overwrite_commands)
            r(router, "POST", f"{scope}/commands", self.create_command)
            r(router, "GET", f"{scope}/commands/{{command_id}}", self.get_command)
            r(router, "PATCH", f"{scope}/commands/{{command_id}}", self.edit_command)
            r(router, "DELETE", f"{scope}/commands/{{command_id}}", self.delete_command)
        r(router, "GET", "/guilds/{guild_id}", self.get_guild)
        r(router, "GET", "/guilds/{guild_id}/channels", self.get_guild_channels)
        r(router, "GET", "/guilds/{guild_id}/roles", self.get_roles)
        r(router, "GET", "/guilds/{guild_id}/members", self.list_members)
        r(router, "GET", "/guilds/{guild_id}/members/{user_id}", self.get_member)
        r(router, "GET", "/guilds/{guild_id}/threads/active", self.active_threads)
        r(router, "GET", "/guilds/{guild_id}/webhooks", self.guild_webhooks)
        ch = "/channels/{channel_id}"
        r(router, "GET", ch, self.get_channel)
        r(router, "PATCH", ch, self.edit_channel)
        r(router, "DELETE", ch, self.delete_channel)
        r(router, "POST", f"{ch}/typing", self.typing)
        r(router, "GET", f"{ch}/messages/pins", self.list_pins)
        r(router, "PUT", f"{ch}/messages/pins/{{message_id}}", self.pin)
        r(router, "DELETE", f"{ch}/messages/pins/{{message_id}}", self.unpin)
        r(router, "POST", f"{ch}/messages/bulk-delete", self.bulk_delete)
        r(router, "GET", f"{ch}/messages", self.history)
        r(router, "POST", f"{ch}/messages", self.create_message)
        msg = f"{ch}/messages/{{message_id}}"
        r(router, "GET", msg, self.get_message)
        r(router, "PATCH", msg, self.edit_message)
        r(router, "DELETE", msg, self.delete_message)
        r(router, "PUT", f"{msg}/reactions/{{emoji}}/@me", self.add_reaction)
        r(router, "DELETE", f"{msg}/reactions/{{emoji}}/@me", self.remove_own_reaction)
        r(router, "DELETE", f"{msg}/reactions/{{emoji}}/{{user_id}}", self.remove_user_reaction)
        r(router, "GET", f"{msg}/reactions/{{emoji}}", self.list_reactions)
        r(router, "DELETE", f"{msg}/reactions", self.clear_reactions)
        r(router, "POST", f"{msg}/threads", self.thread_from_message)
        r(router, "POST", f"{ch}/threads", self.create_thread)
        r(router, "GET", f"{ch}/threads/archived/public", self.archived_threads)
        r(router, "PUT", f"{ch}/thread-members/@me", self.join_thread)
        r(router, "DELETE", f"{ch}/thread-members/@me", self.leave_thread)
        r(router, "GET", f"{ch}/thread-members", self.thread_members)
        r(router, "GET", f"{ch}/webhooks", self.channel_webhooks)
        r(router, "POST", f"{ch}/webhooks", self.create_webhook)
        router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self.attachment)

    @staticmethod
    def _route(router: web.UrlDispatcher, method: str, path: str, handler: Any) -> None:
        router.add_route(method, API_PREFIX + path, handler)

    # ----- helpers -----
    def app(self, request: web.Request) -> Application:
        # The middleware has already rejected unknown tokens.
        app = self.state.app_for_token(bearer_token(request))
        assert app is not None
        return app

    def channel(self, request: web.Request) -> Channel:
        channel = self.state.channel(request.match_info["channel_id"])
        app = self.app(request)
        if channel.guild_id is None:
            if app.bot.id not in channel.recipient_ids:
                raise missing_access()
        elif app.id not in self.state.guilds[channel.guild_id].installed_apps:
            raise unknown("Channel")
        return channel

    def message_of(self, request: web.Request, channel: Channel) -> Message:
        message = self.state.message(channel, request.match_info["message_id"])
        if message.ephemeral:
            raise unknown("Message")
        return message

    def render(self, request: web.Request, message: Message) -> dict[str, Any]:
        return self.state.message_payload(message, viewer=self.app(request))

    def guild_for(self, request: web.Request) -> Guild:
        guild = self.state.guild(request.match_info["guild_id"])
        if self.app(request).id not in guild.installed_apps:
            raise missing_access()
        return guild

    # ----- users, application, gateway -----
    async def get_me(self, request: web.Request) -> web.Response:
        user = self.state.user_payload(self.app(request).bot)
        return json_response(
            user | {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}
        )

    async def get_user(self, request: web.Request) -> web.Response:
        try:
            user = self.state.users[int(request.match_info["user_id"])]
        except (KeyError, ValueError):
            raise unknown("User") from None
        return json_response(self.state.user_payload(user))

    async def create_dm(self, request: web.Request) -> web.Response:
        body, _ = await read_body(request)
        try:
            user = self.state.users[int(body.get("recipient_id") or 0)]
        except (KeyError, ValueError):
            raise unknown("User") from None
        channel = self.emu.dm_channel(user, self.app(request))
        return json_response(
            self.state.channel_payload(channel, viewer_id=self.app(request).bot.id)
        )

    async def get_application(self, request: web.Request) -> web.Response:
        return json_response(self.state.application_payload(self.app(request)))

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.emu.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "url": self.emu.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    # ----- application commands -----
    def _command_scope(self, request: web.Request) -> tuple[Application, int | None]:
        app = self.app(request)
        if request.match_info["application_id"] != str(app.id):
            raise DiscordHTTPError(
                403, 20012, "You are not authorized to perform this action on this application"
            )
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return app, None
        self.guild_for(request)
        return app, int(guild_id)

    def _scoped_commands(self, app: Application, guild_id: int | None) -> list[AppCommand]:
        return [
            c
            for c in self.state.commands.values()
            if c.application_id == app.id and c.guild_id == guild_id
        ]

    def _command(self, request: web.Request) -> AppCommand:
        app, guild_id = self._command_scope(request)
        try:
            command = self.state.commands[int(request.match_info["command_id"])]
        except (KeyError, ValueError):
            raise unknown("application command") from None
        if command.application_id != app.id or command.guild_id != guild_id:
            raise unknown("application command")
        return command

    async def list_commands(self, request: web.Request) -> web.Response:
        app, guild_id = self._command_scope(request)
        return json_response(
            [self.state.command_payload(c) for c in self._scoped_commands(app, guild_id)]
        )

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        app, guild_id = self._command_scope(request)
        body = await read_json_list(request)
        check_commands(body)
        scope = (app.id, guild_id)
        self.state.command_overwrites[scope] = self.state.command_overwrites.get(scope, 0) + 1
        existing = {(c.type, c.name): c for c in self._scoped_commands(app, guild_id)}
        result = []
        for data in body:
            # Overwrites keep the id of a command with the same type and name, like Discord.
            old = existing.pop((int(data.get("type") or 1), data["name"]), None)
            result.append(self._store_command(app, guild_id, data, old))
        for stale in existing.values():
            del self.state.commands[stale.id]
        return json_response([self.state.command_payload(c) for c in result])

    async def create_command(self, request: web.Request) -> web.Response:
        app, guild_id = self._command_scope(request)
        body, _ = await read_body(request)
        check_command(body)
        old = next(
            (
                c
                for c in self._scoped_commands(app, guild_id)
                if c.name == body["name"] and c.type == int(body.get("type") or 1)
            ),
            None,
        )
        command = self._store_command(app, guild_id, body, old)
        return json_response(self.state.command_payload(command), 200 if old else 201)

    async def get_command(self, request: web.Request) -> web.Response:
        return json_response(self.state.command_payload(self._command(request)))

    async def edit_command(self, request: web.Request) -> web.Response:
        command = self._command(request)
        body, _ = await read_body(request)
        check_command(body | {"type": command.type}, partial=True)
        merged = self.state.command_payload(command) | body
        app = self.state.applications[command.application_id]
        updated = self._store_command(app, command.guild_id, merged, command)
        return json_response(self.state.command_payload(updated))

    async def delete_command(self, request: web.Request) -> web.Response:
        command = self._command(request)
        del self.state.commands[command.id]
        return no_content()

    def _store_command(
        self, app: Application, guild_id: int | None, data: dict[str, Any], old: AppCommand | None
    ) -> AppCommand:
        perms = data.get("default_member_permissions")
        command = AppCommand(
            id=old.id if old else self.state.ids.next(),
            application_id=app.id,
            guild_id=guild_id,
            name=data["name"],
            type=int(data.get("type") or 1),
            description=data.get("description") or "",
            options=_normalise_options(data.get("options") or []),
            default_member_permissions=None if perms is None else str(perms),
            dm_permission=bool(data.get("dm_permission", True)),
            nsfw=bool(data.get("nsfw", False)),
            contexts=data.get("contexts"),
            integration_types=data.get("integration_types") or [0],
            name_localizations=data.get("name_localizations"),
            description_localizations=data.get("description_localizations"),
            version=self.state.ids.next(),
        )
        self.state.commands[command.id] = command
        return command

    # ----- guilds -----
    async def get_guild(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        payload = self.state.guild_payload(guild)
        if request.query.get("with_counts") in ("true", "1"):
            payload.update(
                approximate_member_count=len(guild.members), approximate_presence_count=0
            )
        return json_response(payload)

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        bot_id = self.app(request).bot.id
        return json_response(
            [
                self.state.channel_payload(c, viewer_id=bot_id)
                for c in self.state.guild_channels(guild)
                if self.state.permissions(guild, bot_id, c) & Permission.VIEW_CHANNEL
            ]
        )

    async def get_roles(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        return json_response([self.state.role_payload(r) for r in guild.roles.values()])

    async def list_members(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        # Listing members needs the privileged GUILD_MEMBERS intent to be enabled.
        if "members" not in self.app(request).privileged_intents:
            raise missing_access()
        limit = _int_param(request, "limit", 1, 1, 1000)
        after = _int_param(request, "after", 0, 0, None)
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return json_response([self.state.member_payload(m) for m in members[:limit]])

    async def get_member(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        member = self.state.member(guild, request.match_info["user_id"])
        return json_response(self.state.member_payload(member))

    async def active_threads(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        bot_id = self.app(request).bot.id
        threads = [
            t
            for t in self.state.guild_threads(guild)
            if not t.archived and self.state.permissions(guild, bot_id, t) & Permission.VIEW_CHANNEL
        ]
        return json_response(
            {
                "threads": [self.state.channel_payload(t) for t in threads],
                "members": [
                    self.state.thread_member_payload(t, bot_id)
                    for t in threads
                    if bot_id in t.member_ids
                ],
            }
        )

    async def guild_webhooks(self, request: web.Request) -> web.Response:
        guild = self.guild_for(request)
        bot_id = self.app(request).bot.id
        if not self.state.permissions(guild, bot_id) & Permission.MANAGE_WEBHOOKS:
            raise missing_permissions()
        return json_response(
            [
                self.state.webhook_payload(w)
                for w in self.state.webhooks.values()
                if w.guild_id == guild.id
            ]
        )

    # ----- channels -----
    async def get_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot_id = self.app(request).bot.id
        self.state.require(bot_id, channel)
        return json_response(self.state.channel_payload(channel, viewer_id=bot_id))

    async def edit_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot_id = self.app(request).bot.id
        body, _ = await read_body(request)
        if channel.is_thread:
            self.ops.update_thread(channel, bot_id, body)
        else:
            self.state.require(bot_id, channel, Permission.MANAGE_CHANNELS)
            errors = FormErrors()
            if "name" in body:
                errors.bad_length(("name",), str(body["name"] or ""), 1, 100)
            if body.get("topic") is not None:
                errors.max_length(
                    ("topic",), str(body["topic"]), 4096 if channel.is_forum else 1024
                )
            errors.raise_if_any()
            for key in ("name", "topic", "nsfw", "rate_limit_per_user"):
                if key in body:
                    setattr(channel, key, body[key])
            self.emu.events.channel_event("CHANNEL_UPDATE", channel)
        return json_response(self.state.channel_payload(channel, viewer_id=bot_id))

    async def delete_channel(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot_id = self.app(request).bot.id
        needed = Permission.MANAGE_THREADS if channel.is_thread else Permission.MANAGE_CHANNELS
        self.state.require(bot_id, channel, needed)
        payload = self.state.channel_payload(channel, viewer_id=bot_id)
        self.ops.delete_channel(channel)
        return json_response(payload)

    async def typing(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.ops.send_permissions(self.app(request).bot.id, channel)
        return no_content()

    # ----- messages -----
    async def create_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot = self.app(request).bot
        perms = self.ops.send_permissions(bot.id, channel)
        body, files = await read_body(request)
        message = self.ops.send_message(channel, Author(bot, perms), body, files)
        return json_response(self.render(request, message))

    async def get_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.READ_MESSAGE_HISTORY)
        return json_response(self.render(request, self.message_of(request, channel)))

    async def history(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.READ_MESSAGE_HISTORY)
        limit = _int_param(request, "limit", 50, 1, 100)
        messages = self.state.visible_messages(channel)  # ascending by id
        if "around" in request.query:
            around = _int_param(request, "around", 0, 0, None)
            older = [m for m in messages if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in messages if m.id >= around][: limit - len(older)]
            selected = older + newer
        elif "after" in request.query:
            after = _int_param(request, "after", 0, 0, None)
            selected = [m for m in messages if m.id > after][:limit]
        else:
            before = _int_param(request, "before", 0, 0, None)
            selected = [m for m in messages if not before or m.id < before][-limit:]
        # Discord answers newest first whatever the direction.
        return json_response([self.render(request, m) for m in reversed(selected)])

    async def edit_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot = self.app(request).bot
        message = self.message_of(request, channel)
        body, files = await read_body(request)
        perms = self.state.require(bot.id, channel)
        # Others' messages only allow toggling SUPPRESS_EMBEDS, with MANAGE_MESSAGES.
        if message.author.id != bot.id and (
            set(body) - {"flags"} or not perms & Permission.MANAGE_MESSAGES
        ):
            raise DiscordHTTPError(403, 50005, "Cannot edit a message authored by another user")
        self.ops.edit_message(message, body, files, permissions=perms)
        return json_response(self.render(request, message))

    async def delete_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot = self.app(request).bot
        message = self.message_of(request, channel)
        if message.author.id != bot.id:
            self.state.require(bot.id, channel, Permission.MANAGE_MESSAGES)
        self.ops.delete_messages(channel, [message])
        return no_content()

    async def bulk_delete(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.MANAGE_MESSAGES)
        body, _ = await read_body(request)
        ids = body.get("messages")
        errors = FormErrors()
        if ids is None:
            errors.required(("messages",))
        else:
            errors.bad_length(("messages",), ids, 2, 100)
        errors.raise_if_any()
        stored = self.state.messages.get(channel.id, {})
        found = [stored[int(i)] for i in ids if int(i) in stored]
        self.ops.delete_messages(channel, found)
        return no_content()

    async def list_pins(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.READ_MESSAGE_HISTORY)
        pinned = [m for m in reversed(self.state.visible_messages(channel)) if m.pinned]
        return json_response(
            {
                "items": [
                    {"pinned_at": m.timestamp.isoformat(), "message": self.render(request, m)}
                    for m in pinned
                ],
                "has_more": False,
            }
        )

    async def pin(self, request: web.Request) -> web.Response:
        return await self._set_pinned(request, pinned=True)

    async def unpin(self, request: web.Request) -> web.Response:
        return await self._set_pinned(request, pinned=False)

    async def _set_pinned(self, request: web.Request, *, pinned: bool) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.MANAGE_MESSAGES)
        message = self.message_of(request, channel)
        message.pinned = pinned
        self.emu.events.message_update(message)
        return no_content()

    # ----- reactions -----
    def _emoji(self, request: web.Request) -> str:
        emoji = unquote(request.match_info["emoji"])
        if ":" in emoji:
            # The emulator has no custom emojis, so any "name:id" is unknown, as on Discord.
            raise unknown("Emoji")
        if not emoji:
            raise unknown("Emoji")
        return emoji

    async def add_reaction(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        emoji = self._emoji(request)
        bot = self.app(request).bot
        self.ops.reaction_permissions(bot.id, message, emoji)
        self.ops.add_reaction(message, bot, emoji)
        return no_content()

    async def remove_own_reaction(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        self.ops.remove_reaction(message, self.app(request).bot.id, self._emoji(request))
        return no_content()

    async def remove_user_reaction(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        bot_id = self.app(request).bot.id
        user_id = int(request.match_info["user_id"])
        if user_id != bot_id:
            self.state.require(bot_id, channel, Permission.MANAGE_MESSAGES)
        self.ops.remove_reaction(message, user_id, self._emoji(request))
        return no_content()

    async def clear_reactions(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        self.state.require(self.app(request).bot.id, channel, Permission.MANAGE_MESSAGES)
        for emoji, users in list(message.reactions.items()):
            for user_id in list(users):
                self.ops.remove_reaction(message, user_id, emoji)
        return no_content()

    async def list_reactions(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        limit = _int_param(request, "limit", 25, 1, 100)
        after = _int_param(request, "after", 0, 0, None)
        users = sorted(u for u in message.reactions.get(self._emoji(request), []) if u > after)
        return json_response([self.state.user_payload(self.state.users[u]) for u in users[:limit]])

    # ----- threads -----
    async def thread_from_message(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        message = self.message_of(request, channel)
        body, _ = await read_body(request)
        bot = self.app(request).bot
        thread, _ = self.ops.create_thread(channel, bot, body, from_message=message)
        return json_response(self.state.channel_payload(thread, viewer_id=bot.id), 201)

    async def create_thread(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        body, files = await read_body(request)
        bot = self.app(request).bot
        thread, starter = self.ops.create_thread(channel, bot, body, files=files)
        payload = self.state.channel_payload(thread, viewer_id=bot.id)
        if starter is not None:
            payload["message"] = self.render(request, starter)
        return json_response(payload, 201)

    async def archived_threads(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot_id = self.app(request).bot.id
        self.state.require(bot_id, channel, Permission.READ_MESSAGE_HISTORY)
        limit = _int_param(request, "limit", 50, 1, 100)
        threads = sorted(
            (
                t
                for t in self.state.channels.values()
                if t.parent_id == channel.id and t.archived and t.type != ChannelType.PRIVATE_THREAD
            ),
            key=lambda t: t.archive_timestamp or utcnow(),
            reverse=True,
        )
        before = request.query.get("before")
        if before:
            threads = [t for t in threads if (t.archive_timestamp or utcnow()).isoformat() < before]
        return json_response(
            {
                "threads": [self.state.channel_payload(t) for t in threads[:limit]],
                "members": [
                    self.state.thread_member_payload(t, bot_id)
                    for t in threads[:limit]
                    if bot_id in t.member_ids
                ],
                "has_more": len(threads) > limit,
            }
        )

    async def join_thread(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        bot = self.app(request).bot
        self.state.require(bot.id, channel)
        self.ops.join_thread(channel, bot)
        return no_content()

    async def leave_thread(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.ops.leave_thread(channel, self.app(request).bot)
        return no_content()

    async def thread_members(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        return json_response(
            [self.state.thread_member_payload(channel, u) for u in channel.member_ids]
        )

    # ----- webhooks (management) -----
    async def channel_webhooks(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        self.state.require(self.app(request).bot.id, channel, Permission.MANAGE_WEBHOOKS)
        return json_response([self.state.webhook_payload(w) for w in self.emu.webhooks_in(channel)])

    async def create_webhook(self, request: web.Request) -> web.Response:
        channel = self.channel(request)
        app = self.app(request)
        self.state.require(app.bot.id, channel, Permission.MANAGE_WEBHOOKS)
        if channel.is_thread or channel.type not in (
            ChannelType.GUILD_TEXT,
            ChannelType.GUILD_ANNOUNCEMENT,
            ChannelType.GUILD_FORUM,
            ChannelType.GUILD_MEDIA,
            ChannelType.GUILD_VOICE,
        ):
            raise DiscordHTTPError(400, 50024, "Cannot execute action on this channel type")
        body, _ = await read_body(request)
        errors = FormErrors()
        name = body.get("name")
        if name is None:
            errors.required(("name",))
        else:
            check_persona_name(errors, ("name",), str(name))
        errors.raise_if_any()
        if len(self.emu.webhooks_in(channel)) >= MAX_WEBHOOKS_PER_CHANNEL:
            raise DiscordHTTPError(400, 30007, "Maximum number of webhooks reached (15)")
        webhook = self.emu.add_webhook(
            channel, str(name), creator=app.bot, application=app, avatar=body.get("avatar")
        )
        return json_response(self.state.webhook_payload(webhook))

    # ----- attachments (served like the CDN) -----
    async def attachment(self, request: web.Request) -> web.Response:
        try:
            attachment = self.state.attachments[int(request.match_info["attachment_id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound() from None
        return web.Response(
            body=attachment.data,
            content_type=attachment.content_type or "application/octet-stream",
        )


def _int_param(request: web.Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise DiscordHTTPError(
            400,
            50035,
            "Invalid Form Body",
            {
                name: {
                    "_errors": [
                        {"code": "NUMBER_TYPE_COERCE", "message": f'Value "{raw}" is not int.'}
                    ]
                }
            },
        ) from None
    if value < low or (high is not None and value > high):
        raise DiscordHTTPError(
            400,
            50035,
            "Invalid Form Body",
            {
                name: {
                    "_errors": [
                        {
                            "code": "NUMBER_TYPE_MAX"
                            if high is not None and value > high
                            else "NUMBER_TYPE_MIN",
                            "message": f"int value should be between {low} and {high}.",
                        }
                    ]
                }
            },
        )
    return value


def _normalise_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Discord echoes options without null keys and with ``required`` only when true."""
    result = []
    for option in options:
        clean = {k: v for k, v in option.items() if v is not None}
        if not clean.get("required"):
            clean.pop("required", None)
        if clean.get("options"):
            clean["options"] = _normalise_options(clean["options"])
        result.append(clean)
    return result
