"""The access analyzer: who can use a KMS key, by which path, under which conditions.

[DG:determining-access] Built over the policy engine only (no second evaluator): every answer is
`keystead.policy.evaluate` run over the key policy, identity policies, grants and trust policies,
with the condition keys that vary per request bounded rather than guessed (see `relax`).
"""

from keystead.analysis.analyzer import KEY_ACTIONS, AccessAnalyzer, actions_for, canonical_action
from keystead.analysis.explain import Explanation
from keystead.analysis.model import ALLOWED, CONDITIONAL, AccessReport

__all__ = [
    "ALLOWED",
    "CONDITIONAL",
    "KEY_ACTIONS",
    "AccessAnalyzer",
    "AccessReport",
    "Explanation",
    "actions_for",
    "canonical_action",
]
