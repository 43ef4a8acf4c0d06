"""Command line: keep a simulated Wallbox (or OCPP 2.0.1 station) connected to a central system.

Lets a user test an OCPP 1.6J or 2.0.1 central system (for example OCPP Hub in
Home Assistant) without a charger::

    python -m chargersim --url ws://127.0.0.1:9000/ --identity wb1 [--ocpp 1.6|2.0.1] \\
        [--password secret] [--model PLP1-0-2-4] [--connectors 1] \\
        [--scenario idle|charging|cycle] [--meter-interval 5] \\
        [--phases 3] [--phase-switching] [--car-phases 1|3] [--car-max-current 32] \\
        [--car-ramp-up 2] [--car-ramp-down 4] [--seed N] [--no-jitter] \\
        [--insecure] [--cafile F]

``--ocpp 2.0.1`` runs the 2.0.1 station (``chargersim.v201``, offering the
subprotocol ``ocpp2.0.1`` only; vendor and model default to an Alfen Eve) with
the same scenarios in 2.0.1 terms (`chargersim.scenario` drives either station).

The identity is appended to the URL as its last path segment, as a Wallbox
does (``ws://127.0.0.1:9000/`` -> ``ws://127.0.0.1:9000/wb1``). The password
(``--password`` or the ``CHARGERSIM_PASSWORD`` environment variable) is sent
as HTTP Basic auth with the identity as user name. Runs until Ctrl-C,
reconnecting with a 1..30 s backoff; logs go to stderr (``-v`` shows every
OCPP frame).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import ssl
import sys
from urllib.parse import urlsplit

from .behaviour import ChargerBehaviour, default_configuration
from .scenario import SCENARIOS, ScenarioConfig, run_scenario
from .v16 import SimulatedCharger
from .v201 import SimulatedCharger as SimulatedCharger201

_LOGGER = logging.getLogger("chargersim")


def build_parser() -> argparse.ArgumentParser:
    """The command line parser."""
    parser = argparse.ArgumentParser(
        prog="python -m chargersim",
        description="Simulated OCPP 1.6J charge point (Wallbox-like) or OCPP 2.0.1 station.",
    )
    parser.add_argument("--url", required=True, help="CSMS URL, e.g. ws://127.0.0.1:9000/")
    parser.add_argument("--identity", required=True, help="charge point identity, e.g. wb1")
    parser.add_argument(
        "--password",
        default=os.environ.get("CHARGERSIM_PASSWORD"),
        help="HTTP Basic auth password (default: $CHARGERSIM_PASSWORD; none)",
    )
    parser.add_argument(
        "--ocpp",
        choices=("1.6", "2.0.1"),
        default="1.6",
        help="the OCPP version the charger speaks (default 1.6)",
    )
    parser.add_argument("--vendor", help="default: Wall Box Chargers (1.6), Alfen BV (2.0.1)")
    parser.add_argument("--model", help="default: PLP1-0-2-4 (1.6), NG910-60023 (2.0.1)")
    parser.add_argument("--serial", default="SIM-000001")
    parser.add_argument("--firmware", default="6.7.11")
    parser.add_argument("--connectors", type=int, default=1, choices=range(1, 5), metavar="N")
    parser.add_argument(
        "--phases",
        type=int,
        choices=(1, 3),
        default=1,
        help="supply phases: 1 = 32 A single phase (7.4 kW), 3 = 3 x 16 A (11 kW)",
    )
    parser.add_argument(
        "--max-current",
        type=int,
        help="hardware ceiling in A (default 32 single phase, 16 three phase)",
    )
    parser.add_argument(
        "--phase-switching",
        action="store_true",
        help="the charger can switch between 3 and 1 phases (ConnectorSwitch3to1PhaseSupported; "
        "2.0.1: SmartChargingCtrlr.Phases3to1): the numberPhases of the charging profile in "
        "force decides",
    )
    parser.add_argument(
        "--phase-switch-pause",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long the car draws nothing while the charger switches phases (default 5)",
    )
    parser.add_argument(
        "--car-phases",
        type=int,
        choices=(1, 3),
        default=3,
        help="phases the car charges on (default 3; it uses at most the charger's)",
    )
    parser.add_argument(
        "--car-max-current",
        type=float,
        default=32.0,
        metavar="A",
        help="most current the car draws per phase (default 32)",
    )
    parser.add_argument(
        "--car-ramp-up",
        type=float,
        default=2.0,
        metavar="A_PER_S",
        help="how fast the car's current rises towards the offer (default 2; inf = at once)",
    )
    parser.add_argument(
        "--car-ramp-down",
        type=float,
        default=4.0,
        metavar="A_PER_S",
        help="how fast the car's current falls (default 4; inf = at once)",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the simulated noise (default: from the identity)"
    )
    parser.add_argument(
        "--no-jitter",
        action="store_true",
        help="no measurement noise; the car draws exactly what it may",
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="cycle")
    parser.add_argument("--meter-interval", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument(
        "--id-tag", default="0A1B2C3D", help="RFID card the simulated user presents"
    )
    parser.add_argument(
        "--idle-time", type=float, default=20.0, metavar="SECONDS", help="cycle: time unplugged"
    )
    parser.add_argument(
        "--charge-time", type=float, default=60.0, metavar="SECONDS", help="cycle: time charging"
    )
    parser.add_argument(
        "--energy-wh",
        type=float,
        default=0.0,
        metavar="WH",
        help="initial energy register (lifetime Wh) of every connector",
    )
    parser.add_argument(
        "--reboot-delay",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long a Reset takes before the charger comes back",
    )
    parser.add_argument(
        "--no-boot-on-reconnect",
        action="store_true",
        help="after a dropped connection, reconnect without a BootNotification",
    )
    parser.add_argument("--cafile", help="CA certificate(s) to trust for wss://")
    parser.add_argument(
        "--insecure", action="store_true", help="wss:// without certificate verification"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every OCPP frame")
    return parser


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if urlsplit(args.url).scheme.lower() != "wss":
        if args.cafile or args.insecure:
            _LOGGER.warning("--cafile / --insecure ignored: the URL is not wss://")
        return None
    context = ssl.create_default_context(cafile=args.cafile)
    if args.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def _run(args: argparse.Namespace) -> None:
    newer = args.ocpp == "2.0.1"
    args.vendor = args.vendor or ("Alfen BV" if newer else "Wall Box Chargers")
    args.model = args.model or ("NG910-60023" if newer else "PLP1-0-2-4")
    configuration = default_configuration(args.connectors)
    max_current = args.max_current or (16 if args.phases == 3 else 32)
    for n in range(1, args.connectors + 1):
        configuration[f"chargingALimitConn{n}"] = (str(max_current), False)
    behaviour = ChargerBehaviour(
        configuration=configuration,
        reboot_delay=args.reboot_delay,
        boot_retry_cap=None,  # honour the CSMS's retry interval
        phase_switching=args.phase_switching,
        phase_switch_pause=args.phase_switch_pause,
    )
    station = SimulatedCharger201 if args.ocpp == "2.0.1" else SimulatedCharger
    charger = station(
        args.url,
        args.identity,
        password=args.password,
        vendor=args.vendor,
        model=args.model,
        serial=args.serial,
        firmware=args.firmware,
        connectors=args.connectors,
        ssl=_ssl_context(args),
        behaviour=behaviour,
        phases=args.phases,
    )
    for connector in charger.connectors.values():
        connector.energy_wh = args.energy_wh
    for car in charger.cars.values():
        car.phases = args.car_phases
        car.max_current_a = args.car_max_current
        car.ramp_up_a_per_s = args.car_ramp_up
        car.ramp_down_a_per_s = args.car_ramp_down
    scenario = ScenarioConfig(
        name=args.scenario,
        id_tag=args.id_tag,
        meter_interval=args.meter_interval,
        idle_time=args.idle_time,
        charge_time=args.charge_time,
        jitter=not args.no_jitter,
        seed=args.seed,
    )
    main_task = asyncio.current_task()
    if main_task is not None:
        with contextlib.suppress(NotImplementedError):  # not on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    _LOGGER.info(
        "%s %s (%s, OCPP %s) -> %s, scenario %s",
        args.vendor,
        args.model,
        args.identity,
        args.ocpp,
        charger.url,
        args.scenario,
    )
    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(
                charger.run_forever(
                    min_backoff=1.0,
                    max_backoff=30.0,
                    boot_on_reconnect=not args.no_boot_on_reconnect,
                )
            )
            group.create_task(run_scenario(charger, scenario))
    finally:
        await charger.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    parts = urlsplit(args.url)
    if parts.scheme.lower() not in ("ws", "wss") or not parts.hostname:
        parser.error(f"--url must be ws://host[:port]/... or wss://...: {args.url!r}")
    if min(args.car_ramp_up, args.car_ramp_down, args.car_max_current) <= 0:
        parser.error("--car-ramp-up, --car-ramp-down and --car-max-current must be positive")
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)-7s %(message)s",
    )
    frame_level = logging.INFO if args.verbose else logging.WARNING
    logging.getLogger("chargersim.frames").setLevel(frame_level)
    logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        asyncio.run(_run(args))
    except KeyboardInterrupt, asyncio.CancelledError:
        _LOGGER.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
