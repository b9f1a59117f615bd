"""HTTP plumbing: JSON bodies exactly as Discord sends them, request bodies, and the
middleware for auth, fault injection, rate limits and per-route counters."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from .errors import DiscordHTTPError, invalid_form_body, unauthorized
from .messages import UploadedFile

if TYPE_CHECKING:
    from .emulator import DiscordEmulator

API_PREFIX = "/api/v10"
# Routes that authenticate with a token in the URL instead of the Authorization header.
_TOKEN_ROUTE_PREFIXES = ("/webhooks/{webhook_id}/{webhook_token}", "/interactions/")
_PUBLIC_ROUTES = ("GET /gateway",)
# discord.py treats a 429 without Via as a Cloudflare ban, so every response carries it.
_VIA = "1.1 google"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    # Content-Type must be exactly application/json: discord.py compares it literally.
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def no_content() -> web.Response:
    return web.Response(status=204)


def bearer_token(request: web.Request) -> str:
    return request.headers.get("Authorization", "").removeprefix("Bot ").strip()


def route_key(request: web.Request) -> str | None:
    """``METHOD /template`` for API requests (the key of limits, counters and faults)."""
    resource = request.match_info.route.resource
    if resource is None:
        return None
    canonical = resource.canonical
    if not canonical.startswith(API_PREFIX):
        return None
    return f"{request.method} {canonical.removeprefix(API_PREFIX)}"


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[UploadedFile]]:
    """JSON or multipart (``payload_json`` + ``files[n]``) bodies, as discord.py sends them."""
    if request.content_type == "multipart/form-data":
        payload: dict[str, Any] = {}
        files: dict[int, UploadedFile] = {}
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            if name == "payload_json":
                payload = _parse_json(await part.text())
            elif name.startswith("files[") or name.startswith("file"):
                index = int(name[6:-1]) if name.startswith("files[") else len(files)
                files[index] = UploadedFile(
                    filename=part.filename or f"file{index}",
                    data=bytes(await part.read()),
                    content_type=part.headers.get("Content-Type"),
                )
        return payload, [files[i] for i in sorted(files)]
    raw = await request.read()
    if not raw:
        return {}, []
    return _parse_json(raw.decode()), []


def _parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(data, dict):
        raise invalid_form_body(
            {
                "_errors": [
                    {
                        "code": "DICT_TYPE_CONVERT",
                        "message": "Only dictionaries may be used in a DictType",
                    }
                ]
            }
        )
    return data


async def read_json_list(request: web.Request) -> list[Any]:
    try:
        data = json.loads(await request.text() or "[]")
    except ValueError:
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(data, list):
        raise invalid_form_body(
            {
                "_errors": [
                    {
                        "code": "LIST_TYPE_CONVERT",
                        "message": "Only iterables may be used in a ListType",
                    }
                ]
            }
        )
    return data


def make_middleware(emu: DiscordEmulator) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = route_key(request)
        if key is None:
            return await handler(request)
        stats = emu.ratelimiter.stats
        stats.requests[key] += 1
        path = key.split(" ", 1)[1]
        token_route = path.startswith(_TOKEN_ROUTE_PREFIXES)
        token: str | None = None
        if not token_route and key not in _PUBLIC_ROUTES:
            token = bearer_token(request)
            if emu.state.app_for_token(token) is None:
                return _error(unauthorized(), {})
        if stall := emu.take_stall(key):
            await asyncio.sleep(stall)
        status = emu.take_fault(key)
        if status == 429:
            return _injected_rate_limit(emu, key)
        if status is not None:
            return json_response({"message": f"{status}: Emulated server error", "code": 0}, status)
        decision = emu.ratelimiter.check(
            key, _major(request), token=token, shared_key=emu.shared_limit_key(key, request)
        )
        if not decision.allowed:
            stats.rate_limited[key] += 1
            body = {
                "message": "You are being rate limited.",
                "retry_after": round(decision.retry_after, 3),
                "global": decision.is_global,
            }
            response = json_response(body, 429)
            response.headers.update(decision.headers)
            response.headers["Retry-After"] = f"{decision.retry_after:.3f}"
            response.headers.setdefault("X-RateLimit-Scope", decision.scope)
            response.headers["Via"] = _VIA
            return response
        try:
            response = await handler(request)
        except DiscordHTTPError as exc:
            response = _error(exc, decision.headers)
        else:
            response.headers.update(decision.headers)
            response.headers["Via"] = _VIA
        await emu.notify()
        return response

    return middleware


def _error(exc: DiscordHTTPError, headers: dict[str, str]) -> web.Response:
    response = json_response(exc.body(), exc.status)
    response.headers.update(headers)
    response.headers["Via"] = _VIA
    return response


def _major(request: web.Request) -> str:
    info = request.match_info
    parts = [info.get(k) for k in ("channel_id", "guild_id", "webhook_id", "webhook_token")]
    return "+".join(p for p in parts if p)


def _injected_rate_limit(emu: DiscordEmulator, key: str) -> web.Response:
    """A 429 storm as Discord sends one for a limit it never announced (scope "shared"):
    with `retry_after` and `Via`, so clients wait and retry instead of seeing a ban."""
    retry_after = round(1.0 * emu.time_scale, 3)
    emu.ratelimiter.stats.rate_limited[key] += 1
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
    response = json_response(body, 429)
    response.headers["Retry-After"] = f"{retry_after:.3f}"
    response.headers["X-RateLimit-Scope"] = "shared"
    response.headers["Via"] = _VIA
    return response
