"""Repository for declared VPC endpoints and their endpoint policies."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from keystead.errors import NotFoundError
from keystead.storage._txbase import TxBase, row_values, to_row
from keystead.storage.rows import VpcEndpointRow
from keystead.storage.schema import vpc_endpoints


class VpcEndpointRepository(TxBase):
    __slots__ = ()

    def get_vpc_endpoint(self, vpc_endpoint_id: str) -> VpcEndpointRow | None:
        """The endpoint with this id, or None."""
        query = select(vpc_endpoints).where(vpc_endpoints.c.vpc_endpoint_id == vpc_endpoint_id)
        mapping = self._conn.execute(query).mappings().first()
        return None if mapping is None else to_row(VpcEndpointRow, mapping)

    def list_vpc_endpoints(self, account_id: str, region: str) -> list[VpcEndpointRow]:
        """An account's endpoints in a region, ordered by id (a deployment declares a handful)."""
        query = (
            select(vpc_endpoints)
            .where(vpc_endpoints.c.account_id == account_id, vpc_endpoints.c.region == region)
            .order_by(vpc_endpoints.c.vpc_endpoint_id)
        )
        return [to_row(VpcEndpointRow, m) for m in self._conn.execute(query).mappings()]

    def vpc_endpoint_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """The current row_version of each of these endpoints that exists (the cache's poll)."""
        wanted = list(ids)
        if not wanted:
            return {}
        query = select(vpc_endpoints.c.vpc_endpoint_id, vpc_endpoints.c.row_version).where(
            vpc_endpoints.c.vpc_endpoint_id.in_(wanted)
        )
        return {row.vpc_endpoint_id: int(row.row_version) for row in self._conn.execute(query)}

    def declare_vpc_endpoint(self, row: VpcEndpointRow, *, replace_policy: bool) -> VpcEndpointRow:
        """Create the endpoint, or update a declared one's owner, VPC and service in place.

        The stored policy is kept unless `replace_policy` (the declaration names a policy file).

        Raises:
            ReadOnlyTransactionError: called in a reader.
            StorageError: the account does not exist (a foreign-key violation).
        """
        if self._insert_unless_exists(vpc_endpoints, row_values(row)):
            return row
        current = self.get_vpc_endpoint(row.vpc_endpoint_id)
        assert current is not None, "the insert clashed with this very row"
        changes: dict[str, object] = {
            "account_id": row.account_id, "region": row.region, "vpc_id": row.vpc_id,
            "service_name": row.service_name,
        }
        if replace_policy:
            changes["policy_document"] = row.policy_document
        if all(getattr(current, name) == value for name, value in changes.items()):
            return current  # an unchanged restart must not make every node drop its cache
        return self.set_vpc_endpoint(row.vpc_endpoint_id, row.updated_at, **changes)

    def set_vpc_endpoint_policy(
        self, vpc_endpoint_id: str, policy_document: str | None, now: datetime
    ) -> VpcEndpointRow:
        """Replace an endpoint's policy (None: back to the default) and bump its row_version.

        Raises:
            NotFoundError: no such endpoint.
            ReadOnlyTransactionError: called in a reader.
        """
        return self.set_vpc_endpoint(vpc_endpoint_id, now, policy_document=policy_document)

    def set_vpc_endpoint(self, vpc_endpoint_id: str, now: datetime, **changes: object) -> VpcEndpointRow:
        """Change some columns of an endpoint and bump its row_version.

        Raises:
            NotFoundError: no such endpoint.
            ReadOnlyTransactionError: called in a reader.
        """
        stmt = (
            update(vpc_endpoints)
            .where(vpc_endpoints.c.vpc_endpoint_id == vpc_endpoint_id)
            .values(**changes, updated_at=now, row_version=vpc_endpoints.c.row_version + 1)
        )
        result = self._writer().execute(stmt.execution_options(preserve_rowcount=True))
        if result.rowcount != 1:
            raise NotFoundError(f"VPC endpoint {vpc_endpoint_id} does not exist")
        updated = self.get_vpc_endpoint(vpc_endpoint_id)
        assert updated is not None
        return updated
