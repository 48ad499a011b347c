"""Credentials people and SDKs hold: argon2id password hashes and secret access keys.

Console and login-profile passwords are stored only as argon2id hashes in PHC string form.

argon2-cffi's defaults follow RFC 9106's second recommended profile (argon2id, t=3, m=64 MiB,
p=4): memory-hard, so a stolen database costs an attacker memory per guess, not just time. The
PHC string carries its own parameters, so raising them later only needs `password_needs_rehash`.
"""

from __future__ import annotations

import base64
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "SECRET_ACCESS_KEY_ALPHABET",
    "hash_password",
    "new_secret_access_key",
    "password_needs_rehash",
    "verify_password",
]

SECRET_ACCESS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    """Hash a password with argon2id and a fresh random salt; returns a PHC string.

    Raises:
        argon2.exceptions.HashingError: the argon2 library failed (out of memory).
    """
    return _HASHER.hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Check a password against a stored PHC hash; False on mismatch or an unreadable hash.

    The tag comparison happens inside libargon2 in constant time.

    Raises:
        Nothing: a corrupt stored hash is treated as a mismatch so sign-in fails closed.
    """
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored: str) -> bool:
    """True when `stored` was made with weaker parameters than today's; rehash after a good login.

    Raises:
        argon2.exceptions.InvalidHashError: `stored` is not a PHC argon2 string.
    """
    return _HASHER.check_needs_rehash(stored)


def new_secret_access_key() -> str:
    """Return a 40-character secret access key over AWS's alphabet ``[A-Za-z0-9+/]`` (240 bits).

    Raises:
        Nothing.
    """
    # 30 random bytes are exactly 40 base64 characters with no padding, and the standard base64
    # alphabet is precisely the one AWS secret keys use, so every character is uniformly random.
    return base64.b64encode(secrets.token_bytes(30)).decode("ascii")
