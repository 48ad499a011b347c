"""Input constraints from the model (required, length, range, pattern, enum) with AWS's messages.

AWS services built on Coral report every violation in one `ValidationException` (awsQuery:
`ValidationError`), at most ten of them, in this form:

    2 validation errors detected: Value 'x' at 'keyId' failed to satisfy constraint: Member must
    have length less than or equal to 2048; Value null at 'aliasName' failed to satisfy
    constraint: Member must not be null

Paths use the member names with the first letter lowercased; list elements are addressed as
`tags.1.member.tagKey` and map values as `map.<key>.member`. Constraints on the elements of a list
of scalars, and on map keys and scalar map values, are reported once for the whole container, with
every constraint of the element shape listed: `Member must satisfy constraint: [Member must have
length less than or equal to 8192, Member must have length greater than or equal to 1]` (`Map keys
must satisfy constraint: [...]`, `Map value must satisfy constraint: [...]`). Sensitive values are
never echoed: `Value at 'plaintext' failed to satisfy constraint: ...`. Blobs print as Java's
`java.nio.HeapByteBuffer[pos=0 lim=N cap=N]`. (Observed AWS messages, e.g. KMS
`Value '' at 'keyId' ... length greater than or equal to 1`, IAM `... at 'tags.6.member.value' ...`.)

Validators are built once per shape at load time; shapes with nothing to check get no validator.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from keystead.errors import ValidationError
from keystead.protocol.patterns import compile_pattern

MAX_REPORTED = 10  # Coral stops collecting after ten violations.

Check = tuple[Callable[[Any], bool], str]


class Violations:
    """The violations found in one request, in model order."""

    __slots__ = ("messages",)

    def __init__(self) -> None:
        self.messages: list[str] = []

    def add(self, shown_value: str | None, path: str, constraint: str) -> None:
        """Record one violation; `shown_value` is already quoted, "null", or None to hide it."""
        if len(self.messages) >= MAX_REPORTED:
            return
        value = "Value" if shown_value is None else f"Value {shown_value}"
        self.messages.append(f"{value} at '{path}' failed to satisfy constraint: {constraint}")

    def raise_if_any(self) -> None:
        """Raise the one ValidationError that lists every violation.

        Raises:
            ValidationError: at least one violation was recorded.
        """
        if not self.messages:
            return
        count = len(self.messages)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(self.messages))


def java_string(value: Any) -> str:
    """How Java's `toString` would print a value in a validation message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, (bytes, bytearray)):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}={java_string(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        return "[" + ", ".join(java_string(item) for item in value) + "]"
    return str(value)


def java_length(value: Any) -> int:
    """Length as Java counts it: UTF-16 code units for strings, bytes for blobs, entries otherwise."""
    if isinstance(value, str) and not value.isascii():
        return len(value.encode("utf-16-le")) // 2
    return len(value)


def _shown(value: Any, sensitive: bool) -> str | None:
    if sensitive:
        return None
    if value is None:
        return "null"
    return f"'{java_string(value)}'"


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _at_most(limit: float, measure: Callable[[Any], float]) -> Callable[[Any], bool]:
    return lambda value: measure(value) <= limit


def _at_least(limit: float, measure: Callable[[Any], float]) -> Callable[[Any], bool]:
    return lambda value: measure(value) >= limit


def _matches(regex: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: regex.fullmatch(value) is not None


def _one_of(allowed: frozenset[str]) -> Callable[[Any], bool]:
    return lambda value: value in allowed


def _itself(value: Any) -> Any:
    return value


def _own_checks(shape: Shape) -> list[Check]:
    """The checks on a shape's own value, in the order AWS lists them."""
    meta = shape.metadata
    checks: list[Check] = []
    sized = shape.type_name in ("string", "blob", "list", "map")
    measure, what = (java_length, "length") if sized else (_itself, "value")
    if "max" in meta:
        checks.append(
            (_at_most(meta["max"], measure), f"Member must have {what} less than or equal to {meta['max']}")
        )
    if "min" in meta:
        checks.append(
            (
                _at_least(meta["min"], measure),
                f"Member must have {what} greater than or equal to {meta['min']}",
            )
        )
    if shape.type_name == "string" and "pattern" in meta:
        checks.append(
            (
                _matches(compile_pattern(meta["pattern"])),
                f"Member must satisfy regular expression pattern: {meta['pattern']}",
            )
        )
    if shape.type_name == "string" and meta.get("enum"):
        checks.append(
            (
                _one_of(frozenset(meta["enum"])),
                "Member must satisfy enum value set: [" + ", ".join(meta["enum"]) + "]",
            )
        )
    return checks


class Validator(abc.ABC):
    """Checks one decoded value of one shape and records violations under a path."""

    __slots__ = ()

    @abc.abstractmethod
    def check(self, value: Any, path: str, out: Violations) -> None:
        """Append every constraint `value` breaks to `out`, named by `path`."""


class ScalarValidator(Validator):
    __slots__ = ("checks", "sensitive")

    def __init__(self, checks: Sequence[Check], sensitive: bool) -> None:
        self.checks = tuple(checks)
        self.sensitive = sensitive

    def check(self, value: Any, path: str, out: Violations) -> None:
        for passes, message in self.checks:
            if not passes(value):
                out.add(_shown(value, self.sensitive), path, message)

    def passes_all(self, value: Any) -> bool:
        """Whether a list element or map key/value meets every constraint (null never does)."""
        return value is not None and all(passes(value) for passes, _ in self.checks)

    def summary(self) -> str:
        """All constraints, bracketed, as AWS lists them for container elements."""
        return "[" + ", ".join(message for _, message in self.checks) + "]"


class StructureValidator(Validator):
    __slots__ = ("members",)

    def __init__(self) -> None:
        # (python name, path segment, required, validator or None), filled after construction so
        # that recursive shapes can refer to themselves.
        self.members: tuple[tuple[str, str, bool, Validator | None], ...] = ()

    def check(self, value: Any, path: str, out: Violations) -> None:
        for snake, segment, required, validator in self.members:
            item = value.get(snake)
            member_path = f"{path}.{segment}" if path else segment
            if item is None:
                if required:
                    out.add("null", member_path, "Member must not be null")
            elif validator is not None:
                validator.check(item, member_path, out)


class ListValidator(Validator):
    __slots__ = ("element", "own", "sensitive")

    def __init__(self, own: ScalarValidator, element: Validator | None, sensitive: bool) -> None:
        self.own = own
        self.element = element
        self.sensitive = sensitive

    def check(self, value: Any, path: str, out: Violations) -> None:
        self.own.check(value, path, out)
        element = self.element
        if isinstance(element, ScalarValidator):
            if not all(element.passes_all(item) for item in value):
                out.add(
                    _shown(value, self.sensitive),
                    path,
                    f"Member must satisfy constraint: {element.summary()}",
                )
            return
        for index, item in enumerate(value, 1):
            item_path = f"{path}.{index}.member"
            if item is None:
                out.add("null", item_path, "Member must not be null")
            elif element is not None:
                element.check(item, item_path, out)


class MapValidator(Validator):
    __slots__ = ("key", "own", "sensitive", "value")

    def __init__(
        self, own: ScalarValidator, key: ScalarValidator | None, value: Validator | None, sensitive: bool
    ) -> None:
        self.own = own
        self.key = key
        self.value = value
        self.sensitive = sensitive

    def check(self, value: Any, path: str, out: Violations) -> None:
        self.own.check(value, path, out)
        shown = _shown(value, self.sensitive)
        if self.key is not None and not all(self.key.passes_all(k) for k in value):
            out.add(shown, path, f"Map keys must satisfy constraint: {self.key.summary()}")
        element = self.value
        if isinstance(element, ScalarValidator):
            if not all(element.passes_all(v) for v in value.values()):
                out.add(shown, path, f"Map value must satisfy constraint: {element.summary()}")
            return
        if element is not None:
            for key, item in value.items():
                if item is not None:
                    element.check(item, f"{path}.{key}.member", out)


class ValidatorBuilder:
    """Builds (and memoises by shape name) the validator of every shape of one service model."""

    def __init__(self, snake_name: Callable[[str], str]) -> None:
        self._snake_name = snake_name
        self._built: dict[str, Validator | None] = {}

    def build(self, shape: Shape) -> Validator | None:
        """The validator for a shape, or None when nothing in it can be violated."""
        if shape.name in self._built:
            return self._built[shape.name]
        sensitive = bool(shape.metadata.get("sensitive"))
        own = ScalarValidator(_own_checks(shape), sensitive)
        result: Validator | None
        if isinstance(shape, StructureShape):
            structure = StructureValidator()
            self._built[shape.name] = structure  # placeholder for recursion
            required = set(shape.required_members)
            members = []
            for name, member in shape.members.items():
                validator = self.build(member)
                if validator is not None or name in required:
                    members.append((self._snake_name(name), _lower_first(name), name in required, validator))
            structure.members = tuple(members)
            result = structure if members else None
        elif isinstance(shape, ListShape):
            element = self.build(shape.member)
            result = ListValidator(own, element, sensitive) if (own.checks or element) else None
        elif isinstance(shape, MapShape):
            key = self.build(shape.key)
            value = self.build(shape.value)
            key_validator = key if isinstance(key, ScalarValidator) else None
            has_any = own.checks or key_validator or value
            result = MapValidator(own, key_validator, value, sensitive) if has_any else None
        else:
            result = own if own.checks else None
        self._built[shape.name] = result
        return result
