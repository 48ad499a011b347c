"""The root of trust: the 256-bit key that unseals the keyring when the server starts.

A `RootKeyProvider` hands out the root key; nothing else in Keystead ever sees it. The file
provider keeps it in a file created by `keystead init`, either in the clear (protected by file
mode 0600, like an SSH private key) or sealed under a passphrase with argon2id + AES-256-GCM.
A later PKCS#11 provider will keep it inside an HSM.

File formats (all big-endian; see docs/ciphertext-format.md):

    0x01 plain   : version:u8 || root_key:32 || check:8          (check = SHA-256(label || key)[:8])
    0x02 sealed  : version:u8 || kdf:u8(0x01 = argon2id v1.3) || time_cost:u32 || memory_kib:u32
                   || parallelism:u8 || salt:16 || nonce:12 || AES-256-GCM(root_key):32 || tag:16
                   AAD = every byte before the ciphertext, so the KDF parameters cannot be lowered.

Policy on loose permissions: `load` REFUSES a file that group or others can read or write (as
OpenSSH does for private keys) instead of warning, because a warning in a server log is easily
missed and the fix (`chmod 600`) is immediate.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keystead.errors import RootKeyError

__all__ = [
    "ROOT_KEY_BYTES",
    "FileRootKeyProvider",
    "PassphraseKdfParams",
    "RootKeyProvider",
    "StaticRootKeyProvider",
]

ROOT_KEY_BYTES = 32

_PLAIN = 0x01
_SEALED = 0x02
_KDF_ARGON2ID = 0x01
_CHECK_LABEL = b"keystead/root-key-check/v1\x00"
_CHECK_BYTES = 8
_SEALED_HEADER = struct.Struct(">BBIIB16s12s")
_PLAIN_LEN = 1 + ROOT_KEY_BYTES + _CHECK_BYTES
_SEALED_LEN = _SEALED_HEADER.size + ROOT_KEY_BYTES + 16


@runtime_checkable
class RootKeyProvider(Protocol):
    """Where the root key comes from (a file today, an HSM later)."""

    def load(self) -> bytes:
        """Return the 32-byte root key.

        Raises:
            RootKeyError: the key is missing, unreadable, unsafe or cannot be unsealed.
        """
        ...


@dataclass(frozen=True, slots=True)
class PassphraseKdfParams:
    """argon2id cost for sealing a root key file. Defaults: RFC 9106's second recommended profile."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4

    # Bounds applied when reading a file, so a corrupted or hostile header cannot make `load`
    # allocate many gigabytes or spin for hours before the tag check rejects it.
    MAX_TIME_COST: ClassVar[int] = 64
    MAX_MEMORY_KIB: ClassVar[int] = 4 * 1024 * 1024
    MAX_PARALLELISM: ClassVar[int] = 64

    def __post_init__(self) -> None:
        if not 1 <= self.time_cost <= self.MAX_TIME_COST:
            raise RootKeyError(f"argon2id time_cost must be 1..{self.MAX_TIME_COST}")
        if not 1 <= self.parallelism <= self.MAX_PARALLELISM:
            raise RootKeyError(f"argon2id parallelism must be 1..{self.MAX_PARALLELISM}")
        if not 8 * self.parallelism <= self.memory_kib <= self.MAX_MEMORY_KIB:
            raise RootKeyError(f"argon2id memory_kib must be 8*parallelism..{self.MAX_MEMORY_KIB}")


@dataclass(frozen=True, slots=True)
class StaticRootKeyProvider:
    """A root key held in memory: for tests and for embedding Keystead in another process."""

    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.key) != ROOT_KEY_BYTES:
            raise RootKeyError(f"a root key is {ROOT_KEY_BYTES} bytes")

    def load(self) -> bytes:
        """Return the key given at construction.

        Raises:
            Nothing.
        """
        return self.key


class FileRootKeyProvider:
    """A root key in a local file, optionally sealed under a passphrase."""

    def __init__(
        self,
        path: Path,
        passphrase: str | None = None,
        *,
        kdf_params: PassphraseKdfParams | None = None,
    ) -> None:
        if passphrase is not None and not passphrase:
            raise RootKeyError("the root key passphrase must not be empty")
        self._path = Path(path)
        # NFC so the same passphrase typed on different systems derives the same key.
        self._passphrase = None if passphrase is None else unicodedata.normalize("NFC", passphrase)
        self._kdf_params = kdf_params or PassphraseKdfParams()

    def __repr__(self) -> str:
        sealed = "passphrase" if self._passphrase is not None else "plain"
        return f"FileRootKeyProvider(path={str(self._path)!r}, {sealed})"

    @property
    def path(self) -> Path:
        return self._path

    def exists(self) -> bool:
        """True when the key file is present (it may still fail to load).

        Raises:
            Nothing.
        """
        return os.path.lexists(self._path)

    def create(self) -> None:
        """Generate a random 256-bit root key and write it atomically with mode 0600.

        Raises:
            RootKeyError: the file already exists, or the directory cannot be written.
        """
        root_key = os.urandom(ROOT_KEY_BYTES)
        if self._passphrase is None:
            content = bytes([_PLAIN]) + root_key + _check(root_key)
        else:
            content = _seal(root_key, self._passphrase, self._kdf_params)
        self._write_new(content)

    def load(self) -> bytes:
        """Read (and, with a passphrase, unseal) the root key.

        Raises:
            RootKeyError: missing file, group/other permissions, wrong format, wrong passphrase,
                passphrase missing for a sealed file or given for a plain one, or corruption.
        """
        content = self._read_private()
        if not content:
            raise RootKeyError(f"root key file {self._path} is empty or corrupt")
        version = content[0]
        if version == _PLAIN:
            if self._passphrase is not None:
                raise RootKeyError(
                    f"root key file {self._path} is not passphrase-sealed, but a passphrase was given"
                )
            if len(content) != _PLAIN_LEN:
                raise RootKeyError(f"root key file {self._path} is corrupt")
            root_key = content[1 : 1 + ROOT_KEY_BYTES]
            if content[1 + ROOT_KEY_BYTES :] != _check(root_key):
                raise RootKeyError(f"root key file {self._path} is corrupt")
            return root_key
        if version == _SEALED:
            if self._passphrase is None:
                raise RootKeyError(f"root key file {self._path} is passphrase-sealed; give the passphrase")
            return _unseal(content, self._passphrase, self._path)
        raise RootKeyError(f"root key file {self._path} has unknown format version {version}")

    def _read_private(self) -> bytes:
        try:
            with open(self._path, "rb") as f:
                mode = os.fstat(f.fileno()).st_mode
                if not stat.S_ISREG(mode):
                    raise RootKeyError(f"root key file {self._path} is not a regular file")
                if os.name == "posix" and mode & 0o077:
                    raise RootKeyError(
                        f"root key file {self._path} has mode {stat.S_IMODE(mode):04o}; it must not be "
                        f"accessible by group or others (chmod 600 {self._path})"
                    )
                # Read one byte past the longest format so an oversized file is caught as corrupt.
                return f.read(max(_PLAIN_LEN, _SEALED_LEN) + 1)
        except FileNotFoundError:
            raise RootKeyError(
                f"root key file {self._path} does not exist; run `keystead init` first"
            ) from None
        except OSError as exc:
            raise RootKeyError(f"cannot read root key file {self._path}: {exc.strerror}") from None

    def _write_new(self, content: bytes) -> None:
        # Write a private temp file in the same directory, fsync it, then hard-link it into place:
        # link() fails if the target exists, so a concurrent `init` can never overwrite a key, and
        # a crash leaves either no key file or a complete one, never a torn one.
        directory = self._path.parent
        try:
            fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".rootkey-", suffix=".tmp")
        except OSError as exc:
            raise RootKeyError(f"cannot create root key file in {directory}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)  # mkstemp uses 0600 already; be explicit despite umask.
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp_name, self._path)
            except FileExistsError:
                raise RootKeyError(f"refusing to overwrite existing root key file {self._path}") from None
            except OSError as exc:
                raise RootKeyError(f"cannot create root key file {self._path}: {exc.strerror}") from None
        finally:
            os.unlink(tmp_name)
        _fsync_directory(directory)


def _check(root_key: bytes) -> bytes:
    return hashlib.sha256(_CHECK_LABEL + root_key).digest()[:_CHECK_BYTES]


def _derive(passphrase: str, salt: bytes, params: PassphraseKdfParams) -> bytes:
    return hash_secret_raw(
        passphrase.encode("utf-8"),
        salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        type=Type.ID,
        version=19,
    )


def _seal(root_key: bytes, passphrase: str, params: PassphraseKdfParams) -> bytes:
    salt = os.urandom(16)
    nonce = os.urandom(12)
    header = _SEALED_HEADER.pack(
        _SEALED, _KDF_ARGON2ID, params.time_cost, params.memory_kib, params.parallelism, salt, nonce
    )
    wrapping_key = _derive(passphrase, salt, params)
    return header + AESGCM(wrapping_key).encrypt(nonce, root_key, header)


def _unseal(content: bytes, passphrase: str, path: Path) -> bytes:
    if len(content) != _SEALED_LEN:
        raise RootKeyError(f"root key file {path} is corrupt")
    header = content[: _SEALED_HEADER.size]
    _, kdf, time_cost, memory_kib, parallelism, salt, nonce = _SEALED_HEADER.unpack(header)
    if kdf != _KDF_ARGON2ID:
        raise RootKeyError(f"root key file {path} uses unknown KDF {kdf}")
    try:
        params = PassphraseKdfParams(time_cost, memory_kib, parallelism)
    except RootKeyError:
        raise RootKeyError(f"root key file {path} has out-of-range KDF parameters") from None
    wrapping_key = _derive(passphrase, salt, params)
    try:
        return AESGCM(wrapping_key).decrypt(nonce, content[_SEALED_HEADER.size :], header)
    except InvalidTag:
        raise RootKeyError(f"wrong passphrase for root key file {path} (or the file is corrupt)") from None


def _fsync_directory(directory: Path) -> None:
    # Durability of the new directory entry; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
