"""KMS aliases: friendly names for keys, one account and region each (kms.md KMS-010).

An alias is its own resource: creating, repointing and deleting it are authorized on the alias
(IAM only) and on each key it touches (api/kms/aliases.py does that). This module keeps the
rules of names and targets, and the writes, inside the caller's transaction.
"""

from __future__ import annotations

import base64
import binascii
import re

from keystead import arn
from keystead.clock import Clock
from keystead.errors import (
    AlreadyExistsError,
    InvalidMarkerError,
    KMSInvalidStateError,
    NotAuthorizedError,
    NotFoundError,
    ValidationError,
)
from keystead.keystore import states
from keystead.keystore.keys import KeyService, key_arn_of
from keystead.storage import AliasRow, Database, KeyRow, Tx

ALIAS_PREFIX = "alias/"
RESERVED_PREFIX = "alias/aws/"
# AWS documents "between 1 and 100, default 50" for ListAliases although the model allows 1000.
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 50
_NAME = re.compile(r"^alias/[a-zA-Z0-9/_-]+$")


def check_alias_name(name: str) -> None:
    """The rules for a customer alias name, in the order AWS applies them.

    Raises:
        ValidationError: no `alias/` prefix, or characters an alias may not have.
        NotAuthorizedError: the `alias/aws/` prefix, reserved for AWS managed keys.
    """
    if not name.startswith(ALIAS_PREFIX) or name == ALIAS_PREFIX:
        raise ValidationError(
            'Alias must start with the prefix "alias/". '
            "Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html"
        )
    if name.lower().startswith(RESERVED_PREFIX):
        raise NotAuthorizedError("")
    if not _NAME.match(name):
        # The model's pattern admits ':' but KMS refuses it in alias names.
        raise ValidationError(f"{name} contains invalid characters for an alias")


def check_target_is_a_key(target_key_id: str) -> None:
    """TargetKeyId must name a key, never another alias.

    Raises:
        ValidationError: the target is an alias name or alias ARN.
    """
    parsed = arn.parse_arn(target_key_id)
    if target_key_id.startswith(ALIAS_PREFIX) or (parsed is not None and parsed.resource_type == "alias"):
        raise ValidationError("Aliases must refer to keys. Not aliases")


def check_can_point_at(key: KeyRow) -> None:
    """An alias may not be created for, or moved to, a key that is pending deletion.

    Raises:
        KMSInvalidStateError: the key is pending deletion.
    """
    if key.key_state == states.PENDING_DELETION:
        raise KMSInvalidStateError(f"{key_arn_of(key)} is pending deletion.")


class AliasService:
    def __init__(self, db: Database, keys: KeyService, clock: Clock) -> None:
        self._db = db
        self._keys = keys
        self._clock = clock

    def get(self, account_id: str, region: str, name: str) -> AliasRow:
        """The alias row (blocking; call through run_blocking).

        Raises:
            NotFoundError: no such alias.
        """
        with self._db.reader() as tx:
            row = tx.get_alias(account_id, region, name)
        if row is None:
            raise NotFoundError(f"Alias '{arn.alias_arn(region, account_id, name)}' is not found.")
        return row

    def create(self, tx: Tx, account_id: str, region: str, name: str, key_id: str) -> AliasRow:
        """Create an alias for a key, in the caller's transaction.

        Raises:
            AlreadyExistsError: the name is taken in this account and region.
            KMSInvalidStateError: the key is pending deletion.
            NotFoundError: the key no longer exists.
        """
        key = self._key(tx, key_id)
        check_can_point_at(key)
        now = self._clock.now()
        row = AliasRow(account_id, region, name, key_id, now, now)
        if not tx.insert_alias(row):
            raise AlreadyExistsError(
                f"An alias with the name {arn.alias_arn(region, account_id, name)} already exists"
            )
        self.forget(account_id, region, name, key_id)
        return row

    def update(self, tx: Tx, current: AliasRow, key_id: str) -> None:
        """Point an existing alias at another key.

        Raises:
            KMSInvalidStateError: the new key is pending deletion.
            NotFoundError: the alias or the new key no longer exists.
        """
        key = self._key(tx, key_id)
        check_can_point_at(key)
        if not tx.update_alias(current.account_id, current.region, current.alias_name, key_id, self._clock.now()):
            raise NotFoundError(f"Alias '{_arn_of(current)}' is not found.")
        self.forget(current.account_id, current.region, current.alias_name, key_id, current.target_key_id)

    def delete(self, tx: Tx, current: AliasRow) -> None:
        """Delete an alias.

        Raises:
            NotFoundError: the alias no longer exists.
        """
        if not tx.delete_alias(current.account_id, current.region, current.alias_name):
            raise NotFoundError(f"Alias '{_arn_of(current)}' is not found.")
        self.forget(current.account_id, current.region, current.alias_name, current.target_key_id)

    def list(
        self, account_id: str, region: str, *, key_id: str | None, limit: int | None, marker: str | None
    ) -> tuple[list[AliasRow], str | None]:
        """One page of aliases by name, and the next marker (blocking; call through run_blocking).

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        size = min(limit or DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
        after = _decode_marker(marker)
        with self._db.reader() as tx:
            rows = tx.list_aliases(account_id, region, key_id=key_id, after=after, limit=size + 1)
        if len(rows) > size:
            return rows[:size], _encode_marker(rows[size - 1].alias_name)
        return rows, None

    def _key(self, tx: Tx, key_id: str) -> KeyRow:
        key = tx.get_key(key_id)
        if key is None:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        return key

    def forget(self, account_id: str, region: str, name: str, *key_ids: str) -> None:
        # The key rows cache their aliases (kms:ResourceAliases); both ends of a change move.
        self._keys.forget_alias(account_id, region, name)
        for key_id in key_ids:
            self._keys.forget(key_id)


def _arn_of(row: AliasRow) -> str:
    return arn.alias_arn(row.region, row.account_id, row.alias_name)


def _encode_marker(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def _decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        name = base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidMarkerError("The request contains an invalid marker.") from exc
    if not name.startswith(ALIAS_PREFIX):
        raise InvalidMarkerError("The request contains an invalid marker.")
    return name
