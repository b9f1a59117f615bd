"""The push plugin (wordpress-plugin/reviewbridge-push) inside the real WordPress, pushing to the
real bot's endpoint: comments and moderation reach the review's thread at once, without a poll
(the bot polls once an hour here); a wrong secret is refused by the bot; and neither a wrong
secret nor a bot that is down or hangs breaks or (noticeably) slows commenting.

scripts/wordpress/seed.php installs and activates the plugin with its settings empty (push off).
These tests point it at the bot through its options (`reviewbridge_push_url`,
`reviewbridge_push_secret`) and empty them again afterwards, so other tests keep polling. The
plugin pushes through a relay of ours that forwards every request unchanged and notes what the
plugin sent and what the bot answered.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from discord_emulator import Channel
from tests.e2e.conftest import BotHarness, World, emu, harness, world  # noqa: F401 (fixtures)
from tests.integration.conftest import (
    REPO_ROOT,
    WordPressRest,
    WordPressSite,
    set_option,
)
from tests.integration.test_mirror_real_wordpress import comments_in, showing, started

SECRET = "integration-push-secret-" + secrets.token_hex(16)
PUSH_PATH = "/push/wordpress"  # the bot's endpoint (bot/sync/push.py)
PLUGIN = "reviewbridge-push/reviewbridge-push"  # its id in the REST API's /wp/v2/plugins
PLUGIN_SOURCE = REPO_ROOT / "wordpress-plugin/reviewbridge-push/reviewbridge-push.php"
PLUGIN_OPTIONS = ("reviewbridge_push_url", "reviewbridge_push_secret")
# A comment or a moderator's action on WordPress shows in the thread within this, counted from
# before the WordPress request; the bot's next poll is an hour away.
PUSH_DEADLINE = 2.0
PLUGIN_TIMEOUT = 1.0  # the plugin's per-request time for its hints (Reviewbridge_Push::TIMEOUT)


# ---------------------------------------------------------------------------- the relay


@dataclass(frozen=True)
class Push:
    event: str
    comment_id: int
    post_id: int
    status: int  # the bot's answer; 502 when the bot could not be reached


@dataclass
class Relay:
    """Stands where the bot's push endpoint would: forwards each request unchanged (body and
    X-Reviewbridge-* headers) to `target` and records the hint with the bot's answer."""

    url: str = ""
    target: str = ""
    pushes: list[Push] = field(default_factory=list)

    def seen(self, comment_id: int) -> list[Push]:
        return [p for p in self.pushes if p.comment_id == comment_id]

    async def wait_for(self, comment_id: int, timeout: float = PUSH_DEADLINE) -> Push:
        deadline = time.monotonic() + timeout
        while not self.seen(comment_id):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the plugin pushed nothing for comment {comment_id} within {timeout} s; "
                    f"pushes so far: {self.pushes}"
                )
            await asyncio.sleep(0.02)
        return self.seen(comment_id)[-1]


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    relay = Relay()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

        async def forward(request: web.Request) -> web.Response:
            body = await request.read()
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower().startswith("x-reviewbridge-") or k.lower() == "content-type"
            }
            try:
                async with session.post(relay.target, data=body, headers=headers) as resp:
                    status, answer = resp.status, await resp.read()
            except aiohttp.ClientError:
                status, answer = 502, b"{}"
            hint = json.loads(body)
            relay.pushes.append(
                Push(hint["event"], int(hint["comment_id"]), int(hint["post_id"]), status)
            )
            return web.Response(status=status, body=answer, content_type="application/json")

        app = web.Application()
        app.router.add_post(PUSH_PATH, forward)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        relay.url = f"http://127.0.0.1:{runner.addresses[0][1]}{PUSH_PATH}"
        try:
            yield relay
        finally:
            await runner.cleanup()


# ---------------------------------------------------------------------------- the plugin


@dataclass
class PushPlugin:
    async def configure(self, url: str, secret: str) -> None:
        """Point the plugin at `url` with `secret` (its settings-page options)."""
        await asyncio.to_thread(set_option, "reviewbridge_push_secret", secret)
        await asyncio.to_thread(set_option, "reviewbridge_push_url", url)


def reset_plugin_options() -> None:
    for name in PLUGIN_OPTIONS:
        set_option(name, "")


@pytest.fixture
async def push_plugin(
    fresh_wordpress: WordPressSite, wp_admin: WordPressRest
) -> AsyncIterator[PushPlugin]:
    """The plugin, active in WordPress and not configured; its options are emptied afterwards
    (push off, as the seed leaves it) even when the test fails."""
    plugin = await wp_admin.get(f"/wp/v2/plugins/{PLUGIN}")
    assert plugin["status"] == "active", plugin
    installed = plugin_file(plugin)
    assert installed.read_bytes() == PLUGIN_SOURCE.read_bytes(), (
        f"{installed} is not the repository's plugin: run scripts/wordpress/start.sh"
    )
    reset_plugin_options()
    try:
        yield PushPlugin()
    finally:
        reset_plugin_options()


def plugin_file(plugin: dict[str, Any]) -> Path:
    # Debian's wordpress package keeps wp-content (and so the plugins) in /var/lib/wordpress.
    return Path("/var/lib/wordpress/wp-content/plugins") / (plugin["plugin"] + ".php")


# ---------------------------------------------------------------------------- WordPress


_visitors = itertools.count()


async def post_as_visitor(site: WordPressSite, post_id: int, text: str) -> tuple[int, float]:
    """Send the comment form (wp-comments-post.php) as an anonymous visitor; return the new
    comment's id and how long WordPress took to answer. Each visitor comes from its own loopback
    address with its own e-mail, so WordPress's flood check (one comment per IP or e-mail every
    15 s) lets them through."""
    n = next(_visitors)
    form = {
        "comment_post_ID": str(post_id),
        "comment_parent": "0",
        "comment": text,
        "author": f"Visitor {n}",
        "email": f"visitor{n}-{secrets.token_hex(4)}@example.com",
        "url": "",
        "submit": "Post Comment",
    }
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{10 + n % 240}", 0))
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:
        began = time.monotonic()
        async with session.post(
            site.url + "/wp-comments-post.php", data=form, allow_redirects=False
        ) as resp:
            took = time.monotonic() - began
            body = await resp.text()
            location = resp.headers.get("Location", "")
    # Success is a redirect to the post, at the new comment: …/her/#comment-5011
    assert resp.status == 302 and "#comment-" in location, (resp.status, location, body[:500])
    return int(location.rsplit("#comment-", 1)[1]), took


async def timed(action: Awaitable[Any]) -> float:
    began = time.monotonic()
    await action
    return time.monotonic() - began


# ---------------------------------------------------------------------------- the bot


async def start_bot(running: BotHarness, site: WordPressSite) -> World:
    """The bot with its push endpoint on a free port and an hourly poll, set up on the
    review channel, with the seeded catalogue as its baseline."""
    running.env.update({"PUSH_SECRET": SECRET, "PUSH_PORT": "0"})
    return await started(running, site)


def push_url(running: BotHarness) -> str:
    assert running.bot is not None and running.bot.push_port
    return f"http://127.0.0.1:{running.bot.push_port}{PUSH_PATH}"


async def announce_her(w: World, site: WordPressSite) -> Channel:
    result = await w.emu.run_command(
        w.moderator, w.channel, "review announce", {"review": str(site.her_post_id)}
    )
    assert "Announced" in (await result.wait_for_message(timeout=10)).content
    [thread] = w.emu.threads_in(w.channel)
    await w.emu.wait_until(lambda: len(comments_in(w, thread)) == 2, timeout=10)
    return thread


async def within_deadline(
    w: World, began: float, predicate: Callable[[], bool], what: str, relay: Relay
) -> float:
    """Wait until `predicate` holds in the emulator; fail unless it did within PUSH_DEADLINE
    of `began`. Returns the latency."""
    try:
        await w.emu.wait_until(predicate, timeout=PUSH_DEADLINE + 1)
    except TimeoutError:
        raise AssertionError(f"{what}: not in the thread; pushes: {relay.pushes}") from None
    latency = time.monotonic() - began
    assert latency < PUSH_DEADLINE, f"{what}: took {latency:.2f} s; pushes: {relay.pushes}"
    return latency


# ---------------------------------------------------------------------------- tests


async def test_new_comments_are_pushed_and_mirrored_at_once(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
    push_plugin: PushPlugin,
    relay: Relay,
):
    site = fresh_wordpress
    w = await start_bot(harness, site)
    thread = await announce_her(w, site)
    relay.target = push_url(harness)
    await push_plugin.configure(relay.url, SECRET)

    # A visitor, through the comment form.
    began = time.monotonic()
    visitor, took = await post_as_visitor(site, site.her_post_id, "Pushed from the comment form.")
    await within_deadline(
        w, began, lambda: bool(showing(w, thread, visitor)), "the visitor's comment", relay
    )
    assert [(p.event, p.post_id, p.status) for p in relay.seen(visitor)] == [
        ("comment_posted", site.her_post_id, 202)
    ]
    assert "Pushed from the comment form." in showing(w, thread, visitor)[0].content
    assert took < 1.0

    # A logged-in user (here the admin, with an Application Password) through the REST API, as
    # WordPress's apps do: WordPress fires no comment_post for those, only wp_insert_comment.
    began = time.monotonic()
    created = await wp_admin.create_comment(
        site.her_post_id, "Pushed from the REST API.", parent=site.her_reader_comment_id
    )
    rest_comment = int(created["id"])
    await within_deadline(
        w, began, lambda: bool(showing(w, thread, rest_comment)), "the REST comment", relay
    )
    assert [(p.event, p.status) for p in relay.seen(rest_comment)] == [("comment_posted", 202)]
    assert len(comments_in(w, thread)) == 4
    assert w.emu.stats.total_429s == 0


async def test_moderation_on_wordpress_is_pushed(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
    push_plugin: PushPlugin,
    relay: Relay,
):
    site = fresh_wordpress
    reader, reply = site.her_reader_comment_id, site.her_reply_comment_id
    held = site.ids["her_held_comment"]
    w = await start_bot(harness, site)
    thread = await announce_her(w, site)
    [reader_message, _] = comments_in(w, thread)
    relay.target = push_url(harness)
    await push_plugin.configure(relay.url, SECRET)

    # An edit: no poll would see it at all (WordPress comments have no modified date).
    began = time.monotonic()
    await wp_admin.edit_comment(reader, "Edited on WordPress, and pushed.")
    await within_deadline(
        w,
        began,
        lambda: any("and pushed" in m.content for m in showing(w, thread, reader)),
        "the edit",
        relay,
    )
    assert showing(w, thread, reader)[0].id == reader_message.id  # edited in place

    began = time.monotonic()
    await wp_admin.approve_comment(held)
    await within_deadline(w, began, lambda: bool(showing(w, thread, held)), "approval", relay)

    began = time.monotonic()
    await wp_admin.trash_comment(reply)
    await within_deadline(w, began, lambda: not showing(w, thread, reply), "trash", relay)

    began = time.monotonic()
    await wp_admin.delete_comment(held)  # permanently
    await within_deadline(w, began, lambda: not showing(w, thread, held), "deletion", relay)

    assert [(p.event, p.comment_id, p.status) for p in relay.pushes] == [
        ("comment_edited", reader, 202),
        ("comment_status", held, 202),
        ("comment_status", reply, 202),
        ("comment_deleted", held, 202),  # not the status change WordPress fires after it
    ]
    assert [m.id for m in comments_in(w, thread)] == [reader_message.id]
    assert w.emu.stats.total_429s == 0


async def test_a_wrong_secret_is_refused_and_commenting_still_works(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
    push_plugin: PushPlugin,
    relay: Relay,
):
    site = fresh_wordpress
    w = await start_bot(harness, site)
    thread = await announce_her(w, site)
    relay.target = push_url(harness)
    await push_plugin.configure(relay.url, "not-the-bots-secret-" + secrets.token_hex(16))

    refused, took = await post_as_visitor(site, site.her_post_id, "Sent with the wrong secret.")
    assert took < 1.0
    saved = await wp_admin.comment(refused)  # commenting works: saved and public
    assert saved["status"] == "approved"
    assert "Sent with the wrong secret." in saved["content"]["raw"]
    assert (await relay.wait_for(refused)).status == 401  # the bot refused the push
    # The plugin pushed at once; had the bot taken the hint, it would show by now.
    await asyncio.sleep(PUSH_DEADLINE)
    assert not showing(w, thread, refused)

    # Only the secret was wrong: with the right one the next comment's push is taken, and its
    # sync of the review brings the refused comment along.
    await push_plugin.configure(relay.url, SECRET)
    began = time.monotonic()
    accepted, _ = await post_as_visitor(site, site.her_post_id, "Sent with the right secret.")
    await within_deadline(
        w,
        began,
        lambda: bool(showing(w, thread, accepted)) and bool(showing(w, thread, refused)),
        "both comments",
        relay,
    )
    assert (await relay.wait_for(accepted)).status == 202


@pytest.fixture
def hanging_bot() -> Iterator[str]:
    """A push URL where connections are accepted (by the kernel's backlog) and never answered,
    as with a bot that is stuck."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{PUSH_PATH}"


async def test_with_the_bot_down_or_stuck_commenting_still_works(
    harness: BotHarness,  # noqa: F811 (the fixture imported above)
    fresh_wordpress: WordPressSite,
    wp_admin: WordPressRest,
    push_plugin: PushPlugin,
    hanging_bot: str,
):
    site = fresh_wordpress
    w = await start_bot(harness, site)
    thread = await announce_her(w, site)
    # A post with many comments, to delete later while the bot is stuck (made with push off).
    doomed = site.ids["stars_post"]
    for n in range(6):
        await wp_admin.create_comment(doomed, f"One more comment, number {n}.")

    # How long a comment takes with push off, to compare with (the slower of two).
    plain, first = await post_as_visitor(site, site.her_post_id, "Nothing pushed for this.")
    plain_too, second = await post_as_visitor(site, site.her_post_id, "Nor for this one.")
    baseline = max(first, second)

    # The bot is down: nothing listens on its port any more.
    await push_plugin.configure(push_url(harness), SECRET)
    await harness.stop()
    down, took_down = await post_as_visitor(site, site.her_post_id, "Posted while the bot is down.")
    assert (await wp_admin.comment(down))["status"] == "approved"
    assert took_down < baseline + 0.75, (took_down, baseline)

    # The bot is stuck: it takes connections but never answers. The plugin's hints are
    # non-blocking with a one-second timeout, and all the hints of one request get that
    # second together.
    await push_plugin.configure(hanging_bot, SECRET)
    stuck, took_stuck = await post_as_visitor(site, site.her_post_id, "Posted while it is stuck.")
    assert (await wp_admin.comment(stuck))["status"] == "approved"
    assert took_stuck < baseline + PLUGIN_TIMEOUT + 0.5, (took_stuck, baseline)
    # Ten comments deleted in one request: ten hints, but not ten timeouts.
    took_delete = await timed(wp_admin.delete(f"/wp/v2/posts/{doomed}", force="true"))
    assert took_delete < baseline + PLUGIN_TIMEOUT + 1.0, (took_delete, baseline)

    # Back up, the bot catches up on what it missed without any push.
    await push_plugin.configure("", "")
    await harness.start()
    await w.emu.wait_until(
        lambda: all(showing(w, thread, c) for c in (plain, plain_too, down, stuck)), timeout=10
    )
    assert len(comments_in(w, thread)) == 6
