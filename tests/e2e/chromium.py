"""Headless Chromium (Debian's package) driven over the DevTools protocol with aiohttp: a real
browser for the sandbox page, without a webdriver dependency."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 30.0
CALL_TIMEOUT = 15.0


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class DevToolsError(Exception):
    pass


class DevTools:
    """One websocket to the browser; calls are matched to answers by id, events are kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is None:
                self.events.append(data)
            elif not future.done():
                if "error" in data:
                    future.set_exception(DevToolsError(data["error"].get("message")))
                else:
                    future.set_result(data.get("result", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the browser closed the connection"))

    async def call(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        await self._ws.send_json(message)
        return await asyncio.wait_for(future, CALL_TIMEOUT)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Page:
    """A tab: navigate, run JavaScript, wait for a condition, click, type, screenshot."""

    def __init__(self, devtools: DevTools, session: str) -> None:
        self._devtools = devtools
        self._session = session

    async def _call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._devtools.call(method, params, self._session)

    async def goto(self, url: str) -> None:
        await self._call("Page.navigate", {"url": url})
        await self.wait_for("document.readyState === 'complete'")

    async def evaluate(self, expression: str) -> Any:
        answer = await self._call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in answer:
            raise DevToolsError(json.dumps(answer["exceptionDetails"])[:500])
        return answer["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 15.0) -> None:
        """Until the JavaScript `expression` is truthy (as JavaScript judges it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if await self.evaluate(f"Boolean({expression})"):
                return
            if loop.time() > deadline:
                raise AssertionError(f"the page never satisfied: {expression}")
            await asyncio.sleep(0.1)

    async def click(self, selector: str) -> None:
        found = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.scrollIntoView(); e.click(); return true; })()"
        )
        assert found, f"nothing to click at {selector}"

    async def type(self, selector: str, text: str) -> None:
        """Focus the field and type as a keyboard would (input events fire)."""
        focused = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.focus(); return document.activeElement === e; })()"
        )
        assert focused, f"cannot type into {selector}"
        await self._call("Input.insertText", {"text": text})

    async def screenshot(self, path: Path) -> None:
        shot = await self._call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    @property
    def errors(self) -> list[str]:
        """Uncaught exceptions and console/log errors (CSP violations included) so far."""
        found = []
        for event in self._devtools.events:
            if event.get("sessionId") != self._session:
                continue
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"].get("text", ""))
            elif event.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(json.dumps(params.get("args", []))[:500])
        return found


@contextlib.asynccontextmanager
async def headless_chromium(executable: str, profile: Path) -> AsyncIterator[Page]:
    """Start Chromium with a fresh profile folder and yield one page; stop it on exit."""
    profile.mkdir(parents=True, exist_ok=True)
    log_path = profile.parent / "chromium.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            executable,
            *FLAGS,
            f"--user-data-dir={profile}",
            "about:blank",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        port, path = await _devtools_address(process, profile / "DevToolsActivePort", log_path)
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0) as ws,
        ):
            devtools = DevTools(ws)
            try:
                target = await devtools.call("Target.createTarget", {"url": "about:blank"})
                attached = await devtools.call(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )
                page = Page(devtools, attached["sessionId"])
                for domain in ("Page", "Runtime", "Log"):
                    await page._call(f"{domain}.enable")
                yield page
                with contextlib.suppress(DevToolsError, ConnectionError, TimeoutError):
                    await asyncio.wait_for(devtools.call("Browser.close"), 5)
            finally:
                await devtools.close()
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _devtools_address(
    process: asyncio.subprocess.Process, port_file: Path, log_path: Path
) -> tuple[str, str]:
    """Chromium writes its DevTools port and browser path to the profile once it listens."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + START_TIMEOUT
    while loop.time() < deadline:
        if process.returncode is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"Chromium exited with {process.returncode}:\n{tail}")
        lines = port_file.read_text().split() if port_file.is_file() else []
        if len(lines) == 2:
            return lines[0], lines[1]
        await asyncio.sleep(0.05)
    raise TimeoutError(f"Chromium did not open its DevTools port within {START_TIMEOUT} s")
