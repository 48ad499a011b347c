"""Generate tests/vectors/blob/vectors.json, the known-answer vectors for the ciphertext blob.

Usage (from the repository root):

    .venv/bin/python tests/vectors/blob/generate.py           # rewrite vectors.json
    .venv/bin/python tests/vectors/blob/generate.py --check   # exit 1 if vectors.json is stale

Every input is fixed (materials and ids are derived from labels with SHA-256, nonces are passed
through `seal_blob`'s `test_nonce` parameter), so the output is byte-for-byte reproducible.
The vectors are checked by tests/vectors/test_blob_vectors.py with a verifier written directly
against pyca's AESGCM from docs/ciphertext-format.md, independently of `open_blob`.

Positive vectors give the inputs and the expected blob. Negative vectors give a blob that must
NOT open with the given material and context, and a `reason` for humans; all of them must fail
with the same InvalidCiphertextException.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from keystead.crypto.blob import seal_blob

VECTORS_PATH = Path(__file__).with_name("vectors.json")
HEADER_BYTES = 62  # Spelled out here on purpose: a format change must show up as a diff.


def _derive(label: str, n: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"keystead blob vectors/{label}/{counter}".encode()).digest()
        counter += 1
    return out[:n]


_MATERIAL_A = _derive("material A", 32)
_MATERIAL_B = _derive("material B", 32)
_KEY_A = "1234abcd-12ab-34cd-56ef-1234567890ab"  # The key id in AWS's documentation examples.
_KEY_B = "0e4f2b8c-9a7d-4c3e-8f1a-6b5d2c9e0f7a"
_KEY_MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"

_POSITIVE_INPUTS: list[dict[str, Any]] = [
    {
        "name": "one-byte plaintext, empty context",
        "material": _MATERIAL_A,
        "key_id": _KEY_A,
        "material_id": _derive("material id A", 32),
        "nonce": _derive("nonce 1", 12),
        "plaintext": b"\x00",
        "encryption_context": {},
    },
    {
        "name": "short text, one-pair context",
        "material": _MATERIAL_A,
        "key_id": _KEY_A,
        "material_id": _derive("material id A", 32),
        "nonce": _derive("nonce 2", 12),
        "plaintext": b"Hello, Keystead!",
        "encryption_context": {"Department": "Finance"},
    },
    {
        "name": "AES-256 data key, context given out of order",
        "material": _MATERIAL_A,
        "key_id": _KEY_A,
        "material_id": _derive("material id A rotated", 32),
        "nonce": _derive("nonce 3", 12),
        "plaintext": _derive("data key", 32),
        "encryption_context": {"purpose": "test", "aws:s3:arn": "arn:aws:s3:::bucket/key", "A": "z"},
    },
    {
        "name": "multi-Region key id, non-ASCII context",
        "material": _MATERIAL_B,
        "key_id": _KEY_MRK,
        "material_id": _derive("material id mrk", 32),
        "nonce": _derive("nonce 4", 12),
        "plaintext": "grüße, 世界".encode(),
        "encryption_context": {"ключ": "значение", "emoji": "🔑", "": "empty key"},
    },
    {
        "name": "maximum KMS plaintext (4096 bytes)",
        "material": _MATERIAL_B,
        "key_id": _KEY_B,
        "material_id": _derive("material id B", 32),
        "nonce": _derive("nonce 5", 12),
        "plaintext": _derive("big plaintext", 4096),
        "encryption_context": {"k": ""},
    },
]


def _positive() -> list[dict[str, Any]]:
    vectors = []
    for case in _POSITIVE_INPUTS:
        blob = seal_blob(
            case["material"],
            key_id=case["key_id"],
            material_id=case["material_id"],
            plaintext=case["plaintext"],
            encryption_context=case["encryption_context"],
            test_nonce=case["nonce"],
        )
        vectors.append(
            {
                "name": case["name"],
                "material_hex": case["material"].hex(),
                "key_id": case["key_id"],
                "material_id_hex": case["material_id"].hex(),
                "nonce_hex": case["nonce"].hex(),
                "plaintext_hex": case["plaintext"].hex(),
                "encryption_context": case["encryption_context"],
                "blob_hex": blob.hex(),
            }
        )
    return vectors


def _flip(blob: bytes, index: int) -> bytes:
    return blob[:index] + bytes([blob[index] ^ 0x01]) + blob[index + 1 :]


def _replace(blob: bytes, start: int, new: bytes) -> bytes:
    return blob[:start] + new + blob[start + len(new) :]


def _negative(positive: list[dict[str, Any]]) -> list[dict[str, Any]]:
    base = positive[1]  # "short text, one-pair context"
    blob = bytes.fromhex(base["blob_hex"])
    material = base["material_hex"]
    context = base["encryption_context"]
    other_key_blob = seal_blob(
        _MATERIAL_B,
        key_id=_KEY_B,
        material_id=_derive("material id B", 32),
        plaintext=b"Hello, Keystead!",
        encryption_context=context,
        test_nonce=_derive("nonce 2", 12),
    )
    b_key_id = bytes.fromhex(_KEY_B.replace("-", ""))
    cases: list[tuple[str, bytes, str, dict[str, str]]] = [
        ("empty blob", b"", material, context),
        ("only the version byte", blob[:1], material, context),
        ("header only, no tag", blob[:HEADER_BYTES], material, context),
        ("one byte short of the minimum", blob[: HEADER_BYTES + 15], material, context),
        ("last byte dropped", blob[:-1], material, context),
        ("one byte appended", blob + b"\x00", material, context),
        ("unknown format version 0x02", _replace(blob, 0, b"\x02"), material, context),
        ("format version 0x00", _replace(blob, 0, b"\x00"), material, context),
        ("unknown key id form 0x02", _replace(blob, 1, b"\x02"), material, context),
        ("key id form switched to mrk", _replace(blob, 1, b"\x01"), material, context),
        ("key id replaced by another key's id", _replace(blob, 2, b_key_id), material, context),
        ("material id replaced", _replace(blob, 18, _derive("material id A rotated", 32)), material, context),
        ("nonce bit flipped", _flip(blob, 50), material, context),
        ("ciphertext bit flipped", _flip(blob, HEADER_BYTES), material, context),
        ("tag bit flipped", _flip(blob, len(blob) - 1), material, context),
        ("encryption context missing", blob, material, {}),
        ("encryption context value differs", blob, material, {"Department": "finance"}),
        ("encryption context key case differs", blob, material, {"department": "Finance"}),
        ("encryption context has an extra pair", blob, material, {**context, "extra": "pair"}),
        ("right blob, another key's material", blob, _MATERIAL_B.hex(), context),
        ("another key's blob opened with this key's material", other_key_blob, material, context),
    ]
    return [
        {"name": name, "material_hex": mat, "blob_hex": b.hex(), "encryption_context": ctx}
        for name, b, mat, ctx in cases
    ]


def build_vectors() -> dict[str, Any]:
    """Return the whole vectors document."""
    positive = _positive()
    return {
        "description": "Keystead symmetric ciphertext blob, format version 0x01 (docs/ciphertext-format.md)",
        "generator": "tests/vectors/blob/generate.py",
        "positive": positive,
        "negative": _negative(positive),
    }


def render() -> str:
    """The exact text of vectors.json."""
    return json.dumps(build_vectors(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if VECTORS_PATH.read_text(encoding="utf-8") != text:
            print(f"{VECTORS_PATH} is stale; run {Path(__file__).name} to regenerate", file=sys.stderr)
            return 1
        return 0
    VECTORS_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
