"""The canonical byte form of a KMS encryption context, bound into every ciphertext blob as AAD.

AWS requires the context on Decrypt to match the one given on Encrypt exactly: keys and values are
case-sensitive and the order of pairs does not matter (KMS developer guide, "Encryption context").
So the canonical form sorts the pairs and encodes them with length prefixes, which makes it
injective: two different mappings never produce the same bytes.

Layout (big-endian), the same shape as the AWS Encryption SDK's serialized encryption context:

    empty mapping  ->  b""
    otherwise      ->  count:u16 || for each pair, sorted by the UTF-8 bytes of its key:
                                    key_len:u16 || key || value_len:u16 || value

Strings are UTF-8 with ``surrogatepass`` so that every Python string, even one holding a lone
surrogate decoded from JSON, has exactly one encoding and canonicalization never fails halfway.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

__all__ = ["MAX_FIELD_BYTES", "MAX_PAIRS", "canonical_encryption_context"]

MAX_PAIRS = 0xFFFF
MAX_FIELD_BYTES = 0xFFFF

_U16 = struct.Struct(">H")


def _utf8(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError(f"encryption context keys and values must be str, not {type(text).__name__}")
    return text.encode("utf-8", "surrogatepass")


def canonical_encryption_context(ctx: Mapping[str, str]) -> bytes:
    """Encode an encryption context deterministically (sorted, length-prefixed UTF-8).

    Raises:
        TypeError: a key or value is not a str.
        ValueError: more than 65535 pairs, or a key or value longer than 65535 bytes in UTF-8.
    """
    if not ctx:
        return b""
    if len(ctx) > MAX_PAIRS:
        raise ValueError(f"encryption context has {len(ctx)} pairs; at most {MAX_PAIRS} can be encoded")
    pairs = sorted((_utf8(key), _utf8(value)) for key, value in ctx.items())
    out = bytearray(_U16.pack(len(pairs)))
    for key, value in pairs:
        for field in (key, value):
            if len(field) > MAX_FIELD_BYTES:
                raise ValueError(
                    f"encryption context field of {len(field)} bytes exceeds {MAX_FIELD_BYTES} bytes"
                )
            out += _U16.pack(len(field))
            out += field
    return bytes(out)
