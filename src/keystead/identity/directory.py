"""Which principals exist: policies may only name principals that do (as AWS checks)."""

from __future__ import annotations

from keystead.arn import parse_arn
from keystead.identity.ids import is_account_id
from keystead.storage import Database


class PrincipalDirectory:
    def __init__(self, db: Database) -> None:
        self._db = db

    def exists(self, principal_arn: str) -> bool:
        """Whether an AWS principal ARN (or bare account id) names something that exists.

        Blocking: call it off the event loop.
        """
        if is_account_id(principal_arn):
            return self._account_exists(principal_arn)
        parsed = parse_arn(principal_arn)
        if parsed is None or not is_account_id(parsed.account):
            return False
        if parsed.service == "iam" and parsed.resource == "root":
            return self._account_exists(parsed.account)
        # IAM users and roles arrive with the IAM work; until then none exist.
        return False

    def _account_exists(self, account_id: str) -> bool:
        with self._db.reader() as tx:
            return tx.get_account(account_id) is not None
