"""Drive a running script/demo and read its log: OCPP Hub must log no warning or error.

Usage (script/demo_check does all of it):
    .venv-demo/bin/python script/demo_check.py drive --url http://127.0.0.1:8124
    .venv-demo/bin/python script/demo_check.py log .demo-check/home-assistant.log

``drive`` logs in as the demo owner through Home Assistant's own login flow, then
follows the simulated Wallbox through what a homeowner sees: it connects and boots,
a car is plugged in and charges (the demo's ``cycle`` scenario), the owner reboots it
while it charges (the reboot action with confirm_while_charging), the charger comes
back and reconnects, and charges again. Each step waits for the entity that shows it.

``log`` reads home-assistant.log (both time formats: with and without the UTC offset
that Home Assistant writes since 2026.11) and prints every record at WARNING or above
that comes from OCPP Hub or mentions it (a traceback through its code counts); exit
status 1 if there is one. Home Assistant's own notice that ocpp_hub is a custom
integration, which it writes for every custom integration, is not counted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path
import re
import sys
import time

from demo_api import HomeAssistant, answers  # script/ is on sys.path when run as a script

CHARGER = "wallbox_pulsar_plus"
CONNECTION = f"binary_sensor.{CHARGER}_connection"
STATUS = f"sensor.{CHARGER}_status"
LAST_REBOOT = f"sensor.{CHARGER}_last_reboot"
REBOOT_BUTTON = f"button.{CHARGER}_reboot"

RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)? "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL) \((?P<thread>[^)]*)\) "
    r"\[(?P<logger>[^\]]+)\] (?P<message>.*)$"
)
IGNORED = re.compile(r"We found a custom integration ocpp_hub which has not been tested")


def records(lines: Iterator[str]) -> Iterator[tuple[str, str, str]]:
    """(level, logger, text) of each record; continuation lines join their record."""
    current: list[str] | None = None
    level = logger = ""
    for raw in lines:
        line = raw.rstrip("\n")
        match = RECORD.match(line)
        if match is None:
            if current is not None:
                current.append(line)
            continue
        if current is not None:
            yield level, logger, "\n".join(current)
        level, logger = match["level"], match["logger"]
        current = [line]
    if current is not None:
        yield level, logger, "\n".join(current)


def ocpp_hub_problems(lines: Iterator[str]) -> list[str]:
    """Records at WARNING or above from OCPP Hub or about it."""
    problems = []
    for level, logger, text in records(lines):
        if level in ("DEBUG", "INFO"):
            continue
        if IGNORED.search(text):
            continue
        if logger.startswith("custom_components.ocpp_hub") or "ocpp_hub" in text:
            problems.append(text)
    return problems


def wait(what: str, condition: Callable[[], bool], timeout: float) -> None:
    """Poll ``condition`` once a second; fail the check after ``timeout`` seconds."""
    print(f"demo_check: waiting until {what}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"demo_check: not within {timeout:.0f} s: {what}")
        time.sleep(1)


def drive(url: str) -> None:
    """Boot, charge, reboot while charging, reconnect, charge again."""
    hass = HomeAssistant(url)
    wait("Home Assistant answers", lambda: answers(url), 240)
    wait("the owner can log in", lambda: _try_login(hass), 120)
    wait("the charger is connected", lambda: hass.state(CONNECTION) == "on", 120)
    wait("the car charges", lambda: hass.state(STATUS) == "charging", 180)
    hass.action(
        "ocpp_hub",
        "reboot",
        {"device_id": hass.device_id(REBOOT_BUTTON), "confirm_while_charging": True},
    )
    wait(
        "the reboot succeeded (the charger came back and booted)",
        lambda: hass.state(LAST_REBOOT) == "succeeded",
        300,
    )
    wait("the charger is connected again", lambda: hass.state(CONNECTION) == "on", 120)
    wait("the car charges again", lambda: hass.state(STATUS) == "charging", 240)
    print("demo_check: boot, charge, reboot, reconnect and charge again: done", file=sys.stderr)


def _try_login(hass: HomeAssistant) -> bool:
    try:
        hass.login()
    except OSError, KeyError, ValueError:
        return False
    return True


def main(argv: list[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="demo_check.py")
    sub = parser.add_subparsers(dest="command", required=True)
    drive_parser = sub.add_parser("drive")
    drive_parser.add_argument("--url", default="http://127.0.0.1:8123")
    log_parser = sub.add_parser("log")
    log_parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    if args.command == "drive":
        drive(args.url)
        return 0
    with args.path.open(encoding="utf-8", errors="replace") as log:
        problems = ocpp_hub_problems(log)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(
        f"demo_check: {len(problems)} warning(s) or error(s) from OCPP Hub in {args.path}",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
