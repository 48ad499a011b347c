"""Cryptography with asymmetric and HMAC KMS keys: sign/verify, MACs, ECDH, RSA-OAEP, public keys,
and data key pairs. Authorization happens above, in api/.

Every operation checks, in AWS's order: key state, key usage, algorithm for the key spec, then
the message. Private and HMAC keys are unwrapped and parsed once per process and kept in memory
(key material never changes), so the hot path does no I/O and no DER parsing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keystead.blocking import run_blocking
from keystead.crypto import asymmetric, ecdh, hmac_keys, signatures
from keystead.crypto.asymmetric import KeyPair
from keystead.crypto.keyring import Keyring, WrapPurpose
from keystead.errors import (
    InvalidKeyUsageError,
    InternalError,
    UnsupportedOperationError,
    ValidationError,
)
from keystead.keystore import specs, states
from keystead.keystore.keys import KeyRef, KeyService
from keystead.storage import Database, KeyMaterialRow

_CACHE_LIMIT = 50_000
_ALLOWED_MESSAGE_TYPES = {
    "ML_DSA_SHAKE_256": ("RAW", "EXTERNAL_MU"),
    "ED25519_SHA_512": ("RAW",),
    "ED25519_PH_SHA_512": ("DIGEST",),
}


def check_usage(ref: KeyRef, usage: str, operation: str) -> None:
    """The key's state allows use and its usage is `usage`.

    Raises:
        DisabledError, KMSInvalidStateError: the key is not usable.
        InvalidKeyUsageError: the key has another usage.
    """
    states.check_usable(ref.arn, ref.key.key_state)
    if ref.key.key_usage != usage:
        raise InvalidKeyUsageError(
            f"{ref.arn} key usage is {ref.key.key_usage} which is not valid for {operation}."
        )


def check_algorithm(ref: KeyRef, algorithm: str | None, allowed: list[str] | None) -> str:
    """`algorithm` is one the key supports.

    Raises:
        InvalidKeyUsageError: it is not (or is missing where the key has no default).
    """
    if algorithm is None or algorithm not in (allowed or []):
        raise InvalidKeyUsageError(
            f"Algorithm {algorithm or specs.SYMMETRIC_DEFAULT} is incompatible with key spec {ref.key.key_spec}."
        )
    return algorithm


def check_signing_request(ref: KeyRef, operation: str, algorithm: str, message: bytes, message_type: str) -> None:
    """Everything Sign and Verify validate before touching the key.

    Raises:
        DisabledError, KMSInvalidStateError, InvalidKeyUsageError: as check_usage/check_algorithm.
        ValidationError: a message type the algorithm does not take, or a digest of the wrong size.
    """
    check_usage(ref, specs.SIGN_VERIFY, operation)
    check_algorithm(ref, algorithm, specs.signing_algorithms(ref.key.key_spec, ref.key.key_usage))
    if message_type not in _ALLOWED_MESSAGE_TYPES.get(algorithm, ("RAW", "DIGEST")):
        raise ValidationError(f"Message type {message_type} is incompatible with algorithm {algorithm}.")
    # RAW messages are bounded by the model (1..4096 bytes); digests and µ have one exact size.
    if message_type != "RAW":
        expected = signatures.ML_DSA_MU_BYTES if message_type == "EXTERNAL_MU" else signatures.digest_length(algorithm)
        if len(message) != expected:
            raise ValidationError(f"Digest is invalid length for algorithm {algorithm}.")


class AsymmetricKeys:
    """Operations on key-pair and HMAC KMS keys; state, usage and algorithm checked first."""

    def __init__(self, keys: KeyService, db: Database, keyring: Keyring) -> None:
        self._keys = keys
        self._db = db
        self._keyring = keyring
        self._pairs: dict[tuple[str, bytes], KeyPair] = {}
        self._hmac: dict[tuple[str, bytes], bytes] = {}

    # --- public keys, signatures, ECDH -------------------------------------------------------

    async def public_key(self, ref: KeyRef) -> bytes:
        """GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key.

        Raises:
            DisabledError, KMSInvalidStateError: the key is not usable.
            UnsupportedOperationError: a symmetric or HMAC key (it has no public key).
        """
        states.check_usable(ref.arn, ref.key.key_state)
        if not specs.is_asymmetric(ref.key.key_spec):
            raise UnsupportedOperationError(f"{ref.arn} key spec {ref.key.key_spec} has no public key.")
        return (await self._pair(ref)).public_der

    async def sign(self, ref: KeyRef, algorithm: str, message: bytes, message_type: str) -> bytes:
        """Sign a message, digest or µ with the key's private key.

        Raises:
            As check_signing_request.
        """
        check_signing_request(ref, "Sign", algorithm, message, message_type)
        pair = await self._pair(ref)
        if ref.key.key_spec in specs.RSA_SPECS:  # milliseconds of CPU: keep the event loop free
            return await run_blocking(signatures.sign, pair, algorithm, message, message_type)
        return signatures.sign(pair, algorithm, message, message_type)

    async def verify(
        self, ref: KeyRef, algorithm: str, message: bytes, message_type: str, signature: bytes
    ) -> None:
        """Verify a signature with the key's public key.

        Raises:
            KMSInvalidSignatureError: the signature is not valid; otherwise as check_signing_request.
        """
        check_signing_request(ref, "Verify", algorithm, message, message_type)
        signatures.verify(await self._pair(ref), algorithm, message, message_type, signature)

    async def derive_shared_secret(self, ref: KeyRef, algorithm: str, peer_public_key: bytes) -> bytes:
        """DeriveSharedSecret: ECDH of the key's private key and the caller's public key.

        Raises:
            DisabledError, KMSInvalidStateError, InvalidKeyUsageError: the key cannot agree keys.
            ValidationError: the caller's public key is not a key on the same curve.
        """
        check_usage(ref, specs.KEY_AGREEMENT, "DeriveSharedSecret")
        check_algorithm(ref, algorithm, specs.key_agreement_algorithms(ref.key.key_spec, ref.key.key_usage))
        return ecdh.derive_shared_secret(await self._pair(ref), peer_public_key)

    # --- RSA encryption ----------------------------------------------------------------------

    def check_rsa_encryption(
        self, ref: KeyRef, operation: str, algorithm: str | None, context: Mapping[str, str]
    ) -> str:
        """Validate an RSA Encrypt/Decrypt/ReEncrypt request; the algorithm to use.

        Raises:
            DisabledError, KMSInvalidStateError, InvalidKeyUsageError: as check_usage/check_algorithm.
            ValidationError: an encryption context (only symmetric keys bind one).
        """
        check_usage(ref, specs.ENCRYPT_DECRYPT, operation)
        chosen = check_algorithm(ref, algorithm, specs.encryption_algorithms(ref.key.key_spec, ref.key.key_usage))
        if context:
            raise ValidationError("EncryptionContext is not supported with asymmetric KMS keys.")
        return chosen

    async def rsa_encrypt(
        self, ref: KeyRef, algorithm: str | None, plaintext: bytes, context: Mapping[str, str], operation: str
    ) -> tuple[bytes, str]:
        """RSA-OAEP ciphertext and the algorithm used.

        Raises:
            ValidationError: plaintext too long for the key and padding; otherwise as check_rsa_encryption.
        """
        chosen = self.check_rsa_encryption(ref, operation, algorithm, context)
        return asymmetric.rsa_encrypt(await self._pair(ref), chosen, plaintext), chosen

    async def rsa_decrypt(
        self, ref: KeyRef, algorithm: str | None, ciphertext: bytes, context: Mapping[str, str], operation: str
    ) -> tuple[bytes, str]:
        """RSA-OAEP plaintext and the algorithm used.

        Raises:
            InvalidCiphertextError: any failure to decrypt; otherwise as check_rsa_encryption.
        """
        chosen = self.check_rsa_encryption(ref, operation, algorithm, context)
        pair = await self._pair(ref)
        return await run_blocking(asymmetric.rsa_decrypt, pair, chosen, ciphertext), chosen

    # --- HMAC --------------------------------------------------------------------------------

    def check_mac_request(self, ref: KeyRef, operation: str, algorithm: str) -> None:
        """Validate a GenerateMac/VerifyMac request.

        Raises:
            DisabledError, KMSInvalidStateError, InvalidKeyUsageError: as check_usage/check_algorithm.
        """
        check_usage(ref, specs.GENERATE_VERIFY_MAC, operation)
        check_algorithm(ref, algorithm, specs.mac_algorithms(ref.key.key_spec, ref.key.key_usage))

    async def generate_mac(self, ref: KeyRef, algorithm: str, message: bytes) -> bytes:
        """HMAC of a message under the key.

        Raises:
            As check_mac_request.
        """
        self.check_mac_request(ref, "GenerateMac", algorithm)
        return hmac_keys.generate_mac(await self._hmac_key(ref), algorithm, message)

    async def verify_mac(self, ref: KeyRef, algorithm: str, message: bytes, mac: bytes) -> None:
        """Check an HMAC under the key in constant time.

        Raises:
            KMSInvalidMacError: the MAC does not match; otherwise as check_mac_request.
        """
        self.check_mac_request(ref, "VerifyMac", algorithm)
        hmac_keys.verify_mac(await self._hmac_key(ref), algorithm, message, mac)

    # --- data key pairs ----------------------------------------------------------------------

    def check_data_key_pair(self, ref: KeyRef, operation: str, pair_spec: str) -> None:
        """Validate a GenerateDataKeyPair* request: a symmetric encryption key, a pair spec we make.

        Raises:
            DisabledError, KMSInvalidStateError, InvalidKeyUsageError: the key cannot wrap the pair.
            UnsupportedOperationError: SM2 and ML-KEM pairs.
        """
        check_usage(ref, specs.ENCRYPT_DECRYPT, operation)
        if ref.key.key_spec != specs.SYMMETRIC_DEFAULT:
            raise InvalidKeyUsageError("You cannot generate a data key pair with an asymmetric CMK")
        if pair_spec not in specs.DATA_KEY_PAIR_SPECS:
            raise UnsupportedOperationError(f"KeyPairSpec {pair_spec} is not supported by this server.")

    async def generate_data_key_pair(
        self, ref: KeyRef, operation: str, pair_spec: str, context: Mapping[str, str]
    ) -> tuple[bytes, bytes, bytes]:
        """A fresh key pair: (private PKCS#8 DER, public SPKI DER, private key sealed under `ref`).

        Raises:
            As check_data_key_pair.
        """
        self.check_data_key_pair(ref, operation, pair_spec)
        # RSA-4096 generation takes up to a second of CPU: never on the event loop.
        private_der = await run_blocking(asymmetric.generate_private_key, pair_spec)
        public_der = asymmetric.public_key_der(private_der)
        sealed = await self._keys.encrypt(ref, private_der, context, None)
        return private_der, public_der, sealed

    # --- material ----------------------------------------------------------------------------

    async def _pair(self, ref: KeyRef) -> KeyPair:
        cache_key = self._cache_key(ref)
        found = self._pairs.get(cache_key)
        if found is None:
            found = await run_blocking(self._load_pair, ref.key.key_spec, cache_key)
            self._remember(self._pairs, cache_key, found)
        return found

    async def _hmac_key(self, ref: KeyRef) -> bytes:
        cache_key = self._cache_key(ref)
        found = self._hmac.get(cache_key)
        if found is None:
            found = await run_blocking(self._unwrap, cache_key, WrapPurpose.KMS_HMAC_KEY)
            self._remember(self._hmac, cache_key, found)
        return found

    @staticmethod
    def _cache_key(ref: KeyRef) -> tuple[str, bytes]:
        if ref.key.current_material_id is None:
            raise InternalError()
        return ref.key.key_id, ref.key.current_material_id

    @staticmethod
    def _remember(cache: dict[tuple[str, bytes], Any], cache_key: tuple[str, bytes], value: Any) -> None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[cache_key] = value

    def _load_pair(self, key_spec: str, cache_key: tuple[str, bytes]) -> KeyPair:
        return asymmetric.load_key_pair(key_spec, self._unwrap(cache_key, WrapPurpose.KMS_PRIVATE_KEY))

    def _unwrap(self, cache_key: tuple[str, bytes], purpose: WrapPurpose) -> bytes:
        with self._db.reader() as tx:
            row: KeyMaterialRow | None = tx.get_key_material(*cache_key)
        if row is None:
            raise InternalError()
        return self._keyring.unwrap(row.wrapped, purpose=purpose)
