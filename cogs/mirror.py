"""/mirror: which thread shows which review's blog comments, and keeping an eye on it."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ReviewBridge
from bot.blog.errors import BlogError
from bot.discord_ui.help import needs_permissions
from bot.discord_ui.mirror_status import mirror_status_embed
from bot.discord_ui.replies import reply_ephemeral
from bot.discord_ui.reply_text import pending_embed, pending_line, reply_choice_name
from bot.discord_ui.review_cards import one_line, safe_inline
from bot.errors import UserFacingError
from bot.storage.reviews import StoredReview
from bot.sync.engine import SyncReport
from cogs.comments import CONSENT_CHOICES, answer_consent

MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("This command works only inside a server.")
    return interaction.guild_id


def _thread(interaction: discord.Interaction, thread: discord.Thread | None) -> discord.Thread:
    """The thread named, else the one the command runs in."""
    if thread is not None:
        return thread
    if isinstance(interaction.channel, discord.Thread):
        return interaction.channel
    raise UserFacingError("Run this inside the thread, or pick the thread in the `thread` option.")


def _changes(report: SyncReport) -> str:
    parts = [
        f"{count} {label}"
        for count, label in (
            (report.created, "to post"),
            (report.updated, "to update"),
            (report.removed, "to remove"),
        )
        if count
    ]
    return ", ".join(parts) or "nothing to change"


# No group-wide default permission: `/mirror consent` is for every member. Each moderator
# subcommand checks Manage Threads itself.
@app_commands.guild_only()
class Mirror(
    commands.GroupCog, group_name="mirror", group_description="Blog comments in Discord threads"
):
    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot

    async def review_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """The blog's published reviews starting as typed, from SQLite."""
        titles = await self.bot.reviews.autocomplete(current, limit=MAX_CHOICES)
        return [
            app_commands.Choice(
                name=one_line(t.title, MAX_CHOICE_NAME) or "Untitled review", value=t.review_id
            )
            for t in titles
            if len(t.review_id) <= MAX_CHOICE_VALUE and not t.review_id.startswith("shared-")
        ]

    async def _blog_review(self, reference: str) -> StoredReview:
        review = await self.bot.reviews.get(reference)
        if review is None:
            matches = await self.bot.reviews.autocomplete(reference, limit=2)
            if len(matches) == 1:
                review = await self.bot.reviews.get(matches[0].review_id)
        if review is None or review.status != "published":
            raise UserFacingError(
                f"No review matches “{safe_inline(reference, 80)}”; "
                "start typing a title and pick one from the list."
            )
        if review.source != "blog":
            raise UserFacingError("Only reviews from the blog have comments to mirror.")
        return review

    @staticmethod
    def _check_can_post(thread: discord.Thread) -> None:
        parent = thread.parent
        me = thread.guild.me
        if parent is None or me is None:
            return
        if not parent.permissions_for(me).manage_webhooks:
            raise UserFacingError(
                f"I need the Manage Webhooks permission in {parent.mention} to post blog "
                "comments as their commenters."
            )
        if not thread.permissions_for(me).read_message_history:
            raise UserFacingError(f"I need Read Message History in {thread.mention}.")

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="link", description="Mirror a review's blog comments in a thread")
    @app_commands.describe(
        review="Start typing a title", thread="The thread (default: the one you are in)"
    )
    @app_commands.autocomplete(review=review_choices)
    async def link(
        self, interaction: discord.Interaction, review: str, thread: discord.Thread | None = None
    ) -> None:
        guild_id = _guild_id(interaction)
        target = _thread(interaction, thread)
        self._check_can_post(target)
        found = await self._blog_review(review)
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            report = await self.bot.mirror.link(
                found.review_id,
                guild_id=guild_id,
                channel_id=target.parent_id,
                thread_id=target.id,
            )
        except BlogError as exc:
            raise UserFacingError(f"The blog did not answer: {exc}") from exc
        title = safe_inline(found.title, 80)
        if report.error:
            raise UserFacingError(f"Linked {target.mention} to “{title}”, but {report.error}")
        backfill = " (ten per message, with a progress message)" if report.packed else ""
        await reply_ephemeral(
            interaction,
            f"{target.mention} now mirrors the blog comments of “{title}”: "
            f"{_changes(report)}{backfill}.",
        )

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="unlink", description="Stop mirroring blog comments in a thread")
    @app_commands.describe(thread="The thread (default: the one you are in)")
    async def unlink(
        self, interaction: discord.Interaction, thread: discord.Thread | None = None
    ) -> None:
        target = _thread(interaction, thread)
        if not await self.bot.mirror.unlink(target.id):
            raise UserFacingError(f"{target.mention} does not mirror a review.")
        await reply_ephemeral(
            interaction,
            f"{target.mention} no longer mirrors blog comments; the messages already there stay.",
        )

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="pause", description="Pause mirroring in a thread")
    @app_commands.describe(thread="The thread (default: the one you are in)")
    async def pause(
        self, interaction: discord.Interaction, thread: discord.Thread | None = None
    ) -> None:
        target = _thread(interaction, thread)
        if not await self.bot.mirror.pause(target.id):
            raise UserFacingError(f"{target.mention} does not mirror a review.")
        await reply_ephemeral(
            interaction, f"Paused: {target.mention} catches up when you run `/mirror resume`."
        )

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="resume", description="Resume mirroring in a thread")
    @app_commands.describe(thread="The thread (default: the one you are in)")
    async def resume(
        self, interaction: discord.Interaction, thread: discord.Thread | None = None
    ) -> None:
        target = _thread(interaction, thread)
        status = await self.bot.mirror.status(target.id)
        if status is None or not await self.bot.mirror.resume(target.id):
            raise UserFacingError(f"{target.mention} does not mirror a review.")
        await self.bot.mirror.hint(status.review_id)  # catch up on what changed meanwhile
        await reply_ephemeral(interaction, f"Resumed: {target.mention} is catching up.")

    @needs_permissions(manage_threads=True)
    @app_commands.command(
        name="resync", description="Compare a thread with the blog and repair what differs"
    )
    @app_commands.describe(thread="The thread (default: the one you are in)")
    async def resync(
        self, interaction: discord.Interaction, thread: discord.Thread | None = None
    ) -> None:
        target = _thread(interaction, thread)
        await interaction.response.defer(ephemeral=True, thinking=True)
        report = await self.bot.mirror.resync(target.id)
        if report.error:
            raise UserFacingError(f"The blog did not answer: {report.error}")
        await reply_ephemeral(
            interaction,
            f"Resyncing {target.mention}: {_changes(report)}; missing, changed and extra "
            "messages in the thread are repaired too.",
        )

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="status", description="How comment mirroring is doing")
    @app_commands.describe(thread="Only this thread (default: the one you are in, else all)")
    async def status(
        self, interaction: discord.Interaction, thread: discord.Thread | None = None
    ) -> None:
        guild_id = _guild_id(interaction)
        here = thread or interaction.channel
        one = await self.bot.mirror.status(here.id) if isinstance(here, discord.Thread) else None
        if thread is not None and one is None:
            raise UserFacingError(f"{thread.mention} does not mirror a review.")
        statuses = [one] if one is not None else await self.bot.mirror.statuses(guild_id)
        titles = {}
        for status in statuses:
            review = await self.bot.reviews.get(status.review_id)
            if review is not None:
                titles[status.review_id] = review.title
        await reply_ephemeral(interaction, embed=mirror_status_embed(statuses, titles))
        pending = await self.bot.discord_replies.pending(guild_id)
        await reply_ephemeral(interaction, embed=pending_embed(pending))

    # --- members' replies on their way to the blog ---------------------------------------

    async def reply_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Pending and failed member replies, newest first, matching what was typed."""
        replies = await self.bot.discord_replies.pending(_guild_id(interaction))
        typed = current.casefold()
        return [
            app_commands.Choice(name=reply_choice_name(r), value=str(r.message_id))
            for r in reversed(replies)
            if typed in reply_choice_name(r).casefold() or typed in str(r.message_id)
        ][:MAX_CHOICES]

    @app_commands.command(
        name="consent",
        description="Whether your replies in review threads may be published on the blog",
    )
    @app_commands.describe(choice="Leave it out to see your current choice")
    @app_commands.choices(choice=CONSENT_CHOICES)
    async def consent(
        self, interaction: discord.Interaction, choice: app_commands.Choice[str] | None = None
    ) -> None:
        await answer_consent(self.bot.discord_replies, interaction, choice)

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="retry", description="Send a failed member reply to the blog again")
    @app_commands.describe(item="A failed reply (start typing its author or text)")
    @app_commands.autocomplete(item=reply_choices)
    async def retry(self, interaction: discord.Interaction, item: str) -> None:
        reply = await self.bot.discord_replies.retry(_reply_id(item), _guild_id(interaction))
        await reply_ephemeral(interaction, f"Retrying: {pending_line(reply)}")

    @needs_permissions(manage_threads=True)
    @app_commands.command(name="drop", description="Keep a pending or failed reply in Discord")
    @app_commands.describe(item="A pending or failed reply (start typing its author or text)")
    @app_commands.autocomplete(item=reply_choices)
    async def drop(self, interaction: discord.Interaction, item: str) -> None:
        reply = await self.bot.discord_replies.reject(_reply_id(item), _guild_id(interaction))
        await reply_ephemeral(interaction, f"Dropped: {pending_line(reply)}")


def _reply_id(item: str) -> int:
    if not item.isdigit():
        raise UserFacingError("Pick a reply from the list (or give its message id).")
    return int(item)


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(Mirror(bot))
