"""Repositories for IAM identities: users, groups, roles, memberships, tags, login profiles,
account settings and MFA devices. Policies are in `iam_policies_repo.py`.

Names are looked up through their lower-cased copy (IAM names are unique regardless of case).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, delete, func, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import IamGroupRow, IamRoleRow, IamUserRow, LoginProfileRow, MfaDeviceRow
from keystead.storage.schema import (
    access_keys,
    iam_account_settings,
    iam_entity_tags,
    iam_group_members,
    iam_groups,
    iam_login_profiles,
    iam_mfa_devices,
    iam_roles,
    iam_users,
)

_ENTITIES: dict[type, tuple[Table, str]] = {
    IamUserRow: (iam_users, "user_id"),
    IamGroupRow: (iam_groups, "group_id"),
    IamRoleRow: (iam_roles, "role_id"),
}
EntityRow = IamUserRow | IamGroupRow | IamRoleRow


class IamRepository(TxBase):
    __slots__ = ()

    # --- users, groups, roles (one shape, three tables) -------------------------------------

    def insert_iam_entity(self, row: EntityRow) -> bool:
        """Store a user, group or role; False (nothing written) when its name or id is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        table, _ = _ENTITIES[type(row)]
        return self._insert_unless_exists(table, row_values(row))

    def get_iam_entity(self, kind: type[Any], account_id: str, name: str) -> Any:
        """The user/group/role (by row class) with this name in any case, or None."""
        table, _ = _ENTITIES[kind]
        found = self._conn.execute(
            select(table).where(table.c.account_id == account_id, table.c.name_lower == name.lower())
        ).mappings().first()
        return None if found is None else to_row(kind, found)

    def get_iam_entity_by_id(self, kind: type[Any], entity_id: str) -> Any:
        """The user/group/role (by row class) with this unique id, or None."""
        table, id_column = _ENTITIES[kind]
        found = self._conn.execute(select(table).where(table.c[id_column] == entity_id)).mappings().first()
        return None if found is None else to_row(kind, found)

    def list_iam_entities(self, kind: type[Any], account_id: str, path_prefix: str = "/") -> list[Any]:
        """Every user/group/role of the account under a path prefix, by lower-cased name."""
        table, _ = _ENTITIES[kind]
        found = self._conn.execute(
            select(table)
            .where(table.c.account_id == account_id, table.c.path.startswith(path_prefix, autoescape=True))
            .order_by(table.c.name_lower)
        )
        return [to_row(kind, m) for m in found.mappings()]

    def update_iam_entity(self, kind: type[Any], entity_id: str, **values: Any) -> bool:
        """Change columns of a user/group/role; False when there is no such entity.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        table, id_column = _ENTITIES[kind]
        result = self._writer().execute(update(table).where(table.c[id_column] == entity_id).values(**values))
        return result.rowcount == 1

    def delete_iam_entity(self, kind: type[Any], entity_id: str) -> bool:
        """Delete a user/group/role and its tags; False when there is no such entity.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        table, id_column = _ENTITIES[kind]
        self._writer().execute(delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == entity_id))
        result = self._writer().execute(delete(table).where(table.c[id_column] == entity_id))
        return result.rowcount == 1

    def count_iam_entities(self, kind: type[Any], account_id: str) -> int:
        table, _ = _ENTITIES[kind]
        return int(self._conn.execute(
            select(func.count()).select_from(table).where(table.c.account_id == account_id)
        ).scalar_one())

    def rename_user_access_keys(self, account_id: str, old_name: str, new_name: str) -> None:
        """Follow a user rename in the access keys, which name their user.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(
            update(access_keys)
            .where(access_keys.c.account_id == account_id, access_keys.c.user_name == old_name)
            .values(user_name=new_name)
        )

    # --- group membership ---------------------------------------------------------------------

    def add_group_member(self, group_id: str, user_id: str) -> bool:
        """Add a user to a group; False when already a member.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(iam_group_members, {"group_id": group_id, "user_id": user_id})

    def remove_group_member(self, group_id: str, user_id: str) -> bool:
        """Remove a user from a group; False when not a member.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            delete(iam_group_members).where(
                iam_group_members.c.group_id == group_id, iam_group_members.c.user_id == user_id
            )
        )
        return result.rowcount == 1

    def groups_of_user(self, user_id: str) -> list[IamGroupRow]:
        """The groups a user belongs to, by lower-cased name."""
        found = self._conn.execute(
            select(iam_groups)
            .join(iam_group_members, iam_group_members.c.group_id == iam_groups.c.group_id)
            .where(iam_group_members.c.user_id == user_id)
            .order_by(iam_groups.c.name_lower)
        )
        return [to_row(IamGroupRow, m) for m in found.mappings()]

    def users_of_group(self, group_id: str) -> list[IamUserRow]:
        """The members of a group, by lower-cased name."""
        found = self._conn.execute(
            select(iam_users)
            .join(iam_group_members, iam_group_members.c.user_id == iam_users.c.user_id)
            .where(iam_group_members.c.group_id == group_id)
            .order_by(iam_users.c.name_lower)
        )
        return [to_row(IamUserRow, m) for m in found.mappings()]

    # --- tags (users, roles, policies, MFA devices) -----------------------------------------

    def entity_tags(self, entity_id: str) -> dict[str, str]:
        """An entity's tags, by key, in key order."""
        found = self._conn.execute(
            select(iam_entity_tags.c.tag_key, iam_entity_tags.c.tag_value)
            .where(iam_entity_tags.c.entity_id == entity_id)
            .order_by(iam_entity_tags.c.tag_key)
        )
        return {key: value for key, value in found}

    def set_entity_tags(self, entity_id: str, tags: dict[str, str]) -> None:
        """Add or overwrite tags.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        for key, value in tags.items():
            self._writer().execute(
                delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == entity_id, iam_entity_tags.c.tag_key == key)
            )
            self._writer().execute(
                iam_entity_tags.insert().values(entity_id=entity_id, tag_key=key, tag_value=value)
            )

    def remove_entity_tags(self, entity_id: str, keys: list[str]) -> None:
        """Remove tags by key; absent keys are ignored.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(
            delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == entity_id, iam_entity_tags.c.tag_key.in_(keys))
        )

    # --- login profiles -------------------------------------------------------------------------

    def get_login_profile(self, user_id: str) -> LoginProfileRow | None:
        found = self._conn.execute(
            select(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id)
        ).mappings().first()
        return None if found is None else to_row(LoginProfileRow, found)

    def put_login_profile(self, row: LoginProfileRow, *, replace: bool) -> bool:
        """Create (False when one exists) or, with `replace`, overwrite a login profile.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        if replace:
            self.delete_login_profile(row.user_id)
        return self._insert_unless_exists(iam_login_profiles, row_values(row))

    def delete_login_profile(self, user_id: str) -> bool:
        """Delete a login profile; False when there is none.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(delete(iam_login_profiles).where(iam_login_profiles.c.user_id == user_id))
        return result.rowcount == 1

    # --- account settings: password policy and alias ------------------------------------------

    def account_settings(self, account_id: str) -> tuple[str | None, str | None]:
        """(password policy JSON, account alias) of an account; (None, None) when never set."""
        found = self._conn.execute(
            select(iam_account_settings.c.password_policy, iam_account_settings.c.account_alias)
            .where(iam_account_settings.c.account_id == account_id)
        ).first()
        return (None, None) if found is None else (found[0], found[1])

    def set_account_settings(self, account_id: str, **values: str | None) -> bool:
        """Set `password_policy` and/or `account_alias`; False when the alias is taken elsewhere.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        alias = values.get("account_alias")
        if alias is not None:
            owner = self._conn.execute(
                select(iam_account_settings.c.account_id).where(iam_account_settings.c.account_alias == alias)
            ).scalar()
            if owner is not None and owner != account_id:
                return False
        self._insert_unless_exists(iam_account_settings, {"account_id": account_id})
        self._writer().execute(
            update(iam_account_settings).where(iam_account_settings.c.account_id == account_id).values(**values)
        )
        return True

    # --- MFA devices ------------------------------------------------------------------------

    def insert_mfa_device(self, row: MfaDeviceRow) -> bool:
        """Store a virtual MFA device; False when its serial number is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(iam_mfa_devices, row_values(row))

    def get_mfa_device(self, serial_number: str) -> MfaDeviceRow | None:
        found = self._conn.execute(
            select(iam_mfa_devices).where(iam_mfa_devices.c.serial_number == serial_number)
        ).mappings().first()
        return None if found is None else to_row(MfaDeviceRow, found)

    def list_mfa_devices(self, account_id: str, user_id: str | None = None) -> list[MfaDeviceRow]:
        """The account's virtual MFA devices (only those enabled for `user_id`, if given)."""
        query = select(iam_mfa_devices).where(iam_mfa_devices.c.account_id == account_id)
        if user_id is not None:
            query = query.where(iam_mfa_devices.c.user_id == user_id)
        found = self._conn.execute(query.order_by(iam_mfa_devices.c.serial_number))
        return [to_row(MfaDeviceRow, m) for m in found.mappings()]

    def update_mfa_device(self, serial_number: str, **values: Any) -> bool:
        """Change an MFA device's columns; False when there is no such device.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(iam_mfa_devices).where(iam_mfa_devices.c.serial_number == serial_number).values(**values)
        )
        return result.rowcount == 1

    def delete_mfa_device(self, serial_number: str) -> bool:
        """Delete an MFA device and its tags; False when there is no such device.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == serial_number))
        result = self._writer().execute(delete(iam_mfa_devices).where(iam_mfa_devices.c.serial_number == serial_number))
        return result.rowcount == 1
