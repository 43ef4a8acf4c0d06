"""The OCPP central system: websockets server, sessions and OCPP 1.6J (no Home Assistant)."""
