"""Push notifications from the Reviewbridge WordPress plugin: signed hints that a comment changed.

The plugin sends `{"event", "comment_id", "post_id", "nonce"}` with three headers:
`X-Reviewbridge-Timestamp` (Unix seconds), `X-Reviewbridge-Nonce` (the body's nonce) and
`X-Reviewbridge-Signature: sha256=<hex HMAC-SHA256 of timestamp + "." + body>`.
A request is refused unless the signature matches (constant-time), the timestamp is within
`max_skew` of now, and the nonce is new. The nonce sits inside the signed body as well, so a
captured request cannot be replayed under a fresh nonce header. A hint carries no content:
the engine fetches the comments from the REST API, so a forged hint could only cause a sync.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from bot.config import Secret
from bot.storage.mirror import NonceRepository
from bot.sync.ports import Clock

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Reviewbridge-Timestamp"
SIGNATURE_HEADER = "X-Reviewbridge-Signature"
NONCE_HEADER = "X-Reviewbridge-Nonce"
PUSH_PATH = "/push/wordpress"
HEALTH_PATH = "/healthz"
EVENTS = frozenset({"comment_posted", "comment_edited", "comment_status", "comment_deleted"})
MAX_BODY = 16 * 1024  # a hint is ~150 bytes
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,128}")
_ID = re.compile(r"[0-9]{1,20}")

OnHint = Callable[[str, str], Awaitable[None]]  # (post_id, comment_id)


@dataclass(frozen=True, slots=True)
class PushSettings:
    secret: Secret  # shared with the plugin (REVIEWBRIDGE_PUSH_SECRET in wp-config.php)
    max_skew: float = 300.0  # seconds a timestamp may be off, either way


@dataclass(frozen=True, slots=True)
class PushHint:
    event: str
    post_id: str
    comment_id: str


class PushRejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The header value the plugin sends: "sha256=" + hex HMAC of timestamp + "." + body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class PushVerifier:
    def __init__(self, settings: PushSettings, nonces: NonceRepository, clock: Clock) -> None:
        self._settings = settings
        self._nonces = nonces
        self._clock = clock

    async def verify(self, headers: Mapping[str, str], body: bytes) -> PushHint:
        """The hint in a genuine, fresh, first-seen request; PushRejected otherwise."""
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        nonce = headers.get(NONCE_HEADER, "")
        expected = signature(self._settings.secret.reveal(), timestamp, body)
        # Checked before anything else, so unsigned requests learn nothing and store nothing.
        if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
            raise PushRejected(401, "bad signature")
        if (
            not timestamp.isdigit()
            or abs(self._clock.time() - int(timestamp)) > self._settings.max_skew
        ):
            raise PushRejected(401, "stale or missing timestamp")
        hint, body_nonce = _parse(body)
        if not _NONCE.fullmatch(nonce) or not hmac.compare_digest(nonce, body_nonce):
            raise PushRejected(401, "bad nonce")
        expires = int(timestamp) + self._settings.max_skew  # after that the timestamp fails
        if not await self._nonces.remember(nonce, expires, self._clock.time()):
            raise PushRejected(409, "replayed request")
        return hint


def _parse(body: bytes) -> tuple[PushHint, str]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise PushRejected(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise PushRejected(400, "the body is not a JSON object")
    event = data.get("event")
    post_id, comment_id = str(data.get("post_id", "")), str(data.get("comment_id", ""))
    if event not in EVENTS or not _ID.fullmatch(post_id) or not _ID.fullmatch(comment_id):
        raise PushRejected(400, "expected event, post_id and comment_id")
    return PushHint(event, post_id, comment_id), str(data.get("nonce", ""))


def create_push_app(verifier: PushVerifier, on_hint: OnHint) -> web.Application:
    """POST /push/wordpress (202 accepted, 400 malformed, 401 unsigned or stale, 409 replayed,
    413 too large) and GET /healthz. `on_hint` must return quickly (engine.hint schedules)."""

    async def push(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            hint = await verifier.verify(request.headers, body)
        except PushRejected as rejected:
            log.info("push refused (%s) from %s", rejected.reason, request.remote)
            return web.json_response({"error": rejected.reason}, status=rejected.status)
        try:
            await on_hint(hint.post_id, hint.comment_id)
        except Exception:  # accepted anyway: the regular poll catches up
            log.exception("push hint failed post=%s comment=%s", hint.post_id, hint.comment_id)
        return web.json_response({"accepted": True}, status=202)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(PUSH_PATH, push)
    app.router.add_get(HEALTH_PATH, health)
    return app
