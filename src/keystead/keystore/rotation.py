"""Rotation of symmetric key material: automatic (a period in days) and on demand (kms.md KMS-120).

A rotation adds a material version and makes it current; older versions stay, marked
NON_CURRENT, so every ciphertext still opens (the blob header names its material id).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.symmetric import new_material_id, new_symmetric_material
from keystead.errors import (
    ConflictError,
    InvalidMarkerError,
    LimitExceededError,
    NotFoundError,
    UnsupportedOperationError,
    ValidationError,
)
from keystead.keystore import specs, states
from keystead.keystore.keys import KeyService, key_arn_of
from keystead.storage import Database, KeyMaterialRow, KeyRow, Tx
from keystead.storage.rows import KeyRotationRow

MIN_PERIOD_DAYS = 90
MAX_PERIOD_DAYS = 2560
DEFAULT_PERIOD_DAYS = 365
MAX_ON_DEMAND_ROTATIONS = 25
# "an automatic rotation of this key is currently in progress or scheduled to begin within the
# next 20 minutes" (ConflictException, RotateKeyOnDemand).
CONFLICT_WINDOW = timedelta(minutes=20)
AUTOMATIC = "AUTOMATIC"
ON_DEMAND = "ON_DEMAND"
CURRENT = "CURRENT"
NON_CURRENT = "NON_CURRENT"
DEFAULT_LIST_LIMIT = 100


@dataclass(frozen=True, slots=True)
class RotationEntry:
    material_id: bytes
    current: bool
    rotation_date: datetime | None  # None for the key's original material
    rotation_type: str | None


def check_rotatable(key: KeyRow) -> None:
    """Only symmetric encryption keys whose material KMS generated can rotate here.

    Raises:
        UnsupportedOperationError: imported material, or an asymmetric or HMAC key.
    """
    key_arn = key_arn_of(key)
    if key.origin != "AWS_KMS":
        raise UnsupportedOperationError(f"{key_arn} origin is {key.origin} which is not valid for this operation.")
    if key.key_spec != specs.SYMMETRIC_DEFAULT:
        raise UnsupportedOperationError(f"{key_arn} key spec is {key.key_spec} which is not valid for this operation.")


def check_period(days: int | None) -> int:
    """The rotation period to use, 365 days when omitted.

    Raises:
        ValidationError: outside 90..2560 (protocol/ checks the model's range first).
    """
    if days is None:
        return DEFAULT_PERIOD_DAYS
    if not MIN_PERIOD_DAYS <= days <= MAX_PERIOD_DAYS:
        raise ValidationError(f"The rotation period must be between {MIN_PERIOD_DAYS} and {MAX_PERIOD_DAYS} days.")
    return days


class RotationService:
    def __init__(self, db: Database, keys: KeyService, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keys = keys
        self._keyring = keyring
        self._clock = clock

    def enable(self, tx: Tx, key_id: str, period_days: int) -> KeyRow:
        """EnableKeyRotation; changing the period of an enabled key keeps its last rotation as anchor.

        Raises:
            UnsupportedOperationError: the key cannot rotate.
            DisabledError, KMSInvalidStateError: the key is disabled or pending deletion/import.
        """
        key = self._usable(tx, key_id)
        now = self._clock.now()
        anchor = now
        if key.rotation_enabled and key.next_rotation_date and key.rotation_period_days:
            anchor = key.next_rotation_date - timedelta(days=key.rotation_period_days)
        return self._update(
            tx, key, rotation_enabled=True, rotation_period_days=period_days,
            next_rotation_date=max(anchor + timedelta(days=period_days), now),
        )

    def disable(self, tx: Tx, key_id: str) -> KeyRow:
        """DisableKeyRotation.

        Raises:
            UnsupportedOperationError: the key cannot rotate.
            DisabledError, KMSInvalidStateError: the key is disabled or pending deletion/import.
        """
        key = self._usable(tx, key_id)
        return self._update(tx, key, rotation_enabled=False, rotation_period_days=None, next_rotation_date=None)

    def rotate_on_demand(self, tx: Tx, key_id: str) -> KeyRow:
        """RotateKeyOnDemand: a new current material at once; the automatic schedule is unchanged.

        Raises:
            UnsupportedOperationError: the key cannot rotate.
            DisabledError, KMSInvalidStateError: the key is disabled or pending deletion/import.
            LimitExceededError: the key already had 25 on-demand rotations.
            ConflictError: an automatic rotation is due within 20 minutes.
        """
        key = self._usable(tx, key_id)
        now = self._clock.now()
        if tx.count_key_rotations(key_id, ON_DEMAND) >= MAX_ON_DEMAND_ROTATIONS:
            raise LimitExceededError(
                f"The request was rejected because {key_arn_of(key)} has reached the maximum of "
                f"{MAX_ON_DEMAND_ROTATIONS} on-demand rotations."
            )
        if key.rotation_enabled and key.next_rotation_date and key.next_rotation_date - now <= CONFLICT_WINDOW:
            raise ConflictError(
                "The request was rejected because an automatic rotation of this key is currently in "
                "progress or scheduled to begin within the next 20 minutes."
            )
        return self.rotate(tx, key, ON_DEMAND, now)

    def rotate(self, tx: Tx, key: KeyRow, rotation_type: str, now: datetime) -> KeyRow:
        """Add a material version, make it current, record the rotation (optimistic on the key row).

        Raises:
            ConflictError: the key changed since it was read (another node rotated it first).
        """
        material_id = new_material_id()
        wrapped = self._keyring.wrap(new_symmetric_material(), purpose=WrapPurpose.KMS_KEY_MATERIAL)
        changes: dict[str, object] = {"current_material_id": material_id}
        if rotation_type == AUTOMATIC and key.rotation_period_days:
            changes["next_rotation_date"] = now + timedelta(days=key.rotation_period_days)
        updated = self._update(tx, key, **changes)
        if key.current_material_id is not None:
            tx.set_key_material_state(key.key_id, key.current_material_id, NON_CURRENT)
        tx.insert_key_material(KeyMaterialRow(key.key_id, material_id, wrapped, now, key.origin, CURRENT))
        tx.insert_key_rotation(KeyRotationRow(key.key_id, material_id, now, rotation_type))
        return updated

    def list_rotations(
        self, key: KeyRow, *, include_original: bool, limit: int | None, marker: str | None
    ) -> tuple[list[RotationEntry], str | None]:
        """One page of a key's material versions, oldest first (blocking; call through run_blocking).

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        offset = _decode_marker(marker)
        with self._db.reader() as tx:
            rotations = {r.material_id: r for r in tx.list_key_rotations(key.key_id, offset=0, limit=100_000)}
            materials = tx.list_key_materials(key.key_id)
        entries = [
            RotationEntry(
                m.material_id, m.material_id == key.current_material_id,
                rotations[m.material_id].rotation_date if m.material_id in rotations else None,
                rotations[m.material_id].rotation_type if m.material_id in rotations else None,
            )
            for m in materials
            if include_original or m.material_id in rotations
        ]
        entries.sort(key=lambda e: (e.rotation_date is not None, e.rotation_date or key.creation_date))
        size = limit or DEFAULT_LIST_LIMIT
        page = entries[offset : offset + size]
        more = offset + size < len(entries)
        return page, _encode_marker(offset + size) if more else None

    def _usable(self, tx: Tx, key_id: str) -> KeyRow:
        key = tx.get_key(key_id)
        if key is None:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        check_rotatable(key)
        states.check_usable(key_arn_of(key), key.key_state)
        return key

    def _update(self, tx: Tx, key: KeyRow, **changes: object) -> KeyRow:
        self._keys.forget(key.key_id)
        return tx.update_key(key.key_id, key.row_version, **changes)


def _encode_marker(offset: int) -> str:
    return base64.urlsafe_b64encode(f"rotations:{offset}".encode()).decode()


def _decode_marker(marker: str | None) -> int:
    if marker is None:
        return 0
    try:
        label, _, number = base64.urlsafe_b64decode(marker.encode()).decode().partition(":")
        if label != "rotations" or not number.isdigit():
            raise ValueError(marker)
        return int(number)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidMarkerError("The request contains an invalid marker.") from exc
