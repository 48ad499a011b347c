"""Encode handler results (snake_case mappings) as awsQuery XML, typed by the model.

Elements are named by `locationName` or member name; lists are `<X><member>..</member></X>`
(or repeated `<X>` when flattened); maps are `<X><entry><key>..</key><value>..</value></entry></X>`
(or repeated `<X><key>..</key><value>..</value></X>` when flattened); timestamps ISO 8601 in UTC
with `Z`; blobs base64. IAM returns policy documents URL-encoded (botocore's
`json_decode_policies` undoes it), so shapes named in `url_encoded_shapes` are percent-encoded.
"""

from __future__ import annotations

import base64
import enum
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from botocore.model import ListShape, MapShape, Shape, StructureShape

# Appends the element for one value, named by the tag, to the output parts.
Writer = Callable[[Any, str, list[str]], None]

# Carriage returns would be normalised to newlines by any XML parser; keep them as references.
_ENTITIES = {"\r": "&#xD;"}
# Characters XML 1.0 cannot carry at all, even as references. They can only reach a response by
# being echoed from a request (a validation message, say), and must not make it unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Escape character data for an element's text (characters XML cannot carry become U+FFFD)."""
    return escape(_NOT_XML.sub("\ufffd", value), _ENTITIES)


def iso8601(value: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, with milliseconds only when there are any (as AWS prints)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_of(type_name: str, url_encoded: bool) -> Callable[[Any], str]:
    if type_name == "boolean":
        return lambda value: "true" if value else "false"
    if type_name == "blob":
        return lambda value: base64.b64encode(value).decode("ascii")
    if type_name == "timestamp":
        return lambda value: iso8601(value) if isinstance(value, datetime) else str(value)
    if url_encoded:
        return lambda value: quote(_plain(value), safe="")
    return _plain


def _plain(value: Any) -> str:
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value)


class XmlWriterBuilder:
    """Builds (and memoises by shape name) one XML writer per shape of a service model."""

    def __init__(self, snake_name: Callable[[str], str], url_encoded_shapes: Collection[str] = ()) -> None:
        self._snake_name = snake_name
        self._url_encoded = frozenset(url_encoded_shapes)
        self._built: dict[str, Writer] = {}
        self._members: dict[str, Callable[[Mapping[str, Any], list[str]], None]] = {}

    def build(self, shape: Shape) -> Writer:
        """The writer that appends `<tag>...</tag>` for a value of `shape`."""
        built = self._built.get(shape.name)
        if built is not None:
            return built
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        writer: Writer
        if isinstance(shape, ListShape):
            writer = self._list(shape)
        elif isinstance(shape, MapShape):
            writer = self._map(shape)
        else:
            text_of = _text_of(shape.type_name, shape.name in self._url_encoded)

            def writer(value: Any, tag: str, out: list[str]) -> None:
                out.append(f"<{tag}>{xml_text(text_of(value))}</{tag}>")

        self._built[shape.name] = writer
        return writer

    def members_writer(self, shape: StructureShape) -> Callable[[Mapping[str, Any], list[str]], None]:
        """A writer of a structure's members without an enclosing element (for `<OpResult>`)."""
        self.build(shape)
        return self._members[shape.name]

    def _structure(self, shape: StructureShape) -> Writer:
        members: list[tuple[str, str, Writer]] = []

        def write_members(value: Mapping[str, Any], out: list[str]) -> None:
            for snake, tag, member_writer in members:
                item = value.get(snake)
                if item is not None:
                    member_writer(item, tag, out)

        def writer(value: Mapping[str, Any], tag: str, out: list[str]) -> None:
            out.append(f"<{tag}>")
            write_members(value, out)
            out.append(f"</{tag}>")

        self._built[shape.name] = writer  # before the members: recursive shapes find themselves
        self._members[shape.name] = write_members
        for name, member in shape.members.items():
            tag = member.serialization.get("name", name)
            members.append((self._snake_name(name), tag, self.build(member)))
        return writer

    def _list(self, shape: ListShape) -> Writer:
        element = self.build(shape.member)
        element_tag = shape.member.serialization.get("name")
        if shape.serialization.get("flattened"):

            def write_flat(value: Any, tag: str, out: list[str]) -> None:
                for item in value:
                    element(item, element_tag or tag, out)

            return write_flat
        inner = element_tag or "member"

        def write(value: Any, tag: str, out: list[str]) -> None:
            out.append(f"<{tag}>")
            for item in value:
                element(item, inner, out)
            out.append(f"</{tag}>")

        return write

    def _map(self, shape: MapShape) -> Writer:
        key_writer = self.build(shape.key)
        value_writer = self.build(shape.value)
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        flat = bool(shape.serialization.get("flattened"))

        def write_entries(value: Mapping[Any, Any], tag: str, out: list[str]) -> None:
            entry_tag = tag if flat else "entry"
            for key, item in value.items():
                out.append(f"<{entry_tag}>")
                key_writer(key, key_tag, out)
                if item is not None:
                    value_writer(item, value_tag, out)
                out.append(f"</{entry_tag}>")

        if flat:
            return write_entries

        def write(value: Any, tag: str, out: list[str]) -> None:
            out.append(f"<{tag}>")
            write_entries(value, tag, out)
            out.append(f"</{tag}>")

        return write
