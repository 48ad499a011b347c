"""AWS-shaped identifiers: account ids, access key ids and IAM unique ids.

AWS unique ids are a four-letter prefix naming the kind of entity followed by base32-style
upper-case characters; access key ids are 20 characters, unique ids 21.
"""

from __future__ import annotations

import re
import secrets

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ACCOUNT_ID_PATTERN = re.compile(r"^\d{12}$")

LONG_TERM_KEY_PREFIX = "AKIA"
TEMPORARY_KEY_PREFIX = "ASIA"
USER_ID_PREFIX = "AIDA"
ROLE_ID_PREFIX = "AROA"
GROUP_ID_PREFIX = "AGPA"
POLICY_ID_PREFIX = "ANPA"
INSTANCE_PROFILE_ID_PREFIX = "AIPA"


def _random_tail(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_account_id() -> str:
    """A random 12-digit account id that does not start with 0 (AWS never issues those)."""
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def new_access_key_id(temporary: bool = False) -> str:
    return (TEMPORARY_KEY_PREFIX if temporary else LONG_TERM_KEY_PREFIX) + _random_tail(16)


def new_unique_id(prefix: str) -> str:
    return prefix + _random_tail(17)


def is_account_id(text: str) -> bool:
    return bool(ACCOUNT_ID_PATTERN.match(text))
