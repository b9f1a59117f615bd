"""Interactions as a member triggers them, and what the member sees come back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import EmulatorError
from .messages import UploadedFile, make_attachments
from .models import AppCommand, Application, Channel, Member, Message, Role, User, iso
from .state import ATTACHMENT_SIZE_LIMIT, EmulatorState

if TYPE_CHECKING:
    from .emulator import DiscordEmulator


class InteractionType:
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class ResponseType:
    CHANNEL_MESSAGE = 4
    DEFERRED_CHANNEL_MESSAGE = 5
    DEFERRED_UPDATE_MESSAGE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8
    MODAL = 9


class OptionType:
    SUB_COMMAND = 1
    SUB_COMMAND_GROUP = 2
    STRING = 3
    INTEGER = 4
    BOOLEAN = 5
    USER = 6
    CHANNEL = 7
    ROLE = 8
    MENTIONABLE = 9
    NUMBER = 10
    ATTACHMENT = 11


@dataclass(eq=False)
class Interaction:
    """One interaction and everything the bot answered to it."""

    id: int
    token: str
    type: int
    app: Application
    user: User
    channel: Channel
    data: dict[str, Any]
    deadline: float
    expires: float
    message: Message | None = None
    response_type: int | None = None
    # The message the response created (4/5) or updated (6/7).
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    choices: list[dict[str, Any]] | None = None
    modal: dict[str, Any] | None = None
    late_callbacks: int = 0
    original_edits: int = 0

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None


class InteractionResult:
    """What the member sees after an interaction; the waits use the emulator's condition, so
    they return as soon as the bot answers and never poll."""

    def __init__(self, emulator: DiscordEmulator, interaction: Interaction) -> None:
        self._emu = emulator
        self.interaction = interaction

    @property
    def response_type(self) -> int | None:
        return self.interaction.response_type

    @property
    def message(self) -> Message | None:
        """The original response message (or the component's message after an update)."""
        return self.interaction.original

    @property
    def followups(self) -> list[Message]:
        return self.interaction.followups

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return self.interaction.choices

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.interaction.modal

    @property
    def ephemeral(self) -> bool:
        return self.message is not None and self.message.ephemeral

    def final_message(self) -> Message | None:
        """The last message the member saw: the newest follow-up, else the original."""
        if self.interaction.followups:
            return self.interaction.followups[-1]
        return self.interaction.original

    async def wait_for_response(self, timeout: float = 5.0) -> InteractionResult:
        await self._wait(lambda: self.interaction.acknowledged, timeout, "an interaction response")
        return self

    async def wait_for_message(self, timeout: float = 5.0) -> Message:
        """Wait until the original response has content (a deferral has been resolved)."""

        def ready() -> bool:
            original = self.interaction.original
            return original is not None and not original.loading

        await self._wait(ready, timeout, "a (non-deferred) response message")
        assert self.interaction.original is not None
        return self.interaction.original

    async def wait_for_followups(self, count: int = 1, timeout: float = 5.0) -> list[Message]:
        await self._wait(
            lambda: len(self.interaction.followups) >= count, timeout, f"{count} follow-up(s)"
        )
        return self.interaction.followups

    async def wait_for_edit(self, edits: int = 1, timeout: float = 5.0) -> Message:
        """Wait until @original was edited ``edits`` times in total."""
        await self._wait(
            lambda: self.interaction.original_edits >= edits, timeout, "an edit of @original"
        )
        assert self.interaction.original is not None
        return self.interaction.original

    async def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        try:
            await self._emu.wait_until(predicate, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"the bot did not send {what} within {timeout} s") from None


def interaction_payload(state: EmulatorState, interaction: Interaction) -> dict[str, Any]:
    """INTERACTION_CREATE data with every field discord.py reads."""
    channel = interaction.channel
    app = interaction.app
    payload: dict[str, Any] = {
        "id": str(interaction.id),
        "application_id": str(app.id),
        "type": interaction.type,
        "data": interaction.data,
        "token": interaction.token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "channel_id": str(channel.id),
        "channel": state.channel_payload(channel, viewer_id=app.bot.id),
    }
    if channel.guild_id is not None:
        guild = state.guilds[channel.guild_id]
        member = guild.members[interaction.user.id]
        payload.update(
            guild_id=str(guild.id),
            guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
            guild_locale=guild.preferred_locale,
            member=state.member_payload(member, channel=channel),
            app_permissions=str(state.permissions(guild, app.bot.id, channel)),
            authorizing_integration_owners={"0": str(guild.id)},
            context=0,
        )
        payload["channel"]["permissions"] = payload["member"]["permissions"]
    else:
        payload.update(
            user=state.user_payload(interaction.user),
            app_permissions="0",
            authorizing_integration_owners={"0": str(interaction.user.id)},
            context=1,
        )
    if interaction.message is not None:
        payload["message"] = state.message_payload(interaction.message, viewer=app)
    return payload


def interaction_metadata(interaction: Interaction) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "user": {
            "id": str(interaction.user.id),
            "username": interaction.user.username,
            "discriminator": "0",
            "avatar": None,
            "global_name": None,
        },
        "authorizing_integration_owners": {"0": str(interaction.channel.guild_id or 0)},
    }
    if interaction.type == InteractionType.APPLICATION_COMMAND:
        metadata["name"] = interaction.data.get("name")
    if interaction.message is not None:
        metadata["interacted_message_id"] = str(interaction.message.id)
    return metadata


class CommandDataBuilder:
    """Builds ``data`` for a command or autocomplete interaction from test-friendly options.

    Option values may be emulator objects (User/Member/Role/Channel), ids, plain values, or
    ``UploadedFile`` for attachments; each is checked against the registered option types.
    """

    def __init__(self, state: EmulatorState, channel: Channel, user: User) -> None:
        self.state = state
        self.channel = channel
        self.user = user
        self.resolved: dict[str, dict[str, Any]] = {}

    def build(
        self,
        command: AppCommand,
        path: list[str],
        options: dict[str, Any],
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        definitions = command.options
        nesting: list[dict[str, Any]] = []
        for name in path:
            definition = _find_option(definitions, name)
            if definition is None or definition["type"] not in (1, 2):
                raise EmulatorError(f"/{command.name} has no subcommand {name!r}")
            nesting.append(definition)
            definitions = definition.get("options") or []
        if any(d["type"] in (1, 2) for d in definitions):
            raise EmulatorError(f"/{command.name} needs a subcommand path, e.g. 'name sub'")
        leaf = [self._option(d, options, focused) for d in definitions if d["name"] in options]
        unknown = set(options) - {d["name"] for d in definitions}
        if unknown:
            raise EmulatorError(f"/{command.name} has no option(s) {sorted(unknown)}")
        if focused is None:
            missing = [
                d["name"] for d in definitions if d.get("required") and d["name"] not in options
            ]
            if missing:
                raise EmulatorError(f"/{command.name} is missing required option(s) {missing}")
        for definition in reversed(nesting):
            leaf = [{"name": definition["name"], "type": definition["type"], "options": leaf}]
        data: dict[str, Any] = {
            "id": str(command.id),
            "name": command.name,
            "type": command.type,
            "options": leaf,
        }
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        if self.resolved:
            data["resolved"] = self.resolved
        return data

    def _option(
        self, definition: dict[str, Any], options: dict[str, Any], focused: str | None
    ) -> dict[str, Any]:
        name = definition["name"]
        otype = definition["type"]
        value = options[name]
        option: dict[str, Any] = {"name": name, "type": otype}
        if focused == name:
            option.update(value=str(value), focused=True)
            return option
        option["value"] = self._value(definition, value)
        return option

    def _value(self, definition: dict[str, Any], value: Any) -> Any:
        otype = definition["type"]
        name = definition["name"]
        if otype == OptionType.STRING:
            result: Any = str(value)
        elif otype == OptionType.INTEGER:
            result = int(value)
        elif otype == OptionType.NUMBER:
            result = float(value)
        elif otype == OptionType.BOOLEAN:
            result = bool(value)
        elif otype in (OptionType.USER, OptionType.MENTIONABLE) and isinstance(
            value, User | Member
        ):
            return self._resolve_user(value.id)
        elif otype in (OptionType.ROLE, OptionType.MENTIONABLE) and isinstance(value, Role):
            self.resolved.setdefault("roles", {})[str(value.id)] = self.state.role_payload(value)
            return str(value.id)
        elif otype == OptionType.USER:
            return self._resolve_user(int(value))
        elif otype == OptionType.CHANNEL:
            channel = value if isinstance(value, Channel) else self.state.channels[int(value)]
            return self._resolve_channel(channel, definition)
        elif otype == OptionType.ATTACHMENT:
            return self._resolve_attachment(value)
        else:
            raise EmulatorError(f"option {name!r}: cannot pass {value!r} as type {otype}")
        choices = definition.get("choices")
        if choices and result not in [c["value"] for c in choices]:
            raise EmulatorError(f"option {name!r}: {result!r} is not one of its choices")
        return result

    def _resolve_user(self, user_id: int) -> str:
        user = self.state.users[user_id]
        self.resolved.setdefault("users", {})[str(user_id)] = self.state.user_payload(user)
        if self.channel.guild_id is not None:
            guild = self.state.guilds[self.channel.guild_id]
            if user_id in guild.members:
                self.resolved.setdefault("members", {})[str(user_id)] = self.state.member_payload(
                    guild.members[user_id], with_user=False, channel=self.channel
                )
        return str(user_id)

    def _resolve_channel(self, channel: Channel, definition: dict[str, Any]) -> str:
        allowed = definition.get("channel_types")
        if allowed and int(channel.type) not in allowed:
            raise EmulatorError(f"option {definition['name']!r}: channel type not allowed")
        payload: dict[str, Any] = {
            "id": str(channel.id),
            "name": channel.name,
            "type": int(channel.type),
            "permissions": "0",
        }
        if channel.guild_id is not None:
            guild = self.state.guilds[channel.guild_id]
            payload["permissions"] = str(self.state.permissions(guild, self.user.id, channel))
        if channel.parent_id is not None:
            payload["parent_id"] = str(channel.parent_id)
        if channel.is_thread:
            payload["thread_metadata"] = {
                "archived": channel.archived,
                "auto_archive_duration": channel.auto_archive_duration,
                "archive_timestamp": iso(channel.archive_timestamp or channel.create_timestamp),
                "locked": channel.locked,
            }
        self.resolved.setdefault("channels", {})[str(channel.id)] = payload
        return str(channel.id)

    def _resolve_attachment(self, value: Any) -> str:
        if isinstance(value, tuple):
            value = UploadedFile(*value)
        if not isinstance(value, UploadedFile):
            raise EmulatorError("attachment options take an UploadedFile or (filename, bytes)")
        attachment = make_attachments(self.state, self.channel, {}, [value], ephemeral=True)[0]
        self.resolved.setdefault("attachments", {})[str(attachment.id)] = (
            self.state.attachment_payload(attachment)
        )
        return str(attachment.id)


def _find_option(options: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((o for o in options if o.get("name") == name), None)
