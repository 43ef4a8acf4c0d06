"""The OCPP central system: websockets server, sessions, OCPP versions (no Home Assistant)."""
