"""Tests of the OCPP Hub integration."""
