"""The key-lifecycle services the KMS handlers and the background task share, built once."""

from __future__ import annotations

from dataclasses import dataclass

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.keystore.aliases import AliasService
from keystead.keystore.imports import ImportService
from keystead.keystore.keys import KeyService
from keystead.keystore.lifecycle import KeyLifecycle
from keystead.keystore.rotation import RotationService
from keystead.keystore.usage import KeyUsageTracker
from keystead.storage import Database


@dataclass(frozen=True, slots=True)
class LifecycleServices:
    aliases: AliasService
    lifecycle: KeyLifecycle
    rotation: RotationService
    imports: ImportService
    usage: KeyUsageTracker

    @classmethod
    def build(cls, db: Database, keys: KeyService, keyring: Keyring, clock: Clock) -> LifecycleServices:
        return cls(
            aliases=AliasService(db, keys, clock),
            lifecycle=KeyLifecycle(db, keys, clock),
            rotation=RotationService(db, keys, keyring, clock),
            imports=ImportService(keyring, clock),
            usage=KeyUsageTracker(db),
        )
