"""VPC endpoints and their endpoint policies (spec kms.md §11, KMS-110..113).

An endpoint is declared by the operator (`keystead serve --vpc-endpoint ...`) and owned by one
account; its policy is changed at runtime through the EC2 API subset and stored in the database,
so every node enforces the same one.

Caching: the compiled policy of each endpoint is kept in memory. A change made on this node
drops its entry at once (`invalidate`). Other nodes find out by polling the endpoint's
`row_version` (bumped by every change) at most once per `POLICY_POLL_SECONDS` per endpoint, on
the first request after the interval: a change made elsewhere is enforced everywhere within
that bound, and between polls a request costs a dict lookup.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.errors import (
    InvalidParameterValueError,
    InvalidPolicyDocumentError,
    InvalidVpcEndpointIdMalformedError,
    InvalidVpcEndpointIdNotFoundError,
    LimitExceededError,
    MalformedPolicyDocumentError,
)
from keystead.policy import Policy, PolicyKind, parse_policy
from keystead.storage import Database, Tx
from keystead.storage.rows import VpcEndpointRow

# KMS-111: the default endpoint policy allows everything the other policies allow.
DEFAULT_ENDPOINT_POLICY = (
    '{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}'
)
# A missing endpoint row (it is never deleted, so: a database restored from before the
# declaration) fails closed rather than open.
_DENY_ALL_POLICY = '{"Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}'
MAX_ENDPOINT_POLICY_CHARS = 20_480  # AWS PrivateLink quota: 20,480 characters
POLICY_POLL_SECONDS = 1.0
VPC_ENDPOINT_ID = re.compile(r"^vpce-[0-9a-f]{8,17}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")


@dataclass(frozen=True, slots=True)
class EndpointDeclaration:
    """One `--vpc-endpoint` as the operator declared it (addresses are the server's business)."""

    vpc_endpoint_id: str
    vpc_id: str
    account_id: str | None = None  # None: the current owner, or for a new endpoint the only account
    policy_text: str | None = None  # None: keep the stored policy (default on first declaration)


@dataclass(slots=True)
class _Cached:
    row_version: int
    policy: Policy | None  # None: the default policy, which needs no evaluation
    checked_at: float


def service_name(region: str) -> str:
    return f"com.amazonaws.{region}.kms"


def parse_endpoint_policy(text: str) -> Policy:
    """Compile an endpoint policy, with EC2's error for a bad one.

    Raises:
        InvalidPolicyDocumentError: not a valid endpoint policy, or longer than 20,480 characters.
    """
    try:
        return parse_policy(text, PolicyKind.ENDPOINT, name="VPC endpoint policy",
                            max_size=MAX_ENDPOINT_POLICY_CHARS)
    except (MalformedPolicyDocumentError, LimitExceededError) as error:
        raise InvalidPolicyDocumentError(f"The Policy Document is not valid. {error.message}") from None


def check_endpoint_id(vpc_endpoint_id: str) -> None:
    """Raises InvalidVpcEndpointIdMalformedError unless the id looks like `vpce-0123456789abcdef0`."""
    if VPC_ENDPOINT_ID.match(vpc_endpoint_id) is None:
        raise InvalidVpcEndpointIdMalformedError(
            f'Invalid Id: "{vpc_endpoint_id}" (expecting "vpce-...")'
        )


class EndpointService:
    def __init__(
        self, db: Database, clock: Clock, *, monotonic: Callable[[], float] = time.monotonic,
        poll_seconds: float = POLICY_POLL_SECONDS,
    ) -> None:
        self._db = db
        self._clock = clock
        self._monotonic = monotonic
        self._poll_seconds = poll_seconds
        self._cache: dict[str, _Cached] = {}
        self._refreshing: dict[str, asyncio.Lock] = {}

    # --- declaration (start-up, blocking) ---------------------------------------------------

    def declare(self, declarations: Iterable[EndpointDeclaration], region: str) -> list[VpcEndpointRow]:
        """Create or update the declared endpoints; blocking (run it at start-up).

        Raises:
            InvalidPolicyDocumentError: a declared policy file is not a valid endpoint policy.
            InvalidParameterValueError: no owner given for a new endpoint and the deployment has
                not exactly one account, or the owner does not exist.
        """
        declared = list(declarations)
        for declaration in declared:
            if declaration.policy_text is not None:
                parse_endpoint_policy(declaration.policy_text)
        now = self._clock.now()
        rows = []
        with self._db.transaction() as tx:
            for declaration in declared:
                row = VpcEndpointRow(
                    vpc_endpoint_id=declaration.vpc_endpoint_id,
                    account_id=self._owner(tx, declaration),
                    region=region,
                    vpc_id=declaration.vpc_id,
                    service_name=service_name(region),
                    policy_document=declaration.policy_text,
                    created_at=now,
                    updated_at=now,
                )
                rows.append(tx.declare_vpc_endpoint(row, replace_policy=declaration.policy_text is not None))
        return rows

    @staticmethod
    def _owner(tx: Tx, declaration: EndpointDeclaration) -> str:
        if declaration.account_id is not None:
            if tx.get_account(declaration.account_id) is None:
                raise InvalidParameterValueError(
                    f"VPC endpoint {declaration.vpc_endpoint_id}: "
                    f"account {declaration.account_id} does not exist"
                )
            return declaration.account_id
        existing = tx.get_vpc_endpoint(declaration.vpc_endpoint_id)
        if existing is not None:
            return existing.account_id  # a restart or another node: the owner stays
        accounts = tx.list_accounts()
        if len(accounts) != 1:
            raise InvalidParameterValueError(
                f"VPC endpoint {declaration.vpc_endpoint_id}: name its owner with account=ID "
                f"(the deployment has {len(accounts)} accounts)"
            )
        return accounts[0].account_id

    # --- enforcement (hot path) -------------------------------------------------------------

    async def policy_for(self, vpc_endpoint_id: str) -> Policy | None:
        """The endpoint's compiled policy; None for the default (full access) policy."""
        cached = self._cache.get(vpc_endpoint_id)
        if cached is not None and self._monotonic() - cached.checked_at < self._poll_seconds:
            return cached.policy
        lock = self._refreshing.setdefault(vpc_endpoint_id, asyncio.Lock())
        async with lock:  # one poll per endpoint at a time; the others wait for its answer
            cached = self._cache.get(vpc_endpoint_id)
            if cached is None or self._monotonic() - cached.checked_at >= self._poll_seconds:
                cached = await run_blocking(self._refresh, vpc_endpoint_id, cached)
                self._cache[vpc_endpoint_id] = cached
            return cached.policy

    def _refresh(self, vpc_endpoint_id: str, cached: _Cached | None) -> _Cached:
        now = self._monotonic()
        with self._db.reader() as tx:
            version = tx.vpc_endpoint_versions([vpc_endpoint_id]).get(vpc_endpoint_id)
            if cached is not None and version == cached.row_version:
                return _Cached(cached.row_version, cached.policy, now)
            row = tx.get_vpc_endpoint(vpc_endpoint_id)
        if row is None:
            return _Cached(-1, parse_policy(_DENY_ALL_POLICY, PolicyKind.ENDPOINT), now)
        policy = None if row.policy_document is None else parse_endpoint_policy(row.policy_document)
        return _Cached(row.row_version, policy, now)

    def invalidate(self, vpc_endpoint_id: str) -> None:
        """Forget the cached policy of an endpoint changed on this node."""
        self._cache.pop(vpc_endpoint_id, None)

    # --- management (EC2 API) ---------------------------------------------------------------

    async def list_owned(self, account_id: str, region: str, ids: Sequence[str]) -> list[VpcEndpointRow]:
        """The account's endpoints in the region, limited to `ids` when given.

        Raises:
            InvalidVpcEndpointIdMalformedError: an id is not shaped like one.
            InvalidVpcEndpointIdNotFoundError: an id names no endpoint of this account here.
        """
        for vpc_endpoint_id in ids:
            check_endpoint_id(vpc_endpoint_id)
        rows = await run_blocking(self._list, account_id, region)
        if not ids:
            return rows
        by_id = {row.vpc_endpoint_id: row for row in rows}
        missing = [i for i in dict.fromkeys(ids) if i not in by_id]
        if missing:
            raise InvalidVpcEndpointIdNotFoundError(
                f"The Vpc Endpoint Id '{', '.join(missing)}' does not exist"
            )
        return [by_id[i] for i in dict.fromkeys(ids)]

    def _list(self, account_id: str, region: str) -> list[VpcEndpointRow]:
        with self._db.reader() as tx:
            return tx.list_vpc_endpoints(account_id, region)

    def set_policy(self, tx: Tx, row: VpcEndpointRow, policy_text: str | None) -> VpcEndpointRow:
        """Store a new policy (None: reset to the default) inside the caller's transaction.

        Call `invalidate` once the transaction has committed.

        Raises:
            InvalidPolicyDocumentError: the policy is not a valid endpoint policy.
            NotFoundError: the endpoint vanished.
        """
        if policy_text is not None:
            parse_endpoint_policy(policy_text)
        return tx.set_vpc_endpoint_policy(row.vpc_endpoint_id, policy_text, self._clock.now())
