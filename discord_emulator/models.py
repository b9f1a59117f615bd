"""The emulator's state objects. Tests read them directly, so they stay plain dataclasses."""

from __future__ import annotations

import datetime
import enum
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from .permissions import Overwrite

DISCORD_EPOCH_MS = 1420070400000


class SnowflakeGenerator:
    """Time-based ids, strictly increasing, so sorting by id sorts by creation like on Discord."""

    def __init__(self) -> None:
        self._last = 0
        self._counter = itertools.count()

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        value = max(stamp | (next(self._counter) & 0xFFF), self._last + 1)
        self._last = value
        return value


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def iso(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


class ChannelType(enum.IntEnum):
    GUILD_TEXT = 0
    DM = 1
    GUILD_VOICE = 2
    GUILD_CATEGORY = 4
    GUILD_ANNOUNCEMENT = 5
    ANNOUNCEMENT_THREAD = 10
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    GUILD_FORUM = 15
    GUILD_MEDIA = 16


THREAD_TYPES = frozenset(
    {ChannelType.ANNOUNCEMENT_THREAD, ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD}
)
FORUM_TYPES = frozenset({ChannelType.GUILD_FORUM, ChannelType.GUILD_MEDIA})


class MessageFlag(enum.IntFlag):
    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12
    IS_COMPONENTS_V2 = 1 << 15


# Privileged intents by the names used in the control API.
PRIVILEGED_INTENTS = {"members": 1 << 1, "presences": 1 << 8, "message_content": 1 << 15}
# Unverified apps get the *_LIMITED application flags when a privileged intent is switched on.
_LIMITED_FLAGS = {"presences": 1 << 13, "members": 1 << 15, "message_content": 1 << 19}


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Application:
    id: int
    name: str
    token: str
    bot: User
    owner: User
    privileged_intents: set[str] = field(default_factory=set)
    description: str = ""

    @property
    def flags(self) -> int:
        flags = 1 << 23  # APPLICATION_COMMAND_BADGE: every app with commands shows it
        for name in self.privileged_intents:
            flags |= _LIMITED_FLAGS[name]
        return flags

    @property
    def approved_intents(self) -> int:
        return sum(PRIVILEGED_INTENTS[name] for name in self.privileged_intents)


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime.datetime = field(default_factory=utcnow)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention


@dataclass(eq=False)
class ForumTag:
    id: int
    name: str
    moderated: bool = False
    emoji_name: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "moderated": self.moderated,
            "emoji_id": None,
            "emoji_name": self.emoji_name,
        }


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    preferred_locale: str = "en-US"
    # application id -> the bot user installed here
    installed_apps: dict[int, int] = field(default_factory=dict)

    @property
    def everyone_role(self) -> Role:
        return self.roles[self.id]


@dataclass(eq=False)
class Channel:
    id: int
    type: ChannelType
    guild_id: int | None
    name: str | None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    available_tags: list[ForumTag] = field(default_factory=list)
    flags: int = 0
    last_message_id: int | None = None
    rate_limit_per_user: int = 0
    default_auto_archive_duration: int = 1440
    # Thread state
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    archive_timestamp: datetime.datetime | None = None
    create_timestamp: datetime.datetime | None = None
    applied_tags: list[int] = field(default_factory=list)
    member_ids: list[int] = field(default_factory=list)
    message_count: int = 0
    total_message_sent: int = 0
    # DM state
    recipient_ids: list[int] = field(default_factory=list)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_forum(self) -> bool:
        return self.type in FORUM_TYPES

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class Pings:
    """Who a message would notify, after allowed_mentions and permissions were applied."""

    users: set[int] = field(default_factory=set)
    roles: set[int] = field(default_factory=set)
    everyone: bool = False

    @property
    def any(self) -> bool:
        return bool(self.users or self.roles or self.everyone)


@dataclass(eq=False)
class Message:
    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: datetime.datetime = field(default_factory=utcnow)
    edited_timestamp: datetime.datetime | None = None
    tts: bool = False
    nonce: str | int | None = None
    reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    avatar_url: str | None = None
    pings: Pings = field(default_factory=Pings)
    allowed_mentions: dict[str, Any] | None = None
    # emoji key ("👍" or "name:id") -> user ids in reaction order
    reactions: dict[str, list[int]] = field(default_factory=dict)
    pinned: bool = False
    interaction_metadata: dict[str, Any] | None = None
    thread_id: int | None = None
    embeds_dropped: bool = False
    position: int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & MessageFlag.LOADING)

    @property
    def author_name(self) -> str:
        return self.author.username

    @property
    def reply_to(self) -> int | None:
        return None if self.reference is None else self.reference.get("message_id")

    def find_component(self, custom_id: str) -> dict[str, Any] | None:
        return _find_component(self.components, custom_id)


def _find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        children = list(component.get("components", []))
        for key in ("accessory", "component"):
            if key in component:
                children.append(component[key])
        found = _find_component(children, custom_id)
        if found is not None:
            return found
    return None


@dataclass(eq=False)
class Webhook:
    id: int
    token: str
    channel_id: int
    guild_id: int
    name: str
    creator_id: int
    application_id: int | None = None
    avatar: str | None = None
    type: int = 1


@dataclass(eq=False)
class AppCommand:
    id: int
    application_id: int
    guild_id: int | None
    name: str
    type: int
    description: str
    options: list[dict[str, Any]] = field(default_factory=list)
    default_member_permissions: str | None = None
    dm_permission: bool = True
    nsfw: bool = False
    contexts: list[int] | None = None
    integration_types: list[int] = field(default_factory=lambda: [0])
    name_localizations: dict[str, str] | None = None
    description_localizations: dict[str, str] | None = None
    version: int = 0
