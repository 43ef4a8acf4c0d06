"""OCPP 1.6J, for the registry of versions (:mod:`..versions`).

The version's words are in dialect.py, its conversation with a charger in handler.py
(our calls in commands.py), its payloads <-> the model in mapping.py and metering.py.
"""

from .handler import VERSION

__all__ = ["VERSION"]
