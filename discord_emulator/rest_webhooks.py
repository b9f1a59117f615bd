"""Webhooks (management, execution, webhook messages) and interaction responses, which
Discord serves through the same token-in-URL routes."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .errors import (
    DiscordHTTPError,
    FormErrors,
    already_acknowledged,
    invalid_webhook_token,
    unauthorized,
    unknown,
)
from .http import API_PREFIX, bearer_token, json_response, no_content, read_body
from .interactions import Interaction, InteractionType, ResponseType, interaction_metadata
from .messages import Author, UploadedFile
from .models import Channel, Message, MessageFlag, User, Webhook, utcnow
from .permissions import Permission
from .validation import check_choices, check_modal, check_persona_name

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

_INTERACTIVE = frozenset({2, 3, 5, 6, 7, 8})
_LINK_STYLES = frozenset({5, 6})
CHAT_INPUT_COMMAND_MESSAGE = 20


class WebhookApi:
    def __init__(self, emu: DiscordEmulator) -> None:
        self.emu = emu
        self.state = emu.state
        self.ops = emu.ops

    def register(self, router: web.UrlDispatcher) -> None:
        base = API_PREFIX + "/webhooks/{webhook_id}"
        router.add_get(base, self.get_webhook)
        router.add_patch(base, self.edit_webhook)
        router.add_delete(base, self.delete_webhook)
        tokened = base + "/{webhook_token}"
        router.add_get(tokened, self.get_webhook_with_token)
        router.add_patch(tokened, self.edit_webhook)
        router.add_delete(tokened, self.delete_webhook)
        router.add_post(tokened, self.execute)
        router.add_get(tokened + "/messages/{message_id}", self.get_webhook_message)
        router.add_patch(tokened + "/messages/{message_id}", self.edit_webhook_message)
        router.add_delete(tokened + "/messages/{message_id}", self.delete_webhook_message)
        router.add_post(
            API_PREFIX + "/interactions/{interaction_id}/{interaction_token}/callback",
            self.callback,
        )

    # ----- management -----
    def _managed_webhook(self, request: web.Request) -> Webhook:
        """A webhook addressed by id (needs MANAGE_WEBHOOKS) or by id and token."""
        webhook = self.state.webhook(request.match_info["webhook_id"])
        token = request.match_info.get("webhook_token")
        if token is not None:
            if token != webhook.token:
                raise invalid_webhook_token()
            return webhook
        app = self.state.app_for_token(bearer_token(request))
        if app is None:
            raise unauthorized()
        self.state.require(
            app.bot.id, self.state.channels[webhook.channel_id], Permission.MANAGE_WEBHOOKS
        )
        return webhook

    async def get_webhook(self, request: web.Request) -> web.Response:
        return json_response(self.state.webhook_payload(self._managed_webhook(request)))

    async def get_webhook_with_token(self, request: web.Request) -> web.Response:
        webhook = self._managed_webhook(request)
        payload = self.state.webhook_payload(webhook)
        payload.pop("user", None)
        return json_response(payload)

    async def edit_webhook(self, request: web.Request) -> web.Response:
        webhook = self._managed_webhook(request)
        body, _ = await read_body(request)
        errors = FormErrors()
        if "name" in body:
            check_persona_name(errors, ("name",), str(body["name"] or ""))
        errors.raise_if_any()
        if "name" in body:
            webhook.name = str(body["name"])
        if "avatar" in body:
            webhook.avatar = _avatar_hash(body["avatar"])
        if "channel_id" in body and "webhook_token" not in request.match_info:
            target = self.state.channel(body["channel_id"])
            webhook.channel_id = target.id
        self.emu.events.webhooks_update(self.state.channels[webhook.channel_id])
        return json_response(self.state.webhook_payload(webhook))

    async def delete_webhook(self, request: web.Request) -> web.Response:
        webhook = self._managed_webhook(request)
        del self.state.webhooks[webhook.id]
        self.emu.events.webhooks_update(self.state.channels[webhook.channel_id])
        return no_content()

    # ----- execution -----
    def _interaction_for(self, request: web.Request) -> Interaction | None:
        interaction = self.emu.interaction_tokens.get(request.match_info["webhook_token"])
        if interaction is None or str(interaction.app.id) != request.match_info["webhook_id"]:
            return None
        if time.monotonic() > interaction.expires:
            raise invalid_webhook_token()
        if not interaction.acknowledged:
            raise unknown("Webhook")
        return interaction

    def _token_webhook(self, request: web.Request) -> Webhook:
        webhook = self.state.webhook(request.match_info["webhook_id"])
        if request.match_info["webhook_token"] != webhook.token:
            raise invalid_webhook_token()
        return webhook

    def _target_channel(self, request: web.Request, webhook: Webhook) -> Channel:
        channel = self.state.channels[webhook.channel_id]
        thread_id = request.query.get("thread_id")
        if not thread_id:
            return channel
        thread = self.state.channel(thread_id)
        if thread.parent_id != channel.id:
            raise unknown("Channel")
        return thread

    async def execute(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for(request)
        body, files = await read_body(request)
        if interaction is not None:
            message = self._followup(interaction, body, files)
            return json_response(self._render(message, interaction))
        webhook = self._token_webhook(request)
        errors = FormErrors()
        username = body.get("username")
        if username is not None:
            check_persona_name(errors, ("username",), str(username))
        errors.raise_if_any()
        channel = self._target_channel(request, webhook)
        if (
            request.query.get("with_components") not in ("1", "true")
            and webhook.application_id is None
        ):
            # Only app-owned webhooks may send interactive components; others are dropped.
            body["components"] = _strip_interactive(body.get("components") or [])
        thread_name = body.get("thread_name")
        if channel.is_forum:
            if not thread_name:
                raise DiscordHTTPError(
                    400,
                    220001,
                    "Webhooks posted to forum channels must have a thread_name or thread_id",
                )
            author = self._persona(webhook, body)
            thread_body = {
                "name": thread_name,
                "applied_tags": body.get("applied_tags"),
                "message": body,
            }
            _, message = self.ops.create_thread(
                channel, author.user, thread_body, files=files, webhook_author=author
            )
        elif thread_name:
            raise DiscordHTTPError(
                400, 220003, "Webhooks can only create threads in forum channels"
            )
        else:
            if channel.is_thread and channel.locked:
                raise DiscordHTTPError(400, 50083, "Thread is archived")
            message = self.ops.send_message(channel, self._persona(webhook, body), body, files)
        assert message is not None
        if request.query.get("wait") in ("1", "true", "True"):
            return json_response(self.state.message_payload(message))
        return no_content()

    def _persona(self, webhook: Webhook, body: dict[str, Any]) -> Author:
        """The message author a webhook shows: its own name/avatar unless overridden."""
        avatar_url = body.get("avatar_url")
        user = User(
            id=webhook.id,
            username=str(body.get("username") or webhook.name),
            bot=True,
            avatar=_avatar_hash(avatar_url) if avatar_url else webhook.avatar,
        )
        channel = self.state.channels[webhook.channel_id]
        guild = self.state.guilds[webhook.guild_id]
        perms = (
            self.state.everyone_permissions(guild, channel)
            | Permission.EMBED_LINKS
            | Permission.ATTACH_FILES
        )
        return Author(
            user,
            int(perms),
            webhook_id=webhook.id,
            application_id=webhook.application_id,
            avatar_url=avatar_url,
        )

    def _webhook_message(self, request: web.Request) -> tuple[Message, Interaction | None]:
        interaction = self._interaction_for(request)
        message_id = request.match_info["message_id"]
        if interaction is not None:
            return self._interaction_message(interaction, message_id), interaction
        webhook = self._token_webhook(request)
        channel = self._target_channel(request, webhook)
        message = self.state.message(channel, message_id)
        if message.webhook_id != webhook.id:
            raise unknown("Message")
        return message, None

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        message, interaction = self._webhook_message(request)
        return json_response(self._render(message, interaction))

    async def edit_webhook_message(self, request: web.Request) -> web.Response:
        message, interaction = self._webhook_message(request)
        body, files = await read_body(request)
        perms = int(Permission.EMBED_LINKS | Permission.ATTACH_FILES | Permission.MENTION_EVERYONE)
        self.ops.edit_message(message, body, files, permissions=perms)
        if interaction is not None and message is interaction.original:
            interaction.original_edits += 1
        return json_response(self._render(message, interaction))

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        message, _ = self._webhook_message(request)
        self.ops.delete_messages(self.state.channels[message.channel_id], [message])
        return no_content()

    # ----- interactions -----
    def _interaction_message(self, interaction: Interaction, message_id: str) -> Message:
        if message_id == "@original":
            if interaction.original is None:
                raise unknown("Message")
            return interaction.original
        for message in interaction.followups:
            if str(message.id) == message_id:
                return message
        if interaction.original is not None and str(interaction.original.id) == message_id:
            return interaction.original
        raise unknown("Message")

    def _render(self, message: Message, interaction: Interaction | None) -> dict[str, Any]:
        viewer = interaction.app if interaction is not None else None
        return self.state.message_payload(message, viewer=viewer)

    def _app_author(self, interaction: Interaction) -> Author:
        app = interaction.app
        channel = interaction.channel
        perms = int(Permission.EMBED_LINKS | Permission.ATTACH_FILES)
        if channel.guild_id is not None:
            perms |= self.state.permissions(
                self.state.guilds[channel.guild_id], app.bot.id, channel
            )
        return Author(app.bot, perms, webhook_id=app.id, application_id=app.id)

    def _followup(
        self, interaction: Interaction, body: dict[str, Any], files: list[UploadedFile]
    ) -> Message:
        original = interaction.original
        if original is not None and original.loading:
            # Discord: the first follow-up after a deferral edits the "thinking" message.
            self.ops.edit_message(
                original, body, files, permissions=self._app_author(interaction).permissions
            )
            interaction.original_edits += 1
            return original
        flags = MessageFlag.EPHEMERAL if int(body.get("flags") or 0) & MessageFlag.EPHEMERAL else 0
        message = self.ops.send_message(
            interaction.channel,
            self._app_author(interaction),
            body,
            files,
            extra_flags=flags,
            interaction_metadata=interaction_metadata(interaction),
        )
        interaction.followups.append(message)
        return message

    async def callback(self, request: web.Request) -> web.Response:
        interaction = self.emu.interactions.get(_int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["interaction_token"]:
            raise unknown("interaction")
        if interaction.acknowledged:
            raise already_acknowledged()
        if time.monotonic() > interaction.deadline:
            interaction.late_callbacks += 1
            raise unknown("interaction")
        body, files = await read_body(request)
        rtype = body.get("type")
        data = body.get("data") or {}
        self._check_response_type(interaction, rtype)
        resource: dict[str, Any] = {"type": rtype}
        if rtype == ResponseType.CHANNEL_MESSAGE:
            flags = (
                MessageFlag.EPHEMERAL if int(data.get("flags") or 0) & MessageFlag.EPHEMERAL else 0
            )
            message = self.ops.send_message(
                interaction.channel,
                self._app_author(interaction),
                data,
                files,
                message_type=self._message_type(interaction),
                extra_flags=flags,
                interaction_metadata=interaction_metadata(interaction),
            )
            interaction.original = message
        elif rtype == ResponseType.DEFERRED_CHANNEL_MESSAGE:
            interaction.original = self._loading_message(interaction, data)
        elif rtype in (ResponseType.DEFERRED_UPDATE_MESSAGE, ResponseType.UPDATE_MESSAGE):
            message = interaction.message
            assert message is not None
            if rtype == ResponseType.UPDATE_MESSAGE:
                self.ops.edit_message(
                    message, data, files, permissions=self._app_author(interaction).permissions
                )
            interaction.original = message
        elif rtype == ResponseType.AUTOCOMPLETE_RESULT:
            errors = FormErrors()
            check_choices(errors, ("data", "choices"), data.get("choices") or [])
            errors.raise_if_any()
            interaction.choices = list(data.get("choices") or [])
        else:
            check_modal(data)
            interaction.modal = data
        interaction.response_type = rtype
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        original = interaction.original
        summary: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        if original is not None and rtype in (4, 5, 7):
            summary.update(
                response_message_id=str(original.id),
                response_message_loading=original.loading,
                response_message_ephemeral=original.ephemeral,
            )
            resource["message"] = self._render(original, interaction)
        return json_response({"interaction": summary, "resource": resource})

    def _check_response_type(self, interaction: Interaction, rtype: Any) -> None:
        allowed = {
            InteractionType.APPLICATION_COMMAND: {4, 5, 9},
            InteractionType.MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            InteractionType.AUTOCOMPLETE: {8},
            InteractionType.MODAL_SUBMIT: {4, 5} | ({6, 7} if interaction.message else set()),
        }[interaction.type]
        if rtype not in allowed:
            errors = FormErrors()
            errors.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type must be one of {sorted(allowed)}",
            )
            errors.raise_if_any()

    @staticmethod
    def _message_type(interaction: Interaction) -> int:
        if interaction.type == InteractionType.APPLICATION_COMMAND:
            return CHAT_INPUT_COMMAND_MESSAGE
        return 0

    def _loading_message(self, interaction: Interaction, data: dict[str, Any]) -> Message:
        author = self._app_author(interaction)
        ephemeral = (
            MessageFlag.EPHEMERAL if int(data.get("flags") or 0) & MessageFlag.EPHEMERAL else 0
        )
        message = Message(
            id=self.state.ids.next(),
            channel_id=interaction.channel.id,
            guild_id=interaction.channel.guild_id,
            author=author.user,
            flags=int(MessageFlag.LOADING | ephemeral),
            type=self._message_type(interaction),
            webhook_id=author.webhook_id,
            application_id=author.application_id,
            interaction_metadata=interaction_metadata(interaction),
            timestamp=utcnow(),
        )
        self.ops.publish(interaction.channel, message)
        return message


def _strip_interactive(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in components:
        items = [
            c
            for c in row.get("components") or []
            if c.get("type") not in _INTERACTIVE
            or (c.get("type") == 2 and c.get("style") in _LINK_STYLES)
        ]
        if items:
            rows.append(row | {"components": items})
    return rows


def _avatar_hash(value: Any) -> str | None:
    """Discord stores uploaded avatars and persona URLs as hashes; keep a stable one."""
    if not value:
        return None
    return hashlib.md5(str(value).encode()).hexdigest()


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise unknown("interaction") from None
