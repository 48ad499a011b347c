"""The account password policy and the check every new console password must pass.

[IAM:id_credentials_passwords_account-policy] Without a policy, AWS's default applies (we
check its length, 8). Passwords are stored only as argon2id hashes (crypto/passwords.py).
"""

from __future__ import annotations

import json
import string
from dataclasses import asdict, dataclass
from typing import Any

from keystead.errors import PasswordPolicyViolationError

DEFAULT_MINIMUM_LENGTH = 8
_SYMBOLS = set("!@#$%^&*()_+-=[]{}|'")


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    minimum_password_length: int = 6
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase_characters: bool = False
    require_lowercase_characters: bool = False
    allow_users_to_change_password: bool = False
    max_password_age: int | None = None
    password_reuse_prevention: int | None = None
    hard_expiry: bool | None = None

    @staticmethod
    def from_params(params: dict[str, Any]) -> "PasswordPolicy":
        """A policy from UpdateAccountPasswordPolicy's parameters (absent ones take AWS's defaults)."""
        given = {k: v for k, v in params.items() if k in PasswordPolicy.__dataclass_fields__ and v is not None}
        return PasswordPolicy(**given)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "PasswordPolicy":
        return PasswordPolicy(**json.loads(text))

    def as_result(self) -> dict[str, Any]:
        result = asdict(self)
        result["expire_passwords"] = bool(self.max_password_age)
        return {k: v for k, v in result.items() if v is not None}


def check_password(password: str, policy: PasswordPolicy | None) -> None:
    """Raises: PasswordPolicyViolationError: the password breaks the policy (each rule named)."""
    minimum = policy.minimum_password_length if policy else DEFAULT_MINIMUM_LENGTH
    problems = []
    if len(password) < minimum:
        problems.append(f"Password should have a minimum length of {minimum}")
    if policy is not None:
        if policy.require_lowercase_characters and not any(c in string.ascii_lowercase for c in password):
            problems.append("Password should have at least one lowercase letter")
        if policy.require_uppercase_characters and not any(c in string.ascii_uppercase for c in password):
            problems.append("Password should have at least one uppercase letter")
        if policy.require_numbers and not any(c in string.digits for c in password):
            problems.append("Password should have at least one number")
        if policy.require_symbols and not any(c in _SYMBOLS for c in password):
            problems.append("Password should have at least one symbol")
    if problems:
        raise PasswordPolicyViolationError("; ".join(problems))
