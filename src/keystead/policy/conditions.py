"""Condition operators, compiled once into closures over the request context.

Semantics [IAM:reference_policies_elements_condition_operators]
[IAM:reference_policies_multi-value-conditions]:
- Operators in a block, and keys under one operator, are ANDed; values for one key are ORed, and
  a negated operator is the negation of its positive twin (the request value matches none).
- A key absent from the request: a positive operator is false; a negated one (StringNotEquals,
  NotIpAddress, ArnNotLike...) is TRUE, as AWS documents ("If the policy condition requires that
  the key is not matched ... and the right key is not present, the condition is true"). Spec items
  IAM-011/IAM-027 say false; they contradict that AWS text, and following them would make the
  common "Deny unless aws:SourceVpce" guard fail open, so the AWS text wins here.
- `...IfExists`: an absent key makes the condition true. `Null`: "true" means absent.
- `ForAnyValue:` is false for an empty or absent set; `ForAllValues:` is true for one. An empty
  string counts as an empty set for the qualifiers and for `Null`.
- A request value that does not parse as the operator's type (a number, a date, an IP) matches
  no policy value, so the positive operator is false and the negated one true.
- A policy value whose variable cannot be resolved matches nothing; a negated operator with such
  a value is false (the statement does not apply), per "any attempt to match it fails".
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import NoReturn

from keystead.policy.patterns import Chunks, Matcher, Template, compile_chunks, flatten, parse_template

Context = Mapping[str, tuple[str, ...]]
ConditionTest = Callable[[Context, list[str]], bool]
Fail = Callable[[str], NoReturn]
Predicate = Callable[[str], bool]
# Given the request context, a predicate "does this request value match some policy value?",
# and whether every policy value could be resolved.
Prepare = Callable[[Context, list[str]], tuple[Predicate, bool]]


@dataclass(frozen=True, slots=True)
class _Operator:
    family: str  # string, string_ic, like, numeric, date, bool, binary, ip, arn, null
    negated: bool = False
    compare: str = "eq"  # numeric/date: eq lt le gt ge
    variables: bool = False


_OPERATORS: dict[str, _Operator] = {
    "stringequals": _Operator("string", variables=True),
    "stringnotequals": _Operator("string", True, variables=True),
    "stringequalsignorecase": _Operator("string_ic", variables=True),
    "stringnotequalsignorecase": _Operator("string_ic", True, variables=True),
    "stringlike": _Operator("like", variables=True),
    "stringnotlike": _Operator("like", True, variables=True),
    "numericequals": _Operator("numeric"),
    "numericnotequals": _Operator("numeric", True),
    "numericlessthan": _Operator("numeric", compare="lt"),
    "numericlessthanequals": _Operator("numeric", compare="le"),
    "numericgreaterthan": _Operator("numeric", compare="gt"),
    "numericgreaterthanequals": _Operator("numeric", compare="ge"),
    "dateequals": _Operator("date"),
    "datenotequals": _Operator("date", True),
    "datelessthan": _Operator("date", compare="lt"),
    "datelessthanequals": _Operator("date", compare="le"),
    "dategreaterthan": _Operator("date", compare="gt"),
    "dategreaterthanequals": _Operator("date", compare="ge"),
    "bool": _Operator("bool", variables=True),
    "binaryequals": _Operator("binary"),
    "ipaddress": _Operator("ip"),
    "notipaddress": _Operator("ip", True),
    "arnequals": _Operator("arn", variables=True),
    "arnlike": _Operator("arn", variables=True),
    "arnnotequals": _Operator("arn", True, variables=True),
    "arnnotlike": _Operator("arn", True, variables=True),
    "null": _Operator("null"),
}

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "eq": lambda r, p: r == p,
    "lt": lambda r, p: r < p,
    "le": lambda r, p: r <= p,
    "gt": lambda r, p: r > p,
    "ge": lambda r, p: r >= p,
}

_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")
# KMS refuses ForAllValues on these single-valued keys in a key policy [DG:conditions-kms].
_OVERLY_PERMISSIVE = (("kms:encryptioncontext:", "encryption context"), ("aws:requesttag/", "tag"))


def parse_number(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_date(text: str) -> Decimal | None:
    """Epoch seconds for an ISO 8601 (W3C) date/time or an epoch-seconds string."""
    text = text.strip()
    if _EPOCH.match(text):
        return Decimal(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # Integer microseconds keep equality exact (a float timestamp would not).
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros).scaleb(-6)


@lru_cache(maxsize=1024)
def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _decode_binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _scalar_values(raw: object, fail: Fail, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        fail(f"Condition {where} must have at least one value.")
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, Decimal)):
            out.append(str(item))
        else:
            fail(f"Condition {where} has a value that is not a string, number or boolean.")
    return tuple(out)


def _prepare_templates(
    templates: tuple[Template, ...], build: Callable[[tuple[Chunks, ...]], Predicate]
) -> Prepare:
    """Resolve variables per request; a static list is compiled once and reused."""
    if all(t.static is not None for t in templates):
        fixed = build(tuple(t.static for t in templates if t.static is not None))
        return lambda _ctx, _missing: (fixed, True)

    def prepare(ctx: Context, missing: list[str]) -> tuple[Predicate, bool]:
        resolved = [t.resolve(ctx, missing) for t in templates]
        usable = tuple(chunks for chunks in resolved if chunks is not None)
        return build(usable), len(usable) == len(resolved)

    return prepare


def _any_of(matchers: list[Matcher]) -> Predicate:
    if len(matchers) == 1:
        return matchers[0]
    return lambda value: any(match(value) for match in matchers)


def _string_prepare(op: _Operator, values: tuple[str, ...], variables: bool) -> Prepare:
    templates = tuple(parse_template(v, variables=variables and op.variables) for v in values)
    if op.family == "string":
        return _prepare_templates(templates, lambda cs: frozenset(flatten(c) for c in cs).__contains__)
    if op.family in ("string_ic", "bool"):

        def build_ic(cs: tuple[Chunks, ...]) -> Predicate:
            wanted = frozenset(flatten(c).lower() for c in cs)
            return lambda value: value.lower() in wanted

        return _prepare_templates(templates, build_ic)
    arn = op.family == "arn"
    return _prepare_templates(templates, lambda cs: _any_of([compile_chunks(c, arn) for c in cs]))


def _typed_prepare(op: _Operator, values: tuple[str, ...], where: str, fail: Fail) -> Prepare:
    predicate: Predicate
    if op.family in ("numeric", "date"):
        parse = parse_number if op.family == "numeric" else parse_date
        parsed = [parse(v) for v in values]
        if any(p is None for p in parsed):
            fail(f"Condition {where} has a value that is not a valid {op.family}.")
        limits = [p for p in parsed if p is not None]
        compare = _COMPARE[op.compare]

        def predicate(value: str) -> bool:
            request = parse(value)
            return request is not None and any(compare(request, limit) for limit in limits)

    elif op.family == "ip":
        try:
            networks = [ipaddress.ip_network(v.strip(), strict=False) for v in values]
        except ValueError:
            fail(f"Condition {where} has a value that is not a valid IP address or CIDR block.")

        def predicate(value: str) -> bool:
            address = _parse_ip(value)
            return address is not None and any(address in network for network in networks)

    else:  # binary
        decoded = [_decode_binary(v) for v in values]
        if any(d is None for d in decoded):
            fail(f"Condition {where} has a value that is not valid base64.")
        wanted = frozenset(d for d in decoded if d is not None)

        def predicate(value: str) -> bool:
            return _decode_binary(value) in wanted

    return lambda _ctx, _missing: (predicate, True)


def _null_test(key: str, values: tuple[str, ...], where: str, fail: Fail) -> ConditionTest:
    if any(v.lower() not in ("true", "false") for v in values):
        fail(f"Condition {where} must be true or false.")
    wants = frozenset(v.lower() == "true" for v in values)
    key_lower = key.lower()

    def test(ctx: Context, _missing: list[str]) -> bool:
        present = ctx.get(key_lower)
        is_null = present is None or all(v == "" for v in present)
        return is_null in wants

    return test


def _entry_test(
    key: str, op: _Operator, qualifier: str | None, if_exists: bool, prepare: Prepare
) -> ConditionTest:
    key_lower = key.lower()
    negated = op.negated

    def test(ctx: Context, missing: list[str]) -> bool:
        present = ctx.get(key_lower)
        if qualifier is not None and present is not None and all(v == "" for v in present):
            present = ()  # an empty string is a null data set for the set operators
        if not present:
            missing.append(key)
            if if_exists or qualifier == "all":
                return True
            if qualifier == "any":
                return False
            return negated
        matches, complete = prepare(ctx, missing)
        if negated and not complete:
            return False
        if qualifier is None:
            return any(matches(v) for v in present) != negated
        if qualifier == "any":
            return any(matches(v) != negated for v in present)
        return all(matches(v) != negated for v in present)

    return test


def _parse_operator(name: str, fail: Fail) -> tuple[_Operator, str | None, bool]:
    """The operator, its set qualifier ("all", "any" or None) and whether it is `...IfExists`."""
    qualifier: str | None = None
    lowered = name.lower()
    for prefix, qualifier_name in (("forallvalues:", "all"), ("foranyvalue:", "any")):
        if lowered.startswith(prefix):
            qualifier, lowered = qualifier_name, lowered[len(prefix) :]
    if_exists = lowered.endswith("ifexists")
    if if_exists:
        lowered = lowered[: -len("ifexists")]
    op = _OPERATORS.get(lowered)
    if op is None or (op.family == "null" and (if_exists or qualifier is not None)):
        fail(f"Invalid Condition type : {name}.")
    return op, qualifier, if_exists


def _check_key(key: str, qualifier: str | None, key_policy: bool, fail: Fail) -> None:
    if ":" not in key or key.startswith(":"):
        fail("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    if key_policy and qualifier == "all":
        for prefix, what in _OVERLY_PERMISSIVE:
            if key.lower().startswith(prefix):
                fail(
                    "OverlyPermissiveCondition: Using the ForAllValues set operator with a "
                    f"single-valued condition key matches requests without the specified {what} "
                    f"or with an unspecified {what}. To fix, remove ForAllValues."
                )


def _compile_entry(
    name: str, key: str, raw: object, variables: bool, key_policy: bool, fail: Fail
) -> tuple[ConditionTest, list[str]]:
    """One `operator: {key: values}` entry: its test, and the keys and variables it reads."""
    op, qualifier, if_exists = _parse_operator(name, fail)
    _check_key(key, qualifier, key_policy, fail)
    where = f"{name} {key}"
    values = _scalar_values(raw, fail, where)
    if op.family == "null":
        return _null_test(key, values, where, fail), [key]
    if op.family not in ("string", "string_ic", "like", "arn", "bool"):
        return _entry_test(key, op, qualifier, if_exists, _typed_prepare(op, values, where, fail)), [key]
    if op.family == "bool" and any("${" not in v and v.lower() not in ("true", "false") for v in values):
        fail(f"Condition {where} must be true or false.")
    with_variables = variables and op.variables
    read = [key] + [var.key for v in values for var in parse_template(v, variables=with_variables).variables]
    return _entry_test(key, op, qualifier, if_exists, _string_prepare(op, values, variables)), read


def compile_condition(
    block: object, *, variables: bool, key_policy: bool, fail: Fail
) -> tuple[tuple[ConditionTest, ...], tuple[str, ...]]:
    """Compile a statement's Condition element into tests (all must hold) and the keys it reads.

    Raises (through `fail`): on an unknown operator, a malformed key or value.
    """
    if not isinstance(block, dict):
        fail("Condition must be an object.")
    tests: list[ConditionTest] = []
    keys: list[str] = []
    for name, entries in block.items():
        if not isinstance(entries, dict) or not entries:
            fail(f"Condition {name} must be an object of condition keys.")
        for key, raw in entries.items():
            test, read = _compile_entry(name, key, raw, variables, key_policy, fail)
            tests.append(test)
            keys.extend(read)
    return tuple(tests), tuple(keys)
