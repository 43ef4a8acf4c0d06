"""OCPP 1.6J: the charger's messages into model events.

:class:`V16Handler` answers the charger's CALLs (payloads already validated
against the official schemas) by applying them to the :class:`Charger` model;
the calls we make to the charger are its :class:`V16Commands`.
"""

from __future__ import annotations

from datetime import UTC, datetime
import logging
from types import MappingProxyType
from typing import Any

from ...model.charger import Transaction
from ...model.meter import Sample
from ..backend import AuthorizationStatus
from ..conversation import MAX_CONNECTOR_ID, Conversation
from ..errors import OcppError, OcppErrorCode
from ..version import ProtocolVersion
from .commands import V16Commands
from .dialect import DIALECT, HANDLED_ACTIONS
from .mapping import (
    charger_info,
    connector_status,
    id_tag_info,
    register,
    setting_key,
    transaction_id,
)
from .metering import parse_sampled_values

_LOGGER = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class V16Handler(V16Commands, Conversation):
    """The OCPP 1.6J conversation with one connected charger."""

    actions = HANDLED_ACTIONS
    ROUTES = MappingProxyType(
        {
            "Authorize": "_authorize",
            "BootNotification": "_boot_notification",
            "DataTransfer": "vendor_request",
            "DiagnosticsStatusNotification": "_diagnostics_status",
            "FirmwareStatusNotification": "_firmware_status",
            "Heartbeat": "heartbeat",
            "MeterValues": "_meter_values",
            "SecurityEventNotification": "security_event",  # the security extension
            "StartTransaction": "_start_transaction",
            "StatusNotification": "_status_notification",
            "StopTransaction": "_stop_transaction",
        }
    )

    async def read_at_boot(self) -> None:
        """1.6 reads the whole configuration (GetConfiguration)."""
        await self.read_configuration()

    def _samples(self, meter_values: list[dict[str, Any]], received: datetime) -> list[Sample]:
        return [
            parse_sampled_values(self.stamp(mv.get("timestamp"), received), mv["sampledValue"])
            for mv in meter_values
        ]

    # ------------------------------------------------------------- the charger's CALLs
    def _boot_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.answer_boot(charger_info(payload))

    def _status_notification(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        if not self.connector_ok(payload["connectorId"]):
            return {}
        error_code = payload["errorCode"]
        self.charger.apply_status(
            payload["connectorId"],
            connector_status(payload["status"]),
            None if error_code == "NoError" else error_code,
            info=payload.get("info"),
            vendor_error_code=payload.get("vendorErrorCode"),
        )
        return {}

    def _authorize(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        id_tag = payload["idTag"]
        status = self.backend.authorize(self.charger, id_tag, "Authorize")
        self.charger.apply_authorize(id_tag, status is AuthorizationStatus.ACCEPTED, _now())
        return {"idTagInfo": id_tag_info(status)}

    def _start_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        id_tag = payload["idTag"]
        if not self.connector_ok(payload["connectorId"]) or payload["connectorId"] == 0:
            raise OcppError(
                OcppErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
                f"connectorId must be between 1 and {MAX_CONNECTOR_ID}",
            )
        status = self.backend.authorize(self.charger, id_tag, "StartTransaction")
        number = self.backend.next_transaction_id()
        transaction = Transaction(
            transaction_id=transaction_id(number),
            connector_id=payload["connectorId"],
            id_tag=id_tag,
            meter_start_wh=register(payload["meterStart"], "meterStart"),
            started_at=self.stamp(payload["timestamp"], received),
        )
        # Recorded even when not accepted: the charger may already be charging,
        # and its StopTransaction must find the transaction.
        self.charger.apply_start(transaction)
        return {
            "transactionId": number,
            "idTagInfo": id_tag_info(status),
        }

    def _stop_transaction(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        received = _now()
        self.charger.apply_stop(
            transaction_id(payload["transactionId"]),
            register(payload["meterStop"], "meterStop"),
            self.stamp(payload["timestamp"], received),
            payload.get("reason"),
            self._samples(payload.get("transactionData") or [], received),
        )
        id_tag = payload.get("idTag")
        if id_tag is None:
            return {}
        status = self.backend.authorize(self.charger, id_tag, "StopTransaction")
        return {"idTagInfo": id_tag_info(status)}

    def _meter_values(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        if not self.connector_ok(payload["connectorId"]):
            return {}
        number = payload.get("transactionId")
        self.charger.apply_meter_values(
            payload["connectorId"],
            None if number is None else transaction_id(number),
            self._samples(payload["meterValue"], _now()),
        )
        return {}

    def _diagnostics_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_diagnostics_status(payload["status"])
        return {}

    def _firmware_status(self, payload: dict[str, Any]) -> dict[str, Any]:
        assert self.charger is not None
        self.charger.apply_firmware_status(payload["status"])
        return {}


#: OCPP 1.6J as the registry of versions (csms/versions.py) knows it.
VERSION = ProtocolVersion("ocpp1.6", DIALECT, V16Handler, setting_key)
