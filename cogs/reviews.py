"""/review: browse the blog's reviews, share review links, announce by hand; the blog watcher."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import replace

import discord
from discord import app_commands
from discord.ext import commands

from bot.announcing import (
    AnnouncementBusy,
    Announcer,
    CycleReport,
    Destination,
    Posted,
    PostFailed,
    Repositories,
    Watcher,
)
from bot.app import ReviewBridge
from bot.blog.base import Blog
from bot.blog.cards import card_from_url
from bot.blog.errors import BlogError
from bot.blog.models import Review
from bot.discord_ui.announcer import DiscordAnnouncements
from bot.discord_ui.help import WHO
from bot.discord_ui.paging import Page, Pager, PageSource
from bot.discord_ui.replies import reply_ephemeral
from bot.discord_ui.review_cards import (
    one_line,
    review_list_embed,
    safe_inline,
    send_options,
)
from bot.errors import UserFacingError
from bot.storage import GuildSettings
from bot.storage.catalogue import CatalogueRepository
from bot.storage.reviews import ReviewRecord, StoredReview

log = logging.getLogger(__name__)

PAGE_SIZE = 5
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100
MAX_BACKFILL = 50
MAX_URL_CHARS = 2000


def shared_review_id(url: str) -> str:
    """The id of a review shared from another site: a hash of its URL."""
    return "shared-" + hashlib.sha256(url.encode()).hexdigest()[:24]


def _guild_id(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError("This command works only inside a server.")
    return interaction.guild_id


def _may(interaction: discord.Interaction, permission: str, settings: GuildSettings) -> bool:
    """Whether the member has `permission` here, or the server's author role."""
    if getattr(interaction.permissions, permission):
        return True
    role_id = settings.author_role_id
    member = interaction.user
    return (
        role_id is not None
        and isinstance(member, discord.Member)
        and member.get_role(role_id) is not None
    )


@app_commands.guild_only()
class Reviews(commands.GroupCog, group_name="review", group_description="The blog's reviews"):
    def __init__(self, bot: ReviewBridge) -> None:
        self.bot = bot
        storage = Repositories(
            reviews=bot.reviews,
            announcements=bot.announcements,
            guild_watch=bot.guild_watch,
            catalogue=CatalogueRepository(bot.database),
            meta=bot.meta,
        )
        self.announcer = Announcer(
            bot.blog.get,
            DiscordAnnouncements(bot),
            storage,
            on_comments=bot.mirror_triggers.on_poll,
            on_posted=self._mirror_comments,
        )
        self.watcher = Watcher(
            self.run_cycle, bot.health.component("watcher"), bot.settings.blog_poll_seconds
        )
        self._watch_task: asyncio.Task[None] | None = None

    # ---- the watcher

    async def cog_load(self) -> None:
        if self.bot.blog.configured:
            self._watch_task = asyncio.create_task(self._watch(), name="review-watcher")

    async def cog_unload(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task

    async def _watch(self) -> None:
        await self.bot.wait_until_ready()  # destinations are the guilds the gateway announced
        await self.watcher.run()

    async def run_cycle(self) -> CycleReport:
        """One watcher cycle now (the loop runs it every BLOG_POLL_SECONDS)."""
        return await self.announcer.run_cycle()

    async def _mirror_comments(
        self, destination: Destination, review: StoredReview, posted: Posted
    ) -> None:
        """A blog review's new discussion thread shows the review's blog comments."""
        if review.source != "blog" or posted.thread_id is None:
            return
        try:
            await self.bot.mirror.link(
                review.review_id,
                guild_id=destination.guild_id,
                channel_id=destination.channel_id,
                thread_id=posted.thread_id,
            )
        except (UserFacingError, BlogError) as exc:  # e.g. mirrored in another thread already
            log.info(
                "thread not mirrored guild=%s review=%s thread=%s: %s",
                destination.guild_id,
                review.review_id,
                posted.thread_id,
                exc,
            )

    # ---- shared helpers

    async def _find(self, reference: str) -> StoredReview:
        """The review an autocomplete value (its id) or an exactly typed title names."""
        review = await self.bot.reviews.get(reference)
        if review is None:
            typed = " ".join(reference.split()).casefold()
            matches = await self.bot.reviews.autocomplete(reference, limit=5)
            exact = [m for m in matches if " ".join(m.title.split()).casefold() == typed]
            if len(exact) == 1:
                review = await self.bot.reviews.get(exact[0].review_id)
        if review is None or review.status != "published":
            raise UserFacingError(
                f"No review matches “{safe_inline(reference, 80)}”; "
                "start typing a title and pick one from the list."
            )
        return review

    async def _review_destination(self, interaction: discord.Interaction) -> Destination:
        settings = await self.bot.guild_settings.get(_guild_id(interaction))
        if settings.review_channel_id is None:
            raise UserFacingError("No review channel is set up here yet: run /setup channel.")
        return Destination(settings.guild_id, settings.review_channel_id, settings.ping_role_id)

    def _link(self, guild_id: int, channel_id: int, posted: Posted) -> str:
        # A forum post's card is the first message of its thread, not of the forum.
        forum = isinstance(self.bot.get_channel(channel_id), discord.ForumChannel)
        where = posted.thread_id if forum and posted.thread_id else channel_id
        partial = self.bot.get_partial_messageable(where, guild_id=guild_id)
        return partial.get_partial_message(posted.message_id).jump_url

    async def _require(self, interaction: discord.Interaction, permission: str, label: str) -> None:
        settings = await self.bot.guild_settings.get(_guild_id(interaction))
        if not _may(interaction, permission, settings):
            role = " or the author role" if settings.author_role_id else ""
            raise UserFacingError(f"You need the {label} permission{role} to do this.")

    # ---- browsing

    async def review_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """Published titles starting as typed, from SQLite; the value is the review id."""
        titles = await self.bot.reviews.autocomplete(current, limit=MAX_CHOICES)
        return [
            app_commands.Choice(
                name=one_line(t.title, MAX_CHOICE_NAME) or "Untitled review", value=t.review_id
            )
            for t in titles
            if len(t.review_id) <= MAX_CHOICE_VALUE
        ]

    async def _send_pages(
        self, interaction: discord.Interaction, first: Page, turn: PageSource
    ) -> None:
        pager = Pager(interaction.user.id, turn, first)
        if not pager.needed:
            await reply_ephemeral(interaction, embed=first.embed)
            return
        await interaction.response.send_message(
            embed=first.embed,
            view=pager,
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        pager.message_interaction = interaction

    @app_commands.command(name="latest", description="The newest reviews (only you see them)")
    async def latest(self, interaction: discord.Interaction) -> None:
        async def page(number: int) -> Page:
            found = await self.bot.reviews.latest(PAGE_SIZE + 1, number * PAGE_SIZE)
            embed = review_list_embed(
                "Latest reviews", found[:PAGE_SIZE], footer=f"Page {number + 1}"
            )
            return Page(embed, len(found) > PAGE_SIZE)

        await self._send_pages(interaction, await page(0), page)

    @app_commands.command(name="search", description="Search reviews by title, author or text")
    @app_commands.describe(words="Words to look for")
    async def search(
        self, interaction: discord.Interaction, words: app_commands.Range[str, 1, 200]
    ) -> None:
        async def page(number: int) -> Page:
            found, total = await self.bot.reviews.search(words, PAGE_SIZE, number * PAGE_SIZE)
            if total == 0:
                raise UserFacingError(
                    f"No review matches “{safe_inline(words, 80)}”. Try fewer or other words."
                )
            pages = -(-total // PAGE_SIZE)
            embed = review_list_embed(
                f"Reviews matching “{one_line(words, 80)}”",
                found,
                footer=f"Page {number + 1} of {pages} · {total} found",
            )
            return Page(embed, (number + 1) * PAGE_SIZE < total)

        await self._send_pages(interaction, await page(0), page)

    @app_commands.command(name="show", description="Show one review's card")
    @app_commands.describe(review="Start typing a title", public="Post it for everyone here")
    @app_commands.autocomplete(review=review_choices)
    async def show(
        self, interaction: discord.Interaction, review: str, public: bool = False
    ) -> None:
        found = await self._find(review)
        await interaction.response.send_message(ephemeral=not public, **send_options(found))

    # ---- sharing and announcing

    @app_commands.command(name="share", description="Share a review link from any site")
    @app_commands.describe(url="The review's address (http or https)")
    async def share(
        self, interaction: discord.Interaction, url: app_commands.Range[str, 1, MAX_URL_CHARS]
    ) -> None:
        guild_id = _guild_id(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        channel = interaction.channel
        if isinstance(channel, discord.TextChannel):
            destination = Destination(guild_id, channel.id, requested_by=interaction.user.id)
        else:
            review_channel = await self._review_destination(interaction)
            destination = replace(
                review_channel, ping_role_id=None, requested_by=interaction.user.id
            )
        review = await self._shared_review(url.strip())
        existing = await self.bot.announcements.get(guild_id, review.review_id)
        if existing is not None and existing.message_id is not None:
            posted = Posted(existing.message_id, existing.thread_id)
            link = self._link(guild_id, existing.channel_id, posted)
            raise UserFacingError(f"That review is already here: {link}")
        try:
            posted = await self.announcer.announce(destination, review, "share")
        except PostFailed as exc:
            raise UserFacingError(f"I could not post it: {exc}") from exc
        if posted is None:
            raise UserFacingError("That review is being posted here right now.")
        link = self._link(guild_id, destination.channel_id, posted)
        await reply_ephemeral(interaction, f"Shared: {link}")

    async def _blog_or_none(self) -> Blog | None:
        if not self.bot.blog.configured:
            return None
        try:
            return await self.bot.blog.get()
        except BlogError as exc:
            log.warning("blog unavailable while sharing error=%s", exc)
            return None

    async def _shared_review(self, url: str) -> StoredReview:
        """The review behind a shared link, stored: the blog's own, or a 'shared' copy."""
        try:
            card = await card_from_url(self.bot.fetcher, url, await self._blog_or_none())
        except BlogError as exc:
            raise UserFacingError(f"I cannot share that link. {exc}") from exc
        known = await self.bot.reviews.by_url(card.url)
        if known is not None and known.source == "blog":
            return known
        await self.bot.reviews.upsert_review(self._record(card, known))
        stored = await self.bot.reviews.by_url(card.url)
        assert stored is not None  # just stored
        return stored

    @staticmethod
    def _record(card: Review, known: StoredReview | None) -> ReviewRecord:
        # A page card's id is its URL; a card the blog API answered has the blog's id.
        if card.id != card.url:
            return ReviewRecord.from_review(card, "blog")
        review_id = known.review_id if known else shared_review_id(card.url)
        return replace(ReviewRecord.from_review(card, "shared"), review_id=review_id)

    @app_commands.command(
        name="announce",
        description="Announce a review now, or again",
        extras={WHO: "Manage Messages or the author role"},
    )
    @app_commands.describe(
        review="Start typing a title", again="Post it again even if it was announced already"
    )
    @app_commands.autocomplete(review=review_choices)
    async def announce(
        self, interaction: discord.Interaction, review: str, again: bool = False
    ) -> None:
        await self._require(interaction, "manage_messages", "Manage Messages")
        destination = await self._review_destination(interaction)
        found = await self._find(review)
        await interaction.response.defer(ephemeral=True, thinking=True)
        existing = await self.bot.announcements.get(destination.guild_id, found.review_id)
        if existing is not None and existing.message_id is not None and not again:
            posted = Posted(existing.message_id, existing.thread_id)
            link = self._link(destination.guild_id, existing.channel_id, posted)
            raise UserFacingError(
                f"It was announced already: {link}. Choose `again: True` to post it once more."
            )
        try:
            if existing is None:
                posted = await self.announcer.announce(destination, found, "announce")
            else:
                posted = await self.announcer.reannounce(destination, found)
        except PostFailed as exc:
            raise UserFacingError(f"I could not post it: {exc}") from exc
        except AnnouncementBusy:
            posted = None
        if posted is None:
            raise UserFacingError("That review is being announced right now; look again shortly.")
        link = self._link(destination.guild_id, destination.channel_id, posted)
        await reply_ephemeral(interaction, f"Announced: {link}")

    @app_commands.command(
        name="backfill",
        description="Announce older reviews, oldest first",
        extras={WHO: "Manage Server or the author role"},
    )
    @app_commands.describe(count="How many of the newest older reviews to post (1-50)")
    async def backfill(
        self,
        interaction: discord.Interaction,
        count: app_commands.Range[int, 1, MAX_BACKFILL] = 10,
    ) -> None:
        await self._require(interaction, "manage_guild", "Manage Server")
        destination = await self._review_destination(interaction)
        await interaction.response.send_message("Looking for older reviews…", ephemeral=True)

        async def progress(done: int, total: int, review: StoredReview) -> None:
            title = safe_inline(review.title, 80)
            await interaction.edit_original_response(
                content=f"Backfilling: {done}/{total} done (last: {title})"
            )

        try:
            posted = await self.announcer.backfill(destination, count, progress)
        except PostFailed as exc:
            raise UserFacingError(f"Backfill stopped: {exc}") from exc
        summary = (
            f"Backfill done: {posted} older review{'s' if posted != 1 else ''} announced."
            if posted
            else "Nothing to backfill: every older review is announced here already."
        )
        await interaction.edit_original_response(content=summary)


async def setup(bot: ReviewBridge) -> None:
    await bot.add_cog(Reviews(bot))
