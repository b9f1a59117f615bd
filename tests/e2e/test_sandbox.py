"""`reviewbridge sandbox`: the real bot, the emulator and the built-in blog behind a local page.

The page's JSON API is driven with aiohttp; one test drives the page itself in a real headless
Chromium (Debian's package, scripts/install-chromium.sh), which must be there in CI.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.sandbox.runner import Sandbox, run_sandbox
from discord_emulator import UploadedFile

from .chromium import Page, find_chromium, headless_chromium

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
VISITOR = {"X-Sandbox-Visitor": "visitor-one"}


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with run_sandbox(port=0) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=VISITOR) as session:
        yield session


async def get(http: aiohttp.ClientSession, url: str, status: int = 200) -> Any:
    async with http.get(url) as response:
        assert response.status == status, await response.text()
        return await response.json() if status == 200 else None


async def post(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], status: int = 200
) -> Any:
    async with http.post(url, json=body) as response:
        assert response.status == status, await response.text()
        return await response.json()


def ids(sandbox: Sandbox) -> dict[str, str]:
    world = sandbox.world
    return {
        "visitor": str(world.visitor.id),
        "moderator": str(world.moderator.id),
        "reviews": str(world.reviews.id),
    }


async def test_page_shows_the_server_and_the_commands_each_member_may_use(sandbox, http):
    state = await get(http, sandbox.url + "api/state")
    assert state["name"] == "Reviewbridge Sandbox"
    assert [c["name"] for c in state["channels"]][:2] == ["reviews", "general"]
    assert {"You (visitor)", "Alex", "Morgan (moderator)", "Reviewbridge"} <= {
        m["name"] for m in state["members"]
    }
    key = ids(sandbox)
    visitor = await get(
        http, sandbox.url + f"api/commands?member={key['visitor']}&channel={key['reviews']}"
    )
    by_path = {c["path"]: c for c in visitor}
    assert not by_path["about"]["locked"]
    assert by_path["setup channel"]["locked"]  # Manage Server, like Discord's picker hides it
    assert by_path["setup channel"]["options"][0]["name"] == "channel"
    moderator = await get(
        http, sandbox.url + f"api/commands?member={key['moderator']}&channel={key['reviews']}"
    )
    assert not {c["path"]: c for c in moderator}["setup channel"]["locked"]
    # The moderator's /setup channel #reviews ran at start, so announcements flow.
    stored = await sandbox.bot.guild_settings.get(sandbox.world.guild.id)
    assert stored.review_channel_id == sandbox.world.reviews.id

    async with http.get(sandbox.url) as page:
        assert page.status == 200
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert '<script src="/static/sandbox.js">' in await page.text()
    async with http.get(sandbox.url + "static/sandbox.js") as script:
        assert (script.status, script.content_type) == (200, "text/javascript")
    await get(http, sandbox.url + "static/web.py", status=404)


async def test_private_answers_are_shown_only_to_the_visitor_who_asked(sandbox, http):
    key = ids(sandbox)
    answer = await post(
        http,
        sandbox.url + "api/commands/run",
        {"member": key["visitor"], "channel": key["reviews"], "command": "/about"},
    )
    assert answer["title"] == "/about" and answer["response_type"] == 4
    [message] = answer["messages"]
    assert message["ephemeral"]
    assert message["embeds"][0]["title"] == "Reviewbridge"
    assert message["interaction"] == {"name": "about", "user": "You (visitor)"}
    again = await get(http, sandbox.url + f"api/interactions/{answer['id']}")
    assert again["messages"][0]["id"] == message["id"]
    async with aiohttp.ClientSession(headers={"X-Sandbox-Visitor": "someone-else"}) as other:
        await get(other, sandbox.url + f"api/interactions/{answer['id']}", status=404)
    channel = await get(http, sandbox.url + f"api/channels/{key['reviews']}/messages")
    assert message["id"] not in {m["id"] for m in channel}


async def test_visitor_posts_and_replies_and_text_stays_text(sandbox, http):
    key = ids(sandbox)
    hostile = "<img src=x onerror=alert(1)> **hi** @everyone"
    first = await post(
        http,
        sandbox.url + "api/messages",
        {"member": key["visitor"], "channel": key["reviews"], "content": hostile},
    )
    reply = await post(
        http,
        sandbox.url + "api/messages",
        {
            "member": str(sandbox.world.alex.id),
            "channel": key["reviews"],
            "content": "Agreed!",
            "reply_to": first["id"],
        },
    )
    assert reply["reply_to"]["id"] == first["id"]
    assert reply["author"]["name"] == "Alex"
    channel = await get(http, sandbox.url + f"api/channels/{key['reviews']}/messages")
    assert channel[-2]["content"] == hostile  # raw: the page renders it with textContent


async def test_requests_from_other_sites_and_bad_input_are_refused(sandbox, http):
    key = ids(sandbox)
    body = {"member": key["visitor"], "channel": key["reviews"], "content": "hi"}
    async with http.get(sandbox.url + "api/state", headers={"Host": "evil.example"}) as response:
        assert response.status == 421  # DNS rebinding
    async with http.post(
        sandbox.url + "api/messages", json=body, headers={"Origin": "https://evil.example"}
    ) as response:
        assert response.status == 403
    async with http.post(sandbox.url + "api/messages", data=body) as response:
        assert response.status == 415  # a plain cross-site form cannot post JSON
    bot_id = str(sandbox.world.app.bot.id)
    refused = await post(http, sandbox.url + "api/messages", body | {"member": bot_id}, 400)
    assert "member" in refused["error"]
    unknown = await post(
        http, sandbox.url + "api/commands/run", body | {"command": "nope"}, status=400
    )
    assert unknown["error"] == "There is no command /nope in this server."
    hidden = await post(
        http, sandbox.url + "api/commands/run", body | {"command": "setup show"}, status=400
    )
    assert "hidden" in hidden["error"]


async def test_blog_has_the_her_review_thread_and_takes_reader_comments(sandbox, http):
    her = await asyncio.wait_for(sandbox.her_review, 30)
    assert her is not None
    blog = await get(http, sandbox.url + "api/blog")
    assert blog["builtin"] and blog["url"] == sandbox.blog.url
    titles = [p["title"] for p in blog["posts"]]
    assert titles[0] == "Her"
    assert {"Blade Runner 2049", "Arrival", "Ex Machina", "Klara and the Sun"} <= set(titles)
    reader, reply = blog["posts"][0]["comments"]
    assert (reader["author"], reader["depth"]) == ("Claire Ashworth", 0)
    assert (reply["author"], reply["depth"], reply["parent"]) == ("Mara Ellison", 1, reader["id"])
    assert reader["text"].startswith("Oh, I’m so glad you reminded me of this film.")
    comment = await post(
        http,
        sandbox.url + "api/blog/comments",
        {"post": her.post.id, "parent": reader["id"], "author": "Sam", "content": "<b>Yes</b>"},
    )
    assert comment["text"] == "<b>Yes</b>"  # escaped on the blog, shown as typed
    assert sandbox.bot.settings.blog_url == sandbox.blog.url and sandbox.bot.settings.blog_writable


async def test_attachments_are_served_by_the_sandbox_and_only_images_inline(sandbox, http):
    world = sandbox.world
    await world.emu.post_message(
        world.alex,
        world.general,
        "files",
        files=[
            UploadedFile("chart.png", PNG, "image/png"),
            UploadedFile("page.html", b"<script>alert(1)</script>", "text/html"),
        ],
    )
    messages = await get(http, sandbox.url + f"api/channels/{world.general.id}/messages")
    chart, page = messages[-1]["attachments"]
    assert chart["image"] and not page["image"]
    async with http.get(sandbox.url + chart["url"].lstrip("/")) as response:
        assert response.content_type == "image/png"
        assert await response.read() == PNG
    async with http.get(sandbox.url + page["url"].lstrip("/")) as response:
        assert response.content_type == "application/octet-stream"
        assert response.headers["Content-Disposition"] == "attachment"


async def test_a_click_reaches_the_bot_and_silence_is_reported(sandbox, http):
    world = sandbox.world
    message = await world.emu.post_message(world.app.bot, world.general, "old buttons")
    message.components = [
        {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "x:1"}]}
    ]
    answer = await post(
        http,
        sandbox.url + "api/components/click",
        {
            "member": str(world.alex.id),
            "channel": str(world.general.id),
            "message": str(message.id),
            "custom_id": "x:1",
        },
    )
    assert answer["failed"] and answer["response_type"] is None
    interaction = world.emu.interactions[int(answer["id"])]
    assert interaction.data["custom_id"] == "x:1" and interaction.user is world.alex.user


async def test_autocomplete_asks_the_bot_as_the_visitor_types(sandbox, http):
    key = ids(sandbox)
    commands = await get(
        http, sandbox.url + f"api/commands?member={key['visitor']}&channel={key['reviews']}"
    )
    found = [
        (c["path"], o["name"])
        for c in commands
        if not c["locked"]
        for o in c["options"]
        if o.get("autocomplete")
    ]
    if not found:
        pytest.skip("no registered command has an autocomplete option yet")
    await asyncio.wait_for(sandbox.her_review, 30)
    path, option = found[0]
    answer = await post(
        http,
        sandbox.url + "api/autocomplete",
        {
            "member": key["visitor"],
            "channel": key["reviews"],
            "command": path,
            "options": {option: ""},
            "focused": option,
        },
    )
    assert isinstance(answer["choices"], list)
    assert all({"name", "value"} <= set(c) for c in answer["choices"])


async def test_cli_sandbox_prints_its_url_and_stops_on_sigterm(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BLOG_"))}
    env["DISCORD_TOKEN"] = "not even a token"  # ignored: the sandbox's Discord is the emulator
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        "0",
        "--no-browser",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        url = line.split("open ", 1)[1].split()[0]
        async with aiohttp.ClientSession() as http:
            state = await get(http, url + "api/state")
        assert state["name"] == "Reviewbridge Sandbox"
    finally:
        process.send_signal(signal.SIGTERM)
        output, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, errors.decode()[-3000:]
    assert "sandbox stopped" in output.decode()
    assert "Traceback" not in errors.decode()
    assert not (tmp_path / "data").exists()  # a throwaway database, not the operator's


def chromium_or_skip() -> str:
    executable = find_chromium()
    if executable is not None:
        return executable
    message = "Chromium is not installed: run scripts/install-chromium.sh"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


CLEAR_COMPOSER = """(() => {
  const input = document.querySelector('#composer-input');
  input.value = ''; input.dispatchEvent(new Event('input'));
})()"""


# The answer to /review latest, privately (a card) or publicly (a message), shows "Her" in an embed.
ANSWERED_WITH_HER = """
[...document.querySelectorAll('#ephemeral .card')].some(card =>
  card.querySelector('.card-title').textContent === '/review latest'
  && [...card.querySelectorAll('.embed')].some(e => e.textContent.includes('Her')))
|| [...document.querySelectorAll('#messages .message')].some(message =>
  (message.querySelector('.interaction-ref') || {textContent: ''}).textContent
    .includes('used /review')
  && [...message.querySelectorAll('.embed')].some(e => e.textContent.includes('Her')))
"""


async def test_visitor_runs_commands_on_the_page_in_a_real_browser(sandbox, tmp_path: Path):
    executable = chromium_or_skip()
    review_latest = "review" in {c.name for c in sandbox.world.emu.state.commands.values()}
    async with headless_chromium(executable, tmp_path / "profile") as page:
        try:
            await page.goto(sandbox.url)
            await page.wait_for("document.querySelector('#channels [data-channel]')")
            assert (
                await page.evaluate(
                    "document.querySelector('#channels [data-channel]').textContent"
                )
                == "# reviews"
            )
            await page.wait_for("document.querySelector('#live').textContent.includes('live')")

            await run_slash_command(page, "about")
            await page.wait_for(
                "[...document.querySelectorAll('#ephemeral .embed')]"
                ".some(e => e.textContent.includes('Reviews, ratings and comment threads'))"
            )
            if review_latest:
                await asyncio.wait_for(sandbox.her_review, 30)
                # The announcement of "Her" arrives live in #reviews, embed and all.
                await page.wait_for(
                    "[...document.querySelectorAll('#messages .embed-title')]"
                    ".some(e => e.textContent === 'Her')",
                    timeout=30,
                )
                await run_slash_command(page, "review latest")
                await page.wait_for(ANSWERED_WITH_HER)
            assert page.errors == []
        except BaseException:
            await page.screenshot(tmp_path / "sandbox.png")
            raise


async def run_slash_command(page: Page, path: str) -> None:
    """Type the command as a member would, pick it from the list, and press Run."""
    await page.evaluate(CLEAR_COMPOSER)
    await page.type("#composer-input", "/" + path.split()[0])
    await page.wait_for(f"document.querySelector('[data-path=\"{path}\"]')")
    await page.click(f'[data-path="{path}"]')
    await page.wait_for("document.querySelector('#command-run')")
    await page.click("#command-run")
    await page.wait_for("document.querySelector('#command-form').hidden")
