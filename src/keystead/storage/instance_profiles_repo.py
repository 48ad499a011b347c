"""Repositories for IAM instance profiles (migration 9).

Names are looked up through their lower-cased copy (unique per account regardless of case). The
profile's tags are in `iam_entity_tags` under its unique id and go with it on deletion.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import InstanceProfileRow
from keystead.storage.schema import iam_entity_tags, iam_instance_profiles

_P = iam_instance_profiles


class InstanceProfileRepository(TxBase):
    __slots__ = ()

    def insert_instance_profile(self, row: InstanceProfileRow) -> bool:
        """Store a new profile; False when the account already has one by that name (any case).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(_P, row_values(row))

    def get_instance_profile(self, account_id: str, name: str) -> InstanceProfileRow | None:
        found = self._conn.execute(
            select(_P).where(_P.c.account_id == account_id, _P.c.name_lower == name.lower())
        ).mappings().first()
        return None if found is None else to_row(InstanceProfileRow, found)

    def list_instance_profiles(self, account_id: str, path_prefix: str = "/") -> list[InstanceProfileRow]:
        """The account's profiles under a path prefix, by name (case-insensitive order)."""
        found = self._conn.execute(
            select(_P)
            .where(_P.c.account_id == account_id, _P.c.path.startswith(path_prefix, autoescape=True))
            .order_by(_P.c.name_lower)
        )
        return [to_row(InstanceProfileRow, m) for m in found.mappings()]

    def instance_profiles_for_role(self, role_id: str) -> list[InstanceProfileRow]:
        """The profiles that hold a role, by name."""
        found = self._conn.execute(select(_P).where(_P.c.role_id == role_id).order_by(_P.c.name_lower))
        return [to_row(InstanceProfileRow, m) for m in found.mappings()]

    def set_instance_profile_role(self, profile_id: str, role_id: str | None, *, expected: str | None) -> bool:
        """Put a role into (or take it out of) a profile, if it still holds `expected`.

        The check makes two concurrent AddRoleToInstanceProfile calls unable to both succeed.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        condition = _P.c.role_id.is_(None) if expected is None else _P.c.role_id == expected
        result = self._writer().execute(
            update(_P).where(_P.c.instance_profile_id == profile_id, condition).values(role_id=role_id)
        )
        return result.rowcount == 1

    def delete_instance_profile(self, profile_id: str) -> bool:
        """Delete a profile and its tags; False when there is none.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == profile_id))
        result = self._writer().execute(delete(_P).where(_P.c.instance_profile_id == profile_id))
        return result.rowcount == 1
