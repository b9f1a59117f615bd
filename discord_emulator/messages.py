"""Turning a message body into a stored message: validation, files, embeds and mentions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import DiscordHTTPError, FormErrors, missing_permissions
from .models import Attachment, Channel, Guild, Message, MessageFlag, Pings, User, utcnow
from .permissions import Permission
from .state import ATTACHMENT_SIZE_LIMIT, EmulatorState
from .validation import check_message

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)\b")
# Flags a sender may set; everything else is owned by Discord.
_SETTABLE_FLAGS = (
    MessageFlag.SUPPRESS_EMBEDS | MessageFlag.SUPPRESS_NOTIFICATIONS | MessageFlag.IS_COMPONENTS_V2
)


@dataclass
class UploadedFile:
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class Author:
    """Who sends: a user (bot or member), optionally as a webhook persona or for an app."""

    user: User
    permissions: int
    webhook_id: int | None = None
    application_id: int | None = None
    avatar_url: str | None = None


def compute_pings(
    state: EmulatorState,
    guild: Guild | None,
    content: str,
    allowed: dict[str, Any] | None,
    *,
    permissions: int,
    replied_user: int | None,
) -> Pings:
    """Who would be notified: parsed mentions filtered by allowed_mentions, role
    mentionability and MENTION_EVERYONE, as Discord decides."""
    parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse") or [])
    allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
    allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
    pings = Pings()
    for match in _USER_MENTION.finditer(content):
        uid = int(match.group(1))
        if uid in state.users and ("users" in parse or uid in allowed_users):
            pings.users.add(uid)
    if guild is not None:
        can_mention_all = bool(permissions & Permission.MENTION_EVERYONE)
        for match in _ROLE_MENTION.finditer(content):
            rid = int(match.group(1))
            role = guild.roles.get(rid)
            if role is None or not ("roles" in parse or rid in allowed_roles):
                continue
            if role.mentionable or can_mention_all:
                pings.roles.add(rid)
        pings.everyone = bool(_EVERYONE.search(content) and "everyone" in parse and can_mention_all)
    # With an explicit allowed_mentions, replied_user defaults to false.
    ping_reply = True if allowed is None else bool(allowed.get("replied_user", False))
    if replied_user is not None and ping_reply:
        pings.users.add(replied_user)
    return pings


def make_attachments(
    state: EmulatorState,
    channel: Channel,
    payload: dict[str, Any],
    files: list[UploadedFile],
    *,
    ephemeral: bool = False,
) -> list[Attachment]:
    """Attach uploaded files; ``payload["attachments"][i]["id"]`` refers to ``files[i]``."""
    described = {
        str(a.get("id")): a for a in payload.get("attachments") or [] if isinstance(a, dict)
    }
    attachments = []
    for index, upload in enumerate(files):
        if len(upload.data) > ATTACHMENT_SIZE_LIMIT:
            raise DiscordHTTPError(413, 40005, "Request entity too large")
        meta = described.get(str(index), {})
        attachment_id = state.ids.next()
        filename = meta.get("filename") or upload.filename
        attachment = Attachment(
            id=attachment_id,
            filename=filename,
            data=upload.data,
            url=f"{state.http_base}/attachments/{channel.id}/{attachment_id}/{filename}",
            content_type=upload.content_type,
            description=meta.get("description"),
            ephemeral=ephemeral,
        )
        state.attachments[attachment.id] = attachment
        attachments.append(attachment)
    return attachments


def build_message(
    state: EmulatorState,
    channel: Channel,
    author: Author,
    payload: dict[str, Any],
    files: list[UploadedFile],
    *,
    message_type: int = 0,
    extra_flags: int = 0,
) -> Message:
    """Validate ``payload`` and return the message it creates (not yet stored)."""
    check_message(payload, has_files=bool(files), creating=True)
    if files and not author.permissions & Permission.ATTACH_FILES:
        raise missing_permissions()
    guild = state.guilds.get(channel.guild_id) if channel.guild_id else None
    reference, replied_user = _reference(state, channel, payload, author)
    if reference is not None and message_type == 0:
        message_type = 19  # REPLY
    flags = (int(payload.get("flags") or 0) & _SETTABLE_FLAGS) | extra_flags
    message = Message(
        id=state.ids.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author.user,
        content=str(payload.get("content") or ""),
        components=list(payload.get("components") or []),
        flags=flags,
        type=message_type,
        tts=bool(payload.get("tts")),
        nonce=payload.get("nonce"),
        reference=reference,
        webhook_id=author.webhook_id,
        application_id=author.application_id,
        avatar_url=author.avatar_url,
        allowed_mentions=payload.get("allowed_mentions"),
    )
    _set_embeds(message, payload.get("embeds") or [], author.permissions)
    message.attachments = make_attachments(
        state, channel, payload, files, ephemeral=bool(flags & MessageFlag.EPHEMERAL)
    )
    message.pings = compute_pings(
        state,
        guild,
        message.content,
        message.allowed_mentions,
        permissions=author.permissions,
        replied_user=replied_user,
    )
    return message


def apply_edit(
    state: EmulatorState,
    message: Message,
    payload: dict[str, Any],
    files: list[UploadedFile],
    *,
    permissions: int,
) -> None:
    """Apply an edit body to ``message`` in place, as PATCH does on Discord."""
    check_message(payload, has_files=bool(files), creating=False)
    channel = state.channels[message.channel_id]
    if "content" in payload:
        message.content = str(payload["content"] or "")
    if "embeds" in payload:
        _set_embeds(message, payload["embeds"] or [], permissions)
    if "components" in payload:
        message.components = list(payload["components"] or [])
    if "flags" in payload and payload["flags"] is not None:
        kept = message.flags & ~_SETTABLE_FLAGS
        message.flags = kept | (int(payload["flags"]) & _SETTABLE_FLAGS)
    if "allowed_mentions" in payload:
        message.allowed_mentions = payload["allowed_mentions"]
    if "attachments" in payload or files:
        keep = {str(a.get("id")) for a in payload.get("attachments") or [] if isinstance(a, dict)}
        if "attachments" in payload:
            message.attachments = [a for a in message.attachments if str(a.id) in keep]
        message.attachments += make_attachments(state, channel, payload, files)
    if message.flags & MessageFlag.LOADING:
        message.flags &= ~MessageFlag.LOADING
    guild = state.guilds.get(message.guild_id) if message.guild_id else None
    replied = None
    if message.reference is not None:
        ref_channel = state.channels.get(int(message.reference["channel_id"]))
        referenced = (
            state.messages.get(ref_channel.id, {}).get(int(message.reference["message_id"]))
            if ref_channel
            else None
        )
        if referenced is not None and referenced.webhook_id is None:
            replied = referenced.author.id
    message.pings = compute_pings(
        state,
        guild,
        message.content,
        message.allowed_mentions,
        permissions=permissions,
        replied_user=replied,
    )
    message.edited_timestamp = utcnow()


def _set_embeds(message: Message, embeds: list[dict[str, Any]], permissions: int) -> None:
    # Discord drops embeds silently when the sender lacks EMBED_LINKS; record it for tests.
    if embeds and not permissions & Permission.EMBED_LINKS:
        message.embeds = []
        message.embeds_dropped = True
        return
    message.embeds = [{"type": "rich", **embed} for embed in embeds]
    message.embeds_dropped = False


def _reference(
    state: EmulatorState, channel: Channel, payload: dict[str, Any], author: Author
) -> tuple[dict[str, Any] | None, int | None]:
    ref = payload.get("message_reference")
    if not ref or ref.get("type", 0) != 0:
        return None, None
    if not author.permissions & Permission.READ_MESSAGE_HISTORY:
        raise missing_permissions()
    ref_channel_id = int(ref.get("channel_id") or channel.id)
    referenced = state.messages.get(ref_channel_id, {}).get(int(ref.get("message_id") or 0))
    if referenced is None or referenced.ephemeral:
        if ref.get("fail_if_not_exists", True):
            errors = FormErrors()
            errors.add(("message_reference",), "REPLIES_UNKNOWN_MESSAGE", "Unknown message")
            errors.raise_if_any()
        return None, None
    reference = {
        "message_id": referenced.id,
        "channel_id": ref_channel_id,
        "guild_id": channel.guild_id,
    }
    # A webhook message has no user behind it: replying to it pings nobody.
    return reference, None if referenced.webhook_id is not None else referenced.author.id
