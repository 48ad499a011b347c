"""Key pairs, signatures, RSA-OAEP, ECDH and HMAC in keystead.crypto, each checked against an
independent computation with pyca `cryptography` or the standard library."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, mldsa, padding, rsa, utils

from keystead.crypto import asymmetric, ecdh, hmac_keys, signatures
from keystead.errors import InvalidCiphertextError, KMSInvalidMacError, KMSInvalidSignatureError, ValidationError


@pytest.fixture(scope="module")
def rsa_pair() -> asymmetric.KeyPair:
    return asymmetric.load_key_pair("RSA_2048", asymmetric.generate_private_key("RSA_2048"))


def public_of(pair: asymmetric.KeyPair):  # type: ignore[no-untyped-def]
    return serialization.load_der_public_key(pair.public_der)


@pytest.mark.parametrize(
    ("key_spec", "expected"),
    [
        ("ECC_NIST_P256", "secp256r1"), ("ECC_NIST_P384", "secp384r1"),
        ("ECC_NIST_P521", "secp521r1"), ("ECC_SECG_P256K1", "secp256k1"),
    ],
)
def test_ec_key_pairs_are_on_the_named_curve(key_spec: str, expected: str) -> None:
    pair = asymmetric.load_key_pair(key_spec, asymmetric.generate_private_key(key_spec))
    public = public_of(pair)
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == expected


def test_private_keys_never_appear_in_a_repr(rsa_pair: asymmetric.KeyPair) -> None:
    assert "private_key" not in repr(rsa_pair)


@pytest.mark.parametrize("algorithm", ["RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512"])
def test_rsa_pss_uses_a_digest_length_salt_and_verifies_independently(
    rsa_pair: asymmetric.KeyPair, algorithm: str
) -> None:
    digest = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}[algorithm[-3:]]()
    signature = signatures.sign(rsa_pair, algorithm, b"message", "RAW")
    pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    public_of(rsa_pair).verify(signature, b"message", pss, digest)


def test_a_digest_signature_equals_signing_the_raw_message(rsa_pair: asymmetric.KeyPair) -> None:
    digest = hashlib.sha256(b"message").digest()
    signature = signatures.sign(rsa_pair, "RSASSA_PKCS1_V1_5_SHA_256", digest, "DIGEST")
    assert signature == signatures.sign(rsa_pair, "RSASSA_PKCS1_V1_5_SHA_256", b"message", "RAW")
    public_of(rsa_pair).verify(signature, b"message", padding.PKCS1v15(), hashes.SHA256())


def test_ecdsa_signatures_are_der_and_verify_over_a_prehashed_digest() -> None:
    pair = asymmetric.load_key_pair("ECC_NIST_P384", asymmetric.generate_private_key("ECC_NIST_P384"))
    digest = hashlib.sha384(b"m").digest()
    signature = signatures.sign(pair, "ECDSA_SHA_384", digest, "DIGEST")
    utils.decode_dss_signature(signature)
    public_of(pair).verify(signature, b"m", ec.ECDSA(hashes.SHA384()))


def test_ed25519_signs_the_raw_message() -> None:
    pair = asymmetric.load_key_pair("ECC_NIST_EDWARDS25519", asymmetric.generate_private_key("ECC_NIST_EDWARDS25519"))
    signature = signatures.sign(pair, "ED25519_SHA_512", b"hello", "RAW")
    public = public_of(pair)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(signature, b"hello")


def test_ml_dsa_external_mu_signature_verifies_as_a_signature_over_the_message() -> None:
    pair = asymmetric.load_key_pair("ML_DSA_65", asymmetric.generate_private_key("ML_DSA_65"))
    public = public_of(pair)
    assert isinstance(public, mldsa.MLDSA65PublicKey)
    hasher = mldsa.MLDSAMuHasher(public)
    hasher.update(b"a long document")
    mu = hasher.finalize()
    assert len(mu) == signatures.ML_DSA_MU_BYTES
    public.verify(signatures.sign(pair, "ML_DSA_SHAKE_256", mu, "EXTERNAL_MU"), b"a long document")
    public.verify(signatures.sign(pair, "ML_DSA_SHAKE_256", b"short", "RAW"), b"short")


def test_verify_raises_on_a_changed_message(rsa_pair: asymmetric.KeyPair) -> None:
    signature = signatures.sign(rsa_pair, "RSASSA_PSS_SHA_256", b"a", "RAW")
    signatures.verify(rsa_pair, "RSASSA_PSS_SHA_256", b"a", "RAW", signature)
    with pytest.raises(KMSInvalidSignatureError):
        signatures.verify(rsa_pair, "RSASSA_PSS_SHA_256", b"b", "RAW", signature)
    with pytest.raises(KMSInvalidSignatureError):
        signatures.verify(rsa_pair, "RSASSA_PSS_SHA_256", b"a", "RAW", b"\x00" * 3)


@pytest.mark.parametrize(("algorithm", "limit"), [("RSAES_OAEP_SHA_1", 214), ("RSAES_OAEP_SHA_256", 190)])
def test_rsa_oaep_takes_exactly_the_documented_maximum(
    rsa_pair: asymmetric.KeyPair, algorithm: str, limit: int
) -> None:
    assert asymmetric.rsa_max_plaintext("RSA_2048", algorithm) == limit
    ciphertext = asymmetric.rsa_encrypt(rsa_pair, algorithm, b"x" * limit)
    assert asymmetric.rsa_decrypt(rsa_pair, algorithm, ciphertext) == b"x" * limit
    with pytest.raises(ValidationError):
        asymmetric.rsa_encrypt(rsa_pair, algorithm, b"x" * (limit + 1))


def test_rsa_ciphertext_from_outside_decrypts_and_every_failure_is_uniform(rsa_pair: asymmetric.KeyPair) -> None:
    public = public_of(rsa_pair)
    assert isinstance(public, rsa.RSAPublicKey)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ciphertext = public.encrypt(b"secret", oaep)
    assert asymmetric.rsa_decrypt(rsa_pair, "RSAES_OAEP_SHA_256", ciphertext) == b"secret"
    for bad in (ciphertext[:-1], bytes(256)):
        with pytest.raises(InvalidCiphertextError):
            asymmetric.rsa_decrypt(rsa_pair, "RSAES_OAEP_SHA_256", bad)
    with pytest.raises(InvalidCiphertextError):
        asymmetric.rsa_decrypt(rsa_pair, "RSAES_OAEP_SHA_1", ciphertext)


def test_ecdh_agrees_with_the_peer_and_refuses_another_curve() -> None:
    pair = asymmetric.load_key_pair("ECC_NIST_P256", asymmetric.generate_private_key("ECC_NIST_P256"))
    peer = ec.generate_private_key(ec.SECP256R1())
    peer_der = peer.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ours = public_of(pair)
    assert isinstance(ours, ec.EllipticCurvePublicKey)
    assert ecdh.derive_shared_secret(pair, peer_der) == peer.exchange(ec.ECDH(), ours)
    other = ec.generate_private_key(ec.SECP384R1()).public_key()
    other_der = other.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    for bad in (other_der, b"not a key"):
        with pytest.raises(ValidationError):
            ecdh.derive_shared_secret(pair, bad)


@pytest.mark.parametrize(("key_spec", "name"), [("HMAC_224", "sha224"), ("HMAC_256", "sha256"),
                                                ("HMAC_384", "sha384"), ("HMAC_512", "sha512")])
def test_hmac_keys_have_the_spec_length_and_match_the_standard_library(key_spec: str, name: str) -> None:
    key = hmac_keys.new_hmac_key(key_spec)
    assert len(key) * 8 == int(key_spec[5:])
    algorithm = "HMAC_SHA_" + key_spec[5:]
    mac = hmac_keys.generate_mac(key, algorithm, b"m")
    assert mac == hmac.new(key, b"m", name).digest()
    hmac_keys.verify_mac(key, algorithm, b"m", mac)
    with pytest.raises(KMSInvalidMacError):
        hmac_keys.verify_mac(key, algorithm, b"m", mac[:-1] + bytes([mac[-1] ^ 1]))
