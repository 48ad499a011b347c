"""Repositories for STS token keys and IAM OIDC identity providers (migration 7)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import OidcProviderRow, StsTokenKeyRow
from keystead.storage.schema import iam_entity_tags, iam_oidc_providers, sts_token_keys


class StsRepository(TxBase):
    __slots__ = ()

    # --- token keys -----------------------------------------------------------------------------

    def sts_token_keys(self) -> list[StsTokenKeyRow]:
        """Every stored token key, oldest first."""
        found = self._conn.execute(select(sts_token_keys).order_by(sts_token_keys.c.key_id))
        return [to_row(StsTokenKeyRow, m) for m in found.mappings()]

    def get_sts_token_key(self, key_id: int) -> StsTokenKeyRow | None:
        found = self._conn.execute(
            select(sts_token_keys).where(sts_token_keys.c.key_id == key_id)
        ).mappings().first()
        return None if found is None else to_row(StsTokenKeyRow, found)

    def insert_sts_token_key(self, row: StsTokenKeyRow) -> bool:
        """Store a new token key; False when another node took that key id first.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(sts_token_keys, row_values(row))

    def max_sts_token_key_id(self) -> int:
        return int(self._conn.execute(select(func.coalesce(func.max(sts_token_keys.c.key_id), 0))).scalar_one())

    def delete_sts_token_keys_before(self, created_before: datetime) -> int:
        """Forget token keys created before a time (every token they sealed has expired).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(delete(sts_token_keys).where(sts_token_keys.c.created_at < created_before))
        return int(result.rowcount)

    # --- OIDC providers ---------------------------------------------------------------------------

    def insert_oidc_provider(self, row: OidcProviderRow) -> bool:
        """Store an OIDC provider; False when the account already has one for that URL.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(iam_oidc_providers, row_values(row))

    def get_oidc_provider(self, provider_arn: str) -> OidcProviderRow | None:
        found = self._conn.execute(
            select(iam_oidc_providers).where(iam_oidc_providers.c.provider_arn == provider_arn)
        ).mappings().first()
        return None if found is None else to_row(OidcProviderRow, found)

    def list_oidc_providers(self, account_id: str) -> list[OidcProviderRow]:
        found = self._conn.execute(
            select(iam_oidc_providers)
            .where(iam_oidc_providers.c.account_id == account_id)
            .order_by(iam_oidc_providers.c.provider_arn)
        )
        return [to_row(OidcProviderRow, m) for m in found.mappings()]

    def update_oidc_provider(self, provider_arn: str, **values: Any) -> bool:
        """Change an OIDC provider's client ids or thumbprints; False when there is none.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(iam_oidc_providers).where(iam_oidc_providers.c.provider_arn == provider_arn).values(**values)
        )
        return result.rowcount == 1

    def delete_oidc_provider(self, provider_arn: str) -> bool:
        """Delete an OIDC provider and its tags; False when there is none.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == provider_arn))
        result = self._writer().execute(
            delete(iam_oidc_providers).where(iam_oidc_providers.c.provider_arn == provider_arn)
        )
        return result.rowcount == 1
