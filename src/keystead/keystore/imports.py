"""Imported key material for symmetric keys with Origin EXTERNAL (kms.md KMS-121).

The import token is self-contained: the wrapping private key, the key id, the wrapping
algorithm and the expiry, sealed under the keyring (purpose KMS_IMPORT_WRAPPING_KEY). Any node can
open it, and nothing needs cleaning up when it expires after 24 hours.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from keystead.clock import Clock
from keystead.crypto import import_wrapping
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.symmetric import SYMMETRIC_MATERIAL_BYTES, imported_material_id
from keystead.errors import (
    ExpiredImportTokenError,
    IncorrectKeyMaterialError,
    InvalidImportTokenError,
    KeyringError,
    KMSInvalidStateError,
    NotFoundError,
    TagError,
    UnsupportedOperationError,
    ValidationError,
)
from keystead.keystore import specs, states
from keystead.keystore.keys import NewKeySpec, key_arn_of, new_key_id
from keystead.keystore.lifecycle import MAX_TAGS_PER_KEY, check_new_tags
from keystead.keystore.policies import default_key_policy
from keystead.storage import KeyMaterialRow, KeyRow, Tx

TOKEN_LIFETIME = timedelta(hours=24)
MAX_VALID_TO = timedelta(days=365)
EXPIRES = "KEY_MATERIAL_EXPIRES"
DOES_NOT_EXPIRE = "KEY_MATERIAL_DOES_NOT_EXPIRE"
_TOKEN_VERSION = 1
_PURPOSE = WrapPurpose.KMS_IMPORT_WRAPPING_KEY


@dataclass(frozen=True, slots=True)
class ImportParameters:
    import_token: bytes
    public_key: bytes
    valid_to: datetime


@dataclass(frozen=True, slots=True)
class MaterialTerms:
    """How long imported material lives: ValidTo and ExpirationModel, checked together."""

    valid_to: datetime | None
    expiration_model: str


def check_external(key: KeyRow) -> None:
    """Import operations need a key created with Origin EXTERNAL.

    Raises:
        UnsupportedOperationError: any other origin.
    """
    if key.origin != "EXTERNAL":
        raise UnsupportedOperationError(
            f"{key_arn_of(key)} origin is {key.origin} which is not valid for this operation."
        )


def material_terms(valid_to: datetime | None, expiration_model: str | None, now: datetime) -> MaterialTerms:
    """ValidTo is required with KEY_MATERIAL_EXPIRES and forbidden without it.

    Raises:
        ValidationError: inconsistent, in the past, or more than 365 days ahead.
    """
    model = expiration_model or (EXPIRES if valid_to is not None else DOES_NOT_EXPIRE)
    if model == EXPIRES and valid_to is None:
        raise ValidationError("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
    if model == DOES_NOT_EXPIRE and valid_to is not None:
        raise ValidationError("A validTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
    if valid_to is not None and not now < valid_to <= now + MAX_VALID_TO:
        raise ValidationError("ValidTo must be in the future and no more than 365 days from now.")
    return MaterialTerms(valid_to, model)


class ImportService:
    def __init__(self, keyring: Keyring, clock: Clock) -> None:
        self._keyring = keyring
        self._clock = clock

    def create_external_key(self, tx: Tx, spec: NewKeySpec) -> KeyRow:
        """CreateKey with Origin EXTERNAL: a key without material, PendingImport.

        Raises:
            UnsupportedOperationError: not a symmetric encryption key (import is symmetric-only here).
            ValidationError: an invalid spec/usage pair.
            TagError: invalid tags.
        """
        usage = specs.check_spec_and_usage(spec.key_spec, spec.key_usage)
        if spec.key_spec != specs.SYMMETRIC_DEFAULT:
            raise UnsupportedOperationError("Origin EXTERNAL is supported for SYMMETRIC_DEFAULT keys only.")
        check_new_tags(spec.tags)
        if len(spec.tags) > MAX_TAGS_PER_KEY:
            raise TagError(f"A KMS key can have at most {MAX_TAGS_PER_KEY} tags.")
        row = KeyRow(
            key_id=new_key_id(spec.multi_region), account_id=spec.account_id, region=spec.region,
            description=spec.description, key_spec=spec.key_spec, key_usage=usage, origin="EXTERNAL",
            key_manager="CUSTOMER", key_state=states.PENDING_IMPORT, creation_date=self._clock.now(),
            deletion_date=None, pending_window_days=None,
            policy=spec.policy or default_key_policy(spec.account_id), multi_region=spec.multi_region,
            current_material_id=None, rotation_enabled=False, rotation_period_days=None,
            next_rotation_date=None, valid_to=None, expiration_model=None, row_version=1,
        )
        tx.insert_key(row)
        if spec.tags:
            tx.put_key_tags(row.key_id, dict(spec.tags))
        return row

    def parameters(self, key: KeyRow, algorithm: str, wrapping_key_spec: str) -> ImportParameters:
        """A fresh wrapping key and import token (blocking: RSA key generation).

        Raises:
            UnsupportedOperationError: not an EXTERNAL key, or an algorithm/spec not supported here.
            KMSInvalidStateError: the key is pending deletion.
        """
        check_external(key)
        if key.key_state == states.PENDING_DELETION:
            raise KMSInvalidStateError(f"{key_arn_of(key)} is pending deletion.")
        if algorithm not in import_wrapping.WRAPPING_ALGORITHMS:
            raise UnsupportedOperationError(f"Wrapping algorithm {algorithm} is not supported.")
        if wrapping_key_spec not in import_wrapping.WRAPPING_KEY_SPECS:
            raise UnsupportedOperationError(f"Wrapping key spec {wrapping_key_spec} is not supported.")
        private_der = import_wrapping.new_wrapping_key(wrapping_key_spec)
        valid_to = self._clock.now() + TOKEN_LIFETIME
        payload = json.dumps({
            "v": _TOKEN_VERSION, "key": key.key_id, "alg": algorithm,
            "exp": int(valid_to.timestamp()), "wk": base64.b64encode(private_der).decode(),
        }).encode()
        token = self._keyring.wrap(payload, purpose=_PURPOSE)
        return ImportParameters(token, import_wrapping.public_key_of(private_der), valid_to)

    def open_material(self, key: KeyRow, token: bytes, encrypted: bytes) -> bytes:
        """Check the token and unwrap the material (blocking: RSA decryption).

        Raises:
            InvalidImportTokenError: not a token of ours, or issued for another key.
            ExpiredImportTokenError: more than 24 hours old.
            InvalidCiphertextError: the material does not unwrap under the token's wrapping key.
            IncorrectKeyMaterialError: the material is not 256-bit symmetric key material.
        """
        try:
            fields = json.loads(self._keyring.unwrap(token, purpose=_PURPOSE))
            if fields["v"] != _TOKEN_VERSION:
                raise ValueError("unknown import token version")
            private_der, algorithm = base64.b64decode(fields["wk"]), str(fields["alg"])
        except (KeyringError, ValueError, KeyError, TypeError) as exc:
            raise InvalidImportTokenError("The import token is invalid.") from exc
        if fields["key"] != key.key_id:
            raise InvalidImportTokenError("The import token is not valid for this KMS key.")
        if datetime.fromtimestamp(fields["exp"], tz=timezone.utc) <= self._clock.now():
            raise ExpiredImportTokenError("The import token has expired.")
        material = import_wrapping.unwrap_key_material(private_der, algorithm, encrypted)
        if len(material) != SYMMETRIC_MATERIAL_BYTES:
            raise IncorrectKeyMaterialError("The key material must be 256 bits of symmetric key material.")
        return material

    def import_material(
        self, tx: Tx, key_id: str, material: bytes, terms: MaterialTerms, import_type: str | None,
        requested_id: str | None,
    ) -> KeyRow:
        """Store imported material and make the key usable; only the same material may come back.

        Raises:
            UnsupportedOperationError: not an EXTERNAL key, or NEW_KEY_MATERIAL for a key with material.
            KMSInvalidStateError: the key is pending deletion.
            IncorrectKeyMaterialError: other material than the key had, or another KeyMaterialId.
        """
        key = _current(tx, key_id)
        check_external(key)
        if key.key_state == states.PENDING_DELETION:
            raise KMSInvalidStateError(f"{key_arn_of(key)} is pending deletion.")
        material_id = imported_material_id(key_id, material)
        if key.current_material_id is not None and import_type == "NEW_KEY_MATERIAL":
            raise UnsupportedOperationError("Importing new key material for rotation is not supported by this server.")
        if (key.current_material_id not in (None, material_id)) or (
            requested_id is not None and requested_id != material_id.hex()
        ):
            raise IncorrectKeyMaterialError(
                "The key material in the request is not the same key material that was previously "
                "imported into this KMS key."
            )
        if tx.get_key_material(key_id, material_id) is None:
            wrapped = self._keyring.wrap(material, purpose=WrapPurpose.KMS_KEY_MATERIAL)
            tx.insert_key_material(KeyMaterialRow(key_id, material_id, wrapped, self._clock.now(), "EXTERNAL", "CURRENT"))
        new_state = states.ENABLED if key.key_state == states.PENDING_IMPORT else key.key_state
        return tx.update_key(
            key_id, key.row_version, key_state=new_state, current_material_id=material_id,
            valid_to=terms.valid_to, expiration_model=terms.expiration_model,
        )

    def delete_material(self, tx: Tx, key_id: str) -> KeyRow:
        """DeleteImportedKeyMaterial (and expiry): the key waits for the same material again.

        The material id stays on the key row so a later import must bring the same material.

        Raises:
            UnsupportedOperationError: not an EXTERNAL key.
        """
        key = _current(tx, key_id)
        check_external(key)
        if key.current_material_id is not None:
            tx.delete_key_material(key_id, key.current_material_id)
        new_state = key.key_state if key.key_state == states.PENDING_DELETION else states.PENDING_IMPORT
        return tx.update_key(key_id, key.row_version, key_state=new_state, valid_to=None, expiration_model=None)


def _current(tx: Tx, key_id: str) -> KeyRow:
    key = tx.get_key(key_id)
    if key is None:
        raise NotFoundError(f"Key '{key_id}' does not exist")
    return key
