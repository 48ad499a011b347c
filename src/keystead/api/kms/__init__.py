"""KMS operations (awsJson1_1, TrentService), one module per operation group.

Each handler: resolve → authorize → act → answer. `kms_handlers` gathers every group.
"""

from __future__ import annotations

from keystead.api.handlers import Handlers
from keystead.api.kms.common import KmsDeps
from keystead.api.kms.crypto import SymmetricCrypto
from keystead.api.kms.keys import KeyManagement


def kms_handlers(deps: KmsDeps) -> Handlers:
    """Every implemented KMS operation; a name claimed twice is a programming error."""
    handlers: Handlers = {}
    for group in (KeyManagement(deps), SymmetricCrypto(deps)):
        for name, handler in group.handlers().items():
            if name in handlers:
                raise RuntimeError(f"kms:{name} is registered twice")
            handlers[name] = handler
    return handlers


__all__ = ["KmsDeps", "kms_handlers"]
