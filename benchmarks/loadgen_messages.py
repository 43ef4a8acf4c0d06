"""What a load-generator charger sends and answers, per OCPP version.

Both versions play the same session: boot, a car plugged in, a transaction
started with the card ``BENCH``, meter readings (energy register, power,
current L1, voltage L1-N; the power unique per frame), the transaction ended,
the connector free. In OCPP 1.6J that is BootNotification, StatusNotification
Charging, StartTransaction, MeterValues ..., StopTransaction, StatusNotification
Available. In OCPP 2.0.1: BootNotification, StatusNotification Occupied,
TransactionEvent Started (the idToken and the first reading inside),
TransactionEvent Updated with the meter values (chargingState Charging) ...,
TransactionEvent Ended, StatusNotification Available.

Each class keeps one charger's protocol state (its transaction, 2.0.1's seqNo)
and builds ``(action, payload)`` pairs; ``answer`` is the schema-valid reply to
a call of the central system (None: answered with the CALLERROR NotImplemented).
"""

from __future__ import annotations

from datetime import UTC, datetime
import itertools
from typing import Any, ClassVar

type Call = tuple[str, dict[str, Any]]

ID_TAG = "BENCH"
# Station-named transactions are unique over the generator's life: a name the hub saw
# end is taken for a late event of that transaction (and not applied).
_TRANSACTIONS = itertools.count(1)
VERSIONS = ("1.6", "2.0.1")


def now_iso() -> str:
    """The wall clock as OCPP timestamps have it (UTC, milliseconds)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def meter_values_payload(
    transaction_id: int | None, power_w: int, energy_wh: float, sequence: int
) -> dict[str, Any]:
    """A 1.6 MeterValues payload: energy register, power (as given), current, voltage."""
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {
                "timestamp": now_iso(),
                "sampledValue": [
                    {
                        "value": f"{energy_wh:.1f}",
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {
                        "value": str(power_w),
                        "context": "Sample.Periodic",
                        "measurand": "Power.Active.Import",
                        "unit": "W",
                    },
                    {
                        "value": f"{power_w / 230:.2f}",
                        "context": "Sample.Periodic",
                        "measurand": "Current.Import",
                        "phase": "L1",
                        "unit": "A",
                    },
                    {
                        "value": f"{229 + (sequence % 3):.1f}",
                        "context": "Sample.Periodic",
                        "measurand": "Voltage",
                        "phase": "L1-N",
                        "unit": "V",
                    },
                ],
            }
        ],
    }


class Ocpp16:
    """One OCPP 1.6J charger's messages."""

    subprotocol: ClassVar[str] = "ocpp1.6"
    meter_action: ClassVar[str] = "MeterValues"
    _answers: ClassVar[dict[str, dict[str, Any]]] = {
        "GetConfiguration": {"configurationKey": []},
        "TriggerMessage": {"status": "Accepted"},
        "ChangeConfiguration": {"status": "Accepted"},
        "ChangeAvailability": {"status": "Accepted"},
        "ClearCache": {"status": "Accepted"},
        "RemoteStartTransaction": {"status": "Accepted"},
        "RemoteStopTransaction": {"status": "Accepted"},
        "Reset": {"status": "Accepted"},
        "UnlockConnector": {"status": "Unlocked"},
        "GetLocalListVersion": {"listVersion": 0},
    }

    def __init__(self, index: int) -> None:
        """Charger ``index``, no transaction yet."""
        self.index = index
        self.transaction_id: int | None = None

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction was started and not yet stopped."""
        return self.transaction_id is not None

    def boot(self) -> Call:
        """BootNotification."""
        return "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "LoadGen"}

    def status(self, plugged_in: bool) -> Call:
        """The connector charging (a car plugged in) or free."""
        status = "Charging" if plugged_in else "Available"
        return "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": status}

    def start(self, energy_wh: float) -> Call:
        """StartTransaction."""
        return "StartTransaction", {
            "connectorId": 1,
            "idTag": ID_TAG,
            "meterStart": int(energy_wh),
            "timestamp": now_iso(),
        }

    def started(self, answer: dict[str, Any]) -> None:
        """The central system numbered the transaction."""
        self.transaction_id = int(answer["transactionId"])

    def meter_values(self, power_w: int, energy_wh: float, sequence: int) -> Call:
        """MeterValues of the transaction."""
        return "MeterValues", meter_values_payload(
            self.transaction_id, power_w, energy_wh, sequence
        )

    def stop(self, energy_wh: float) -> Call:
        """StopTransaction (the transaction is then over)."""
        transaction_id, self.transaction_id = self.transaction_id, None
        return "StopTransaction", {
            "transactionId": transaction_id,
            "meterStop": int(energy_wh),
            "timestamp": now_iso(),
            "reason": "Local",
        }

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The reply to a call of the central system."""
        del payload
        return self._answers.get(action)


class Ocpp201(Ocpp16):
    """One OCPP 2.0.1 charging station's messages (one EVSE)."""

    subprotocol: ClassVar[str] = "ocpp2.0.1"
    meter_action: ClassVar[str] = "TransactionEvent"
    _answers: ClassVar[dict[str, dict[str, Any]]] = {
        "TriggerMessage": {"status": "Accepted"},
        "ChangeAvailability": {"status": "Accepted"},
        "ClearCache": {"status": "Accepted"},
        "RequestStartTransaction": {"status": "Accepted"},
        "RequestStopTransaction": {"status": "Accepted"},
        "Reset": {"status": "Accepted"},
        "UnlockConnector": {"status": "Unlocked"},
        "GetLocalListVersion": {"versionNumber": 0},
    }

    def __init__(self, index: int) -> None:
        """Station ``index``, no transaction yet."""
        super().__init__(index)
        self.charger_transaction: str | None = None
        self.seq_no = 0

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction was started and not yet ended."""
        return self.charger_transaction is not None

    def boot(self) -> Call:
        """BootNotification."""
        return "BootNotification", {
            "chargingStation": {"vendorName": "Bench", "model": "LoadGen"},
            "reason": "PowerUp",
        }

    def status(self, plugged_in: bool) -> Call:
        """The EVSE occupied (a car plugged in) or free."""
        return "StatusNotification", {
            "timestamp": now_iso(),
            "connectorStatus": "Occupied" if plugged_in else "Available",
            "evseId": 1,
            "connectorId": 1,
        }

    def _event(
        self, event_type: str, trigger: str, info: dict[str, Any], readings: list[dict[str, Any]]
    ) -> Call:
        assert self.charger_transaction is not None
        self.seq_no += 1
        return "TransactionEvent", {
            "eventType": event_type,
            "timestamp": now_iso(),
            "triggerReason": trigger,
            "seqNo": self.seq_no,
            "transactionInfo": {"transactionId": self.charger_transaction, **info},
            "meterValue": [{"timestamp": now_iso(), "sampledValue": readings}],
        }

    @staticmethod
    def _register(energy_wh: float, context: str) -> dict[str, Any]:
        return {
            "value": round(energy_wh, 1),
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        }

    def start(self, energy_wh: float) -> Call:
        """TransactionEvent Started, named by the station, with the card and the register."""
        self.charger_transaction = f"bench-{self.index}-{next(_TRANSACTIONS)}"
        action, payload = self._event(
            "Started",
            "Authorized",
            {"chargingState": "Charging"},
            [self._register(energy_wh, "Transaction.Begin")],
        )
        payload["evse"] = {"id": 1, "connectorId": 1}
        payload["idToken"] = {"idToken": ID_TAG, "type": "ISO14443"}
        return action, payload

    def started(self, answer: dict[str, Any]) -> None:
        """Nothing to learn: the station named the transaction."""
        del answer

    def meter_values(self, power_w: int, energy_wh: float, sequence: int) -> Call:
        """TransactionEvent Updated with the same readings as 1.6's MeterValues."""
        return self._event(
            "Updated",
            "MeterValuePeriodic",
            {"chargingState": "Charging"},
            [
                self._register(energy_wh, "Sample.Periodic"),
                {
                    "value": power_w,
                    "context": "Sample.Periodic",
                    "measurand": "Power.Active.Import",
                    "unitOfMeasure": {"unit": "W"},
                },
                {
                    "value": round(power_w / 230, 2),
                    "context": "Sample.Periodic",
                    "measurand": "Current.Import",
                    "phase": "L1",
                    "unitOfMeasure": {"unit": "A"},
                },
                {
                    "value": 229 + (sequence % 3),
                    "context": "Sample.Periodic",
                    "measurand": "Voltage",
                    "phase": "L1-N",
                    "unitOfMeasure": {"unit": "V"},
                },
            ],
        )

    def stop(self, energy_wh: float) -> Call:
        """TransactionEvent Ended (the transaction is then over)."""
        call = self._event(
            "Ended",
            "StopAuthorized",
            {"stoppedReason": "Local"},
            [self._register(energy_wh, "Transaction.End")],
        )
        self.charger_transaction = None
        return call

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The reply to a call; variables are unknown (as 1.6's keys are not reported)."""
        if action == "GetVariables":
            return {
                "getVariableResult": [
                    {
                        "attributeStatus": "UnknownVariable",
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                    for item in payload["getVariableData"]
                ]
            }
        if action == "SetVariables":
            return {
                "setVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "component": item["component"],
                        "variable": item["variable"],
                    }
                    for item in payload["setVariableData"]
                ]
            }
        return self._answers.get(action)


def messages(version: str, index: int) -> Ocpp16:
    """The messages of charger ``index`` speaking ``version`` ("1.6" or "2.0.1")."""
    return Ocpp201(index) if version == "2.0.1" else Ocpp16(index)
