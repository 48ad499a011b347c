"""Accounts and their root users: creation, root access keys and password checks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from keystead import arn
from keystead.clock import Clock
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.passwords import hash_password, new_secret_access_key
from keystead.errors import EntityAlreadyExistsError, InvalidInputError, ValidationError
from keystead.identity import ids
from keystead.storage import Database
from keystead.storage import AccessKeyRow, AccountRow

# The purpose label binds a wrapped secret to what it is, so storage can't swap one for another.
ACCESS_KEY_SECRET_PURPOSE = WrapPurpose.IAM_SECRET_ACCESS_KEY
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_ROOT_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class NewAccount:
    account_id: str
    arn: str
    access_key_id: str
    secret_access_key: str = field(repr=False)

    def as_json(self) -> dict[str, str]:
        """The CLI contract's shape (DESIGN.md §6)."""
        return {
            "AccountId": self.account_id,
            "Arn": self.arn,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
        }


class AccountService:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock

    def create_account(
        self, *, name: str, email: str, password: str, account_id: str | None = None
    ) -> NewAccount:
        """Create an account, its root user and one root access key, in one transaction.

        Raises:
            ValidationError: a malformed name, email, password or account id.
            EntityAlreadyExistsError: the account id or email is taken.
        """
        _check_account_fields(name, email, password, account_id)
        now = self._clock.now()
        password_hash = hash_password(password)
        with self._db.transaction() as tx:
            if tx.get_account_by_email(email) is not None:
                raise EntityAlreadyExistsError(f"An account with email {email} already exists.")
            chosen = account_id or self._free_account_id(tx)
            row = AccountRow(
                account_id=chosen, name=name, email=email, root_password_hash=password_hash, created_at=now
            )
            if not tx.insert_account(row):
                raise EntityAlreadyExistsError(f"Account {chosen} already exists.")
            access_key_id, secret = self._insert_access_key(tx, chosen, None)
        return NewAccount(chosen, arn.root_arn(chosen), access_key_id, secret)

    def create_access_key(self, account_id: str, user_name: str | None) -> tuple[str, str]:
        """A new active access key for the root user (user_name None) or an IAM user.

        Raises:
            InvalidInputError: the account does not exist.
        """
        with self._db.transaction() as tx:
            if tx.get_account(account_id) is None:
                raise InvalidInputError(f"Account {account_id} does not exist.")
            return self._insert_access_key(tx, account_id, user_name)

    def _insert_access_key(self, tx: object, account_id: str, user_name: str | None) -> tuple[str, str]:
        secret = new_secret_access_key()
        wrapped = self._keyring.wrap(secret.encode(), purpose=ACCESS_KEY_SECRET_PURPOSE)
        while True:
            access_key_id = ids.new_access_key_id()
            row = AccessKeyRow(
                access_key_id=access_key_id,
                account_id=account_id,
                user_name=user_name,
                secret_wrapped=wrapped,
                status="Active",
                created_at=self._clock.now(),
                last_used_at=None,
                last_used_service=None,
                last_used_region=None,
            )
            if tx.insert_access_key(row):  # type: ignore[attr-defined]
                return access_key_id, secret

    @staticmethod
    def _free_account_id(tx: object) -> str:
        while True:
            candidate = ids.new_account_id()
            if tx.get_account(candidate) is None:  # type: ignore[attr-defined]
                return candidate


def _check_account_fields(name: str, email: str, password: str, account_id: str | None) -> None:
    if not 1 <= len(name) <= 50:
        raise ValidationError("The account name must be 1 to 50 characters long.")
    if not _EMAIL.match(email) or len(email) > 64:
        raise ValidationError(f"The email address '{email}' is not valid.")
    if len(password) < MIN_ROOT_PASSWORD_LENGTH:
        raise ValidationError(
            f"The root password must be at least {MIN_ROOT_PASSWORD_LENGTH} characters long."
        )
    if account_id is not None and not ids.is_account_id(account_id):
        raise ValidationError(f"The account id '{account_id}' is not a 12-digit number.")
