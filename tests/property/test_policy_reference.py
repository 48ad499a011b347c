"""Differential check: the compiled evaluator agrees with a tiny, obviously-correct reference.

The reference reads the documented rules straight off the page, with no compilation, no regular
expressions and no caching: a recursive wildcard matcher, ARNs compared field by field, conditions
interpreted from the raw JSON. It covers identity policies, a resource policy (strict or not, same
or cross account), a permissions boundary, and users, root and role sessions.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from keystead.policy import AuthzRequest, EvaluationInput, PolicyKind, PrincipalInfo, evaluate, parse_policy

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd"
OTHER_KEY = f"arn:aws:kms:eu-west-1:{OTHER}:key/5678:efgh"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Writer"
BOB = PrincipalInfo(f"arn:aws:iam::{ACCOUNT}:user/bob", ACCOUNT, "User")
ROOT = PrincipalInfo(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "Account")
SESSION = PrincipalInfo(
    f"arn:aws:sts::{ACCOUNT}:assumed-role/Writer/s1", ACCOUNT, "AssumedRole", identity_arn=ROLE
)
EVE = PrincipalInfo(f"arn:aws:iam::{OTHER}:user/eve", OTHER, "User")

ACTION_PATTERNS = [
    "kms:Encrypt",
    "kms:*",
    "kms:En*",
    "kms:?ecrypt",
    "*",
    "kms:Decrypt",
    "kms:GenerateDataKey*",
    "kms:*Key*",
]
RESOURCE_PATTERNS = [
    "*",
    KEY,
    OTHER_KEY,
    "arn:aws:kms:*:*:key/*",
    f"arn:aws:kms:us-*:{ACCOUNT}:*",
    "arn:aws:kms:*:*:key/5678:*",
    "arn:aws:kms:?u-west-1:*:*",
    "arn:aws:*:*:*:key/1234abc?",
    # A star in a fixed field must not swallow colons (these match only if it did).
    "arn:aws:kms:*:*:efgh",
    "arn:aws:kms:*:key/5678:efgh",
]
PRINCIPAL_VALUES = ["*", ACCOUNT, f"arn:aws:iam::{OTHER}:root", BOB.arn, ROLE, SESSION.arn, EVE.arn]
CONDITION_KEYS = ["aws:PrincipalTag/team", "aws:TagKeys", "aws:SecureTransport"]
OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringEqualsIfExists",
    "StringNotEqualsIfExists",
    "ForAnyValue:StringEquals",
    "ForAllValues:StringEquals",
    "ForAnyValue:StringNotLike",
    "ForAllValues:StringNotEquals",
    "Bool",
    "Null",
]
VALUES = ["red", "Red", "r*", "blue", "a", "b", "", "true", "false"]


# --- the reference -------------------------------------------------------------------------


def ref_glob(pattern: str, text: str) -> bool:
    if not pattern:
        return not text
    if pattern[0] == "*":
        return ref_glob(pattern[1:], text) or (bool(text) and ref_glob(pattern, text[1:]))
    if not text:
        return False
    return (pattern[0] == "?" or pattern[0] == text[0]) and ref_glob(pattern[1:], text[1:])


def ref_resource(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    wanted, given_ = pattern.split(":", 5), resource.split(":", 5)
    return len(given_) == 6 and all(ref_glob(w, g) for w, g in zip(wanted, given_, strict=True))


def ref_values(raw: Any) -> list[str]:
    return [
        ("true" if v else "false") if isinstance(v, bool) else str(v)
        for v in (raw if isinstance(raw, list) else [raw])
    ]


def ref_entry(operator: str, key: str, raw: Any, context: dict[str, list[str]]) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    wanted = ref_values(raw)
    present = context.get(key.lower())
    if operator == "Null":
        is_null = present is None or all(v == "" for v in present)
        return any((w == "true") == is_null for w in wanted)
    if qualifier and present is not None and all(v == "" for v in present):
        present = []
    if not present:
        if if_exists or qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return "Not" in operator
    negated = "Not" in operator
    base = operator.replace("Not", "")

    def one(value: str) -> bool:
        if base == "StringEquals":
            return value in wanted
        if base == "StringEqualsIgnoreCase":
            return value.lower() in [w.lower() for w in wanted]
        if base == "StringLike":
            return any(ref_glob(w, value) for w in wanted)
        return value.lower() in [w.lower() for w in wanted]  # Bool

    if qualifier == "ForAnyValue":
        return any(one(v) != negated for v in present)
    if qualifier == "ForAllValues":
        return all(one(v) != negated for v in present)
    return any(one(v) for v in present) != negated


def ref_reach(statement: dict[str, Any], caller: PrincipalInfo) -> int:
    """3 names the caller, 2 names its role, 1 names its account, 0 no match (as the guide defines)."""
    if "Principal" not in statement:
        return 3
    listed = statement["Principal"]
    listed = ["*"] if listed == "*" else ref_values(listed["AWS"])
    accounts = {p if p.isdigit() else p.split(":")[4] for p in listed if p.isdigit() or p.endswith(":root")}
    if "*" in listed or (caller.arn in listed and caller.type != "Account"):
        return 3
    if caller.identity_arn in listed:
        return 2
    return 1 if caller.account_id in accounts else 0


def ref_applies(
    statement: dict[str, Any],
    caller: PrincipalInfo,
    action: str,
    resource: str,
    context: dict[str, list[str]],
) -> int:
    actions = statement.get("Action", statement.get("NotAction"))
    hit = any(ref_glob(p.lower(), action.lower()) for p in ref_values(actions))
    if hit != ("Action" in statement):
        return 0
    resources = statement.get("Resource", statement.get("NotResource"))
    hit = any(ref_resource(p, resource) for p in ref_values(resources))
    if hit != ("Resource" in statement):
        return 0
    reach = ref_reach(statement, caller)
    conditions = statement.get("Condition", {})
    holds = all(
        ref_entry(op, k, v, context) for op, entries in conditions.items() for k, v in entries.items()
    )
    return reach if holds else 0


def ref_evaluate(case: dict[str, Any]) -> str:
    caller: PrincipalInfo = case["caller"]
    context = {k.lower(): ref_values(v) for k, v in case["context"].items()}
    args = (caller, case["action"], case["resource"], context)
    docs = [("identity", s) for s in case["identity"]] + [
        ("resource", s) for s in case["resource_policy"] or []
    ]
    docs += [("boundary", s) for s in case["boundary"] or []]
    if any(s["Effect"] == "Deny" and ref_applies(s, *args) for _, s in docs):
        return "explicitDeny"
    identity_allows = caller.type == "Account" or any(
        s["Effect"] == "Allow" and ref_applies(s, *args) for s in case["identity"]
    )
    boundary_allows = case["boundary"] is None or any(
        s["Effect"] == "Allow" and ref_applies(s, *args) for s in case["boundary"]
    )
    reach = max(
        [ref_applies(s, *args) for s in case["resource_policy"] or [] if s["Effect"] == "Allow"], default=0
    )
    identity_side = identity_allows and boundary_allows
    grants = reach == 3 or (reach == 2 and boundary_allows)
    if case["resource_account"] in (None, caller.account_id):
        allowed = grants or (identity_side and (reach > 0 or not case["strict"]))
    else:
        allowed = reach > 0 and identity_side
    return "allowed" if allowed else "implicitDeny"


# --- generation ----------------------------------------------------------------------------


@st.composite
def statements(draw: st.DrawFn, with_principal: bool) -> dict[str, Any]:
    # Weighted towards Allow and few conditions, so that allowed outcomes are common enough to test.
    statement: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))}
    statement[draw(st.sampled_from(["Action", "Action", "NotAction"]))] = draw(
        st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3)
    )
    statement[draw(st.sampled_from(["Resource", "Resource", "NotResource"]))] = draw(
        st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3)
    )
    if with_principal:
        principal = draw(st.lists(st.sampled_from(PRINCIPAL_VALUES), min_size=1, max_size=3))
        statement["Principal"] = "*" if principal == ["*"] else {"AWS": principal}
    conditions: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        operator = draw(st.sampled_from(OPERATORS))
        values = draw(st.lists(st.sampled_from(VALUES), min_size=1, max_size=2))
        if operator in ("Bool", "Null"):
            values = [draw(st.sampled_from(["true", "false"]))]
        conditions.setdefault(operator, {})[draw(st.sampled_from(CONDITION_KEYS))] = values
    if conditions:
        statement["Condition"] = conditions
    return statement


contexts = st.fixed_dictionaries(
    {},
    optional={
        "aws:PrincipalTag/team": st.sampled_from(["red", "RED", "rose", "blue", ""]),
        "aws:TagKeys": st.lists(st.sampled_from(["a", "b", "c", ""]), max_size=3),
        "AWS:SecureTransport": st.booleans(),
    },
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "caller": draw(st.sampled_from([BOB, ROOT, SESSION, EVE])),
        "action": draw(
            st.sampled_from(["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKeyPair", "kms:ReEncryptFrom"])
        ),
        "resource": draw(st.sampled_from([KEY, OTHER_KEY, "*"])),
        "context": draw(contexts),
        "identity": draw(st.lists(statements(False), min_size=1, max_size=4)),
        "resource_policy": draw(st.none() | st.lists(statements(True), min_size=1, max_size=4)),
        "boundary": draw(st.none() | st.lists(statements(False), min_size=1, max_size=2)),
        "strict": draw(st.booleans()),
        "resource_account": draw(st.sampled_from([None, ACCOUNT, OTHER])),
    }


def _parse(body: list[dict[str, Any]], kind: PolicyKind) -> Any:
    return parse_policy(json.dumps({"Version": "2012-10-17", "Statement": body}), kind)


@settings(max_examples=600, deadline=None)
@given(cases())
def test_compiled_evaluator_agrees_with_the_reference(case: dict[str, Any]) -> None:
    request = AuthzRequest(case["caller"], case["action"], case["resource"], case["context"])
    decision = evaluate(
        EvaluationInput(
            request,
            resource_account=case["resource_account"],
            resource_policy=None
            if case["resource_policy"] is None
            else _parse(case["resource_policy"], PolicyKind.RESOURCE),
            resource_policy_strict=case["strict"],
            identity_policies=[_parse(case["identity"], PolicyKind.IDENTITY)] if case["identity"] else [],
            permission_boundary=None
            if case["boundary"] is None
            else _parse(case["boundary"], PolicyKind.BOUNDARY),
        )
    )
    assert decision.result == ref_evaluate(case)
    assert decision.allowed == (decision.result == "allowed")
