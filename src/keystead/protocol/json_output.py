"""Encode handler results (snake_case mappings) as awsJson output, typed by the model.

None and absent members are omitted; blobs become base64 text; timestamps epoch seconds (an
integer when whole, as KMS sends them); enum members their value.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

Encoder = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _string(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _blob(value: Any) -> str:
    return base64.b64encode(value).decode("ascii")


def epoch_seconds(value: datetime | float) -> int | float:
    """Epoch seconds of a timestamp; a naive datetime is taken as UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = value.timestamp()
    else:
        seconds = float(value)
    return int(seconds) if seconds.is_integer() else seconds


def _boolean(value: Any) -> bool:
    return bool(value)


_SCALARS: dict[str, Encoder] = {
    "string": _string,
    "boolean": _boolean,
    "integer": _identity,
    "long": _identity,
    "float": _identity,
    "double": _identity,
    "blob": _blob,
    "timestamp": epoch_seconds,
}


class JsonEncoderBuilder:
    """Builds (and memoises by shape name) one encoding function per shape of a service model."""

    def __init__(self, snake_name: Callable[[str], str]) -> None:
        self._snake_name = snake_name
        self._built: dict[str, Encoder] = {}

    def build(self, shape: Shape) -> Encoder:
        """The function turning the Python form of `shape` into its JSON value."""
        built = self._built.get(shape.name)
        if built is not None:
            return built
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        if isinstance(shape, ListShape):
            element = self.build(shape.member)
            encoder: Encoder = lambda value: [element(item) for item in value]  # noqa: E731
        elif isinstance(shape, MapShape):
            value_encoder = self.build(shape.value)
            encoder = lambda value: {str(k): value_encoder(v) for k, v in value.items()}  # noqa: E731
        elif shape.type_name in _SCALARS:
            encoder = _SCALARS[shape.type_name]
        else:
            raise ValueError(f"unsupported shape type {shape.type_name!r} ({shape.name})")
        self._built[shape.name] = encoder
        return encoder

    def _structure(self, shape: StructureShape) -> Encoder:
        members: list[tuple[str, str, Encoder]] = []

        def encode(value: Mapping[str, Any]) -> dict[str, Any]:
            result = {}
            for snake, wire, member_encoder in members:
                item = value.get(snake)
                if item is not None:
                    result[wire] = member_encoder(item)
            return result

        self._built[shape.name] = encode  # before the members: recursive shapes find themselves
        for name, member in shape.members.items():
            wire = member.serialization.get("name", name)
            members.append((self._snake_name(name), wire, self.build(member)))
        return encode
