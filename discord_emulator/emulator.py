"""The emulator: an aiohttp server on loopback plus the control API tests drive it with."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from aiohttp import web

from .errors import DiscordHTTPError, EmulatorError
from .events import Events
from .gateway import GatewayHub, GatewaySession, Intent, Op
from .http import API_PREFIX, make_middleware
from .interactions import (
    CommandDataBuilder,
    Interaction,
    InteractionResult,
    InteractionType,
    interaction_payload,
)
from .messages import Author, UploadedFile
from .models import (
    AppCommand,
    Application,
    Channel,
    ChannelType,
    ForumTag,
    Guild,
    Member,
    Message,
    Role,
    User,
    Webhook,
)
from .ops import Operations
from .permissions import DEFAULT_EVERYONE, Overwrite, Permission
from .ratelimit import GLOBAL_LIMIT, RateLimiter, RateLimitStats, RouteLimit, SharedLimit
from .rest import RestApi
from .rest_webhooks import WebhookApi
from .state import EmulatorState

# What the bot gets when a test does not say: enough to post, thread, react and use webhooks.
DEFAULT_BOT_PERMISSIONS = int(
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.EMBED_LINKS
    | Permission.ATTACH_FILES
    | Permission.READ_MESSAGE_HISTORY
    | Permission.ADD_REACTIONS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.MANAGE_THREADS
    | Permission.MANAGE_WEBHOOKS
    | Permission.MANAGE_MESSAGES
    | Permission.USE_APPLICATION_COMMANDS
)
CHANNEL_TYPES = {
    "text": ChannelType.GUILD_TEXT,
    "voice": ChannelType.GUILD_VOICE,
    "category": ChannelType.GUILD_CATEGORY,
    "announcement": ChannelType.GUILD_ANNOUNCEMENT,
    "forum": ChannelType.GUILD_FORUM,
    "media": ChannelType.GUILD_MEDIA,
}
INTERACTION_TOKEN_LIFETIME = 15 * 60.0
_COMPONENT_TYPES_WITH_VALUES = frozenset({3, 5, 6, 7, 8})


class DiscordEmulator:
    """A fake Discord (REST v10 + gateway) for the unmodified discord.py client.

    ``time_scale`` shrinks every rate-limit window and the 15-minute interaction token lifetime
    (0.01 makes them 100x shorter; headers report the scaled values). ``interaction_deadline``
    is the real-time limit, in seconds, for the first interaction callback (Discord: 3 s).
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        interaction_deadline: float = 3.0,
        heartbeat_interval: float = 41.25,
        host: str = "127.0.0.1",
        port: int = 0,
        route_limits: dict[str, RouteLimit | None] | None = None,
        shared_limits: dict[str, SharedLimit] | None = None,
        global_limit: RouteLimit | None = GLOBAL_LIMIT,
    ) -> None:
        self.state = EmulatorState()
        self.time_scale = time_scale
        self.interaction_deadline = interaction_deadline
        self.host = host
        self.port = port
        self.hub = GatewayHub(self.state, heartbeat_interval_ms=int(heartbeat_interval * 1000))
        self.events = Events(self.state, self.hub)
        self.hub.on_ready = self.events.ready_guilds
        self.ops = Operations(self.state, self.events)
        self.ratelimiter = RateLimiter(
            time_scale=time_scale,
            route_limits=route_limits,
            shared_limits=shared_limits,
            global_limit=global_limit,
        )
        self.interactions: dict[int, Interaction] = {}
        self.interaction_tokens: dict[str, Interaction] = {}
        self._faults: dict[str, list[int]] = {}
        self._stalls: dict[str, list[float]] = {}
        self._runner: web.AppRunner | None = None

    # ----- lifecycle -----
    async def start(self) -> DiscordEmulator:
        app = web.Application(middlewares=[make_middleware(self)], client_max_size=64 * 1024**2)
        RestApi(self).register(app.router)
        WebhookApi(self).register(app.router)
        app.router.add_get("/", self.hub.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.state.http_base = self.http_base
        self.hub.gateway_url = self.gateway_url
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self.hub.close_all()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def http_base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.http_base + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/"

    # ----- waiting -----
    async def notify(self) -> None:
        await self.hub.notify()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Return once ``predicate()`` holds. It is re-checked after every emulator state
        change, so it must depend on emulator state (wait for bot-side effects with the bot's
        own events instead)."""
        async with self.hub.changed:
            await asyncio.wait_for(self.hub.changed.wait_for(predicate), timeout)

    async def wait_for_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,
    ) -> Message:
        """The newest visible message in ``channel`` matching ``predicate``, once it exists."""

        def find() -> Message | None:
            for message in reversed(self.state.visible_messages(channel)):
                if predicate is None or predicate(message):
                    return message
            return None

        await self.wait_until(lambda: find() is not None, timeout)
        found = find()
        assert found is not None
        return found

    async def wait_for_gateway(self, app: Application, timeout: float = 5.0) -> GatewaySession:
        """Wait until ``app`` has a connected gateway session."""
        return await self.hub.wait_for_session(app, timeout)

    # ----- world building -----
    def create_user(
        self, username: str, *, global_name: str | None = None, bot: bool = False
    ) -> User:
        user = User(id=self.state.ids.next(), username=username, global_name=global_name, bot=bot)
        self.state.users[user.id] = user
        return user

    def create_application(
        self,
        name: str,
        token: str | None = None,
        *,
        privileged_intents: Iterable[str] = (),
        owner: User | None = None,
    ) -> Application:
        """An application with its bot user. ``privileged_intents`` are those switched on in
        the developer portal: any of "members", "presences", "message_content"."""
        intents = set(privileged_intents)
        unknown_intents = intents - {"members", "presences", "message_content"}
        if unknown_intents:
            raise EmulatorError(f"unknown privileged intents {sorted(unknown_intents)}")
        bot = self.create_user(name, bot=True)
        app = Application(
            id=self.state.ids.next(),
            name=name,
            token=token or f"emu.{secrets.token_urlsafe(24)}",
            bot=bot,
            owner=owner or self.create_user(f"{name}-owner"),
            privileged_intents=intents,
        )
        self.state.applications[app.id] = app
        return app

    def create_guild(self, name: str, *, owner: User | None = None) -> Guild:
        owner = owner or self.create_user(f"{name}-owner")
        guild = Guild(id=self.state.ids.next(), name=name, owner_id=owner.id)
        guild.roles[guild.id] = Role(
            id=guild.id, guild_id=guild.id, name="@everyone", permissions=int(DEFAULT_EVERYONE)
        )
        self.state.guilds[guild.id] = guild
        guild.members[owner.id] = Member(user=owner, guild_id=guild.id)
        return guild

    def create_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
        color: int = 0,
    ) -> Role:
        role = Role(
            id=self.state.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=int(permissions),
            position=len(guild.roles),
            mentionable=mentionable,
            hoist=hoist,
            color=color,
        )
        guild.roles[role.id] = role
        self._guild_event("GUILD_ROLE_CREATE", guild, {"role": self.state.role_payload(role)})
        return role

    def set_role_permissions(self, role: Role, permissions: int) -> None:
        role.permissions = int(permissions)
        guild = self.state.guilds[role.guild_id]
        self._guild_event("GUILD_ROLE_UPDATE", guild, {"role": self.state.role_payload(role)})

    def create_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: ChannelType | str = ChannelType.GUILD_TEXT,
        parent: Channel | None = None,
        topic: str | None = None,
        available_tags: Iterable[str | ForumTag] = (),
        require_tag: bool = False,
        overwrites: Iterable[Overwrite] = (),
    ) -> Channel:
        ctype = CHANNEL_TYPES[type] if isinstance(type, str) else ChannelType(type)
        tags = [
            t if isinstance(t, ForumTag) else ForumTag(id=self.state.ids.next(), name=t)
            for t in available_tags
        ]
        channel = Channel(
            id=self.state.ids.next(),
            type=ctype,
            guild_id=guild.id,
            name=name,
            position=len(guild.channel_ids),
            parent_id=None if parent is None else parent.id,
            topic=topic,
            available_tags=tags,
            flags=(1 << 4) if require_tag else 0,
            overwrites=list(overwrites),
        )
        self.state.channels[channel.id] = channel
        guild.channel_ids.append(channel.id)
        self.events.channel_event("CHANNEL_CREATE", channel)
        return channel

    def set_overwrite(
        self, channel: Channel, target: Role | Member | User, *, allow: int = 0, deny: int = 0
    ) -> None:
        """Replace the channel overwrite for a role or member."""
        kind = 0 if isinstance(target, Role) else 1
        channel.overwrites = [o for o in channel.overwrites if o.id != target.id]
        channel.overwrites.append(Overwrite(target.id, kind, int(allow), int(deny)))
        self.events.channel_event("CHANNEL_UPDATE", channel)

    def add_member(
        self,
        guild: Guild,
        user: User,
        *,
        roles: Iterable[Role] = (),
        nick: str | None = None,
    ) -> Member:
        member = Member(user=user, guild_id=guild.id, role_ids=[r.id for r in roles], nick=nick)
        guild.members[user.id] = member
        self.events.member_add(guild, user.id)
        return member

    def install_app(
        self, app: Application, guild: Guild, *, permissions: int = DEFAULT_BOT_PERMISSIONS
    ) -> Member:
        """Authorize the bot into ``guild`` with a managed role holding ``permissions``."""
        role = Role(
            id=self.state.ids.next(),
            guild_id=guild.id,
            name=app.name,
            permissions=int(permissions),
            position=len(guild.roles),
            managed=True,
            bot_id=app.bot.id,
        )
        guild.roles[role.id] = role
        member = Member(user=app.bot, guild_id=guild.id, role_ids=[role.id])
        guild.members[app.bot.id] = member
        guild.installed_apps[app.id] = app.bot.id
        self.events.guild_create(guild, app)
        return member

    def bot_role(self, app: Application, guild: Guild) -> Role:
        return next(r for r in guild.roles.values() if r.bot_id == app.bot.id)

    def dm_channel(self, user: User, app: Application) -> Channel:
        for channel in self.state.channels.values():
            if channel.type == ChannelType.DM and set(channel.recipient_ids) == {
                user.id,
                app.bot.id,
            }:
                return channel
        channel = Channel(
            id=self.state.ids.next(),
            type=ChannelType.DM,
            guild_id=None,
            name=None,
            recipient_ids=[user.id, app.bot.id],
        )
        self.state.channels[channel.id] = channel
        return channel

    def add_webhook(
        self,
        channel: Channel,
        name: str,
        *,
        creator: User,
        application: Application | None = None,
        avatar: str | None = None,
    ) -> Webhook:
        """A channel webhook; one made by a bot (``application`` set) is app-owned."""
        assert channel.guild_id is not None
        webhook = Webhook(
            id=self.state.ids.next(),
            token=secrets.token_urlsafe(48),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            name=name,
            creator_id=creator.id,
            application_id=None if application is None else application.id,
            avatar=avatar,
        )
        self.state.webhooks[webhook.id] = webhook
        self.events.webhooks_update(channel)
        return webhook

    def _guild_event(self, event: str, guild: Guild, data: dict[str, Any]) -> None:
        payload = data | {"guild_id": str(guild.id)}
        self.hub.dispatch(
            event, lambda s: payload, app_ids=set(guild.installed_apps), intent=Intent.GUILDS
        )

    # ----- acting as members -----
    def _as_user(self, who: Member | User) -> User:
        return who.user if isinstance(who, Member) else who

    def _guard(self, action: Callable[[], Any]) -> Any:
        """Run a member action; Discord's refusal becomes an EmulatorError for the test."""
        try:
            return action()
        except DiscordHTTPError as exc:
            raise EmulatorError(f"Discord would refuse this: {exc}") from exc

    async def post_message(
        self,
        author: Member | User,
        channel: Channel,
        content: str = "",
        *,
        reply_to: Message | None = None,
        embeds: list[dict[str, Any]] | None = None,
        files: Iterable[UploadedFile] = (),
        allowed_mentions: dict[str, Any] | None = None,
    ) -> Message:
        user = self._as_user(author)
        payload: dict[str, Any] = {"content": content}
        if embeds:
            payload["embeds"] = embeds
        if allowed_mentions is not None:
            payload["allowed_mentions"] = allowed_mentions
        if reply_to is not None:
            payload["message_reference"] = {
                "message_id": reply_to.id,
                "channel_id": reply_to.channel_id,
            }
        upload = list(files)

        def send() -> Message:
            perms = self.ops.send_permissions(user.id, channel)
            return self.ops.send_message(channel, Author(user, perms), payload, upload)

        message = self._guard(send)
        await self.notify()
        return message

    async def edit_message(self, message: Message, content: str) -> Message:
        channel = self.state.channels[message.channel_id]
        perms = (
            self.state.permissions(self.state.guilds[channel.guild_id], message.author.id, channel)
            if channel.guild_id
            else int(Permission.EMBED_LINKS)
        )
        self._guard(
            lambda: self.ops.edit_message(message, {"content": content}, [], permissions=perms)
        )
        await self.notify()
        return message

    async def delete_message(self, message: Message) -> None:
        self.ops.delete_messages(self.state.channels[message.channel_id], [message])
        await self.notify()

    async def add_reaction(self, who: Member | User, message: Message, emoji: str) -> None:
        user = self._as_user(who)

        def react() -> None:
            self.ops.reaction_permissions(user.id, message, emoji)
            self.ops.add_reaction(message, user, emoji)

        self._guard(react)
        await self.notify()

    async def remove_reaction(self, who: Member | User, message: Message, emoji: str) -> None:
        self.ops.remove_reaction(message, self._as_user(who).id, emoji)
        await self.notify()

    async def start_thread(
        self,
        who: Member | User,
        channel: Channel,
        name: str,
        *,
        message: Message | None = None,
        content: str | None = None,
        applied_tags: Iterable[ForumTag] = (),
        private: bool = False,
    ) -> Channel:
        """A member starts a thread: from ``message``, standalone, or (in a forum) a post
        whose starter message has ``content``."""
        user = self._as_user(who)
        body: dict[str, Any] = {"name": name}
        if channel.is_forum:
            body["message"] = {"content": content or ""}
            body["applied_tags"] = [t.id for t in applied_tags]
        else:
            body["type"] = int(ChannelType.PRIVATE_THREAD if private else ChannelType.PUBLIC_THREAD)
        thread, _ = self._guard(
            lambda: self.ops.create_thread(channel, user, body, from_message=message)
        )
        await self.notify()
        return thread

    async def update_thread(self, thread: Channel, **changes: Any) -> Channel:
        """Moderator-side thread change (archived=, locked=, name=), e.g. auto-archive."""
        guild = self.state.guilds[thread.guild_id or 0]
        self.ops.update_thread(thread, guild.owner_id, changes)
        await self.notify()
        return thread

    # ----- interactions -----
    def _find_command(
        self, channel: Channel, name: str, app: Application | None, ctype: int = 1
    ) -> AppCommand:
        guild_id = channel.guild_id
        apps = (
            {app.id}
            if app is not None
            else set(self.state.guilds[guild_id].installed_apps)
            if guild_id
            else set(self.state.applications)
        )
        candidates = [
            c
            for c in self.state.commands.values()
            if c.application_id in apps
            and c.name == name
            and c.type == ctype
            and c.guild_id in (guild_id, None)
        ]
        if not candidates:
            raise EmulatorError(f"no command /{name} is registered where {channel.name} is")
        # A guild command shadows a global one of the same name in the picker.
        candidates.sort(key=lambda c: c.guild_id is None)
        return candidates[0]

    def _check_can_use(self, user: User, channel: Channel, command: AppCommand) -> None:
        if channel.guild_id is None:
            return
        perms = self.state.permissions(self.state.guilds[channel.guild_id], user.id, channel)
        if not perms & Permission.USE_APPLICATION_COMMANDS:
            raise EmulatorError(f"{user.username} may not use application commands here")
        needed = command.default_member_permissions
        granted = self._command_granted(channel.guild_id, command.name, user.id)
        if needed is not None and (int(needed) & perms) != int(needed) and not granted:
            raise EmulatorError(f"/{command.name} is hidden from {user.username} (permissions)")

    def grant_command(self, guild: Guild, command_name: str, target: Role | Member | User) -> None:
        """What an admin does in Server Settings > Integrations: let a role or member use a
        command despite its default member permissions. The bot's own checks still apply."""
        self.state.command_grants.add((guild.id, command_name, target.id))

    def _command_granted(self, guild_id: int, command_name: str, user_id: int) -> bool:
        member = self.state.guilds[guild_id].members.get(user_id)
        targets = {user_id, *(member.role_ids if member else ())}
        return any((guild_id, command_name, t) in self.state.command_grants for t in targets)

    def _dispatch_interaction(
        self,
        app: Application,
        user: User,
        channel: Channel,
        itype: int,
        data: dict[str, Any],
        message: Message | None = None,
    ) -> Interaction:
        now = time.monotonic()
        interaction = Interaction(
            id=self.state.ids.next(),
            token=f"aW50ZXJhY3Rpb24.{secrets.token_urlsafe(64)}",
            type=itype,
            app=app,
            user=user,
            channel=channel,
            data=data,
            deadline=now + self.interaction_deadline,
            expires=now + INTERACTION_TOKEN_LIFETIME * self.time_scale,
            message=message,
        )
        self.interactions[interaction.id] = interaction
        self.interaction_tokens[interaction.token] = interaction
        self.events.interaction_create(app, interaction_payload(self.state, interaction))
        return interaction

    async def run_command(
        self,
        who: Member | User,
        channel: Channel,
        command: str,
        options: dict[str, Any] | None = None,
        *,
        app: Application | None = None,
    ) -> InteractionResult:
        """Invoke a slash command; ``command`` may include a subcommand path: "review add"."""
        user = self._as_user(who)
        name, *path = command.split()
        registered = self._find_command(channel, name, app)
        self._check_can_use(user, channel, registered)
        builder = CommandDataBuilder(self.state, channel, user)
        data = builder.build(registered, path, options or {})
        owner = self.state.applications[registered.application_id]
        interaction = self._dispatch_interaction(
            owner, user, channel, InteractionType.APPLICATION_COMMAND, data
        )
        await self.notify()
        return InteractionResult(self, interaction)

    async def run_message_command(
        self,
        who: Member | User,
        message: Message,
        name: str,
        *,
        app: Application | None = None,
    ) -> InteractionResult:
        """Pick a message context-menu command (type 3, "Apps > name") on ``message``. Like
        Discord, the target message is resolved in full, content included, whatever intents
        the application has."""
        user = self._as_user(who)
        channel = self.state.channels[message.channel_id]
        registered = self._find_command(channel, name, app, ctype=3)
        self._check_can_use(user, channel, registered)
        data: dict[str, Any] = {
            "id": str(registered.id),
            "name": registered.name,
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self.state.message_payload(message)}},
        }
        if registered.guild_id is not None:
            data["guild_id"] = str(registered.guild_id)
        owner = self.state.applications[registered.application_id]
        interaction = self._dispatch_interaction(
            owner, user, channel, InteractionType.APPLICATION_COMMAND, data
        )
        await self.notify()
        return InteractionResult(self, interaction)

    async def autocomplete(
        self,
        who: Member | User,
        channel: Channel,
        command: str,
        options: dict[str, Any],
        *,
        focused: str,
        app: Application | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` and return the choices the bot suggests."""
        user = self._as_user(who)
        name, *path = command.split()
        registered = self._find_command(channel, name, app)
        data = CommandDataBuilder(self.state, channel, user).build(
            registered, path, options, focused=focused
        )
        owner = self.state.applications[registered.application_id]
        interaction = self._dispatch_interaction(
            owner, user, channel, InteractionType.AUTOCOMPLETE, data
        )
        await self.notify()
        result = await InteractionResult(self, interaction).wait_for_response(timeout)
        return list(result.choices or [])

    def _component_app(self, message: Message) -> Application:
        app_id = message.application_id
        if app_id is None:
            app_id = next(
                (a.id for a in self.state.applications.values() if a.bot.id == message.author.id),
                None,
            )
        if app_id is None or app_id not in self.state.applications:
            raise EmulatorError("components of this message belong to no application")
        return self.state.applications[app_id]

    async def click_button(
        self, who: Member | User, message: Message, custom_id: str
    ) -> InteractionResult:
        component = message.find_component(custom_id)
        if component is None or component.get("type") != 2:
            raise EmulatorError(f"message {message.id} has no button {custom_id!r}")
        if component.get("disabled"):
            raise EmulatorError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": 2}
        if "id" in component:
            data["id"] = component["id"]
        return await self._component_interaction(who, message, data)

    async def choose_select(
        self, who: Member | User, message: Message, custom_id: str, values: list[Any]
    ) -> InteractionResult:
        component = message.find_component(custom_id)
        if component is None or component.get("type") not in _COMPONENT_TYPES_WITH_VALUES:
            raise EmulatorError(f"message {message.id} has no select menu {custom_id!r}")
        low = component.get("min_values", 1)
        high = component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise EmulatorError(f"select {custom_id!r} takes {low}..{high} values")
        if component["type"] == 3:
            allowed = {o["value"] for o in component.get("options", [])}
            if not set(values) <= allowed:
                raise EmulatorError(f"{set(values) - allowed} are not options of {custom_id!r}")
        data: dict[str, Any] = {
            "custom_id": custom_id,
            "component_type": component["type"],
            "values": [str(getattr(v, "id", v)) for v in values],
        }
        return await self._component_interaction(who, message, data)

    async def _component_interaction(
        self, who: Member | User, message: Message, data: dict[str, Any]
    ) -> InteractionResult:
        user = self._as_user(who)
        channel = self.state.channels[message.channel_id]
        interaction = self._dispatch_interaction(
            self._component_app(message),
            user,
            channel,
            InteractionType.MESSAGE_COMPONENT,
            data,
            message=message,
        )
        await self.notify()
        return InteractionResult(self, interaction)

    async def submit_modal(
        self, who: Member | User, shown: InteractionResult, values: dict[str, Any]
    ) -> InteractionResult:
        """Fill in the modal the bot showed in ``shown`` (custom_id -> text or list of values)."""
        modal = shown.modal
        if modal is None:
            raise EmulatorError("the bot did not answer with a modal")
        components = []
        for component in modal.get("components", []):
            if component.get("type") == 1:
                inner = [self._modal_value(c, values) for c in component.get("components", [])]
                components.append({"type": 1, "components": inner})
            elif "component" in component:
                item = {
                    "type": component["type"],
                    "component": self._modal_value(component["component"], values),
                }
                if "id" in component:
                    item["id"] = component["id"]
                components.append(item)
        origin = shown.interaction
        interaction = self._dispatch_interaction(
            origin.app,
            self._as_user(who),
            origin.channel,
            InteractionType.MODAL_SUBMIT,
            {"custom_id": modal["custom_id"], "components": components},
            message=origin.message,
        )
        await self.notify()
        return InteractionResult(self, interaction)

    @staticmethod
    def _modal_value(component: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        custom_id = component.get("custom_id")
        result: dict[str, Any] = {"type": component.get("type"), "custom_id": custom_id}
        if "id" in component:
            result["id"] = component["id"]
        value = values.get(custom_id, component.get("value") or "")
        if component.get("type") == 4:
            if component.get("required", True) and not value:
                raise EmulatorError(f"modal field {custom_id!r} is required")
            result["value"] = str(value)
        else:
            result["values"] = [str(v) for v in (value or [])]
        return result

    # ----- inspection -----
    def messages_in(self, channel: Channel, *, include_ephemeral: bool = False) -> list[Message]:
        stored = self.state.messages.get(channel.id, {}).values()
        return [m for m in stored if include_ephemeral or not m.ephemeral]

    def threads_in(self, channel: Channel) -> list[Channel]:
        return [
            c for c in self.state.channels.values() if c.is_thread and c.parent_id == channel.id
        ]

    def commands(self, app: Application, guild: Guild | None = None) -> list[AppCommand]:
        guild_id = None if guild is None else guild.id
        return [
            c
            for c in self.state.commands.values()
            if c.application_id == app.id and c.guild_id == guild_id
        ]

    def command_overwrites(self, app: Application, guild: Guild | None = None) -> int:
        """How many bulk-overwrite PUTs the app sent for global (or ``guild``) commands."""
        return self.state.command_overwrites.get((app.id, None if guild is None else guild.id), 0)

    def webhooks_in(self, channel: Channel) -> list[Webhook]:
        return [w for w in self.state.webhooks.values() if w.channel_id == channel.id]

    @property
    def stats(self) -> RateLimitStats:
        return self.ratelimiter.stats

    def session(self, app: Application) -> GatewaySession | None:
        return self.hub.latest_session(app)

    def shared_limit_key(self, route_key: str, request: web.Request) -> str | None:
        """What a shared (unannounced) limit is counted by: a webhook's channel."""
        if route_key not in self.ratelimiter.shared_limits:
            return None
        webhook = self.state.webhooks.get(int(request.match_info.get("webhook_id", "0") or 0))
        return None if webhook is None else str(webhook.channel_id)

    # ----- fault injection -----
    def fail_next(self, route: str, times: int = 1, *, status: int = 500) -> None:
        """Answer the next ``times`` calls of ``route`` with ``status``; ``route`` is a route
        key such as "POST /channels/{channel_id}/messages"."""
        self._faults.setdefault(route, []).extend([status] * times)

    def take_fault(self, route: str) -> int | None:
        pending = self._faults.get(route)
        return pending.pop(0) if pending else None

    def stall_next(self, route: str, seconds: float) -> None:
        """Hold the next call of ``route`` for ``seconds`` (real time) before answering it: a
        slow Discord, or a moment to act while the client waits."""
        self._stalls.setdefault(route, []).append(seconds)

    def take_stall(self, route: str) -> float:
        pending = self._stalls.get(route)
        return pending.pop(0) if pending else 0.0

    def drop_gateway(self, app: Application) -> None:
        """Cut the bot's gateway connection without a close frame (like a network drop)."""
        self.hub.drop(app)

    async def send_reconnect(self, app: Application) -> None:
        await self.hub.send_op(app, Op.RECONNECT)

    async def invalidate_session(self, app: Application, *, resumable: bool = False) -> None:
        await self.hub.send_op(app, Op.INVALID_SESSION, resumable)
