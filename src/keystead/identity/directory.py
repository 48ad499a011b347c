"""Which principals exist: policies may only name principals that do (as AWS checks)."""

from __future__ import annotations

from keystead.arn import parse_arn
from keystead.identity.ids import is_account_id
from keystead.storage import Database
from keystead.storage.rows import IamRoleRow, IamUserRow


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
        kind, _, rest = parsed.resource.partition("/")
        if parsed.service == "iam" and kind in ("user", "role") and rest:
            return self._entity_exists(parsed.account, kind, "/" + rest)
        return False

    def _entity_exists(self, account_id: str, kind: str, path_and_name: str) -> bool:
        path, _, name = path_and_name.rpartition("/")
        row_class = IamUserRow if kind == "user" else IamRoleRow
        with self._db.reader() as tx:
            row = tx.get_iam_entity(row_class, account_id, name)
        # IAM matches the name without case but the ARN (and so the path) exactly.
        stored_name = getattr(row, f"{kind}_name", None)
        return row is not None and row.path == path + "/" and stored_name == name

    def _account_exists(self, account_id: str) -> bool:
        with self._db.reader() as tx:
            return tx.get_account(account_id) is not None
