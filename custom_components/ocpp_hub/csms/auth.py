"""Charger passwords: salted scrypt hashes, verified off the event loop.

Only the hash is stored. scrypt is deliberately slow, so verification runs in
an executor; a password that verified once is remembered as a keyed digest
(never in plain text) so that a charger reconnecting does not pay scrypt again.
Comparisons are constant time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets

_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_PREFIX = "scrypt"

# OCPP security profiles 1 and 2: the Basic-auth password is 16 to 40 printable characters.
MIN_PASSWORD_LENGTH = 16
MAX_PASSWORD_LENGTH = 40


def password_acceptable(password: str) -> bool:
    """Whether ``password`` follows the OCPP rule: 16 to 40 printable ASCII characters."""
    return MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH and all(
        0x20 <= ord(ch) <= 0x7E for ch in password
    )


def generate_password() -> str:
    """A strong password a person can type: 24 characters of letters and digits."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"  # no 0/O, 1/l/I
    return "".join(secrets.choice(alphabet) for _ in range(24))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password``, as one printable string (blocking)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P
    )
    return f"{_PREFIX}${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches the ``stored`` hash (blocking; constant-time compare)."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except ValueError, TypeError:
        return False
    return hmac.compare_digest(actual, expected)


class PasswordVerifier:
    """Verifies passwords against stored hashes without blocking the event loop."""

    def __init__(self) -> None:
        """Start with an empty memory of verified passwords."""
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}

    def _memo(self, stored: str, password: str) -> bytes:
        return hmac.new(
            self._key, stored.encode() + b"\0" + password.encode("utf-8"), "sha256"
        ).digest()

    async def verify(self, password: str, stored: str) -> bool:
        """Whether ``password`` matches ``stored``."""
        memo = self._memo(stored, password)
        known = self._verified.get(stored)
        if known is not None and hmac.compare_digest(known, memo):
            return True
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, check_password, password, stored)
        if ok:
            self._verified[stored] = memo
        return ok
