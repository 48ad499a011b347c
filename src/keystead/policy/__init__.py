"""The IAM policy language and AWS's evaluation logic, as a pure library.

Parse once (`parse_policy`, cached by text and kind) into an immutable compiled `Policy`;
evaluate many times (`evaluate`) into a `Decision` that carries its reasons, from which
`denial_message` builds AWS's AccessDenied text. No storage, no keys, stdlib only.
"""

from keystead.policy.document import Policy, Statement, parse_policy
from keystead.policy.evaluator import evaluate
from keystead.policy.messages import denial_message
from keystead.policy.model import (
    AuthzRequest,
    Decision,
    EvaluationInput,
    MatchedStatement,
    PolicyKind,
    PrincipalInfo,
)

__all__ = [
    "AuthzRequest",
    "Decision",
    "EvaluationInput",
    "MatchedStatement",
    "Policy",
    "PolicyKind",
    "PrincipalInfo",
    "Statement",
    "denial_message",
    "evaluate",
    "parse_policy",
]
