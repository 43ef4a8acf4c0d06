"""A small client of a running Home Assistant for the demo scripts (loopback only).

Logs in as the demo owner through the login flow the web UI uses, reads states,
performs actions and sends websocket commands. ``arrange`` (run by script/demo once
the charger is connected) puts the demo charger in the area "Garage" unless it already
has an area: what a homeowner does first on the device page.

Usage: .venv-demo/bin/python script/demo_api.py arrange --url http://127.0.0.1:8123
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

import aiohttp

USERNAME = "demo"
PASSWORD = "demo"
CHARGER_NAME = "Wallbox Pulsar Plus"
AREA = "Garage"


class HomeAssistant:
    """Just enough of Home Assistant's HTTP API: login, states, actions."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self.client_id = self.url + "/"
        self.token = ""
        self.tokens: dict[str, Any] = {}

    def _request(self, path: str, data: Any = None, *, form: bool = False) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        body = None
        if data is not None:
            if form:
                body = urllib.parse.urlencode(data).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(data).encode()
                headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data=body, headers=headers)  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
            text = response.read().decode()
        try:
            return json.loads(text)
        except ValueError:
            return text

    def login(self) -> None:
        """The owner's access token, through the login flow the web UI uses."""
        flow = self._request(
            "/auth/login_flow",
            {
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = self._request(
            f"/auth/login_flow/{flow['flow_id']}",
            {"client_id": self.client_id, "username": USERNAME, "password": PASSWORD},
        )
        tokens = self._request(
            "/auth/token",
            {
                "grant_type": "authorization_code",
                "code": result["result"],
                "client_id": self.client_id,
            },
            form=True,
        )
        self.tokens = tokens
        self.token = tokens["access_token"]

    def state(self, entity_id: str) -> str | None:
        """The state of an entity, or None while it does not exist."""
        try:
            answer = self._request(f"/api/states/{entity_id}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return str(answer["state"])

    def action(self, domain: str, service: str, data: dict[str, Any]) -> None:
        """Perform an action (raises on an HTTP error)."""
        self._request(f"/api/services/{domain}/{service}", data)

    def websocket(self, *commands: dict[str, Any]) -> list[Any]:
        """Send websocket commands in turn; their results (raises on an error)."""
        return asyncio.run(self._websocket(commands))

    async def _websocket(self, commands: tuple[dict[str, Any], ...]) -> list[Any]:
        results = []
        url = self.url.replace("http", "ws", 1) + "/api/websocket"
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.receive_json()  # auth_required
            await ws.send_json({"type": "auth", "access_token": self.token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise RuntimeError("the websocket did not accept the token")
            for number, command in enumerate(commands, start=1):
                await ws.send_json({"id": number, **command})
                answer = await ws.receive_json()
                if not answer.get("success"):
                    raise RuntimeError(f"{command['type']}: {answer.get('error')}")
                results.append(answer["result"])
        return results

    def device_id(self, entity_id: str) -> str:
        """The device of an entity, through a template."""
        answer = self._request("/api/template", {"template": f"{{{{ device_id('{entity_id}') }}}}"})
        return str(answer).strip()


def answers(url: str) -> bool:
    """Whether Home Assistant's web server answers at all."""
    try:
        urllib.request.urlopen(url, timeout=2).close()  # noqa: S310 - loopback
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def arrange(url: str) -> None:
    """The demo charger in the area Garage, unless the owner gave it another."""
    hass = HomeAssistant(url)
    hass.login()
    areas, devices = hass.websocket(
        {"type": "config/area_registry/list"}, {"type": "config/device_registry/list"}
    )
    device = next((d for d in devices if d["name"] == CHARGER_NAME), None)
    if device is None or device["area_id"]:
        return
    area = next((a for a in areas if a["name"] == AREA), None)
    if area is None:
        (area,) = hass.websocket({"type": "config/area_registry/create", "name": AREA})
    hass.websocket(
        {
            "type": "config/device_registry/update",
            "device_id": device["id"],
            "area_id": area["area_id"],
        }
    )
    print(f"demo_api: {CHARGER_NAME} is in the area {AREA}", file=sys.stderr)


def main(argv: list[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="demo_api.py")
    sub = parser.add_subparsers(dest="command", required=True)
    arrange_parser = sub.add_parser("arrange")
    arrange_parser.add_argument("--url", default="http://127.0.0.1:8123")
    args = parser.parse_args(argv)
    arrange(args.url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
