"""The gateway: sessions, sequence numbers, intents, resume and fault injection.

Every dispatch is appended to its session's buffer with the next sequence number and a
per-connection writer sends the buffer in order. A RESUME only moves the writer's cursor
back to the client's sequence, so missed events are replayed exactly like Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .models import PRIVILEGED_INTENTS, Application

if TYPE_CHECKING:
    from .state import EmulatorState

log = logging.getLogger(__name__)


class Intent:
    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_WEBHOOKS = 1 << 5
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    GUILD_MESSAGE_REACTIONS = 1 << 10
    DIRECT_MESSAGES = 1 << 12
    DIRECT_MESSAGE_REACTIONS = 1 << 13
    MESSAGE_CONTENT = 1 << 15


class Op:
    DISPATCH = 0
    HEARTBEAT = 1
    IDENTIFY = 2
    PRESENCE = 3
    RESUME = 6
    RECONNECT = 7
    REQUEST_MEMBERS = 8
    INVALID_SESSION = 9
    HELLO = 10
    HEARTBEAT_ACK = 11


class Close:
    UNKNOWN_OPCODE = 4001
    DECODE_ERROR = 4002
    NOT_AUTHENTICATED = 4003
    AUTHENTICATION_FAILED = 4004
    ALREADY_AUTHENTICATED = 4005
    INVALID_INTENTS = 4013
    DISALLOWED_INTENTS = 4014


Render = Callable[["GatewaySession"], dict[str, Any] | None]


@dataclass(eq=False)
class GatewaySession:
    id: str
    app: Application
    intents: int
    seq: int = 0
    buffer: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    heartbeats: int = 0
    resumes: int = 0

    def wants(self, intent: int | None) -> bool:
        return intent is None or bool(self.intents & intent)

    @property
    def message_content(self) -> bool:
        return bool(self.intents & Intent.MESSAGE_CONTENT)

    @property
    def events(self) -> list[str]:
        """Names of the events dispatched so far, for tests."""
        return [frame["t"] for _, frame in self.buffer]


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, *, zlib_stream: bool):
        self.ws = ws
        self.request = request
        self.session: GatewaySession | None = None
        self.cursor = 0
        # discord.py beats right after HELLO, before it identifies.
        self.early_heartbeats = 0
        self.pending = asyncio.Event()
        self._compressor = zlib.compressobj() if zlib_stream else None
        self._lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        async with self._lock:
            if self._compressor is None:
                await self.ws.send_str(text)
            else:
                # discord.py only decodes once a chunk ends with the Z_SYNC_FLUSH suffix.
                data = self._compressor.compress(text.encode())
                data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)

    def abort(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()


class GatewayHub:
    def __init__(self, state: EmulatorState, *, heartbeat_interval_ms: int) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_url = ""
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[GatewayConnection] = set()
        self.closed_codes: list[int] = []
        # Set on any session change so control-API waits need no polling.
        self.changed = asyncio.Condition()
        self.on_ready: Callable[[GatewaySession], list[tuple[str, dict[str, Any]]]] = lambda s: []

    # ----- dispatch -----
    def dispatch(
        self,
        event: str,
        render: Render,
        *,
        app_ids: set[int] | None = None,
        intent: int | None = None,
        only_latest: bool = False,
    ) -> None:
        """Queue ``event`` for each session of the given apps that asked for ``intent``;
        ``render`` builds the payload per session (None skips it)."""
        sessions = [
            s
            for s in self.sessions.values()
            if (app_ids is None or s.app.id in app_ids) and s.wants(intent)
        ]
        if only_latest and sessions:
            sessions = [sessions[-1]]
        for session in sessions:
            data = render(session)
            if data is not None:
                self._append(session, event, data)

    def _append(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        session.buffer.append(
            (session.seq, {"op": Op.DISPATCH, "t": event, "s": session.seq, "d": data})
        )
        if session.connection is not None:
            session.connection.pending.set()

    def latest_session(self, app: Application) -> GatewaySession | None:
        found = [s for s in self.sessions.values() if s.app.id == app.id]
        return found[-1] if found else None

    async def wait_for_session(self, app: Application, timeout: float) -> GatewaySession:
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: self._connected(app) is not None), timeout
            )
        session = self._connected(app)
        assert session is not None
        return session

    def _connected(self, app: Application) -> GatewaySession | None:
        session = self.latest_session(app)
        return session if session is not None and session.connection is not None else None

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # ----- fault injection -----
    def drop(self, app: Application) -> None:
        for conn in list(self.connections):
            if conn.session is not None and conn.session.app.id == app.id:
                conn.abort()

    async def send_op(self, app: Application, op: int, data: Any = None) -> None:
        for conn in list(self.connections):
            if conn.session is not None and conn.session.app.id == app.id:
                await conn.send({"op": op, "d": data, "s": None, "t": None})
                if op == Op.INVALID_SESSION and not data:
                    self.sessions.pop(conn.session.id, None)

    async def close_all(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001)

    # ----- connection handling -----
    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(
            ws, request, zlib_stream=request.query.get("compress") == "zlib-stream"
        )
        self.connections.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            await conn.send(
                {
                    "op": Op.HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["emulator"]},
                    "s": None,
                    "t": None,
                }
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                code = await self._receive(conn, msg.data)
                if code is not None:
                    self.closed_codes.append(code)
                    await ws.close(code=code)
                    break
        finally:
            writer.cancel()
            self.connections.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            await self.notify()
        return ws

    async def _writer(self, conn: GatewayConnection) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while True:
                await conn.pending.wait()
                conn.pending.clear()
                session = conn.session
                if session is None:
                    continue
                for seq, frame in session.buffer:
                    if seq > conn.cursor:
                        await conn.send(frame)
                        conn.cursor = seq

    async def _receive(self, conn: GatewayConnection, text: str) -> int | None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            return Close.DECODE_ERROR
        data = frame.get("d")
        if op == Op.HEARTBEAT:
            if conn.session is not None:
                conn.session.heartbeats += 1
            else:
                conn.early_heartbeats += 1
            await conn.send({"op": Op.HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            return None
        if op == Op.IDENTIFY:
            return await self._identify(conn, data or {})
        if op == Op.RESUME:
            return await self._resume(conn, data or {})
        if conn.session is None:
            return Close.NOT_AUTHENTICATED
        if op == Op.REQUEST_MEMBERS:
            self._members_chunk(conn.session, data or {})
            return None
        if op == Op.PRESENCE:
            return None
        return Close.UNKNOWN_OPCODE

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> int | None:
        if conn.session is not None:
            return Close.ALREADY_AUTHENTICATED
        app = self.state.app_for_token(str(data.get("token", "")).removeprefix("Bot "))
        if app is None:
            return Close.AUTHENTICATION_FAILED
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents >= 1 << 26:
            return Close.INVALID_INTENTS
        privileged = sum(PRIVILEGED_INTENTS.values())
        if intents & privileged & ~app.approved_intents:
            return Close.DISALLOWED_INTENTS
        for old in [s for s in self.sessions.values() if s.app.id == app.id]:
            if old.connection is None:
                del self.sessions[old.id]
        session = GatewaySession(id=secrets.token_hex(16), app=app, intents=intents)
        self.sessions[session.id] = session
        self._attach(conn, session, cursor=0)
        self._append(session, "READY", self._ready_payload(session))
        for event, payload in self.on_ready(session):
            self._append(session, event, payload)
        await self.notify()
        return None

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> int | None:
        session = self.sessions.get(str(data.get("session_id")))
        token = str(data.get("token", "")).removeprefix("Bot ")
        if session is None or session.app.token != token:
            await conn.send({"op": Op.INVALID_SESSION, "d": False, "s": None, "t": None})
            return None
        if session.connection is not None and session.connection is not conn:
            session.connection.abort()
        session.resumes += 1
        seq = data.get("seq")
        self._attach(conn, session, cursor=seq if isinstance(seq, int) else 0)
        self._append(session, "RESUMED", {"_trace": ["emulator"]})
        await self.notify()
        return None

    def _attach(self, conn: GatewayConnection, session: GatewaySession, cursor: int) -> None:
        conn.session = session
        conn.cursor = cursor
        session.heartbeats += conn.early_heartbeats
        conn.early_heartbeats = 0
        session.connection = conn
        conn.pending.set()

    def _ready_payload(self, session: GatewaySession) -> dict[str, Any]:
        app = session.app
        guilds = [g for g in self.state.guilds.values() if app.id in g.installed_apps]
        return {
            "v": 10,
            "user": self.state.user_payload(app.bot)
            | {"verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(app.id), "flags": app.flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["emulator"],
        }

    def _members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        guild = self.state.guilds.get(int(data.get("guild_id") or 0))
        if guild is None or session.app.id not in guild.installed_apps:
            return
        members = list(guild.members.values())
        query = data.get("query")
        if query:
            members = [m for m in members if m.user.username.lower().startswith(query.lower())]
        if data.get("user_ids"):
            wanted = {int(u) for u in data["user_ids"]}
            members = [m for m in members if m.id in wanted]
        limit = data.get("limit") or 0
        if limit:
            members = members[:limit]
        payload: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [self.state.member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            payload["nonce"] = data["nonce"]
        self._append(session, "GUILD_MEMBERS_CHUNK", payload)
