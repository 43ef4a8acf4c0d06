"""OCPP 2.0.1: its `VERSION` as the registry of versions (:mod:`..versions`) sees it."""

from .handler import VERSION

__all__ = ["VERSION"]
