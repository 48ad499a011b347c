"""KMS operations (awsJson1_1, TrentService), one module per operation group.

Each handler: resolve → authorize → act → answer. `kms_handlers` gathers every group.
"""

from __future__ import annotations

from typing import Any

from keystead.api.handlers import Handlers
from keystead.api.kms.aliases import AliasManagement
from keystead.api.kms.common import KmsDeps
from keystead.api.kms.crypto import SymmetricCrypto
from keystead.api.kms.data_key_pairs import DataKeyPairs
from keystead.api.kms.grants import GrantOperations
from keystead.api.kms.imports import KeyMaterialImport
from keystead.api.kms.keys import KeyManagement
from keystead.api.kms.lifecycle import KeyLifecycleOperations
from keystead.api.kms.mac import Macs
from keystead.api.kms.multi_region import MultiRegionKeys
from keystead.api.kms.random import Randomness
from keystead.api.kms.reencrypt import ReEncryption
from keystead.api.kms.rotation import KeyRotation
from keystead.api.kms.signing import Signing
from keystead.api.kms.tags import TagManagement
from keystead.api.kms.usage_tracking import track_usage


def kms_handlers(deps: KmsDeps) -> Handlers:
    """Every implemented KMS operation; a name claimed twice is a programming error."""
    handlers: Handlers = {}
    groups: list[Any] = [
        KeyManagement(deps), SymmetricCrypto(deps),
        Signing(deps), Macs(deps), DataKeyPairs(deps), ReEncryption(deps), Randomness(deps),
        MultiRegionKeys(deps),
    ]
    if deps.grants is not None:
        groups.append(GrantOperations(deps, deps.grants))
    if deps.lifecycle is not None:
        groups += [
            group(deps, deps.lifecycle)
            for group in (AliasManagement, TagManagement, KeyLifecycleOperations, KeyRotation, KeyMaterialImport)
        ]
    for group in groups:
        for name, handler in group.handlers().items():
            if name in handlers:
                raise RuntimeError(f"kms:{name} is registered twice")
            handlers[name] = handler
    if deps.lifecycle is not None:
        handlers = track_usage(handlers, deps.lifecycle.usage)
    return handlers


__all__ = ["KmsDeps", "kms_handlers"]
