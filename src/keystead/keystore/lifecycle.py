"""A key's life after creation: description, tags, scheduled deletion and its cancellation.

Every change runs inside the caller's transaction and re-reads the key there, so the state
check and the optimistic row_version compare use the stored row, not a cached one.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from keystead.clock import Clock
from keystead.errors import InvalidMarkerError, KMSInvalidStateError, NotFoundError, TagError, ValidationError
from keystead.keystore import multi_region, states
from keystead.keystore.keys import KeyService, key_arn_of
from keystead.storage import Database, KeyRow, Tx

MIN_PENDING_WINDOW_DAYS = 7
MAX_PENDING_WINDOW_DAYS = 30
DEFAULT_PENDING_WINDOW_DAYS = 30
MAX_TAGS_PER_KEY = 50
DEFAULT_TAG_LIST_LIMIT = 50


@dataclass(frozen=True, slots=True)
class TagPage:
    tags: list[tuple[str, str]]
    next_marker: str | None


def check_pending_window(days: int | None) -> int:
    """The deletion waiting period to use: 7..30 days, 30 when omitted.

    Raises:
        ValidationError: outside 7..30 (the model allows 1..365; the service does not).
    """
    if days is None:
        return DEFAULT_PENDING_WINDOW_DAYS
    if days < MIN_PENDING_WINDOW_DAYS:
        raise ValidationError(_window_message(days, "greater", MIN_PENDING_WINDOW_DAYS))
    if days > MAX_PENDING_WINDOW_DAYS:
        raise ValidationError(_window_message(days, "less", MAX_PENDING_WINDOW_DAYS))
    return days


def check_new_tags(tags: Mapping[str, str]) -> None:
    """Tag rules the model cannot express (lengths are checked by protocol/).

    Raises:
        TagError: a tag key under the reserved `aws:` prefix.
    """
    for tag_key in tags:
        if tag_key.lower().startswith("aws:"):
            raise TagError("Tags beginning with aws: are reserved.")


def check_not_pending_deletion(key: KeyRow) -> None:
    """Management changes (description, tags, aliases) stop once deletion is scheduled.

    Raises:
        KMSInvalidStateError: the key is pending deletion.
    """
    if key.key_state == states.PENDING_DELETION:
        raise KMSInvalidStateError(f"{key_arn_of(key)} is pending deletion.")


class KeyLifecycle:
    def __init__(self, db: Database, keys: KeyService, clock: Clock) -> None:
        self._db = db
        self._keys = keys
        self._clock = clock

    def schedule_deletion(self, tx: Tx, key_id: str, window_days: int) -> KeyRow:
        """Make a key PendingDeletion; the background sweep deletes it after `window_days`.

        A multi-Region primary that still has replicas becomes PendingReplicaDeletion instead.

        Raises:
            KMSInvalidStateError: the key is already pending (replica) deletion.
        """
        key = self._current(tx, key_id)
        check_not_pending_deletion(key)
        if key.key_state == states.PENDING_REPLICA_DELETION:
            raise KMSInvalidStateError(f"{key_arn_of(key)} is pending replica deletion.")
        if key.multi_region and tx.list_key_replicas(key_id):
            # [KMS DG:multi-region-keys-delete] a primary's waiting period starts only once its
            # last replica is deleted (the deletion sweep then makes it PendingDeletion).
            return self._update(
                tx, key, key_state=states.PENDING_REPLICA_DELETION,
                deletion_date=None, pending_window_days=window_days,
            )
        deletion_date = self._clock.now() + timedelta(days=window_days)
        return self._update(
            tx, key, key_state=states.PENDING_DELETION, deletion_date=deletion_date, pending_window_days=window_days
        )

    def cancel_deletion(self, tx: Tx, key_id: str) -> KeyRow:
        """Cancel a scheduled deletion: the key comes back Disabled (PendingImport without material).

        Raises:
            KMSInvalidStateError: the key is not pending deletion.
        """
        key = self._current(tx, key_id)
        if key.key_state not in (states.PENDING_DELETION, states.PENDING_REPLICA_DELETION):
            raise KMSInvalidStateError(f"{key_arn_of(key)} is not pending deletion.")
        has_material = key.origin != "EXTERNAL" or _has_imported_material(tx, key)
        new_state = states.DISABLED if has_material else states.PENDING_IMPORT
        return self._update(tx, key, key_state=new_state, deletion_date=None, pending_window_days=None)

    def update_description(self, tx: Tx, key_id: str, description: str) -> KeyRow:
        """UpdateKeyDescription.

        Raises:
            KMSInvalidStateError: the key is pending deletion.
        """
        key = self._current(tx, key_id)
        check_not_pending_deletion(key)
        return self._update(tx, key, description=description)

    def tag(self, tx: Tx, key_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags.

        Raises:
            TagError: a reserved tag key, or more than 50 tags on the key afterwards.
            KMSInvalidStateError: the key is pending deletion.
        """
        check_new_tags(tags)
        key = self._current(tx, key_id)
        check_not_pending_deletion(key)
        tx.put_key_tags(key_id, tags)
        if len(tx.list_key_tags(key_id)) > MAX_TAGS_PER_KEY:
            raise TagError(f"A KMS key can have at most {MAX_TAGS_PER_KEY} tags.")
        self._touch(tx, key)

    def untag(self, tx: Tx, key_id: str, tag_keys: Iterable[str]) -> None:
        """Remove tags (absent keys are ignored).

        Raises:
            TagError: a reserved tag key.
            KMSInvalidStateError: the key is pending deletion.
        """
        wanted = list(tag_keys)
        check_new_tags({k: "" for k in wanted})
        key = self._current(tx, key_id)
        check_not_pending_deletion(key)
        tx.delete_key_tags(key_id, wanted)
        self._touch(tx, key)

    def list_tags(self, key_id: str, *, limit: int | None, marker: str | None, region: str | None = None) -> TagPage:
        """One page of a key's tags by tag key (blocking; call through run_blocking).

        `region` names a multi-Region key's replica, whose tags are its own.

        Raises:
            InvalidMarkerError: a marker this service did not issue.
        """
        size = limit or DEFAULT_TAG_LIST_LIMIT
        after = _decode_marker(marker)
        with self._db.reader() as tx:
            found = tx.list_key_tags(key_id) if region is None else _replica_tags(tx, key_id, region)
        tags = [(k, v) for k, v in found.items() if after is None or k > after]
        if len(tags) > size:
            return TagPage(tags[:size], _encode_marker(tags[size - 1][0]))
        return TagPage(tags, None)

    def _current(self, tx: Tx, key_id: str) -> KeyRow:
        key = tx.get_key(key_id)
        if key is None:
            raise NotFoundError(f"Key '{key_id}' does not exist")
        return key

    def _update(self, tx: Tx, key: KeyRow, **changes: object) -> KeyRow:
        self._keys.forget(key.key_id)
        return tx.update_key(key.key_id, key.row_version, **changes)

    def _touch(self, tx: Tx, key: KeyRow) -> None:
        # Tags live in their own table; bumping row_version makes two concurrent tag changes
        # conflict (one retries) instead of one silently passing the 50-tag quota check.
        self._update(tx, key)


def _replica_tags(tx: Tx, key_id: str, region: str) -> dict[str, str]:
    replica = next((r for r in tx.list_key_replicas(key_id) if r.region == region), None)
    return {} if replica is None else dict(sorted(multi_region.replica_tags(replica).items()))


def _has_imported_material(tx: Tx, key: KeyRow) -> bool:
    return key.current_material_id is not None and (
        tx.get_key_material(key.key_id, key.current_material_id) is not None
    )


def _window_message(days: int, side: str, bound: int) -> str:
    return (
        f"1 validation error detected: Value '{days}' at 'pendingWindowInDays' failed to satisfy "
        f"constraint: Member must have value {side} than or equal to {bound}"
    )


def _encode_marker(tag_key: str) -> str:
    return base64.urlsafe_b64encode(tag_key.encode()).decode()


def _decode_marker(marker: str | None) -> str | None:
    if marker is None:
        return None
    try:
        return base64.urlsafe_b64decode(marker.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidMarkerError("The request contains an invalid marker.") from exc
