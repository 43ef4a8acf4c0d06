"""script/demo_check.py's log reading: what counts as OCPP Hub's warning or error."""

from __future__ import annotations

import importlib.util
from pathlib import Path
import sys
from types import ModuleType

SCRIPT = Path(__file__).parent.parent / "script" / "demo_check.py"


def _demo_check() -> ModuleType:
    if str(SCRIPT.parent) not in sys.path:
        sys.path.insert(0, str(SCRIPT.parent))  # as when it runs: demo_api beside it
    spec = importlib.util.spec_from_file_location("demo_check", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOG = """\
2026-12-02 03:28:29.909+00:00 WARNING (SyncWorker_0) [homeassistant.loader] We found a custom integration ocpp_hub which has not been tested by Home Assistant. This component might cause stability problems, be sure to disable it if you experience issues with Home Assistant
2026-12-02 03:28:35.900+00:00 INFO (MainThread) [custom_components.ocpp_hub.csms.server.websockets] server listening on 127.0.0.1:9000
2026-12-02 03:28:36.237+00:00 ERROR (MainThread) [haffmpeg.core] FFmpeg fails [Errno 2] No such file or directory: 'ffmpeg'
Traceback (most recent call last):
FileNotFoundError: [Errno 2] No such file or directory: 'ffmpeg'
2026-12-02 03:30:49.125+00:00 WARNING (MainThread) [homeassistant.helpers.frame] Detected that custom integration 'ocpp_hub' accesses `DeviceEntry.config_entries`, which is deprecated
2026-02-20 10:00:00.000 WARNING (MainThread) [custom_components.ocpp_hub.hub] Stored state of X is damaged
2026-02-20 10:00:01.000 ERROR (MainThread) [homeassistant] Error doing job: Task exception was never retrieved
Traceback (most recent call last):
  File "/config/custom_components/ocpp_hub/hub.py", line 1, in f
ValueError: boom
2026-02-20 10:00:02.000 DEBUG (MainThread) [custom_components.ocpp_hub] all fine
"""


def test_finds_ocpp_hub_warnings_and_errors_in_both_time_formats() -> None:
    """2026.11's offset timestamps and the older ones; tracebacks through our code count."""
    problems = _demo_check().ocpp_hub_problems(iter(LOG.splitlines(keepends=True)))
    assert [p.split("] ")[0] for p in problems] == [
        "2026-12-02 03:30:49.125+00:00 WARNING (MainThread) [homeassistant.helpers.frame",
        "2026-02-20 10:00:00.000 WARNING (MainThread) [custom_components.ocpp_hub.hub",
        "2026-02-20 10:00:01.000 ERROR (MainThread) [homeassistant",
    ]
    assert "ocpp_hub/hub.py" in problems[2]


def test_a_clean_log_passes(tmp_path: Path) -> None:
    """Other integrations' errors and Home Assistant's custom-integration notice do not count."""
    log = tmp_path / "home-assistant.log"
    log.write_text("\n".join(LOG.splitlines()[:5]) + "\n", encoding="utf-8")
    assert _demo_check().main(["log", str(log)]) == 0
    log.write_text(LOG, encoding="utf-8")
    assert _demo_check().main(["log", str(log)]) == 1
