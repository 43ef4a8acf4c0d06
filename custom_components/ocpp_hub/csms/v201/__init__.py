"""OCPP 2.0.1: its `VERSION` as the server's registry of versions sees it."""

from .handler import VERSION

__all__ = ["VERSION"]
