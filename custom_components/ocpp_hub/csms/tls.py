"""TLS for the central system (OCPP security profile 2): server context from files."""

from __future__ import annotations

from enum import StrEnum
import ssl
import warnings


class TlsProblem(StrEnum):
    """What is wrong with the certificate files (values are translation keys)."""

    UNREADABLE = "cert_unreadable"
    MISMATCH = "cert_key_mismatch"


class TlsError(Exception):
    """The certificate or key cannot be used."""

    def __init__(self, problem: TlsProblem, detail: str) -> None:
        """Keep the problem kind and a detail for the log."""
        super().__init__(f"{problem}: {detail}")
        self.problem = problem


def server_context(certfile: str, keyfile: str | None, legacy: bool = False) -> ssl.SSLContext:
    """A server SSL context for ``certfile``/``keyfile`` (blocking: reads files).

    TLS 1.2 at least, unless ``legacy``: old chargers that only speak TLS 1.0 or
    1.1 then connect too, with the weaker ciphers they need.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if legacy:
        with warnings.catch_warnings():
            # Deprecated for good reason; the owner asked for it, for an old charger.
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile or None)
    except ssl.SSLError as err:  # before OSError: SSLError is one
        problem = (
            TlsProblem.MISMATCH if err.reason == "KEY_VALUES_MISMATCH" else TlsProblem.UNREADABLE
        )
        raise TlsError(problem, err.reason or str(err)) from err
    except OSError as err:
        raise TlsError(TlsProblem.UNREADABLE, err.strerror or str(err)) from err
    return context
