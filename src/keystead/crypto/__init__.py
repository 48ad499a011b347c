"""Keystead's cryptography, and the only package allowed to import pyca `cryptography`.

Everything above this package asks for outcomes ("seal this secret for key-material storage",
"open this ciphertext blob under material version X"), never for primitives ("AES-GCM with this
nonce"). Modules:

- `root_key`: the root of trust (`RootKeyProvider`, `FileRootKeyProvider`).
- `keyring`: versioned key-encryption terms; `Keyring.wrap`/`unwrap` is the barrier every stored
  secret passes.
- `blob`: the KMS symmetric ciphertext blob (`seal_blob`, `peek_blob`, `open_blob`).
- `encryption_context`: the canonical bytes of an encryption context.
- `symmetric`: fresh key material, material ids and random bytes from the OS CSPRNG.
- `passwords`: argon2id password hashes and new secret access keys.

The byte formats are documented in docs/ciphertext-format.md. Secrets never appear in a repr and
are never logged.
"""

from keystead.crypto.blob import BLOB_OVERHEAD, BlobHeader, open_blob, peek_blob, seal_blob
from keystead.crypto.encryption_context import canonical_encryption_context
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.crypto.passwords import (
    hash_password,
    new_secret_access_key,
    password_needs_rehash,
    verify_password,
)
from keystead.crypto.root_key import (
    FileRootKeyProvider,
    PassphraseKdfParams,
    RootKeyProvider,
    StaticRootKeyProvider,
)
from keystead.crypto.symmetric import (
    imported_material_id,
    new_material_id,
    new_symmetric_material,
    random_bytes,
)

__all__ = [
    "BLOB_OVERHEAD",
    "BlobHeader",
    "FileRootKeyProvider",
    "Keyring",
    "PassphraseKdfParams",
    "RootKeyProvider",
    "StaticRootKeyProvider",
    "WrapPurpose",
    "canonical_encryption_context",
    "hash_password",
    "imported_material_id",
    "new_material_id",
    "new_secret_access_key",
    "new_symmetric_material",
    "open_blob",
    "password_needs_rehash",
    "peek_blob",
    "random_bytes",
    "seal_blob",
    "verify_password",
]
