"""The emulator's state as the sandbox page reads it: plain JSON, generic over whatever the bot
made (channels, threads, messages with embeds, components and attachments, webhook personas,
registered commands). Text stays text: the page renders it with textContent, never as HTML."""

from __future__ import annotations

from typing import Any

from discord_emulator import AppCommand, Attachment, Channel, ChannelType, Guild, Member, Message
from discord_emulator.state import EmulatorState

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHAT_INPUT = 1
MESSAGE_LIMIT = 100
_OPTION_KEYS = (
    "name",
    "type",
    "description",
    "required",
    "autocomplete",
    "choices",
    "channel_types",
    "min_value",
    "max_value",
    "min_length",
    "max_length",
)
_CHANNEL_KINDS = {
    ChannelType.GUILD_TEXT: "text",
    ChannelType.GUILD_ANNOUNCEMENT: "text",
    ChannelType.GUILD_VOICE: "voice",
    ChannelType.GUILD_CATEGORY: "category",
    ChannelType.GUILD_FORUM: "forum",
    ChannelType.GUILD_MEDIA: "forum",
}


def attachment_path(attachment: Attachment) -> str:
    """Where the page loads an attachment: from the sandbox itself, never a remote host."""
    return f"/attachments/{attachment.id}"


def is_persona(state: EmulatorState, message: Message) -> bool:
    """Sent through a channel webhook under a chosen name (interaction answers also carry a
    webhook id: the application's, which is no channel webhook)."""
    return message.webhook_id is not None and message.webhook_id in state.webhooks


def member_name(member: Member) -> str:
    return member.nick or member.user.global_name or member.user.username


def guild_view(state: EmulatorState, guild: Guild) -> dict[str, Any]:
    members = sorted(guild.members.values(), key=lambda m: (m.user.bot, member_name(m).lower()))
    return {
        "id": str(guild.id),
        "name": guild.name,
        "channels": [
            channel_view(state, c) for c in state.guild_channels(guild) if c.type in _CHANNEL_KINDS
        ],
        "members": [
            {
                "id": str(m.id),
                "name": member_name(m),
                "username": m.user.username,
                "bot": m.user.bot,
                "roles": [guild.roles[r].name for r in m.role_ids if r in guild.roles],
            }
            for m in members
        ],
        "roles": [
            {"id": str(r.id), "name": r.name}
            for r in sorted(guild.roles.values(), key=lambda r: r.position)
        ],
        "personas": sorted(
            {w.name for w in state.webhooks.values() if w.guild_id == guild.id}
            | {
                m.author.username
                for by_id in state.messages.values()
                for m in by_id.values()
                if is_persona(state, m) and m.guild_id == guild.id
            }
        ),
        "users": {str(u.id): u.global_name or u.username for u in state.users.values()},
    }


def channel_view(state: EmulatorState, channel: Channel) -> dict[str, Any]:
    threads = sorted(
        (
            c
            for c in state.channels.values()
            if c.is_thread and c.parent_id == channel.id and c.type != ChannelType.PRIVATE_THREAD
        ),
        key=lambda c: c.id,
        reverse=True,
    )
    return {
        "id": str(channel.id),
        "name": channel.name or "",
        "kind": _CHANNEL_KINDS.get(channel.type, "text"),
        "topic": channel.topic or "",
        "threads": [
            {
                "id": str(t.id),
                "name": t.name or "",
                "message_count": t.message_count,
                "archived": t.archived,
                "locked": t.locked,
                "tags": [tag.name for tag in channel.available_tags if tag.id in t.applied_tags],
            }
            for t in threads
        ],
    }


def messages_view(state: EmulatorState, channel: Channel) -> list[dict[str, Any]]:
    """The newest visible (non-ephemeral) messages, oldest first."""
    return [message_view(state, m) for m in state.visible_messages(channel)[-MESSAGE_LIMIT:]]


def message_view(state: EmulatorState, message: Message) -> dict[str, Any]:
    guild = state.guilds.get(message.guild_id or 0)
    persona = is_persona(state, message)
    member = guild.members.get(message.author.id) if guild and not persona else None
    by_name = {a.filename: a for a in message.attachments}
    view: dict[str, Any] = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": {
            "id": str(message.author.id),
            "name": member_name(member)
            if member
            else message.author.global_name or message.author.username,
            "bot": message.author.bot,
            "webhook": persona,
        },
        "content": message.content,
        "embeds": [_embed_view(state, e, by_name) for e in message.embeds],
        "components": message.components,
        "attachments": [
            {
                "id": str(a.id),
                "filename": a.filename,
                "url": attachment_path(a),
                "image": (a.content_type or "").startswith("image/"),
                "description": a.description or "",
                "size": a.size,
            }
            for a in message.attachments
        ],
        "reactions": [
            {"emoji": key.split(":", 1)[0], "count": len(users)}
            for key, users in message.reactions.items()
            if users
        ],
        "timestamp": message.timestamp.isoformat(),
        "edited": message.edited_timestamp is not None,
        "ephemeral": message.ephemeral,
        "loading": message.loading,
        "reply_to": _reply_view(state, message),
        "thread": None,
        "interaction": None,
    }
    thread = state.channels.get(message.thread_id or 0)
    if thread is not None:
        view["thread"] = {
            "id": str(thread.id),
            "name": thread.name or "",
            "message_count": thread.message_count,
        }
    metadata = message.interaction_metadata
    if metadata is not None:
        user = metadata.get("user") or {}
        view["interaction"] = {
            "name": metadata.get("name") or "",
            "user": state.users[int(user["id"])].global_name or user.get("username", "")
            if "id" in user and int(user["id"]) in state.users
            else user.get("username", ""),
        }
    return view


def _reply_view(state: EmulatorState, message: Message) -> dict[str, Any] | None:
    if message.reference is None:
        return None
    replied = state.messages.get(int(message.reference.get("channel_id") or 0), {}).get(
        int(message.reference.get("message_id") or 0)
    )
    if replied is None:
        return {"id": None, "author": "", "content": "Original message was deleted"}
    return {
        "id": str(replied.id),
        "author": replied.author.global_name or replied.author.username,
        "content": replied.content[:120],
    }


def _embed_view(
    state: EmulatorState, embed: dict[str, Any], attachments: dict[str, Attachment]
) -> dict[str, Any]:
    """An embed with its images resolved to the sandbox's attachment paths; any other image is
    reported as its address only, since the page loads nothing from outside."""
    view = {
        key: embed[key]
        for key in ("title", "description", "url", "color", "timestamp")
        if key in embed
    }
    for key in ("author", "footer", "provider"):
        if isinstance(embed.get(key), dict):
            view[key] = {k: v for k, v in embed[key].items() if k in ("name", "text", "url")}
    view["fields"] = [
        {"name": f.get("name", ""), "value": f.get("value", ""), "inline": bool(f.get("inline"))}
        for f in embed.get("fields") or []
    ]
    for key in ("image", "thumbnail"):
        url = (embed.get(key) or {}).get("url")
        if url:
            view[key] = _image_view(state, str(url), attachments)
    return view


def _image_view(
    state: EmulatorState, url: str, attachments: dict[str, Attachment]
) -> dict[str, str]:
    if url.startswith("attachment://"):
        attachment = attachments.get(url.removeprefix("attachment://"))
        if attachment is not None:
            return {"src": attachment_path(attachment)}
    prefix = f"{state.http_base}/attachments/"
    if state.http_base and url.startswith(prefix):
        parts = url.removeprefix(prefix).split("/")
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) in state.attachments:
            return {"src": attachment_path(state.attachments[int(parts[1])])}
    return {"remote": url}


def command_entries(
    state: EmulatorState, guild: Guild, member: Member, channel: Channel
) -> list[dict[str, Any]]:
    """Every slash command usable here, one entry per subcommand path ("setup channel"), with
    the leaf options; `locked` when the member lacks the command's default permissions."""
    perms = state.permissions(guild, member.id, channel)
    targets = {member.id, *member.role_ids}
    entries = []
    for command in guild_commands(state, guild):
        needed = int(command.default_member_permissions or 0)
        granted = any((guild.id, command.name, t) in state.command_grants for t in targets)
        locked = bool(needed) and (needed & perms) != needed and not granted
        for path, description, options in _paths(command.name, command.description, command):
            entries.append(
                {
                    "path": path,
                    "description": description,
                    "options": [_option_view(o) for o in options],
                    "locked": locked,
                }
            )
    return sorted(entries, key=lambda e: e["path"])


def guild_commands(state: EmulatorState, guild: Guild) -> list[AppCommand]:
    """Chat-input commands of the apps installed in `guild`; a guild command shadows a global
    one of the same name, as in Discord's picker."""
    found: dict[tuple[int, str], AppCommand] = {}
    for command in sorted(state.commands.values(), key=lambda c: c.guild_id is not None):
        if (
            command.type == CHAT_INPUT
            and command.application_id in guild.installed_apps
            and command.guild_id in (None, guild.id)
        ):
            found[(command.application_id, command.name)] = command
    return list(found.values())


def leaf_options(command: AppCommand, path: list[str]) -> list[dict[str, Any]]:
    """The option definitions under a subcommand path (empty path: the command's own)."""
    options = command.options
    for name in path:
        match = next(
            (o for o in options if o["name"] == name and o["type"] in (1, 2)),
            None,
        )
        if match is None:
            raise KeyError(f"/{command.name} has no subcommand {name!r}")
        options = match.get("options") or []
    return options


def _paths(
    prefix: str, description: str, node: AppCommand | dict[str, Any]
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    options = (node.options if isinstance(node, AppCommand) else node.get("options")) or []
    subs = [o for o in options if o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if not subs:
        return [(prefix, description, options)]
    return [
        path
        for sub in subs
        for path in _paths(f"{prefix} {sub['name']}", sub.get("description", ""), sub)
    ]


def _option_view(option: dict[str, Any]) -> dict[str, Any]:
    return {k: option[k] for k in _OPTION_KEYS if k in option}
