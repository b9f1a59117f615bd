"""An unmodified discord.py client against the emulator, pointed at it only through
``Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``."""

from __future__ import annotations

import asyncio

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from discord_emulator import DiscordEmulator, EmulatorError, ResponseType, UploadedFile

from .conftest import TOKEN, World, running

pytestmark = pytest.mark.usefixtures("discord_at_emulator")


def make_bot(intents: discord.Intents | None = None) -> commands.Bot:
    return commands.Bot(
        command_prefix="!", intents=intents or discord.Intents.default(), guild_ready_timeout=0.05
    )


async def test_bot_logs_in_and_sees_the_guild(world: World) -> None:
    bot = make_bot()
    async with running(bot):
        guild = bot.get_guild(world.guild.id)
        assert guild is not None and guild.me.id == world.app.bot.id
        forum = guild.get_channel(world.forum.id)
        assert isinstance(forum, discord.ForumChannel)
        assert [t.name for t in forum.available_tags] == ["book", "film"]
        assert bot.application_id == world.app.id
        assert guild.me.guild_permissions.manage_webhooks
        session = world.emu.session(world.app)
        assert session is not None and session.heartbeats >= 1  # sent right after HELLO


async def test_events_are_filtered_by_intents(world: World) -> None:
    intents = discord.Intents.default()
    intents.guild_messages = False
    async with running(make_bot(intents)):
        await world.emu.post_message(world.alice, world.channel, "unseen")
        thread = await world.emu.start_thread(world.alice, world.channel, "Seen")
        session = world.emu.session(world.app)
        assert session is not None
        assert "THREAD_CREATE" in session.events and "MESSAGE_CREATE" not in session.events
        assert thread.id in {t.id for t in world.emu.threads_in(world.channel)}


async def test_threads_created_archived_and_joined_through_discord_py(world: World) -> None:
    bot = make_bot()
    async with running(bot):
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        thread = await channel.create_thread(name="Emma", type=discord.ChannelType.public_thread)
        await thread.send("first")
        await thread.edit(archived=True)
        member_thread = await world.emu.start_thread(world.alice, world.channel, "Alice's")
        await bot.http.join_thread(member_thread.id)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.create_thread(name="x" * 101, type=discord.ChannelType.public_thread)
    stored = world.emu.state.channels[thread.id]
    assert stored.archived and stored.message_count == 1
    assert world.app.bot.id in member_thread.member_ids
    assert too_long.value.code == 50035


async def test_sync_then_ephemeral_reply_to_a_slash_command(world: World) -> None:
    bot = make_bot()

    @bot.tree.command(description="About the bot")
    async def about(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Reviewbridge 1.0", ephemeral=True)

    async with running(bot):
        await bot.tree.sync()
        assert [c.name for c in world.emu.commands(world.app)] == ["about"]
        result = await world.emu.run_command(world.alice, world.channel, "about")
        reply = await result.wait_for_message()
    assert reply.content == "Reviewbridge 1.0" and result.ephemeral
    assert world.emu.messages_in(world.channel) == []  # ephemeral replies are not in the channel


async def test_deferred_reply_then_followup_and_typed_subcommand_options(world: World) -> None:
    bot = make_bot()
    group = app_commands.Group(name="review", description="Reviews")
    sub = app_commands.Group(name="admin", description="Admin", parent=group)
    seen: dict[str, object] = {}

    @sub.command(description="Share a review")
    async def share(
        interaction: discord.Interaction,
        who: discord.Member,
        where: discord.TextChannel,
        role: discord.Role,
        score: int,
        file: discord.Attachment,
        note: str | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        seen.update(
            who=who.id,
            where=where.id,
            role=role.id,
            score=score,
            file=file.filename,
            data=await file.read(),
            note=note,
        )
        await interaction.followup.send(f"shared {score}")
        await interaction.followup.send("more", ephemeral=True)

    bot.tree.add_command(group)
    staff = world.emu.create_role(world.guild, "staff")
    async with running(bot):
        await bot.tree.sync()
        result = await world.emu.run_command(
            world.alice,
            world.channel,
            "review admin share",
            {
                "who": world.bob,
                "where": world.channel,
                "role": staff,
                "score": 4,
                "file": UploadedFile("r.txt", b"text"),
            },
        )
        first = await result.wait_for_message()
        followups = await result.wait_for_followups(1)
    assert result.response_type == ResponseType.DEFERRED_CHANNEL_MESSAGE
    assert first.content == "shared 4" and not first.ephemeral  # the "thinking" message, edited
    assert followups[0].ephemeral and result.final_message() is followups[0]
    assert seen == {
        "who": world.bob.id,
        "where": world.channel.id,
        "role": staff.id,
        "score": 4,
        "file": "r.txt",
        "data": b"text",
        "note": None,
    }


class RateView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Like", custom_id="rb:like")
    async def like(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="liked", view=self)

    @discord.ui.select(
        custom_id="rb:score", options=[discord.SelectOption(label=str(i)) for i in range(1, 6)]
    )
    async def score(self, interaction: discord.Interaction, select: discord.ui.Select) -> None:
        await interaction.response.send_message(f"score {select.values[0]}", ephemeral=True)


async def test_button_and_select_on_a_persistent_view(world: World) -> None:
    bot = make_bot()
    async with running(bot):
        bot.add_view(RateView())
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("Rate Dune", view=RateView())
        message = world.emu.messages_in(world.channel)[-1]
        clicked = await world.emu.click_button(world.alice, message, "rb:like")
        await clicked.wait_for_response()
        chosen = await world.emu.choose_select(world.bob, message, "rb:score", ["4"])
        reply = await chosen.wait_for_message()
    assert clicked.response_type == ResponseType.UPDATE_MESSAGE
    assert message.content == "liked" and message.find_component("rb:like")["disabled"]
    assert reply.content == "score 4" and reply.ephemeral


async def test_autocomplete_and_modal(world: World) -> None:
    bot = make_bot()
    titles = ["Dune", "Dune Messiah", "Emma"]

    class Feedback(discord.ui.Modal, title="Feedback"):
        text = discord.ui.TextInput(label="Your text", custom_id="text")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"got {self.text.value}", ephemeral=True)

    @bot.tree.command(description="Find a review")
    async def find(interaction: discord.Interaction, title: str) -> None:
        await interaction.response.send_modal(Feedback())

    @find.autocomplete("title")
    async def find_title(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in titles if t.startswith(current)]

    async with running(bot):
        await bot.tree.sync()
        choices = await world.emu.autocomplete(
            world.alice, world.channel, "find", {"title": "Du"}, focused="title"
        )
        assert [c["value"] for c in choices] == ["Dune", "Dune Messiah"]
        shown = await world.emu.run_command(world.alice, world.channel, "find", {"title": "Dune"})
        await shown.wait_for_response()
        assert shown.modal is not None and shown.modal["title"] == "Feedback"
        submitted = await world.emu.submit_modal(world.alice, shown, {"text": "great"})
        reply = await submitted.wait_for_message()
    assert reply.content == "got great"


async def test_webhook_persona_into_a_thread_and_a_forum_post(world: World) -> None:
    bot = make_bot()
    async with running(bot):
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        webhook = await channel.create_webhook(name="Mirror")
        starter = await channel.send("Dune review")
        thread = await starter.create_thread(name="Dune comments")
        sent = await webhook.send(
            "Nice post!",
            username="Ann (blog)",
            avatar_url="http://a/b.png",
            thread=thread,
            wait=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        forum = bot.get_channel(world.forum.id)
        assert isinstance(forum, discord.ForumChannel)
        forum_hook = await forum.create_webhook(name="Forum mirror")
        post = await forum_hook.send("Post body", username="Blog", thread_name="Emma", wait=True)
        await sent.edit(content="Nice post! (edited)")
    mirrored = world.emu.messages_in(world.emu.state.channels[thread.id])[-1]
    assert (mirrored.author_name, mirrored.avatar_url) == ("Ann (blog)", "http://a/b.png")
    assert mirrored.content == "Nice post! (edited)" and mirrored.webhook_id == webhook.id
    assert [t.name for t in world.emu.threads_in(world.forum)] == ["Emma"]
    assert post.channel.id == world.emu.threads_in(world.forum)[0].id


async def test_resume_after_dropped_connection_replays_missed_events(world: World) -> None:
    intents = discord.Intents.default()
    bot = make_bot(intents)
    received: asyncio.Queue[int] = asyncio.Queue()
    resumed = asyncio.Event()

    @bot.event
    async def on_message(message: discord.Message) -> None:
        received.put_nowait(message.id)

    @bot.event
    async def on_resumed() -> None:
        resumed.set()

    async with running(bot):
        session = world.emu.session(world.app)
        assert session is not None
        world.emu.drop_gateway(world.app)
        await world.emu.wait_until(lambda: session.connection is None)
        missed = await world.emu.post_message(world.alice, world.channel, "while away")
        await asyncio.wait_for(resumed.wait(), 5)
        assert await asyncio.wait_for(received.get(), 5) == missed.id
        assert session.resumes == 1 and world.emu.session(world.app) is session


async def test_reconnect_and_invalid_session_are_handled(world: World) -> None:
    bot = make_bot()

    async def identify_now(shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py's documented hook waits 5 s before a re-IDENTIFY; skip that here."""

    bot.before_identify_hook = identify_now  # type: ignore[method-assign]
    emu = world.emu
    async with running(bot):
        first = emu.session(world.app)
        assert first is not None
        await emu.send_reconnect(world.app)
        await emu.wait_until(lambda: first.resumes == 1 and first.connection is not None)
        await emu.invalidate_session(world.app, resumable=True)
        await emu.wait_until(lambda: first.resumes == 2 and first.connection is not None)

        await emu.invalidate_session(world.app, resumable=False)

        def identified_again() -> bool:
            session = emu.session(world.app)
            return session not in (None, first) and session.connection is not None

        await emu.wait_until(identified_again)
        second = emu.session(world.app)
        assert second is not None and second.events[:2] == ["READY", "GUILD_CREATE"]


async def test_unapproved_message_content_intent_closes_4014(world: World) -> None:
    bot = make_bot(discord.Intents.all())
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await asyncio.wait_for(bot.start(TOKEN), 5)
    await bot.close()
    assert 4014 in world.emu.hub.closed_codes


async def test_message_content_needs_the_intent_unless_the_bot_is_mentioned(
    emu: DiscordEmulator, world: World
) -> None:
    async def contents_seen(bot: commands.Bot, token: str, *texts: str) -> list[str]:
        seen: asyncio.Queue[str] = asyncio.Queue()

        @bot.event
        async def on_message(message: discord.Message) -> None:
            seen.put_nowait(message.content)

        async with running(bot, token):
            for text in texts:
                await emu.post_message(world.alice, world.channel, text)
            return [await asyncio.wait_for(seen.get(), 5) for _ in texts]

    mention = f"{world.app.bot.mention} visible"
    assert await contents_seen(make_bot(), TOKEN, "hidden", mention) == ["", mention]

    approved = emu.create_application(
        "Approved", token="t2", privileged_intents={"message_content"}
    )
    emu.install_app(approved, world.guild)
    intents = discord.Intents.default()
    intents.message_content = True
    assert await contents_seen(make_bot(intents), "t2", "plain text") == ["plain text"]


async def test_discord_py_paces_itself_so_no_429s_reach_it(world: World) -> None:
    bot = make_bot()
    async with running(bot):
        channel = bot.get_channel(world.channel.id)
        assert isinstance(channel, discord.TextChannel)
        for i in range(12):
            await channel.send(f"message {i}")
        message = await channel.send("react to me")
        await message.add_reaction("👍")
        await world.emu.add_reaction(world.alice, world.emu.messages_in(world.channel)[-1], "👍")
        history = [m.id async for m in channel.history(limit=20)]
    assert len(history) == 13
    assert world.emu.stats.requests["POST /channels/{channel_id}/messages"] == 13
    assert world.emu.stats.total_429s == 0
    assert world.emu.messages_in(world.channel)[-1].reactions["👍"] == [
        world.app.bot.id,
        world.alice.id,
    ]


async def test_message_context_menu_resolves_the_target_with_its_content(world: World) -> None:
    bot = make_bot()  # no Message Content intent: the menu still carries the text
    seen: dict[str, object] = {}

    async def publish(interaction: discord.Interaction, message: discord.Message) -> None:
        seen.update(content=message.content, author=message.author.id, target=message.id)
        await interaction.response.send_message("published", ephemeral=True)

    bot.tree.add_command(app_commands.ContextMenu(name="Publish to blog", callback=publish))
    async with running(bot):
        await bot.tree.sync()
        assert [(c.name, c.type) for c in world.emu.commands(world.app)] == [
            ("Publish to blog", 3)
        ]
        posted = await world.emu.post_message(world.alice, world.channel, "my words")
        result = await world.emu.run_message_command(world.alice, posted, "Publish to blog")
        reply = await result.wait_for_message()
        with pytest.raises(EmulatorError, match="no command /Publish"):  # not a slash command
            await world.emu.run_command(world.alice, world.channel, "Publish to blog")
    assert reply.content == "published" and result.ephemeral
    assert seen == {"content": "my words", "author": world.alice.id, "target": posted.id}
