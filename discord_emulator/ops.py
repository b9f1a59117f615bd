"""State changes shared by the REST API (the bot acting) and the control API (members
acting): each applies Discord's rules, stores the result and emits the gateway events."""

from __future__ import annotations

from typing import Any

from .errors import DiscordHTTPError, FormErrors, missing_permissions, unknown
from .events import Events
from .messages import Author, UploadedFile, apply_edit, build_message
from .models import Channel, ChannelType, Message, User, utcnow
from .permissions import Permission
from .state import EmulatorState
from .validation import check_message, check_thread_name

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
MAX_APPLIED_TAGS = 5
REQUIRE_TAG_FLAG = 1 << 4


class Operations:
    def __init__(self, state: EmulatorState, events: Events) -> None:
        self.state = state
        self.events = events

    # ----- messages -----
    def send_permissions(self, user_id: int, channel: Channel) -> int:
        """The sender's permissions, after Discord's checks for posting in ``channel``."""
        if channel.is_forum or channel.type in (ChannelType.GUILD_CATEGORY,):
            raise DiscordHTTPError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.is_thread:
            perms = self.state.require(user_id, channel, Permission.SEND_MESSAGES_IN_THREADS)
            if channel.locked and not perms & Permission.MANAGE_THREADS:
                raise DiscordHTTPError(400, 50083, "Thread is archived")
            return perms
        return self.state.require(user_id, channel, Permission.SEND_MESSAGES)

    def send_message(
        self,
        channel: Channel,
        author: Author,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        message_type: int = 0,
        extra_flags: int = 0,
        interaction_metadata: dict[str, Any] | None = None,
    ) -> Message:
        message = build_message(
            self.state,
            channel,
            author,
            payload,
            files,
            message_type=message_type,
            extra_flags=extra_flags,
        )
        message.interaction_metadata = interaction_metadata
        self.publish(channel, message)
        return message

    def publish(self, channel: Channel, message: Message) -> None:
        self.state.store_message(message)
        if message.ephemeral:
            return
        # Posting in an archived (unlocked) thread unarchives it, as on Discord.
        if channel.is_thread and channel.archived:
            channel.archived = False
            channel.archive_timestamp = utcnow()
            self.events.channel_event("THREAD_UPDATE", channel)
        self.events.message_create(message)

    def edit_message(
        self,
        message: Message,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        permissions: int,
    ) -> Message:
        apply_edit(self.state, message, payload, files, permissions=permissions)
        self.events.message_update(message)
        return message

    def delete_messages(self, channel: Channel, messages: list[Message]) -> None:
        stored = self.state.messages.get(channel.id, {})
        for message in messages:
            stored.pop(message.id, None)
            if channel.is_thread and not message.ephemeral:
                channel.message_count = max(0, channel.message_count - 1)
        visible = [m.id for m in messages if not m.ephemeral]
        if visible:
            self.events.message_delete(channel, visible)

    # ----- reactions -----
    def add_reaction(self, message: Message, user: User, emoji: str) -> None:
        users = message.reactions.setdefault(emoji, [])
        if user.id in users:
            return
        users.append(user.id)
        self.events.reaction("MESSAGE_REACTION_ADD", message, user.id, emoji)

    def remove_reaction(self, message: Message, user_id: int, emoji: str) -> None:
        users = message.reactions.get(emoji, [])
        if user_id not in users:
            return
        users.remove(user_id)
        if not users:
            del message.reactions[emoji]
        self.events.reaction("MESSAGE_REACTION_REMOVE", message, user_id, emoji)

    def reaction_permissions(self, user_id: int, message: Message, emoji: str) -> None:
        channel = self.state.channels[message.channel_id]
        perms = self.state.require(user_id, channel, Permission.READ_MESSAGE_HISTORY)
        # Adding to an existing reaction needs no ADD_REACTIONS, starting a new one does.
        if emoji not in message.reactions and not perms & Permission.ADD_REACTIONS:
            raise missing_permissions()

    # ----- threads -----
    def create_thread(
        self,
        parent: Channel,
        owner: User,
        body: dict[str, Any],
        *,
        from_message: Message | None = None,
        files: list[UploadedFile] | None = None,
        webhook_author: Author | None = None,
    ) -> tuple[Channel, Message | None]:
        """Create a thread from a message, a standalone one, or a forum post (with its
        starter message, whose id equals the thread's). A webhook creating a forum post
        passes its persona as ``webhook_author``: the token, not a member, authorises it."""
        if parent.is_thread or parent.guild_id is None:
            raise DiscordHTTPError(400, 50024, "Cannot execute action on this channel type")
        check_thread_name(body.get("name"))
        errors = FormErrors()
        duration = body.get("auto_archive_duration") or parent.default_auto_archive_duration
        if int(duration) not in ARCHIVE_DURATIONS:
            errors.add(
                ("auto_archive_duration",),
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 1440, 4320, 10080}.",
            )
        errors.raise_if_any()
        forum_message = None
        if parent.is_forum:
            if webhook_author is not None:
                perms = webhook_author.permissions
            else:
                perms = self.state.require(owner.id, parent, Permission.SEND_MESSAGES)
            forum_message = body.get("message")
            if not isinstance(forum_message, dict):
                errors.required(("message",))
                errors.raise_if_any()
            check_message(forum_message, has_files=bool(files), creating=True)
            tags = self._applied_tags(parent, body.get("applied_tags") or [], perms)
            thread_type = ChannelType.PUBLIC_THREAD
        elif from_message is not None:
            self.state.require(
                owner.id, parent, Permission.CREATE_PUBLIC_THREADS, Permission.READ_MESSAGE_HISTORY
            )
            if from_message.thread_id is not None:
                raise DiscordHTTPError(
                    400, 160004, "A thread has already been created for this message"
                )
            tags = []
            thread_type = ChannelType.PUBLIC_THREAD
        else:
            thread_type = ChannelType(int(body.get("type") or ChannelType.PRIVATE_THREAD))
            needed = (
                Permission.CREATE_PRIVATE_THREADS
                if thread_type == ChannelType.PRIVATE_THREAD
                else Permission.CREATE_PUBLIC_THREADS
            )
            self.state.require(owner.id, parent, needed)
            tags = []
        now = utcnow()
        thread = Channel(
            id=from_message.id if from_message is not None else self.state.ids.next(),
            type=thread_type,
            guild_id=parent.guild_id,
            name=str(body["name"]),
            parent_id=parent.id,
            owner_id=owner.id,
            auto_archive_duration=int(duration),
            create_timestamp=now,
            archive_timestamp=now,
            applied_tags=tags,
            member_ids=[owner.id],
            invitable=bool(body.get("invitable", True)),
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
        )
        self.state.channels[thread.id] = thread
        self.state.guilds[parent.guild_id].channel_ids.append(thread.id)
        if from_message is not None:
            from_message.thread_id = thread.id
        self.events.channel_event("THREAD_CREATE", thread, newly_created=True)
        starter = None
        if forum_message is not None:
            author = webhook_author or Author(
                owner, self.state.permissions(self.state.guilds[parent.guild_id], owner.id, thread)
            )
            starter = build_message(self.state, thread, author, forum_message, files or [])
            starter.id = thread.id
            self.publish(thread, starter)
        elif from_message is not None:
            self.events.message_update(from_message)
        return thread, starter

    def _applied_tags(self, forum: Channel, raw: list[Any], perms: int) -> list[int]:
        errors = FormErrors()
        errors.max_length(("applied_tags",), raw, MAX_APPLIED_TAGS)
        known = {t.id: t for t in forum.available_tags}
        tags = []
        for i, tag_id in enumerate(raw):
            tag = known.get(int(tag_id))
            if tag is None:
                errors.add(("applied_tags", i), "TAG_NOT_FOUND", "Unknown tag")
            elif tag.moderated and not perms & Permission.MANAGE_THREADS:
                errors.add(("applied_tags", i), "TAG_MODERATED", "Tag is moderated")
            else:
                tags.append(tag.id)
        errors.raise_if_any()
        if forum.flags & REQUIRE_TAG_FLAG and not tags:
            raise DiscordHTTPError(
                400, 40067, "A tag is required to create a forum post in this channel"
            )
        return tags

    def update_thread(self, thread: Channel, user_id: int, body: dict[str, Any]) -> Channel:
        """PATCH on a thread: its owner may rename/archive; locking and others need
        MANAGE_THREADS, as on Discord."""
        perms = self.state.require(user_id, thread)
        if not perms & Permission.MANAGE_THREADS:
            owner_may = {"name", "archived", "auto_archive_duration", "applied_tags"}
            if thread.locked or thread.owner_id != user_id or set(body) - owner_may:
                raise missing_permissions()
        if "name" in body:
            check_thread_name(body["name"])
            thread.name = str(body["name"])
        if "applied_tags" in body and thread.parent_id is not None:
            parent = self.state.channels[thread.parent_id]
            thread.applied_tags = self._applied_tags(parent, body["applied_tags"] or [], perms)
        for key in ("archived", "locked", "invitable"):
            if key in body and body[key] is not None:
                setattr(thread, key, bool(body[key]))
        if "archived" in body:
            thread.archive_timestamp = utcnow()
        if body.get("auto_archive_duration"):
            thread.auto_archive_duration = int(body["auto_archive_duration"])
        self.events.channel_event("THREAD_UPDATE", thread)
        return thread

    def join_thread(self, thread: Channel, user: User) -> None:
        if not thread.is_thread:
            raise unknown("Channel")
        if thread.archived:
            raise DiscordHTTPError(400, 50083, "Thread is archived")
        if user.id in thread.member_ids:
            return
        thread.member_ids.append(user.id)
        app = self.state.app_by_bot(user.id)
        if app is not None:
            self.events.thread_joined(thread, app)
        self.events.thread_members_update(thread, user.id, None)

    def leave_thread(self, thread: Channel, user: User) -> None:
        if user.id in thread.member_ids:
            thread.member_ids.remove(user.id)
            self.events.thread_members_update(thread, None, user.id)

    def delete_channel(self, channel: Channel) -> None:
        viewers = self.events.viewers(channel)
        children = [c for c in self.state.channels.values() if c.parent_id == channel.id]
        for child in children:
            if child.is_thread:
                self.delete_channel(child)
        self.state.channels.pop(channel.id, None)
        self.state.messages.pop(channel.id, None)
        if channel.guild_id is not None:
            self.state.guilds[channel.guild_id].channel_ids.remove(channel.id)
        for webhook in [w for w in self.state.webhooks.values() if w.channel_id == channel.id]:
            del self.state.webhooks[webhook.id]
        self.events.channel_delete(channel, viewers)
