"""Bounding a policy whose conditions read keys the analyzer cannot know.

The analyzer asks the engine about a principal, not about a request: the encryption context,
the source IP or VPC endpoint, the session name of a role session are unknown. Rather than
evaluate conditions a second way, it rewrites each policy into two documents that the SAME
engine then evaluates (statement indices and Sids are kept, so every match maps back):

- the *optimistic* bound: a statement's condition entries on unknown keys are taken to hold for
  an Allow (the entries are removed) and not to hold for a Deny (the statement never applies);
- the *pessimistic* bound: the reverse (an Allow with unknown entries never applies; a Deny with
  them applies whenever its known entries hold).

Evaluation is monotone in Allows and antitone in Denies, so for every possible request the real
decision lies between the two: pessimistic-allowed means allowed whatever the unknown keys are,
optimistic-denied means denied whatever they are, and in between the access is conditional on
the removed entries (reported with `conditions`). Entries on known keys stay and are evaluated
exactly, against the values the analyzer supplies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from keystead.policy import Policy, PolicyKind, parse_policy

# A condition that no request satisfies: the key is never set, and "false" demands that it is.
_NEVER = {"Null": {"keystead:AnalyzerNeverSet": "false"}}
_VARIABLE = re.compile(r"\$\{([^}]+)\}")
KnownTest = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Bounds:
    """A policy's optimistic and pessimistic forms, and the unknown conditions of each statement."""

    optimistic: Policy
    pessimistic: Policy
    conditions: Mapping[int, tuple[str, ...]]  # statement index -> unknown entries, as text


def _entry_text(operator: str, key: str, values: object) -> str:
    shown = values if isinstance(values, list) else [values]
    return f"{operator} {key} {json.dumps(shown)}"


def _is_unknown(key: str, values: object, known: KnownTest) -> bool:
    if not known(key.lower()):
        return True
    items = values if isinstance(values, list) else [values]
    # A value that reads an unknown policy variable is as unknown as its key.
    return any(
        not known(var.lower()) for item in items if isinstance(item, str) for var in _VARIABLE.findall(item)
    )


def _split(condition: Mapping[str, Any], known: KnownTest) -> tuple[dict[str, Any], list[str]]:
    """The condition without its unknown entries, and those entries as text."""
    kept: dict[str, Any] = {}
    unknown: list[str] = []
    for operator, entries in condition.items():
        for key, values in entries.items():
            if _is_unknown(key, values, known):
                unknown.append(_entry_text(operator, key, values))
            else:
                kept.setdefault(operator, {})[key] = values
    return kept, unknown


def _bound(statement: dict[str, Any], kept: dict[str, Any], optimistic: bool) -> dict[str, Any]:
    out = {k: v for k, v in statement.items() if k != "Condition"}
    holds = (statement.get("Effect") == "Allow") == optimistic
    condition = kept if holds else {**kept, **_NEVER}
    if condition:
        out["Condition"] = condition
    return out


def bounds(policy: Policy, known: KnownTest, profile: str) -> Bounds:
    """The two bounds of a compiled policy (cached by its text, kind, name and `profile`).

    `profile` names the set of keys `known` accepts; policies are cached per profile.

    Raises:
        MalformedPolicyDocumentError: never for a policy that parsed before.
    """
    return _bounds(policy.text, policy.kind, policy.name, profile, known)


# Keyed by profile rather than by the `known` callable: one profile always knows the same keys.
_CACHE: dict[tuple[str, PolicyKind, str, str], Bounds] = {}
_CACHE_LIMIT = 2048


def _bounds(text: str, kind: PolicyKind, name: str, profile: str, known: KnownTest) -> Bounds:
    cache_key = (text, kind, name, profile)
    cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    document = json.loads(text)
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, dict) else list(raw)
    optimistic: list[dict[str, Any]] = []
    pessimistic: list[dict[str, Any]] = []
    conditions: dict[int, tuple[str, ...]] = {}
    for index, statement in enumerate(statements):
        condition = statement.get("Condition")
        if not isinstance(condition, dict):
            optimistic.append(statement)
            pessimistic.append(statement)
            continue
        kept, unknown = _split(condition, known)
        if not unknown:
            optimistic.append(statement)
            pessimistic.append(statement)
            continue
        conditions[index] = tuple(unknown)
        optimistic.append(_bound(statement, kept, optimistic=True))
        pessimistic.append(_bound(statement, kept, optimistic=False))
    result = Bounds(
        parse_policy(json.dumps({**document, "Statement": optimistic}), kind, name=name),
        parse_policy(json.dumps({**document, "Statement": pessimistic}), kind, name=name),
        conditions,
    )
    if len(_CACHE) >= _CACHE_LIMIT:
        _CACHE.clear()
    _CACHE[cache_key] = result
    return result
