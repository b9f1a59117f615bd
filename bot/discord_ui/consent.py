"""Asking a member whether their message may go to the public blog.

The buttons are `DynamicItem`s (`rb:consent:<answer>:<message id>`), registered by the comments
cog, so a question keeps working after a restart. Anyone can see a question posted in a thread,
but only the message's author may answer it (the service checks).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.discord_ui.replies import answer_component, reply_ephemeral
from bot.discord_ui.review_cards import safe_inline
from bot.domain.replies import Source, Status, blog_author

if TYPE_CHECKING:
    from bot.app import ReviewBridge
    from bot.storage.replies import StoredReply


FIRST_TIME = (
    ("always", "Publish my thread replies", discord.ButtonStyle.success),
    ("ask", "Ask me each time", discord.ButtonStyle.secondary),
    ("never", "Never", discord.ButtonStyle.danger),
)
EACH_TIME = (
    ("yes", "Publish this one", discord.ButtonStyle.success),
    ("no", "Keep it in Discord", discord.ButtonStyle.secondary),
)
ANSWERED = {
    "always": "Thanks! Your replies in mirrored threads will be published on the blog.",
    "ask": "Got it: I will ask you about each message.",
    "never": "Got it: your messages stay in Discord. Change it any time with `/mirror consent`.",
    "yes": "Thanks! It is on its way to the blog.",
    "no": "It stays in Discord.",
}


def question(reply: StoredReply, *, first_time: bool, mention: bool) -> str:
    """The question's text; `mention` starts it with the author's mention (thread prompts)."""
    who = f"<@{reply.author_id}> " if mention else ""
    name = safe_inline(blog_author(reply.author_name), 100)
    if first_time:
        return (
            f"{who}this thread is shared with the blog's comments. May I publish your replies "
            f"here on the public blog, as **{name}**? Nothing leaves Discord until you choose; "
            "change it any time with `/mirror consent`."
        )
    return f"{who}publish this message on the blog as **{name}**?"


def consent_view(message_id: int, *, first_time: bool) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer, label, style in FIRST_TIME if first_time else EACH_TIME:
        view.add_item(ConsentButton(answer, message_id, label=label, style=style))
    return view


class ConsentButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"rb:consent:(?P<answer>always|ask|never|yes|no):(?P<message_id>[0-9]+)",
):
    def __init__(
        self,
        answer: str,
        message_id: int,
        *,
        label: str = "Answer",
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"rb:consent:{answer}:{message_id}"
            )
        )
        self.answer = answer
        self.message_id = message_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ConsentButton:
        return cls(match["answer"], int(match["message_id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer_component(
            interaction, self._answer(interaction), what=f"consent answer message={self.message_id}"
        )

    async def _answer(self, interaction: discord.Interaction) -> None:
        service = cast("ReviewBridge", interaction.client).discord_replies
        await service.answer(self.message_id, interaction.user.id, self.answer)
        reply = await service.replies.get(self.message_id)
        private = interaction.message is not None and interaction.message.flags.ephemeral
        if (
            reply is not None
            and reply.status is Status.AWAITING_CONSENT
            and reply.source is Source.MESSAGE
        ):
            # "Ask me each time": this message's own question replaces the first one.
            await interaction.response.edit_message(
                content=question(reply, first_time=False, mention=not private),
                view=consent_view(reply.message_id, first_time=False),
            )
            return
        said = ANSWERED[self.answer]
        if self.answer == "ask" and reply is not None and reply.status is not Status.DISCORD_ONLY:
            said = "Got it: I will ask about each message. This one is on its way to the blog."
        if private:
            await interaction.response.edit_message(content=said, view=None)
        else:
            await reply_ephemeral(interaction, said)
