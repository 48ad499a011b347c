"""Key specs, usages and the algorithms each combination supports (spec kms.md §4)."""

from __future__ import annotations

from keystead.errors import UnsupportedOperationError, ValidationError

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"

_USAGES_BY_SPEC: dict[str, frozenset[str]] = {
    SYMMETRIC_DEFAULT: frozenset({ENCRYPT_DECRYPT}),
    **{f"RSA_{n}": frozenset({ENCRYPT_DECRYPT, "SIGN_VERIFY"}) for n in (2048, 3072, 4096)},
    **{f"ECC_NIST_P{n}": frozenset({"SIGN_VERIFY", "KEY_AGREEMENT"}) for n in (256, 384, 521)},
    "ECC_SECG_P256K1": frozenset({"SIGN_VERIFY"}),
    "ECC_NIST_EDWARDS25519": frozenset({"SIGN_VERIFY"}),
    **{f"HMAC_{n}": frozenset({"GENERATE_VERIFY_MAC"}) for n in (224, 256, 384, 512)},
    **{f"ML_DSA_{n}": frozenset({"SIGN_VERIFY"}) for n in (44, 65, 87)},
    "SM2": frozenset({ENCRYPT_DECRYPT, "SIGN_VERIFY", "KEY_AGREEMENT"}),
}

# Specs whose cryptography is implemented. The others are refused with a clear error until the
# asymmetric and HMAC work lands, rather than creating keys that can do nothing.
IMPLEMENTED_SPECS = frozenset({SYMMETRIC_DEFAULT})


def check_spec_and_usage(key_spec: str, key_usage: str | None) -> str:
    """The key usage to record for a CreateKey request.

    Raises:
        ValidationError: the usage is not valid for the spec (or missing where it is required).
        UnsupportedOperationError: a valid combination this server cannot create yet.
    """
    usages = _USAGES_BY_SPEC[key_spec]
    if key_usage is None:
        if key_spec != SYMMETRIC_DEFAULT:
            raise ValidationError(f"KeyUsage is required for KeySpec {key_spec}.")
        key_usage = ENCRYPT_DECRYPT
    if key_usage not in usages:
        raise ValidationError(f"KeyUsage {key_usage} is not compatible with KeySpec {key_spec}.")
    if key_spec not in IMPLEMENTED_SPECS:
        raise UnsupportedOperationError(f"KeySpec {key_spec} is not supported by this server yet.")
    return key_usage


def encryption_algorithms(key_spec: str, key_usage: str) -> list[str] | None:
    if key_usage != ENCRYPT_DECRYPT:
        return None
    if key_spec == SYMMETRIC_DEFAULT:
        return [SYMMETRIC_DEFAULT]
    if key_spec.startswith("RSA_"):
        return ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    return ["SM2PKE"]
