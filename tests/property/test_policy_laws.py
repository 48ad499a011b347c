"""Laws of policy evaluation, checked on generated policies and requests (hypothesis).

- Adding a Deny statement anywhere never widens access.
- Adding an Allow statement anywhere never narrows access.
- The order of statements within a policy changes nothing.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from keystead.policy import (
    AuthzRequest,
    Decision,
    EvaluationInput,
    PolicyKind,
    PrincipalInfo,
    evaluate,
    parse_policy,
)

ACCOUNT = "111122223333"
OTHER = "444455556666"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd"
OTHER_KEY = f"arn:aws:kms:us-east-1:{OTHER}:key/5678efgh"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Writer"

CALLERS = [
    PrincipalInfo(f"arn:aws:iam::{ACCOUNT}:user/bob", ACCOUNT, "User"),
    PrincipalInfo(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "Account"),
    PrincipalInfo(
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Writer/s1", ACCOUNT, "AssumedRole", identity_arn=ROLE
    ),
    PrincipalInfo(f"arn:aws:iam::{OTHER}:user/eve", OTHER, "User"),
    PrincipalInfo("cloudtrail.amazonaws.com", "", "AWSService", service="cloudtrail.amazonaws.com"),
]
ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:*", "kms:Gen*", "*", "kms:Describe?ey", "KMS:ENCRYPT"]
RESOURCES = ["*", KEY, OTHER_KEY, f"arn:aws:kms:*:{ACCOUNT}:key/*", "arn:aws:kms:us-east-1:*:key/1234*"]
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": ACCOUNT},
    {"AWS": f"arn:aws:iam::{OTHER}:root"},
    {"AWS": CALLERS[0].arn},
    {"AWS": ROLE},
    {"AWS": CALLERS[2].arn},
    {"AWS": CALLERS[3].arn},
    {"Service": "cloudtrail.amazonaws.com"},
]
CONDITIONS: list[Any] = [
    None,
    {"StringEquals": {"aws:PrincipalTag/team": ["red"]}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "red"}},
    {"StringLikeIfExists": {"aws:PrincipalTag/team": "r*"}},
    {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
    {"Null": {"aws:PrincipalTag/team": "true"}},
    {"Bool": {"aws:SecureTransport": "true"}},
]
CONTEXTS: list[dict[str, Any]] = [
    {},
    {"aws:PrincipalTag/team": "red", "aws:SecureTransport": True},
    {"aws:PrincipalTag/team": "blue", "aws:TagKeys": ["a", "c"]},
    {"aws:TagKeys": [], "aws:SecureTransport": False},
    {"aws:TagKeys": ["b"]},
]
SLOTS = ["identity", "resource", "boundary", "session", "endpoint"]


@st.composite
def statements(draw: st.DrawFn, with_principal: bool, effect: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    action = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2))
    statement["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = action
    resource = draw(st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2))
    statement["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = resource
    if with_principal:
        statement["Principal"] = draw(st.sampled_from(PRINCIPALS))
    condition = draw(st.sampled_from(CONDITIONS))
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _with_principal(slot: str) -> bool:
    return slot in ("resource", "endpoint")


@dataclass
class Scenario:
    caller: PrincipalInfo
    action: str
    resource: str
    context: dict[str, Any]
    resource_account: str | None
    strict: bool
    docs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def decide(self) -> Decision:
        kinds = {
            "identity": PolicyKind.IDENTITY,
            "resource": PolicyKind.RESOURCE,
            "boundary": PolicyKind.BOUNDARY,
            "session": PolicyKind.SESSION,
            "endpoint": PolicyKind.ENDPOINT,
        }
        parsed = {
            slot: parse_policy(
                json.dumps({"Version": "2012-10-17", "Statement": body}), kinds[slot], name=slot
            )
            for slot, body in self.docs.items()
        }
        request = AuthzRequest(self.caller, self.action, self.resource, self.context)
        return evaluate(
            EvaluationInput(
                request,
                resource_account=self.resource_account,
                resource_policy=parsed.get("resource"),
                resource_policy_strict=self.strict,
                identity_policies=[parsed["identity"]] if "identity" in parsed else [],
                permission_boundary=parsed.get("boundary"),
                session_policies=[parsed["session"]] if "session" in parsed else None,
                endpoint_policy=parsed.get("endpoint"),
            )
        )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    scenario = Scenario(
        caller=draw(st.sampled_from(CALLERS)),
        action=draw(
            st.sampled_from(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"])
        ),
        resource=draw(st.sampled_from([KEY, OTHER_KEY])),
        context=draw(st.sampled_from(CONTEXTS)),
        resource_account=draw(st.sampled_from([None, ACCOUNT, OTHER])),
        strict=draw(st.booleans()),
    )
    for slot in SLOTS:
        if slot == "identity" or draw(st.booleans()):
            scenario.docs[slot] = draw(st.lists(statements(_with_principal(slot)), min_size=1, max_size=4))
    return scenario


def _add(scenario: Scenario, slot: str, statement: dict[str, Any]) -> Scenario:
    docs = {name: list(body) for name, body in scenario.docs.items()}
    docs.setdefault(slot, [])
    if slot not in scenario.docs and slot != "identity":
        return scenario  # adding a whole new gate policy is not "adding a statement"
    docs[slot].append(statement)
    return Scenario(
        scenario.caller,
        scenario.action,
        scenario.resource,
        scenario.context,
        scenario.resource_account,
        scenario.strict,
        docs,
    )


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(SLOTS), st.data())
def test_adding_a_deny_statement_never_widens_access(
    scenario: Scenario, slot: str, data: st.DataObject
) -> None:
    deny = data.draw(statements(_with_principal(slot), effect="Deny"))
    before = scenario.decide()
    after = _add(scenario, slot, deny).decide()
    assert not (after.allowed and not before.allowed)


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.sampled_from(SLOTS), st.data())
def test_adding_an_allow_statement_never_narrows_access(
    scenario: Scenario, slot: str, data: st.DataObject
) -> None:
    allow = data.draw(statements(_with_principal(slot), effect="Allow"))
    before = scenario.decide()
    after = _add(scenario, slot, allow).decide()
    assert not (before.allowed and not after.allowed)
    if before.result == "explicitDeny":
        assert after.result == "explicitDeny"


@settings(max_examples=300, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_statement_order_within_a_policy_is_irrelevant(scenario: Scenario, rng: random.Random) -> None:
    shuffled = {slot: rng.sample(body, len(body)) for slot, body in scenario.docs.items()}
    reordered = Scenario(
        scenario.caller,
        scenario.action,
        scenario.resource,
        scenario.context,
        scenario.resource_account,
        scenario.strict,
        shuffled,
    )
    before, after = scenario.decide(), reordered.decide()
    assert (before.allowed, before.result, before.denied_by) == (after.allowed, after.result, after.denied_by)

    def without_position(decision: Decision) -> list[tuple[str, str, str | None, str]]:
        return sorted(
            ((m.policy_name, m.policy_kind.value, m.sid, m.effect) for m in decision.matched), key=repr
        )

    assert without_position(before) == without_position(after)
    assert set(before.missing_context_keys) == set(after.missing_context_keys)
