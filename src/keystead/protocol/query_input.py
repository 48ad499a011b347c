"""Decode awsQuery (and, later, ec2) request parameters into Python values, typed by the model.

The flat form `Tags.member.1.Key=k&Tags.member.1.Value=v` is first folded into a tree on the
dots, so every member lookup is one dict access. Naming follows botocore's serializers: structure
members by `locationName` or member name, lists as `X.member.N` (or `X.N` when flattened, and
always for ec2), maps as `X.entry.N.key` / `X.entry.N.value` (or `X.N.key` when flattened), and
`X=` alone is the empty list. Parameters the model does not know are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import ListShape, MapShape, Shape, StructureShape

from keystead.errors import SerializationError, UnsupportedMediaTypeError
from keystead.protocol.json_input import decode_base64
from keystead.types import HttpRequest

_INTEGER = re.compile(r"[+-]?\d+")
_FORM = "application/x-www-form-urlencoded"


class Node:
    """One dotted segment of the parameter names: its own value (if sent) and its children."""

    __slots__ = ("children", "value")

    def __init__(self) -> None:
        self.value: str | None = None
        self.children: dict[str, Node] = {}

    def indexed(self) -> list[Node]:
        """Children named 1, 2, 3... in numeric order; gaps are skipped, other names ignored."""
        numbered = [(int(name), child) for name, child in self.children.items() if name.isdigit()]
        numbered.sort(key=lambda pair: pair[0])
        return [child for index, child in numbered if index > 0]


def form_parameters(request: HttpRequest) -> dict[str, str]:
    """The parameters of a query-protocol request: the URL query, then a form body over it.

    Raises:
        UnsupportedMediaTypeError: a body that is not form-encoded.
        SerializationError: parameters that are not valid UTF-8.
    """
    params: dict[str, str] = {}
    try:
        if request.query_string:
            params.update(parse_qsl(request.query_string, keep_blank_values=True, errors="strict"))
        if request.body:
            content_type = (request.header("content-type") or "").split(";", 1)[0].strip().lower()
            if content_type != _FORM:
                raise UnsupportedMediaTypeError(f"Unsupported Media Type: {content_type or 'none'}")
            params.update(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        raise SerializationError("The request parameters are not valid UTF-8") from None
    return params


def build_tree(params: dict[str, str]) -> Node:
    """Fold dotted parameter names into a tree: `Tags.member.1.Key` -> Tags/member/1/Key."""
    root = Node()
    for name, value in params.items():
        node = root
        for segment in name.split("."):
            child = node.children.get(segment)
            if child is None:
                child = node.children[segment] = Node()
            node = child
        node.value = value
    return root


@dataclass(frozen=True, slots=True)
class QueryDialect:
    """Where the query and ec2 protocols differ in naming parameters."""

    name: str
    member_key: Callable[[Shape, str], str]
    lists_always_flat: bool


def _query_member_key(shape: Shape, default: str) -> str:
    return str(shape.serialization.get("name", default))


def _ec2_member_key(shape: Shape, default: str) -> str:
    if "queryName" in shape.serialization:
        return str(shape.serialization["queryName"])
    if "name" in shape.serialization:
        name = str(shape.serialization["name"])
        return name[:1].upper() + name[1:]
    return default


QUERY = QueryDialect("query", _query_member_key, lists_always_flat=False)
EC2 = QueryDialect("ec2", _ec2_member_key, lists_always_flat=True)

Decoder = Callable[[Node], Any]
_ABSENT = object()


def _scalar(convert: Callable[[str], Any]) -> Decoder:
    def decode(node: Node) -> Any:
        if node.value is None:
            return _ABSENT
        return convert(node.value)

    return decode


def _to_integer(text: str) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise SerializationError(f"Value '{text}' can not be converted to an Integer")
    return int(text)


def _to_float(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise SerializationError(f"Value '{text}' can not be converted to a Double")
    return number


def _to_boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise SerializationError(f"Value '{text}' can not be converted to a Boolean")
    return lowered == "true"


def _to_timestamp(text: str) -> datetime:
    try:
        if _INTEGER.fullmatch(text):
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise SerializationError(f"Value '{text}' can not be converted to a timestamp") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


_SCALARS: dict[str, Decoder] = {
    "string": _scalar(lambda text: text),
    "boolean": _scalar(_to_boolean),
    "integer": _scalar(_to_integer),
    "long": _scalar(_to_integer),
    "float": _scalar(_to_float),
    "double": _scalar(_to_float),
    "blob": _scalar(decode_base64),
    "timestamp": _scalar(_to_timestamp),
}


class QueryDecoderBuilder:
    """Builds (and memoises by shape name) one tree-decoding function per shape."""

    def __init__(self, dialect: QueryDialect, snake_name: Callable[[str], str]) -> None:
        self._dialect = dialect
        self._snake_name = snake_name
        self._built: dict[str, Decoder] = {}

    def input_decoder(self, shape: StructureShape) -> Callable[[dict[str, str]], dict[str, Any]]:
        """The function decoding an operation's parameters (Action and Version are ignored)."""
        decode_tree = self.build(shape)

        def decode(params: dict[str, str]) -> dict[str, Any]:
            result = decode_tree(build_tree(params))
            return {} if result is _ABSENT else dict(result)

        return decode

    def decode_input(self, shape: StructureShape, params: dict[str, str]) -> dict[str, Any]:
        """Decode the parameters of one operation (Action and Version are ignored as unknown)."""
        return self.input_decoder(shape)(params)

    def build(self, shape: Shape) -> Decoder:
        """The function turning the parameter subtree of `shape` into its Python form."""
        built = self._built.get(shape.name)
        if built is not None:
            return built
        if isinstance(shape, StructureShape):
            return self._structure(shape)
        if isinstance(shape, ListShape):
            decoder = self._list(shape)
        elif isinstance(shape, MapShape):
            decoder = self._map(shape)
        elif shape.type_name in _SCALARS:
            decoder = _SCALARS[shape.type_name]
        else:
            raise ValueError(f"unsupported shape type {shape.type_name!r} ({shape.name})")
        self._built[shape.name] = decoder
        return decoder

    def _structure(self, shape: StructureShape) -> Decoder:
        members: list[tuple[str, str, Decoder]] = []

        def decode(node: Node) -> Any:
            result = {}
            for key, snake, member_decoder in members:
                child = node.children.get(key)
                if child is not None:
                    item = member_decoder(child)
                    if item is not _ABSENT:
                        result[snake] = item
            return result

        self._built[shape.name] = decode  # before the members: recursive shapes find themselves
        for name, member in shape.members.items():
            key = self._dialect.member_key(member, name)
            if (
                isinstance(member, ListShape)
                and member.serialization.get("flattened")
                and not self._dialect.lists_always_flat
                and "name" in member.member.serialization
            ):
                # A flattened list whose members carry a locationName repeats that name in place
                # of the member's own (botocore's QuerySerializer._serialize_type_list).
                key = self._dialect.member_key(member.member, key)
            members.append((key, self._snake_name(name), self.build(member)))
        return decode

    def _is_flat(self, shape: Shape) -> bool:
        return self._dialect.lists_always_flat or bool(shape.serialization.get("flattened"))

    def _list(self, shape: ListShape) -> Decoder:
        element = self.build(shape.member)
        container_key = (
            None if self._is_flat(shape) else str(shape.member.serialization.get("name", "member"))
        )

        def decode(node: Node) -> Any:
            container = node if container_key is None else node.children.get(container_key)
            if container is None:
                return [] if node.value == "" else _ABSENT
            items = [element(child) for child in container.indexed()]
            return [None if item is _ABSENT else item for item in items]

        return decode

    def _map(self, shape: MapShape) -> Decoder:
        key_decoder = self.build(shape.key)
        value_decoder = self.build(shape.value)
        key_name = self._dialect.member_key(shape.key, "key")
        value_name = self._dialect.member_key(shape.value, "value")
        flat = bool(shape.serialization.get("flattened"))

        def decode(node: Node) -> Any:
            container = node if flat else node.children.get("entry")
            if container is None:
                return {} if node.value == "" else _ABSENT
            result = {}
            for entry in container.indexed():
                key_node = entry.children.get(key_name)
                key = _ABSENT if key_node is None else key_decoder(key_node)
                if key is _ABSENT:
                    raise SerializationError("A map entry is missing its key")
                value_node = entry.children.get(value_name)
                value = _ABSENT if value_node is None else value_decoder(value_node)
                result[key] = None if value is _ABSENT else value
            return result

        return decode
