"""Policy documents: JSON grammar, validation, and the compiled, immutable form.

A document is parsed once into statements whose `applies` closure answers, for one request, how
far the statement reaches it (0: not at all). Parsing is cached by (text, kind), so an unchanged
policy is compiled once; a changed document is new text. [IAM:reference_policies_grammar]
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any, NoReturn

from keystead.errors import LimitExceededError, MalformedPolicyDocumentError
from keystead.policy.conditions import ConditionTest, compile_condition
from keystead.policy.model import PRINCIPAL_KINDS, Effect, MatchedStatement, PolicyKind, PrincipalInfo
from keystead.policy.patterns import Template, compile_chunks, compile_glob, parse_template
from keystead.policy.principals import PrincipalSet, Reach, compile_principals

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)
# IAM stores these kinds, and IAM wants alphanumeric, unique Sids.
_IAM_KINDS = frozenset(
    {PolicyKind.IDENTITY, PolicyKind.BOUNDARY, PolicyKind.SESSION, PolicyKind.SCP, PolicyKind.TRUST}
)
# A KMS key policy (and an endpoint policy) may omit Action or Resource; the statement then has no
# effect [spec KMS-023]. IAM requires both, and forbids Resource in a trust policy.
_LENIENT_KINDS = frozenset({PolicyKind.RESOURCE, PolicyKind.ENDPOINT})
_SID = re.compile(r"^[0-9A-Za-z]*$")
_VENDOR = re.compile(r"^[A-Za-z0-9*?-]+:")

Context = Mapping[str, tuple[str, ...]]


class Probe:
    """One request, as the compiled statements read it. Mutable only in `missing`."""

    __slots__ = ("action", "ctx", "missing", "principal", "resource")

    def __init__(self, action: str, resource: str, principal: PrincipalInfo, ctx: Context) -> None:
        self.action = action
        self.resource = resource
        self.principal = principal
        self.ctx = ctx
        self.missing: list[str] = []


@dataclass(frozen=True, slots=True)
class Statement:
    """A compiled statement: `applies` gives its reach for a request (see principals.Reach), 0 if none."""

    index: int
    sid: str | None
    effect: Effect
    applies: Callable[[Probe], int] = field(repr=False, compare=False)
    condition_keys: tuple[str, ...] = ()

    @property
    def allow(self) -> bool:
        return self.effect == "Allow"


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy document. `name` is only a label for reports."""

    kind: PolicyKind
    statements: tuple[Statement, ...]
    version: str | None = None
    id: str | None = None
    name: str = ""
    text: str = field(default="", repr=False)
    aws_principals: tuple[str, ...] = field(default=(), repr=False)
    matches: tuple[MatchedStatement, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once here, so evaluation reports a match without allocating.
        records = tuple(
            MatchedStatement(self.name, self.kind, s.sid, s.effect, s.index) for s in self.statements
        )
        object.__setattr__(self, "matches", records)

    @property
    def condition_keys(self) -> tuple[str, ...]:
        """Every condition key and policy variable the document reads, first spelling kept."""
        seen: dict[str, str] = {}
        for statement in self.statements:
            for key in statement.condition_keys:
                seen.setdefault(key.lower(), key)
        return tuple(seen.values())


def _fail(message: str) -> NoReturn:
    raise MalformedPolicyDocumentError(message)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # Two parsers could read a duplicated key differently; refuse it rather than guess.
            _fail(f"Syntax errors in policy. Duplicate key: {key}")
        result[key] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    _fail(f"Syntax errors in policy. Invalid number: {name}")


def _strings(raw: object, element: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(item, str) for item in items):
        _fail(f"{element} must be a string or a non-empty list of strings.")
    return [item for item in items if isinstance(item, str)]


def _always(_: str) -> bool:
    return True


def _action_test(raw: object, element: str) -> Callable[[str], bool]:
    patterns = [p.lower() for p in _strings(raw, element)]
    for pattern in patterns:
        if pattern != "*" and not _VENDOR.match(pattern):
            _fail("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
    if "*" in patterns:
        base: Callable[[str], bool] = _always
    else:
        exact = frozenset(p for p in patterns if "*" not in p and "?" not in p)
        globs = [compile_glob(p) for p in patterns if "*" in p or "?" in p]
        if not globs:
            base = exact.__contains__
        elif not exact and len(globs) == 1:
            base = globs[0]
        else:
            base = lambda action: action in exact or any(g(action) for g in globs)  # noqa: E731
    if element == "NotAction":
        return lambda action: not base(action)
    return base


ResourceTest = Callable[[str, Context, list[str]], bool]


def _resource_test(raw: object, element: str, variables: bool) -> ResourceTest:
    patterns = _strings(raw, element)
    for pattern in patterns:
        if pattern != "*" and (not pattern.startswith("arn:") or len(pattern.split(":", 5)) < 6):
            _fail(f'Resource {pattern} must be in ARN format or "*".')
    negate = element == "NotResource"
    if "*" in patterns:
        return (lambda _r, _c, _m: False) if negate else (lambda _r, _c, _m: True)
    templates: list[Template] = [parse_template(p, variables=variables) for p in patterns]
    if all(t.static is not None for t in templates):
        matchers = [compile_chunks(t.static, True) for t in templates if t.static is not None]
        if negate:
            return lambda resource, _c, _m: not any(m(resource) for m in matchers)
        if len(matchers) == 1:
            only = matchers[0]
            return lambda resource, _c, _m: only(resource)
        return lambda resource, _c, _m: any(m(resource) for m in matchers)

    def dynamic(resource: str, ctx: Context, missing: list[str]) -> bool:
        hit = False
        for template in templates:
            chunks = template.resolve(ctx, missing)
            if chunks is None:
                if negate:
                    return False  # an unresolvable variable makes the element not match
                continue
            if compile_chunks(chunks, True)(resource):
                hit = True
        return not hit if negate else hit

    return dynamic


def _assemble(
    actions: Callable[[str], bool] | None,
    resources: ResourceTest | None,
    principal: PrincipalSet | None,
    not_principal: bool,
    conditions: tuple[ConditionTest, ...],
) -> Callable[[Probe], int]:
    if actions is None or resources is None:
        return lambda _probe: 0  # a key-policy statement without Action or Resource has no effect

    def applies(probe: Probe) -> int:
        if not actions(probe.action):
            return 0
        if not resources(probe.resource, probe.ctx, probe.missing):
            return 0
        if principal is None:
            reach = Reach.DIRECT
        elif not_principal:
            reach = Reach.NONE if principal.excludes(probe.principal) else Reach.DIRECT
        else:
            reach = principal.reach(probe.principal)
            if not reach:
                return 0
        holds = True
        for test in conditions:  # no short-circuit: every missing key gets reported
            if not test(probe.ctx, probe.missing):
                holds = False
        return int(reach) if holds else 0

    return applies


def _only_one(raw: dict[str, Any], element: str, negated: str) -> str | None:
    """Which of an element and its Not-form the statement uses (never both)."""
    if element in raw and negated in raw:
        _fail(f"Syntax errors in policy. A statement cannot have both {element} and {negated}.")
    return element if element in raw else negated if negated in raw else None


def _sid(raw: dict[str, Any], kind: PolicyKind) -> str | None:
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        _fail("Sid must be a string.")
    if sid is not None and kind in _IAM_KINDS and not _SID.match(sid):
        _fail(
            "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular "
            "expression [0-9A-Za-z]*"
        )
    return sid


def _effect(raw: dict[str, Any]) -> Effect:
    effect = raw.get("Effect")  # case-sensitive: "allow" is not an effect
    if effect == "Allow":
        return "Allow"
    if effect == "Deny":
        return "Deny"
    _fail("Missing required field Effect" if effect is None else f"Invalid effect: {effect}")


def _principals(raw: dict[str, Any], kind: PolicyKind) -> tuple[PrincipalSet | None, bool]:
    """The compiled Principal or NotPrincipal element, and whether it is NotPrincipal."""
    element = _only_one(raw, "Principal", "NotPrincipal")
    if kind in PRINCIPAL_KINDS and element is None:
        _fail("Missing required field Principal")
    if kind not in PRINCIPAL_KINDS and element is not None:
        _fail("Policy document should not specify a principal.")
    if element is None:
        return None, False
    return compile_principals(raw[element], kind=kind, fail=_fail), element == "NotPrincipal"


def _actions(raw: dict[str, Any], kind: PolicyKind) -> Callable[[str], bool] | None:
    element = _only_one(raw, "Action", "NotAction")
    if element is None:
        if kind not in _LENIENT_KINDS:
            _fail("Missing required field Action")
        return None
    return _action_test(raw[element], element)


def _resources(
    raw: dict[str, Any], kind: PolicyKind, variables: bool
) -> tuple[ResourceTest | None, tuple[str, ...]]:
    """The compiled Resource or NotResource element, and the policy variables it reads."""
    element = _only_one(raw, "Resource", "NotResource")
    if kind is PolicyKind.TRUST:
        if element is not None:
            _fail(f"Has prohibited field {element}")
        return (lambda _r, _c, _m: True), ()  # a trust policy is about the role it is attached to
    if element is None:
        if kind not in _LENIENT_KINDS:
            _fail("Missing required field Resource")
        return None, ()
    keys = tuple(
        var.key
        for pattern in _strings(raw[element], element)
        for var in parse_template(pattern, variables=variables).variables
    )
    return _resource_test(raw[element], element, variables), keys


def _statement(
    raw: object, index: int, kind: PolicyKind, variables: bool
) -> tuple[Statement, tuple[str, ...]]:
    """One compiled statement, and the AWS principal ARNs it names."""
    if not isinstance(raw, dict):
        _fail("Syntax errors in policy. Each statement must be an object.")
    unknown = sorted(set(raw) - _STATEMENT_ELEMENTS)
    if unknown:
        _fail(f"Syntax errors in policy. Unknown element in statement: {unknown[0]}")
    sid, effect = _sid(raw, kind), _effect(raw)
    principals, not_principal = _principals(raw, kind)
    actions = _actions(raw, kind)
    resources, resource_keys = _resources(raw, kind, variables)
    conditions: tuple[ConditionTest, ...] = ()
    condition_keys: tuple[str, ...] = ()
    if "Condition" in raw:
        conditions, condition_keys = compile_condition(
            raw["Condition"], variables=variables, key_policy=kind is PolicyKind.RESOURCE, fail=_fail
        )
    applies = _assemble(actions, resources, principals, not_principal, conditions)
    statement = Statement(index, sid, effect, applies, condition_keys + resource_keys)
    return statement, principals.aws_arns if principals is not None else ()


@lru_cache(maxsize=2048)
def _compile(text: str, kind: PolicyKind) -> Policy:
    try:
        document = json.loads(
            text, object_pairs_hook=_no_duplicates, parse_float=Decimal, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as error:
        raise MalformedPolicyDocumentError(f"Syntax errors in policy. {error.msg}") from None
    if not isinstance(document, dict):
        _fail("Syntax errors in policy. The policy must be a JSON object.")
    unknown = sorted(set(document) - _POLICY_ELEMENTS)
    if unknown:
        _fail(f"Syntax errors in policy. Unknown element: {unknown[0]}")
    version = document.get("Version")
    if version is not None and version not in (VERSION_2012, VERSION_2008):
        _fail("The policy failed legacy parsing")
    policy_id = document.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        _fail("Id must be a string.")
    if "Statement" not in document:
        _fail("Missing required field Statement")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        _fail("Syntax errors in policy. Statement must be an object or a list of objects.")
    # Policy variables exist only in the 2012-10-17 language; before it `${...}` is literal text.
    variables = version == VERSION_2012
    statements: list[Statement] = []
    aws_principals: list[str] = []
    for index, raw in enumerate(raw_statements):
        statement, arns = _statement(raw, index, kind, variables)
        statements.append(statement)
        aws_principals.extend(arns)
    if kind in _IAM_KINDS:
        sids = [s.sid for s in statements if s.sid]
        if len(sids) != len(set(sids)):
            _fail("Statement IDs (SID) in a single policy must be unique.")
    return Policy(kind, tuple(statements), version, policy_id, "", text, tuple(dict.fromkeys(aws_principals)))


def parse_policy(
    text: str,
    kind: PolicyKind,
    *,
    name: str = "",
    principal_exists: Callable[[str], bool] | None = None,
    max_size: int | None = None,
    count_whitespace: bool = True,
) -> Policy:
    """Parse and compile a policy document (cached by text and kind).

    `max_size` counts characters; IAM managed policies do not count whitespace
    (`count_whitespace=False`). `principal_exists` is asked about every AWS principal ARN (account
    principals as `arn:aws:iam::<id>:root`) on every call, cached compile or not.

    Raises:
        MalformedPolicyDocumentError: the document is not valid for `kind`, or names a principal
            that `principal_exists` rejects.
        LimitExceededError: the document is longer than `max_size`.
        ValueError: `kind` is GRANT (grants are not policy documents).
    """
    if kind is PolicyKind.GRANT:
        raise ValueError("grants are not policy documents")
    if max_size is not None:
        size = len(text) if count_whitespace else sum(1 for ch in text if not ch.isspace())
        if size > max_size:
            raise LimitExceededError(f"Cannot exceed quota for PolicySize: {max_size}")
    policy = _named(text, kind, name)
    if principal_exists is not None:
        for arn in policy.aws_principals:
            if not principal_exists(arn):
                if kind is PolicyKind.TRUST:
                    _fail(f'Invalid principal in policy: "AWS":"{arn}"')
                _fail("Policy contains a statement with one or more invalid principals.")
    return policy


@lru_cache(maxsize=2048)
def _named(text: str, kind: PolicyKind, name: str) -> Policy:
    # The label is part of the cache key so a cached call allocates nothing.
    policy = _compile(text, kind)
    return policy if name == policy.name else replace(policy, name=name)
