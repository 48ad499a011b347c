"""Key specs, usages and the algorithms each combination supports (spec kms.md §4).

One table answers every "may this key do that?" question, so CreateKey, DescribeKey,
GetPublicKey and the cryptographic operations can never disagree.
"""

from __future__ import annotations

from keystead.errors import UnsupportedOperationError, ValidationError

SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
GENERATE_VERIFY_MAC = "GENERATE_VERIFY_MAC"
KEY_AGREEMENT = "KEY_AGREEMENT"

RSA_SPECS = frozenset({"RSA_2048", "RSA_3072", "RSA_4096"})
NIST_EC_SPECS = frozenset({"ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521"})
ML_DSA_SPECS = frozenset({"ML_DSA_44", "ML_DSA_65", "ML_DSA_87"})
HMAC_SPECS = frozenset({"HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"})
ML_KEM_SPECS = frozenset({"ML_KEM_512", "ML_KEM_768", "ML_KEM_1024"})
# Key pairs this server generates (for KMS keys and for GenerateDataKeyPair).
KEY_PAIR_SPECS = RSA_SPECS | NIST_EC_SPECS | ML_DSA_SPECS | {"ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"}
DATA_KEY_PAIR_SPECS = KEY_PAIR_SPECS - ML_DSA_SPECS

_USAGES_BY_SPEC: dict[str, frozenset[str]] = {
    SYMMETRIC_DEFAULT: frozenset({ENCRYPT_DECRYPT}),
    **{spec: frozenset({ENCRYPT_DECRYPT, SIGN_VERIFY}) for spec in RSA_SPECS},
    **{spec: frozenset({SIGN_VERIFY, KEY_AGREEMENT}) for spec in NIST_EC_SPECS},
    "ECC_SECG_P256K1": frozenset({SIGN_VERIFY}),
    "ECC_NIST_EDWARDS25519": frozenset({SIGN_VERIFY}),
    **{spec: frozenset({GENERATE_VERIFY_MAC}) for spec in HMAC_SPECS},
    **{spec: frozenset({SIGN_VERIFY}) for spec in ML_DSA_SPECS},
    **{spec: frozenset({"ENCAPSULATE_DECAPSULATE"}) for spec in ML_KEM_SPECS},
    "SM2": frozenset({ENCRYPT_DECRYPT, SIGN_VERIFY, KEY_AGREEMENT}),
}

# SM2 (China Regions only) needs the SM2/SM3 primitives, which pyca `cryptography` does not
# offer; ML-KEM keys need the Encapsulate/Decapsulate operations. Both are refused at CreateKey
# rather than creating keys that can do nothing (docs/compatibility.md).
IMPLEMENTED_SPECS = frozenset({SYMMETRIC_DEFAULT}) | KEY_PAIR_SPECS | HMAC_SPECS

_RSA_SIGNING = [
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
]
_SIGNING_BY_SPEC: dict[str, list[str]] = {
    **{spec: _RSA_SIGNING for spec in RSA_SPECS},
    "ECC_NIST_P256": ["ECDSA_SHA_256"],
    "ECC_NIST_P384": ["ECDSA_SHA_384"],
    "ECC_NIST_P521": ["ECDSA_SHA_512"],
    "ECC_SECG_P256K1": ["ECDSA_SHA_256"],
    "ECC_NIST_EDWARDS25519": ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
    **{spec: ["ML_DSA_SHAKE_256"] for spec in ML_DSA_SPECS},
    "SM2": ["SM2DSA"],
}


def check_spec_and_usage(key_spec: str, key_usage: str | None) -> str:
    """The key usage to record for a CreateKey request.

    Raises:
        ValidationError: the usage is not valid for the spec (or missing where it is required).
        UnsupportedOperationError: a valid combination this server cannot create.
    """
    usages = _USAGES_BY_SPEC.get(key_spec)
    if usages is None:
        raise ValidationError(f"KeySpec {key_spec} is not valid.")
    if key_usage is None:
        if key_spec != SYMMETRIC_DEFAULT:
            raise ValidationError(f"KeyUsage is required for KeySpec {key_spec}.")
        key_usage = ENCRYPT_DECRYPT
    if key_usage not in usages:
        raise ValidationError(f"KeyUsage {key_usage} is not compatible with KeySpec {key_spec}.")
    if key_spec not in IMPLEMENTED_SPECS:
        raise UnsupportedOperationError(f"KeySpec {key_spec} is not supported by this server.")
    return key_usage


def encryption_algorithms(key_spec: str, key_usage: str) -> list[str] | None:
    """EncryptionAlgorithms of a key (None when it cannot encrypt)."""
    if key_usage != ENCRYPT_DECRYPT:
        return None
    if key_spec == SYMMETRIC_DEFAULT:
        return [SYMMETRIC_DEFAULT]
    if key_spec in RSA_SPECS:
        return ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    return ["SM2PKE"]


def signing_algorithms(key_spec: str, key_usage: str) -> list[str] | None:
    """SigningAlgorithms of a key (None when it cannot sign)."""
    if key_usage != SIGN_VERIFY:
        return None
    return list(_SIGNING_BY_SPEC.get(key_spec, []))


def mac_algorithms(key_spec: str, key_usage: str) -> list[str] | None:
    """MacAlgorithms of a key: exactly one, named after the spec (HMAC_256 → HMAC_SHA_256)."""
    if key_usage != GENERATE_VERIFY_MAC:
        return None
    return [f"HMAC_SHA_{key_spec.removeprefix('HMAC_')}"]


def key_agreement_algorithms(key_spec: str, key_usage: str) -> list[str] | None:
    """KeyAgreementAlgorithms of a key (ECDH for KEY_AGREEMENT keys)."""
    return ["ECDH"] if key_usage == KEY_AGREEMENT else None


def is_asymmetric(key_spec: str) -> bool:
    """Whether the key is a key pair (it has a public key)."""
    return key_spec in KEY_PAIR_SPECS or key_spec == "SM2" or key_spec in ML_KEM_SPECS
