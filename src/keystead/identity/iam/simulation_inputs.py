"""What the policy simulator reads besides policies: typed context entries, and where each
statement of a policy document sits in its text (for MatchedStatements' Start/EndPosition).

[BM-IAM ContextEntry] A context entry names a key, a type (string, numeric, boolean, date, ip,
binary, or a list of one of those) and its values. Values are checked against their type here, so
a simulation never silently compares a malformed date or address; the policy engine then reads
them as it reads the values of a real request (strings).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from keystead.errors import InvalidInputError

_SCALAR_TYPES = frozenset({"string", "numeric", "boolean", "date", "ip", "binary"})


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a policy document: 1-based line and column, as the simulator reports them."""

    line: int
    column: int


def _valid(kind: str, value: str) -> str:
    """The value as the engine reads it, or raise when it is not of its declared type."""
    if kind == "string":
        return value
    if kind == "numeric":
        Decimal(value)  # raises InvalidOperation
        return value
    if kind == "boolean":
        if value.lower() not in ("true", "false"):
            raise ValueError(value)
        return value.lower()
    if kind == "date":
        if not value.isdigit():
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value
    if kind == "ip":
        ipaddress.ip_network(value, strict=False)
        return value
    base64.b64decode(value, validate=True)  # binary
    return value


def context_from_entries(entries: Iterable[Mapping[str, object]] | None) -> dict[str, list[str]]:
    """The request context a list of ContextEntries describes (keys as given, values checked).

    Raises:
        InvalidInputError: a value that is not of its entry's declared type.
    """
    context: dict[str, list[str]] = {}
    for entry in entries or ():
        key = str(entry.get("context_key_name") or "")
        kind = str(entry.get("context_key_type") or "string")
        base = kind[: -len("List")] if kind.endswith("List") else kind
        if not key or base not in _SCALAR_TYPES:
            raise InvalidInputError(f"Invalid context entry for key {key!r} of type {kind!r}.")
        values = [str(v) for v in entry.get("context_key_values") or ()]  # type: ignore[attr-defined]
        checked: list[str] = []
        for value in values:
            try:
                checked.append(_valid(base, value))
            except (ValueError, InvalidOperation, binascii.Error):
                raise InvalidInputError(
                    f"Invalid value {value!r} for context key {key} of type {kind}."
                ) from None
        context.setdefault(key, []).extend(checked)
    return context


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _object_spans(text: str) -> list[tuple[int, int]]:
    """Offsets (start, end) of every statement object of a policy document, in order.

    The document has already been parsed by the engine, so it is valid JSON; this walks the top
    level with the stdlib decoder to find where the value of "Statement" starts, then steps over
    each element of it.
    """
    decoder = json.JSONDecoder()
    at = _skip_space(text, 0)
    if not text.startswith("{", at):
        return []
    at += 1
    while True:
        at = _skip_space(text, at)
        if text.startswith("}", at) or at >= len(text):
            return []
        key, at = decoder.raw_decode(text, at)
        at = _skip_space(text, at) + 1  # the colon
        at = _skip_space(text, at)
        if key == "Statement":
            return _statement_spans(decoder, text, at)
        _, at = decoder.raw_decode(text, at)
        at = _skip_space(text, at)
        if text.startswith(",", at):
            at += 1


def _statement_spans(decoder: json.JSONDecoder, text: str, at: int) -> list[tuple[int, int]]:
    if text.startswith("{", at):
        _, end = decoder.raw_decode(text, at)
        return [(at, end)]
    spans: list[tuple[int, int]] = []
    at += 1  # the opening bracket
    while True:
        at = _skip_space(text, at)
        if at >= len(text) or text.startswith("]", at):
            return spans
        _, end = decoder.raw_decode(text, at)
        spans.append((at, end))
        at = _skip_space(text, end)
        if text.startswith(",", at):
            at += 1


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def statement_positions(text: str) -> list[tuple[Position, Position]]:
    """Start (its opening brace) and end (just past its closing brace) of each statement."""
    try:
        spans = _object_spans(text)
    except (ValueError, IndexError):
        return []  # not valid JSON: the engine has refused it already, nothing to locate
    return [(_position(text, start), _position(text, end)) for start, end in spans]
