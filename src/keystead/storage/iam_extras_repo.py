"""Repositories for the IAM extras of migration 8 (SAML providers, service-linked-role deletion
tasks) and the one MFA write that must be atomic (using up a code's time step)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select, update

from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import SamlProviderRow, SlrDeletionTaskRow
from keystead.storage.schema import (
    iam_entity_tags, iam_mfa_devices, iam_saml_providers, iam_slr_deletion_tasks, keys,
)


class IamExtrasRepository(TxBase):
    __slots__ = ()

    # --- SAML providers -------------------------------------------------------------------------

    def insert_saml_provider(self, row: SamlProviderRow) -> bool:
        """Store a SAML provider; False when its ARN is taken.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        return self._insert_unless_exists(iam_saml_providers, row_values(row))

    def get_saml_provider(self, provider_arn: str) -> SamlProviderRow | None:
        found = self._conn.execute(
            select(iam_saml_providers).where(iam_saml_providers.c.provider_arn == provider_arn)
        ).mappings().first()
        return None if found is None else to_row(SamlProviderRow, found)

    def list_saml_providers(self, account_id: str) -> list[SamlProviderRow]:
        found = self._conn.execute(
            select(iam_saml_providers)
            .where(iam_saml_providers.c.account_id == account_id)
            .order_by(iam_saml_providers.c.provider_arn)
        )
        return [to_row(SamlProviderRow, m) for m in found.mappings()]

    def update_saml_provider(self, provider_arn: str, **values: Any) -> bool:
        """Change a SAML provider's columns; False when there is no such provider.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(iam_saml_providers).where(iam_saml_providers.c.provider_arn == provider_arn).values(**values)
        )
        return result.rowcount == 1

    def delete_saml_provider(self, provider_arn: str) -> bool:
        """Delete a SAML provider and its tags; False when there is no such provider.

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        self._writer().execute(delete(iam_entity_tags).where(iam_entity_tags.c.entity_id == provider_arn))
        result = self._writer().execute(
            delete(iam_saml_providers).where(iam_saml_providers.c.provider_arn == provider_arn)
        )
        return result.rowcount == 1

    # --- service-linked-role deletion tasks ------------------------------------------------------

    def insert_slr_deletion_task(self, row: SlrDeletionTaskRow) -> None:
        """Raises: ReadOnlyTransactionError: called in a reader."""
        self._writer().execute(iam_slr_deletion_tasks.insert().values(row_values(row)))

    def get_slr_deletion_task(self, task_id: str) -> SlrDeletionTaskRow | None:
        found = self._conn.execute(
            select(iam_slr_deletion_tasks).where(iam_slr_deletion_tasks.c.task_id == task_id)
        ).mappings().first()
        return None if found is None else to_row(SlrDeletionTaskRow, found)

    def multi_region_keys(self, account_id: str) -> list[tuple[str, str]]:
        """(region, key id) of the account's multi-Region keys that are not pending deletion:
        while any exists, KMS's multi-Region service-linked role is in use."""
        found = self._conn.execute(
            select(keys.c.region, keys.c.key_id)
            .where(keys.c.account_id == account_id, keys.c.multi_region.is_(True),
                   keys.c.key_state != "PendingDeletion")
            .order_by(keys.c.region, keys.c.key_id)
        )
        return [(region, key_id) for region, key_id in found]

    # --- MFA: a code is used once -----------------------------------------------------------------

    def advance_mfa_counter(self, serial_number: str, step: int) -> bool:
        """Record `step` as the device's last accepted TOTP step, only if it is later than the
        stored one; False when it is not (the code was already used, perhaps concurrently).

        Raises:
            ReadOnlyTransactionError: called in a reader.
        """
        result = self._writer().execute(
            update(iam_mfa_devices)
            .where(
                iam_mfa_devices.c.serial_number == serial_number,
                or_(iam_mfa_devices.c.last_counter.is_(None), iam_mfa_devices.c.last_counter < step),
            )
            .values(last_counter=step)
        )
        return result.rowcount == 1
