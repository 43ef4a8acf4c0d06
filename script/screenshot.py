"""Screenshots of a running script/demo for the README, taken by headless Chromium.

Usage: .venv-demo/bin/python script/screenshot.py [--url http://127.0.0.1:8123] \\
           PAGE OUT.png [PAGE OUT.png ...]

PAGE is a path of the web UI (``/charger/charger``, ``/config/devices/device/ID``) or
``device`` for the demo charger's device page. Logs in as the demo owner (the login
flow the web UI uses), hands the tokens to the page as the frontend keeps them, and
captures each page after it settled. Needs /usr/bin/chromium (Debian: apt-get install
chromium). Everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any
import urllib.request

from demo_api import CHARGER_NAME, HomeAssistant  # script/ is on sys.path when run
import websockets

DEBUG_PORT = 9229
WIDTH, HEIGHT = 1440, 1000


class Page:
    """One Chromium tab, spoken to over the DevTools protocol."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """A command and its result (events in between are skipped)."""
        number = next(self.ids)
        await self.connection.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(await self.connection.recv())
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result


def shoot(url: str, shots: list[tuple[str, Path]]) -> None:
    """Log in, start Chromium, then capture each page."""
    hass = HomeAssistant(url)
    hass.login()
    devices = hass.websocket({"type": "config/device_registry/list"})[0]
    device_id = next((d["id"] for d in devices if d["name"] == CHARGER_NAME), "")
    pages = [
        (f"/config/devices/device/{device_id}" if where == "device" else where, out)
        for where, out in shots
    ]
    tokens = {
        **hass.tokens,
        "hassUrl": hass.url,
        "clientId": hass.client_id,
        "expires": int(time.time() * 1000) + hass.tokens["expires_in"] * 1000,
    }
    with tempfile.TemporaryDirectory() as profile:
        browser = subprocess.Popen(  # noqa: S603 - fixed arguments, loopback only
            [
                "/usr/bin/chromium",
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--remote-debugging-port={DEBUG_PORT}",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            asyncio.run(_capture(_page_target(), hass.url, tokens, pages))
        finally:
            browser.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                browser.wait(10)


async def _capture(
    target: str, base: str, tokens: dict[str, Any], pages: list[tuple[str, Path]]
) -> None:
    async with websockets.connect(target, max_size=None) as connection:
        page = Page(connection)
        await page.send("Page.enable")
        await page.send("Page.navigate", url=base + "/")
        await asyncio.sleep(2)
        stored = json.dumps(json.dumps(tokens))
        await page.send("Runtime.evaluate", expression=f"localStorage.hassTokens = {stored}")
        for path, out in pages:
            await page.send("Page.navigate", url=base + path)
            await asyncio.sleep(8)  # the frontend loads, connects and renders
            shot = await page.send("Page.captureScreenshot", format="png")
            out.write_bytes(base64.b64decode(shot["data"]))
            print(f"screenshot: {path} -> {out}", file=sys.stderr)


def _page_target() -> str:
    """The websocket of Chromium's first tab, once it listens."""
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{DEBUG_PORT}/json", timeout=2) as r:
                targets = json.loads(r.read())
        except OSError:
            time.sleep(0.2)
            continue
        for target in targets:
            if target.get("type") == "page":
                return str(target["webSocketDebuggerUrl"])
        time.sleep(0.2)
    raise RuntimeError("Chromium did not start its DevTools endpoint")


def main(argv: list[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="screenshot.py")
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("shots", nargs="+", help="PAGE OUT.png pairs")
    args = parser.parse_args(argv)
    if len(args.shots) % 2:
        parser.error("give PAGE OUT.png pairs")
    pairs = [(args.shots[i], Path(args.shots[i + 1])) for i in range(0, len(args.shots), 2)]
    shoot(args.url, pairs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
