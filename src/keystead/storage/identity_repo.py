"""Repositories for the keyring terms, accounts and long-term access keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import AccessKeyRow, AccountRow
from keystead.storage.schema import access_keys, accounts, keyring_terms


class IdentityRepository(TxBase):
    __slots__ = ()

    # --- keyring terms -------------------------------------------------------------------

    def keyring_terms(self) -> dict[int, bytes]:
        """Every sealed keyring term, by term number, ascending."""
        rows = self._conn.execute(select(keyring_terms.c.term, keyring_terms.c.sealed).order_by("term"))
        return {term: sealed for term, sealed in rows}

    def insert_keyring_term(self, term: int, sealed: bytes, created_at: datetime) -> bool:
        """Store a sealed keyring term; False (nothing written) when that term already exists.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(
            keyring_terms, {"term": term, "sealed": sealed, "created_at": created_at}
        )

    # --- accounts --------------------------------------------------------------------------

    def insert_account(self, row: AccountRow) -> bool:
        """Create an account; False (nothing written) when its id or its email is taken.

        Emails are compared exactly; the identity service normalises them before they get here.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(accounts, row_values(row))

    def get_account(self, account_id: str) -> AccountRow | None:
        """The account with this id, or None."""
        found = self._conn.execute(select(accounts).where(accounts.c.account_id == account_id))
        mapping = found.mappings().first()
        return None if mapping is None else to_row(AccountRow, mapping)

    def get_account_by_email(self, email: str) -> AccountRow | None:
        """The account with this (exact) email, or None."""
        found = self._conn.execute(select(accounts).where(accounts.c.email == email))
        mapping = found.mappings().first()
        return None if mapping is None else to_row(AccountRow, mapping)

    def list_accounts(self) -> list[AccountRow]:
        """Every account, ordered by account id."""
        found = self._conn.execute(select(accounts).order_by(accounts.c.account_id))
        return [to_row(AccountRow, m) for m in found.mappings()]

    # --- access keys -----------------------------------------------------------------------

    def insert_access_key(self, row: AccessKeyRow) -> bool:
        """Store an access key (its secret already wrapped); False when the id is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the account does not exist (a foreign-key violation).
        """
        return self._insert_unless_exists(access_keys, row_values(row))

    def get_access_key(self, access_key_id: str) -> AccessKeyRow | None:
        """The access key with this id, or None."""
        found = self._conn.execute(select(access_keys).where(access_keys.c.access_key_id == access_key_id))
        mapping = found.mappings().first()
        return None if mapping is None else to_row(AccessKeyRow, mapping)

    def list_access_keys(self, account_id: str, user_name: str | None) -> list[AccessKeyRow]:
        """The access keys of one IAM user (or of the root user when `user_name` is None), oldest first."""
        owner = (
            access_keys.c.user_name.is_(None) if user_name is None else access_keys.c.user_name == user_name
        )
        found = self._conn.execute(
            select(access_keys)
            .where(access_keys.c.account_id == account_id, owner)
            .order_by(access_keys.c.created_at, access_keys.c.access_key_id)
        )
        return [to_row(AccessKeyRow, m) for m in found.mappings()]

    def set_access_key_status(self, access_key_id: str, status: str) -> bool:
        """Set "Active" or "Inactive"; False when there is no such key.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(access_keys).where(access_keys.c.access_key_id == access_key_id).values(status=status)
        )
        return result.rowcount == 1

    def delete_access_key(self, access_key_id: str) -> bool:
        """Delete an access key; False when there is no such key.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            delete(access_keys).where(access_keys.c.access_key_id == access_key_id)
        )
        return result.rowcount == 1

    def record_access_key_use(self, access_key_id: str, at: datetime, service: str, region: str) -> None:
        """Record the key's last use; an older report than the stored one changes nothing.

        Uses are reported in batches that may arrive out of order, so the stored time only moves forward.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(
            update(access_keys)
            .where(
                access_keys.c.access_key_id == access_key_id,
                or_(access_keys.c.last_used_at.is_(None), access_keys.c.last_used_at < at),
            )
            .values(last_used_at=at, last_used_service=service, last_used_region=region)
        )
