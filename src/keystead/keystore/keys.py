"""The KMS key domain: create, find, change and use keys. Authorization happens above, in api/.

Reads on the hot path come from memory: key rows for a few seconds (changes on this node drop
them at once), unwrapped key material for as long as the process lives (material never changes).
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from keystead import arn
from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.crypto.blob import open_blob, peek_blob, seal_blob
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.symmetric import new_material_id, random_bytes
from keystead.errors import (
    IncorrectKeyError,
    InvalidArnError,
    InvalidCiphertextError,
    InvalidKeyUsageError,
    InvalidMarkerError,
    NotFoundError,
    TagError,
    ValidationError,
)
from keystead.keystore import multi_region, specs, states
from keystead.keystore.material import new_key_material
from keystead.keystore.policies import default_key_policy
from keystead.storage import Database, Tx
from keystead.storage import KeyMaterialRow, KeyReplicaRow, KeyRow

KEY_MATERIAL_PURPOSE = WrapPurpose.KMS_KEY_MATERIAL
ROW_CACHE_SECONDS = 2.0
_KEY_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$")
_DATA_KEY_BYTES = {"AES_256": 32, "AES_128": 16}


@dataclass(frozen=True, slots=True)
class KeyRef:
    """Where a KeyId points once aliases and ARNs are resolved."""

    key: KeyRow
    arn: str
    alias_arn: str | None = None  # set when the caller named the key through an alias
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()  # alias names pointing at the key (kms:ResourceAliases)
    replicas: tuple[KeyReplicaRow, ...] = ()  # every replica of a multi-Region key
    home: KeyRow | None = None  # the stored key row when `key` is a replica's view of it

    @property
    def multi_region_key_type(self) -> str | None:
        """PRIMARY or REPLICA for a multi-Region key, None for a single-Region one."""
        return multi_region.key_type(self.key.region, self.home or self.key, self.replicas)

    @property
    def multi_region_configuration(self) -> dict[str, object] | None:
        return multi_region.configuration(self.key.region, self.home or self.key, self.replicas)


@dataclass(frozen=True, slots=True)
class NewKeySpec:
    account_id: str
    region: str
    policy: str | None
    description: str = ""
    key_spec: str = specs.SYMMETRIC_DEFAULT
    key_usage: str | None = None
    origin: str = "AWS_KMS"
    tags: Mapping[str, str] = field(default_factory=dict)
    multi_region: bool = False


# A cached key: its row, tags, alias names and (multi-Region keys only) replicas.
_Cached = tuple[KeyRow, dict[str, str], tuple[str, ...], tuple[KeyReplicaRow, ...]]


def key_arn_of(key: KeyRow) -> str:
    return arn.key_arn(key.region, key.account_id, key.key_id)


def new_key_id(multi_region: bool) -> str:
    """A fresh key id: a UUID, or `mrk-` + 32 hex digits for a multi-Region key.

    [KMS DG:multi-region-keys-overview] the `mrk-` prefix tells multi-Region keys apart at a glance.
    """
    fresh = uuid.uuid4()
    return f"mrk-{fresh.hex}" if multi_region else str(fresh)


class KeyService:
    def __init__(self, db: Database, keyring: Keyring, clock: Clock) -> None:
        self._db = db
        self._keyring = keyring
        self._clock = clock
        self._rows: dict[str, tuple[float, _Cached]] = {}
        # (account, region, alias name) -> (expiry, target key id or None), like the key rows.
        self._alias_targets: dict[tuple[str, str, str], tuple[float, str | None]] = {}
        self._materials: dict[tuple[str, bytes], bytes] = {}

    def now(self) -> datetime:
        """The service clock's current time (for rows that callers build, like replicas)."""
        return self._clock.now()

    # --- finding keys ------------------------------------------------------------------------

    async def resolve(self, key_id: str, *, account_id: str, region: str, allow_alias: bool = True) -> KeyRef:
        """Find the key a request's KeyId names: a key id, key ARN, alias name or alias ARN.

        Bare ids and alias names resolve in the caller's account; ARNs may name another account.

        Raises:
            NotFoundError: no such key or alias (or an alias where only keys are accepted).
            InvalidArnError: an ARN that is not a KMS key or alias ARN.
        """
        if key_id.startswith("arn:"):
            parsed = arn.parse_arn(key_id)
            if parsed is None or parsed.service != "kms" or parsed.resource_type not in ("key", "alias"):
                raise InvalidArnError(f"Invalid arn {key_id}")
            if parsed.resource_type == "alias":
                return await self._resolve_alias(parsed.resource, parsed.account, parsed.region, allow_alias)
            found = await self.ref(parsed.resource[len("key/"):], region=parsed.region)
            if found is None or found.key.account_id != parsed.account or found.key.region != parsed.region:
                raise NotFoundError(f"Key '{key_id}' does not exist")
            return found
        if key_id.startswith("alias/"):
            return await self._resolve_alias(key_id, account_id, region, allow_alias)
        if not _KEY_ID.match(key_id):
            raise NotFoundError(f"Invalid keyId '{key_id}'")
        found = await self.ref(key_id, region=region)
        if found is None or found.key.account_id != account_id or found.key.region != region:
            raise NotFoundError(f"Key '{arn.key_arn(region, account_id, key_id)}' does not exist")
        return found

    async def _resolve_alias(
        self, alias_name: str, account_id: str, region: str, allow_alias: bool
    ) -> KeyRef:
        alias = arn.alias_arn(region, account_id, alias_name)
        if not allow_alias:
            raise NotFoundError(f"Alias '{alias}' is not found.")
        target_id = await self._alias_target(account_id, region, alias_name)
        target = None if target_id is None else await self.ref(target_id, alias, region=region)
        if target is None:
            raise NotFoundError(f"Alias '{alias}' is not found.")
        return target

    async def _alias_target(self, account_id: str, region: str, alias_name: str) -> str | None:
        cache_key = (account_id, region, alias_name)
        cached = self._alias_targets.get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        row = await run_blocking(self._read_alias, account_id, region, alias_name)
        target = None if row is None else str(row.target_key_id)
        if len(self._alias_targets) > 50_000:
            self._alias_targets.clear()
        self._alias_targets[cache_key] = (time.monotonic() + ROW_CACHE_SECONDS, target)
        return target

    def _read_alias(self, account_id: str, region: str, alias_name: str) -> Any:
        with self._db.reader() as tx:
            return tx.get_alias(account_id, region, alias_name)

    def forget_alias(self, account_id: str, region: str, alias_name: str) -> None:
        """Drop a cached alias target once a change to the alias has committed (or failed)."""
        self._alias_targets.pop((account_id, region, alias_name), None)

    async def get_key(self, key_id: str) -> KeyRow | None:
        """A key row by id, from the short-lived cache when fresh."""
        found = await self._cached(key_id)
        return None if found is None else found[0]

    async def ref(self, key_id: str, alias_arn: str | None = None, *, region: str | None = None) -> KeyRef | None:
        """The key with its tags (for aws:ResourceTag), from the short-lived cache when fresh.

        `region` picks the Region's copy of a multi-Region key (its replica there); None, or the
        key's own Region, gives the stored key row.
        """
        found = await self._cached(key_id)
        if found is None:
            return None
        row, tags, aliases, replicas = found
        if region is None or region == row.region:
            return KeyRef(row, key_arn_of(row), alias_arn, tags, aliases, replicas)
        replica = next((r for r in replicas if r.region == region), None)
        if replica is None:
            return None
        view = multi_region.replica_view(row, replica)
        return KeyRef(view, key_arn_of(view), alias_arn, multi_region.replica_tags(replica), (), replicas, row)

    async def _cached(self, key_id: str) -> _Cached | None:
        cached = self._rows.get(key_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        found = await run_blocking(self._read_key, key_id)
        if found is not None:
            if len(self._rows) > 50_000:
                self._rows.clear()
            self._rows[key_id] = (time.monotonic() + ROW_CACHE_SECONDS, found)
        return found

    def _read_key(self, key_id: str) -> _Cached | None:
        with self._db.reader() as tx:
            row = tx.get_key(key_id)
            if row is None:
                return None
            # Aliases ride with the row for kms:ResourceAliases; AWS caps what it evaluates at 100.
            aliases = tx.list_aliases(row.account_id, row.region, key_id=key_id, after=None, limit=100)
            # Only multi-Region keys pay for the replica lookup.
            replicas = tuple(tx.list_key_replicas(key_id)) if row.multi_region else ()
            return row, tx.list_key_tags(key_id), tuple(a.alias_name for a in aliases), replicas

    def list_keys(self, account_id: str, region: str, *, limit: int, marker: str | None) -> tuple[list[str], str | None]:
        """Ids of one page of the account's keys in a region (replicas included), and the next marker.

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        after = _decode_marker(marker)
        with self._db.reader() as tx:
            rows = tx.list_keys(account_id, region, after=after, limit=limit + 1)
            replicas = tx.list_replica_key_ids(account_id, region, after=after, limit=limit + 1)
        # Both lists are ordered by key id, and ids are unique across them: merge, keep a page.
        ids = sorted([row.key_id for row in rows] + replicas)
        if len(ids) > limit:
            return ids[:limit], _encode_marker(ids[limit - 1])
        return ids, None

    # --- changing keys ------------------------------------------------------------------------

    def create_key(self, tx: Tx, spec: NewKeySpec) -> KeyRow:
        """Create a key with fresh material, its policy and tags, in the caller's transaction.

        Raises:
            ValidationError, UnsupportedOperationError: an invalid or unsupported spec/usage.
            TagError: invalid tags.
        """
        usage = specs.check_spec_and_usage(spec.key_spec, spec.key_usage)
        _check_tags(spec.tags)
        now = self._clock.now()
        key_id = new_key_id(spec.multi_region)
        material, purpose = new_key_material(spec.key_spec)
        material_id = new_material_id()
        row = KeyRow(
            key_id=key_id,
            account_id=spec.account_id,
            region=spec.region,
            description=spec.description,
            key_spec=spec.key_spec,
            key_usage=usage,
            origin=spec.origin,
            key_manager="CUSTOMER",
            key_state=states.ENABLED,
            creation_date=now,
            deletion_date=None,
            pending_window_days=None,
            policy=spec.policy or default_key_policy(spec.account_id),
            multi_region=spec.multi_region,
            current_material_id=material_id,
            rotation_enabled=False,
            rotation_period_days=None,
            next_rotation_date=None,
            valid_to=None,
            expiration_model=None,
            row_version=1,
        )
        wrapped = self._keyring.wrap(material, purpose=purpose)
        tx.insert_key(row)
        tx.insert_key_material(
            KeyMaterialRow(
                key_id=key_id, material_id=material_id, wrapped=wrapped, created_at=now,
                origin=spec.origin, state="CURRENT",
            )
        )
        if spec.tags:
            tx.put_key_tags(key_id, dict(spec.tags))
        # Reachable only through the key row, so caching it before commit is harmless. Private
        # and HMAC keys are cached, parsed, by keystore/asymmetric.py instead.
        if purpose == KEY_MATERIAL_PURPOSE:
            self._materials[(key_id, material_id)] = material
        return row

    def set_enabled(self, tx: Tx, key_id: str, enabled: bool) -> KeyRow:
        """EnableKey / DisableKey.

        Raises:
            KMSInvalidStateError: the key is pending deletion or import.
        """
        current = self._current(tx, key_id)
        states.check_can_change_enablement(key_arn_of(current), current.key_state)
        new_state = states.ENABLED if enabled else states.DISABLED
        return self._update(tx, current, key_state=new_state)

    def put_policy(self, tx: Tx, key_id: str, policy: str) -> KeyRow:
        return self._update(tx, self._current(tx, key_id), policy=policy)

    def forget(self, key_id: str) -> None:
        """Drop a cached row once a change to it has committed (or failed)."""
        self._rows.pop(key_id, None)

    def _current(self, tx: Tx, key_id: str) -> KeyRow:
        # Read inside the transaction so checks and the optimistic version compare with the
        # stored row, not with a cached one that may be seconds old.
        current = tx.get_key(key_id)
        if current is None:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        return current

    def _update(self, tx: Tx, current: KeyRow, **changes: Any) -> KeyRow:
        self.forget(current.key_id)
        return tx.update_key(current.key_id, current.row_version, **changes)


    # --- cryptography ------------------------------------------------------------------------

    async def encrypt(
        self, ref: KeyRef, plaintext: bytes, context: Mapping[str, str], algorithm: str | None
    ) -> bytes:
        """Seal plaintext under the key's current material.

        Raises:
            DisabledError, KMSInvalidStateError: the key is not usable.
            InvalidKeyUsageError: the key can't encrypt, or not with that algorithm.
        """
        key = ref.key
        _check_encrypt_usage(ref, algorithm)
        states.check_usable(ref.arn, key.key_state)
        assert key.current_material_id is not None  # usable symmetric keys always have material
        material = await self._material(key.key_id, key.current_material_id)
        return seal_blob(
            material, key_id=key.key_id, material_id=key.current_material_id, plaintext=plaintext,
            encryption_context=context,
        )

    async def key_for_blob(self, blob: bytes, expected: KeyRef | None, region: str) -> KeyRef:
        """The key a symmetric ciphertext blob was sealed under (read from its header), in `region`.

        A multi-Region key's replicas share its id and material, so a blob sealed under any of
        them opens under the related key in the caller's Region [KMS DG:multi-region-keys-overview].

        Raises:
            InvalidCiphertextError: not a blob of ours, or its key no longer exists.
            IncorrectKeyError: the blob is not under the key the caller named.
        """
        header = peek_blob(blob)
        found = await self.ref(header.key_id, region=expected.key.region if expected is not None else region)
        if found is None:
            raise InvalidCiphertextError()
        if expected is not None and expected.key.key_id != found.key.key_id:
            raise IncorrectKeyError(
                "The key ID in the request does not identify a CMK that can perform this operation."
            )
        return found

    async def decrypt(
        self, ref: KeyRef, blob: bytes, context: Mapping[str, str], algorithm: str | None
    ) -> bytes:
        """Open a ciphertext blob under the key `key_for_blob` found.

        Raises:
            InvalidCiphertextError: anything wrong with the blob or its context (one message).
            DisabledError, KMSInvalidStateError: the key is not usable.
        """
        _check_encrypt_usage(ref, algorithm)
        states.check_usable(ref.arn, ref.key.key_state)
        material = await self._material(ref.key.key_id, peek_blob(blob).material_id)
        return open_blob(material, blob, encryption_context=context)

    async def generate_data_key(
        self, ref: KeyRef, context: Mapping[str, str], key_spec: str | None, number_of_bytes: int | None
    ) -> tuple[bytes, bytes]:
        """A fresh data key and its ciphertext under `ref`.

        Raises:
            ValidationError: neither or both of KeySpec and NumberOfBytes.
        """
        if (key_spec is None) == (number_of_bytes is None):
            raise ValidationError("Please specify either number of bytes or key spec.")
        size = _DATA_KEY_BYTES[key_spec] if key_spec is not None else number_of_bytes
        assert size is not None
        plaintext = random_bytes(size)
        return plaintext, await self.encrypt(ref, plaintext, context, None)

    async def _material(self, key_id: str, material_id: bytes) -> bytes:
        cached = self._materials.get((key_id, material_id))
        if cached is not None:
            return cached
        row = await run_blocking(self._read_material, key_id, material_id)
        if row is None:
            raise InvalidCiphertextError()
        material = self._keyring.unwrap(row.wrapped, purpose=KEY_MATERIAL_PURPOSE)
        self._materials[(key_id, material_id)] = material
        return material

    def _read_material(self, key_id: str, material_id: bytes) -> KeyMaterialRow | None:
        with self._db.reader() as tx:
            return tx.get_key_material(key_id, material_id)


def _check_encrypt_usage(ref: KeyRef, algorithm: str | None) -> None:
    key = ref.key
    allowed = specs.encryption_algorithms(key.key_spec, key.key_usage) or []
    if not allowed or (algorithm is not None and algorithm not in allowed):
        raise InvalidKeyUsageError(
            f"You cannot use the key {ref.arn} for this operation"
            + (f" with encryption algorithm {algorithm}." if algorithm else ".")
        )


def _check_tags(tags: Mapping[str, str]) -> None:
    for tag_key in tags:
        if tag_key.lower().startswith("aws:"):
            raise TagError("Tags beginning with aws: are reserved.")
    if len(tags) > 50:
        raise TagError("A key can have at most 50 tags.")


def _encode_marker(key_id: str) -> str:
    return base64.urlsafe_b64encode(key_id.encode()).decode()


def _decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(marker.encode()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidMarkerError("The request contains an invalid marker.") from exc
    if not _KEY_ID.match(decoded):
        raise InvalidMarkerError("The request contains an invalid marker.")
    return decoded

