"""Decode an awsJson request body into Python values, typed by the model.

The decoded form is what handlers receive: snake_case member names, blobs as bytes, timestamps as
aware datetimes. Members the model does not know are ignored, and JSON nulls count as absent, as
AWS does. A value of the wrong JSON type is a `SerializationException` worded like Coral's
deserializer (e.g. `class java.lang.String can not be converted to an Integer`).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from keystead.errors import SerializationError

Decoder = Callable[[Any], Any]

_NUMBER_SOURCE = "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"


def _container_mismatch(value: Any) -> SerializationError | None:
    if isinstance(value, list):
        return SerializationError("Start of list found where not expected")
    if isinstance(value, dict):
        return SerializationError("Start of structure or map found where not expected.")
    return None


def _source(value: Any) -> str:
    if isinstance(value, bool):
        return "class java.lang.Boolean"
    if isinstance(value, str):
        return "class java.lang.String"
    return _NUMBER_SOURCE


def _decode_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise _container_mismatch(value) or SerializationError(
        f"{_source(value)} can not be converted to an String"
    )


def _decode_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        # Coral's deserializer accepts the strings "true" and "false" in any case.
        lowered = value.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise SerializationError(f"'{value.upper()}' can not be converted to an Boolean")
    raise _container_mismatch(value) or SerializationError(
        f"{_source(value)} can not be converted to an Boolean"
    )


def _integer_decoder(java_type: str) -> Decoder:
    def decode(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return math.floor(value)  # Coral truncates fractional numbers for integer members.
        raise _container_mismatch(value) or SerializationError(
            f"{_source(value)} can not be converted to an {java_type}"
        )

    return decode


def _float_decoder(java_type: str) -> Decoder:
    def decode(value: Any) -> float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _container_mismatch(value) or SerializationError(
            f"{_source(value)} can not be converted to an {java_type}"
        )

    return decode


def decode_base64(value: str) -> bytes:
    """Strict base64, with Coral's explanations of what is wrong.

    Raises:
        SerializationError: the text is not canonical base64.
    """
    if len(value) % 4:
        raise SerializationError(
            f"'{value}' can not be converted to a Blob: Base64 encoded length is expected a multiple "
            f"of 4 bytes but found: {len(value)}"
        )
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:  # binascii.Error is a ValueError; so is non-ASCII text
        # A misplaced "=" is the only fault left when every character is in the alphabet.
        bad = next((ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch in "+/="))), "=")
        raise SerializationError(
            f"'{value}' can not be converted to a Blob: Invalid Base64 character: '{bad}'"
        ) from None


def _decode_blob(value: Any) -> bytes:
    if isinstance(value, str):
        return decode_base64(value)
    raise _container_mismatch(value) or SerializationError(f"{_source(value)} can not be converted to a Blob")


def _decode_timestamp(value: Any) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise SerializationError(f"{value} can not be converted to a timestamp") from None
    raise _container_mismatch(value) or SerializationError(
        f"{_source(value)} can not be converted to milliseconds since epoch"
    )


_SCALARS: dict[str, Decoder] = {
    "string": _decode_string,
    "boolean": _decode_boolean,
    "integer": _integer_decoder("Integer"),
    "long": _integer_decoder("Long"),
    "float": _float_decoder("Float"),
    "double": _float_decoder("Double"),
    "blob": _decode_blob,
    "timestamp": _decode_timestamp,
}


class JsonDecoderBuilder:
    """Builds (and memoises by shape name) one decoding function per shape of a service model."""

    def __init__(self, snake_name: Callable[[str], str]) -> None:
        self._snake_name = snake_name
        self._built: dict[str, Decoder] = {}

    def build(self, shape: Shape) -> Decoder:
        """The function turning the JSON value of `shape` into its Python form."""
        built = self._built.get(shape.name)
        if built is not None:
            return built
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        if isinstance(shape, ListShape):
            decoder = self._list(self.build(shape.member))
        elif isinstance(shape, MapShape):
            decoder = self._map(self.build(shape.key), self.build(shape.value))
        elif shape.type_name in _SCALARS:
            decoder = _SCALARS[shape.type_name]
        else:
            raise ValueError(f"unsupported shape type {shape.type_name!r} ({shape.name})")
        self._built[shape.name] = decoder
        return decoder

    def _structure(self, shape: StructureShape) -> Decoder:
        members: list[tuple[str, str, Decoder]] = []

        def decode(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                if isinstance(value, list):
                    raise SerializationError("Start of list found where not expected")
                raise SerializationError("Expected null")
            result = {}
            for wire, snake, member_decoder in members:
                item = value.get(wire)
                if item is not None:
                    result[snake] = member_decoder(item)
            return result

        # Registered before the members are built, so that a recursive shape finds itself.
        self._built[shape.name] = decode
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            members.append((wire, self._snake_name(name), self.build(member)))
        return decode

    @staticmethod
    def _list(element: Decoder) -> Decoder:
        def decode(value: Any) -> list[Any]:
            if not isinstance(value, list):
                if isinstance(value, dict):
                    raise SerializationError("Start of structure or map found where not expected.")
                raise SerializationError("Expected list or null")
            return [None if item is None else element(item) for item in value]

        return decode

    @staticmethod
    def _map(key: Decoder, element: Decoder) -> Decoder:
        def decode(value: Any) -> dict[Any, Any]:
            if not isinstance(value, dict):
                if isinstance(value, list):
                    raise SerializationError("Start of list found where not expected")
                raise SerializationError("Expected map or null")
            return {key(k): (None if v is None else element(v)) for k, v in value.items()}

        return decode
