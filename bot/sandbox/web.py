"""The sandbox page and its JSON API: the emulated server, live, and a visitor acting as a member.

Read: `GET /api/state`, `/api/channels/{id}/messages`, `/api/commands`, `/api/blog`,
`/api/interactions/{id}`, `/attachments/{id}`, and `/api/events` (server-sent events: one `data:`
line with a version number whenever the emulator or the blog changed).
Act (JSON bodies; `member` is the persona's id): `POST /api/commands/run`, `/api/autocomplete`,
`/api/components/click`, `/api/components/select`, `/api/modals/submit`, `/api/messages`,
`/api/blog/comments`. Ephemeral answers are kept per visitor (the `X-Sandbox-Visitor` header), so
only the visitor who acted sees them.

The server listens on loopback only and refuses requests addressed to any other host name (DNS
rebinding) and cross-site writes (a JSON body and, when sent, a loopback Origin are required).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import html
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from bs4 import BeautifulSoup

from bot.sandbox.fake_wordpress import FakeComment, FakeWordPress
from bot.sandbox.views import (
    command_entries,
    guild_commands,
    guild_view,
    leaf_options,
    message_view,
    messages_view,
)
from bot.sandbox.world import SandboxWorld
from discord_emulator import (
    AppCommand,
    Channel,
    EmulatorError,
    InteractionResult,
    Member,
    Message,
    ResponseType,
    UploadedFile,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
STATIC_FILES = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
SETTLE_SECONDS = 10.0  # how long an action waits for a deferred answer before returning
KEEPALIVE_SECONDS = 15.0
BLOG_CHECK_SECONDS = 0.5
TRACKED_LIMIT = 200
TEXT_LIMIT = 4000
_OPTION_STRING, _OPTION_INTEGER, _OPTION_BOOLEAN, _OPTION_USER = 3, 4, 5, 6
_OPTION_CHANNEL, _OPTION_ROLE, _OPTION_MENTIONABLE, _OPTION_NUMBER = 7, 8, 9, 10
_OPTION_ATTACHMENT = 11


class BadRequest(Exception):
    """Something the visitor sent that cannot be done; the message is shown to them."""


class ChangeFeed:
    """A version number that grows on every change, and a way to wait for the next one."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._changed = asyncio.Event()

    def bump(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    async def wait_past(self, seen: int, timeout: float) -> int | None:
        """The version once it differs from `seen` (or after `timeout`); None once closed."""
        if self.version == seen and not self.closed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return None if self.closed else self.version


@dataclass
class Tracked:
    """An interaction a visitor started, kept so its (ephemeral) answers can be shown to them."""

    visitor: str
    title: str
    result: InteractionResult


class SandboxWeb:
    def __init__(
        self, world: SandboxWorld, *, blog: FakeWordPress | None, blog_url: str | None
    ) -> None:
        self.world = world
        self.emu = world.emu
        self.state = world.emu.state
        self.blog = blog
        self.blog_url = blog_url
        self.feed = ChangeFeed()
        self._tracked: OrderedDict[int, Tracked] = OrderedDict()
        self._watchers: list[asyncio.Task[None]] = []
        package = resources.files("bot.sandbox").joinpath("static")
        self._page = package.joinpath("index.html").read_bytes()
        self._static = {name: package.joinpath(name).read_bytes() for name in STATIC_FILES}

    def application(self) -> web.Application:
        app = web.Application(middlewares=[self._guard], client_max_size=12 * 1024**2)
        router = app.router
        router.add_get("/", self.page)
        router.add_get("/static/{name}", self.static)
        router.add_get("/attachments/{attachment_id}", self.attachment)
        router.add_get("/api/state", self.get_state)
        router.add_get("/api/channels/{channel_id}/messages", self.get_messages)
        router.add_get("/api/commands", self.get_commands)
        router.add_get("/api/blog", self.get_blog)
        router.add_get("/api/interactions/{interaction_id}", self.get_interaction)
        router.add_get("/api/events", self.events)
        router.add_post("/api/commands/run", self._action(self.run_command))
        router.add_post("/api/autocomplete", self._action(self.autocomplete))
        router.add_post("/api/components/click", self._action(self.click_button))
        router.add_post("/api/components/select", self._action(self.choose_select))
        router.add_post("/api/modals/submit", self._action(self.submit_modal))
        router.add_post("/api/messages", self._action(self.post_message))
        router.add_post("/api/blog/comments", self._action(self.post_blog_comment))
        app.on_startup.append(self._start_watching)
        app.on_shutdown.append(self._stop_watching)
        return app

    # ----- safety -----
    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if _hostname(request.host) not in LOOPBACK_NAMES:
            raise web.HTTPMisdirectedRequest(text="The sandbox answers only on loopback.")
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin is not None and _hostname(urlsplit(origin).netloc) not in LOOPBACK_NAMES:
                raise web.HTTPForbidden(text="Cross-site requests are refused.")
            if request.content_type != "application/json":
                raise web.HTTPUnsupportedMediaType(text="Send JSON.")
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _action(
        self, handler: Callable[[web.Request, dict[str, Any]], Awaitable[dict[str, Any]]]
    ) -> Handler:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                body = await request.json()
                if not isinstance(body, dict):
                    raise BadRequest("The body must be a JSON object.")
                return web.json_response(await handler(request, body))
            except (BadRequest, EmulatorError, ValueError) as error:
                return web.json_response({"error": str(error)}, status=400)

        return run

    # ----- change feed -----
    async def _start_watching(self, app: web.Application) -> None:
        self._watchers.append(asyncio.create_task(self._follow_emulator()))
        if self.blog is not None:
            self._watchers.append(asyncio.create_task(self._follow_blog(self.blog)))

    async def _stop_watching(self, app: web.Application) -> None:
        self.feed.close()  # ends the open event streams, so shutdown does not wait for them
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def _follow_emulator(self) -> None:
        changed = self.emu.hub.changed
        # The lock is held except while waiting, so no notification slips between two waits.
        async with changed:
            while True:
                await changed.wait()
                self.feed.bump()

    async def _follow_blog(self, blog: FakeWordPress) -> None:
        seen = _blog_fingerprint(blog)
        while True:
            await asyncio.sleep(BLOG_CHECK_SECONDS)
            current = _blog_fingerprint(blog)
            if current != seen:
                seen = current
                self.feed.bump()

    async def events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        seen = -1
        with contextlib.suppress(ConnectionResetError):  # the page was closed
            while (version := await self.feed.wait_past(seen, KEEPALIVE_SECONDS)) is not None:
                if version == seen:
                    await response.write(b": keep-alive\n\n")
                    continue
                await asyncio.sleep(0.1)  # let a burst of changes settle into one refresh
                seen = self.feed.version
                await response.write(f"data: {seen}\n\n".encode())
        return response

    # ----- page and files -----
    async def page(self, request: web.Request) -> web.Response:
        return web.Response(body=self._page, content_type="text/html", charset="utf-8")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._static:
            raise web.HTTPNotFound()
        return web.Response(body=self._static[name], content_type=STATIC_FILES[name])

    async def attachment(self, request: web.Request) -> web.Response:
        try:
            attachment = self.state.attachments[int(request.match_info["attachment_id"])]
        except (KeyError, ValueError):
            raise web.HTTPNotFound() from None
        content_type = (attachment.content_type or "").split(";")[0].strip().lower()
        headers = {"Content-Security-Policy": "default-src 'none'; sandbox"}
        if content_type not in INLINE_IMAGE_TYPES:
            content_type = "application/octet-stream"
            headers["Content-Disposition"] = "attachment"
        return web.Response(body=attachment.data, content_type=content_type, headers=headers)

    # ----- reading -----
    async def get_state(self, request: web.Request) -> web.Response:
        view = guild_view(self.state, self.world.guild)
        view["version"] = self.feed.version
        view["bot"] = {"id": str(self.world.app.bot.id), "name": self.world.app.name}
        view["default_member"] = str(self.world.visitor.id)
        view["default_channel"] = str(self.world.reviews.id)
        view["blog"] = {"url": self.blog_url or "", "builtin": self.blog is not None}
        return web.json_response(view)

    async def get_messages(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        return web.json_response(messages_view(self.state, channel))

    async def get_commands(self, request: web.Request) -> web.Response:
        try:
            member = self._member(request.query.get("member"))
            channel = self._channel(request.query.get("channel"))
        except BadRequest as error:
            return web.json_response({"error": str(error)}, status=400)
        entries = command_entries(self.state, self.world.guild, member, channel)
        return web.json_response(entries)

    async def get_interaction(self, request: web.Request) -> web.Response:
        tracked = self._tracked.get(_int(request.match_info["interaction_id"]))
        if tracked is None or tracked.visitor != _visitor(request):
            raise web.HTTPNotFound()
        return web.json_response(self._interaction_view(tracked))

    async def get_blog(self, request: web.Request) -> web.Response:
        view: dict[str, Any] = {"url": self.blog_url or "", "builtin": self.blog is not None}
        view["posts"] = [] if self.blog is None else _blog_posts(self.blog)
        return web.json_response(view)

    # ----- acting as a member -----
    async def run_command(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member, channel = self._member(body.get("member")), self._channel(body.get("channel"))
        name, path = self._command_path(body.get("command"))
        definitions = leaf_options(self._command(name), path)
        options = self._options(definitions, body.get("options"), strict=True)
        result = await self.emu.run_command(member, channel, " ".join([name, *path]), options)
        return await self._answer(request, "/" + " ".join([name, *path]), result)

    async def autocomplete(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member, channel = self._member(body.get("member")), self._channel(body.get("channel"))
        name, path = self._command_path(body.get("command"))
        focused = str(body.get("focused") or "")
        definitions = leaf_options(self._command(name), path)
        raw = body.get("options") if isinstance(body.get("options"), dict) else {}
        options = self._options(
            definitions, {k: v for k, v in raw.items() if k != focused}, strict=False
        )
        options[focused] = str(raw.get(focused, ""))
        choices = await self.emu.autocomplete(
            member,
            channel,
            " ".join([name, *path]),
            options,
            focused=focused,
            timeout=self.emu.interaction_deadline,
        )
        return {"choices": [{"name": c.get("name"), "value": c.get("value")} for c in choices]}

    async def click_button(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member, message = self._member(body.get("member")), self._message(body)
        custom_id = str(body.get("custom_id") or "")
        result = await self.emu.click_button(member, message, custom_id)
        return await self._answer(request, "Button", result)

    async def choose_select(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member, message = self._member(body.get("member")), self._message(body)
        values = body.get("values")
        if not isinstance(values, list):
            raise BadRequest("Choose at least one value.")
        custom_id = str(body.get("custom_id") or "")
        result = await self.emu.choose_select(member, message, custom_id, [str(v) for v in values])
        return await self._answer(request, "Select menu", result)

    async def submit_modal(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member = self._member(body.get("member"))
        tracked = self._tracked.get(_int(body.get("interaction")))
        if tracked is None or tracked.visitor != _visitor(request):
            raise BadRequest("That form is no longer open.")
        values = body.get("values")
        if not isinstance(values, dict):
            raise BadRequest("The form's values are missing.")
        result = await self.emu.submit_modal(member, tracked.result, values)
        title = str((tracked.result.modal or {}).get("title") or "Form")
        return await self._answer(request, title, result)

    async def post_message(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        member, channel = self._member(body.get("member")), self._channel(body.get("channel"))
        content = _text(body.get("content"), "The message", limit=2000)
        reply_to = None
        if body.get("reply_to"):
            reply_to = self._message({"channel": channel.id, "message": body["reply_to"]})
        message = await self.emu.post_message(member, channel, content, reply_to=reply_to)
        return message_view(self.state, message)

    async def post_blog_comment(self, request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        """A reader comments on the sandbox blog, as if through the blog's comment form."""
        if self.blog is None:
            raise BadRequest("Commenting works on the built-in blog only.")
        post = self.blog.posts.get(_int(body.get("post")))
        if post is None or post.status != "publish":
            raise BadRequest("There is no such post on the blog.")
        parent = _int(body.get("parent")) if body.get("parent") else 0
        if parent and self.blog.comments.get(parent, None) is None:
            raise BadRequest("The comment you answer no longer exists.")
        author = _text(body.get("author"), "Your name", limit=80)
        content = _text(body.get("content"), "The comment", limit=TEXT_LIMIT)
        comment = self.blog.add_comment(
            post,
            html.escape(content, quote=False),
            author_name=author,
            author_email=f"{hashlib.sha1(author.encode()).hexdigest()[:12]}@readers.example",
            parent=parent,
        )
        return _comment_view(comment, depth=0)

    # ----- helpers -----
    async def _answer(
        self, request: web.Request, title: str, result: InteractionResult
    ) -> dict[str, Any]:
        tracked = Tracked(_visitor(request), title, result)
        self._tracked[result.interaction.id] = tracked
        while len(self._tracked) > TRACKED_LIMIT:
            self._tracked.popitem(last=False)
        with contextlib.suppress(TimeoutError):
            await result.wait_for_response(self.emu.interaction_deadline)
            if result.response_type == ResponseType.DEFERRED_CHANNEL_MESSAGE:
                await result.wait_for_message(SETTLE_SECONDS)
        return self._interaction_view(tracked)

    def _interaction_view(self, tracked: Tracked) -> dict[str, Any]:
        result = tracked.result
        interaction = result.interaction
        shown = [m for m in (result.message, *result.followups) if m is not None]
        return {
            "id": str(interaction.id),
            "title": tracked.title,
            "channel_id": str(interaction.channel.id),
            "response_type": result.response_type,
            "failed": result.response_type is None and time.monotonic() > interaction.deadline,
            "messages": [message_view(self.state, m) for m in shown],
            "modal": result.modal,
        }

    def _member(self, member_id: object) -> Member:
        member = self.world.guild.members.get(_int(member_id))
        if member is None or member.user.bot:
            raise BadRequest("Pick a member of the server to act as.")
        return member

    def _channel(self, channel_id: object) -> Channel:
        channel = self.state.channels.get(_int(channel_id))
        if channel is None or channel.guild_id != self.world.guild.id:
            raise BadRequest("There is no such channel in the sandbox server.")
        return channel

    def _message(self, body: dict[str, Any]) -> Message:
        channel = self._channel(body.get("channel"))
        message = self.state.messages.get(channel.id, {}).get(_int(body.get("message")))
        if message is None:
            raise BadRequest("That message no longer exists.")
        return message

    def _command(self, name: str) -> AppCommand:
        for command in guild_commands(self.state, self.world.guild):
            if command.name == name:
                return command
        raise BadRequest(f"There is no command /{name} in this server.")

    @staticmethod
    def _command_path(text: object) -> tuple[str, list[str]]:
        words = str(text or "").removeprefix("/").split()
        if not words:
            raise BadRequest("Pick a command.")
        return words[0], words[1:]

    def _options(
        self, definitions: list[dict[str, Any]], raw: object, *, strict: bool
    ) -> dict[str, Any]:
        """The visitor's option values (strings, ids, or a file) as the emulator takes them.
        Unless `strict`, values that do not convert are left out (autocomplete while typing)."""
        given = raw if isinstance(raw, dict) else {}
        options: dict[str, Any] = {}
        for definition in definitions:
            name = definition["name"]
            value = given.get(name)
            if value is None or value == "":
                continue
            try:
                options[name] = self._option_value(definition, value)
            except (BadRequest, ValueError, KeyError, TypeError) as error:
                if strict:
                    raise BadRequest(f"Option {name}: {error}") from error
        unknown = set(given) - {d["name"] for d in definitions}
        if strict and unknown:
            raise BadRequest(f"Unknown option(s): {', '.join(sorted(unknown))}")
        return options

    def _option_value(self, definition: dict[str, Any], value: Any) -> Any:
        kind = definition["type"]
        guild = self.world.guild
        if kind == _OPTION_STRING:
            return str(value)
        if kind == _OPTION_INTEGER:
            return int(str(value).strip())
        if kind == _OPTION_NUMBER:
            return float(str(value).strip())
        if kind == _OPTION_BOOLEAN:
            if str(value).lower() not in ("true", "false"):
                raise BadRequest("choose true or false")
            return str(value).lower() == "true"
        if kind == _OPTION_CHANNEL:
            return self._channel(value)
        if kind in (_OPTION_USER, _OPTION_MENTIONABLE) and _int(value) in guild.members:
            return guild.members[_int(value)]
        if kind in (_OPTION_ROLE, _OPTION_MENTIONABLE) and _int(value) in guild.roles:
            return guild.roles[_int(value)]
        if kind == _OPTION_ATTACHMENT and isinstance(value, dict):
            try:
                data = base64.b64decode(str(value.get("data") or ""), validate=True)
            except binascii.Error:
                raise BadRequest("the file did not arrive intact") from None
            name = str(value.get("filename") or "upload.bin")[:100]
            return UploadedFile(name, data, str(value.get("content_type") or "") or None)
        raise BadRequest(f"cannot use {value!r} here")


def _hostname(host: str) -> str:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.strip("[]").lower()


def _visitor(request: web.Request) -> str:
    return request.headers.get("X-Sandbox-Visitor", "")[:64]


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _text(value: object, what: str, *, limit: int) -> str:
    text = str(value or "").strip()
    if not text:
        raise BadRequest(f"{what} is empty.")
    if len(text) > limit:
        raise BadRequest(f"{what} is longer than {limit} characters.")
    return text


def _blog_fingerprint(blog: FakeWordPress) -> tuple[object, ...]:
    return (
        tuple((p.id, p.status, p.title, p.modified_gmt) for p in blog.posts.values()),
        tuple((c.id, c.status, c.content) for c in blog.comments.values()),
    )


def _blog_posts(blog: FakeWordPress) -> list[dict[str, Any]]:
    posts = sorted(
        (p for p in blog.posts.values() if p.status == "publish"),
        key=lambda p: (p.date_gmt, p.id),
        reverse=True,
    )
    return [
        {
            "id": post.id,
            "title": post.title,
            "date": post.date_gmt.isoformat() + "Z",
            "comments": _comment_thread(blog, post.id),
        }
        for post in posts
    ]


def _comment_thread(blog: FakeWordPress, post_id: int) -> list[dict[str, Any]]:
    """Public comments in reading order: each followed by its replies, indented by depth."""
    public = [c for c in blog.comments.values() if c.post == post_id and c.status == "1"]
    children: dict[int, list[FakeComment]] = {}
    for comment in sorted(public, key=lambda c: (c.date_gmt, c.id)):
        children.setdefault(comment.parent, []).append(comment)
    ordered: list[dict[str, Any]] = []

    def visit(parent: int, depth: int) -> None:
        for comment in children.get(parent, []):
            ordered.append(_comment_view(comment, depth))
            visit(comment.id, depth + 1)

    visit(0, 0)
    return ordered


def _comment_view(comment: FakeComment, depth: int) -> dict[str, Any]:
    text = BeautifulSoup(comment.content, "html.parser").get_text()
    return {
        "id": comment.id,
        "parent": comment.parent,
        "depth": depth,
        "author": comment.author_name,
        "text": text.strip(),
        "date": comment.date_gmt.isoformat() + "Z",
    }
