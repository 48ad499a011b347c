"""The EC2 API subset that manages VPC endpoint policies (ec2 query dialect, Version 2016-11-15).

DescribeVpcEndpoints and ModifyVpcEndpoint (PolicyDocument / ResetPolicy) on the endpoints the
operator declared, authorized by `ec2:*` actions of the owning account. An endpoint of another
account is reported as not existing, as EC2 does. A policy change is enforced on this node from
the next request and on every other node within `POLICY_POLL_SECONDS` (keystore/endpoints.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.errors import (
    Ec2DryRunOperationError,
    InvalidParameterCombinationError,
    InvalidParameterValueError,
)
from keystead.keystore.endpoints import DEFAULT_ENDPOINT_POLICY, EndpointService
from keystead.storage import Tx
from keystead.storage.rows import VpcEndpointRow

Params = dict[str, Any]
Result = dict[str, Any]
ENDPOINT_RESOURCE_TYPE = "AWS::EC2::VPCEndpoint"
_DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."
# ModifyVpcEndpoint members that change the policy; the rest describe networking Keystead lacks.
_POLICY_MEMBERS = frozenset({"vpc_endpoint_id", "policy_document", "reset_policy", "dry_run"})


def endpoint_arn(row: VpcEndpointRow) -> str:
    return f"arn:aws:ec2:{row.region}:{row.account_id}:vpc-endpoint/{row.vpc_endpoint_id}"


def endpoint_resource(row: VpcEndpointRow) -> ResourceAccess:
    return ResourceAccess(
        endpoint_arn(row), row.account_id, ENDPOINT_RESOURCE_TYPE,
        context={"aws:ResourceAccount": row.account_id, "ec2:Vpc": row.vpc_id},
    )


def vpc_endpoint(row: VpcEndpointRow) -> Result:
    """The VpcEndpoint structure EC2 returns for a declared endpoint."""
    return {
        "vpc_endpoint_id": row.vpc_endpoint_id,
        "vpc_endpoint_type": "Interface",
        "vpc_id": row.vpc_id,
        "service_name": row.service_name,
        "state": "available",
        "policy_document": row.policy_document or DEFAULT_ENDPOINT_POLICY,
        "route_table_ids": [],
        "subnet_ids": [],
        "groups": [],
        "ip_address_type": "ipv4",
        "dns_options": {"dns_record_ip_type": "ipv4"},
        "private_dns_enabled": False,
        "requester_managed": False,
        "network_interface_ids": [],
        # Nominal, AWS-shaped: clients reach the endpoint at the listener the operator declared.
        "dns_entries": [{"dns_name": f"{row.vpc_endpoint_id}.kms.{row.region}.vpce.amazonaws.com"}],
        "creation_timestamp": row.created_at,
        "tags": [],
        "owner_id": row.account_id,
    }


def _wildcard(value: str) -> re.Pattern[str]:
    # EC2 filter values match case-sensitively, with * and ? as the only wildcards.
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in value))


_FILTER_FIELDS = {
    "vpc-endpoint-id": lambda r: r.vpc_endpoint_id,
    "vpc-id": lambda r: r.vpc_id,
    "service-name": lambda r: r.service_name,
    "vpc-endpoint-state": lambda r: "available",
    "vpc-endpoint-type": lambda r: "Interface",
    "owner-id": lambda r: r.account_id,
}


def apply_filters(
    rows: Sequence[VpcEndpointRow], filters: Sequence[Mapping[str, Any]]
) -> list[VpcEndpointRow]:
    """The rows every filter matches (values of one filter are alternatives).

    Raises:
        InvalidParameterValueError: a filter name EC2 does not know for VPC endpoints.
    """
    selected = list(rows)
    for item in filters:
        name = item.get("name") or ""
        field = _FILTER_FIELDS.get(name)
        if field is None:
            raise InvalidParameterValueError(f"The filter '{name}' is invalid")
        patterns = [_wildcard(v) for v in item.get("values") or []]
        selected = [r for r in selected if any(p.fullmatch(field(r)) for p in patterns)]
    return selected


class VpcEndpoints:
    """Handlers for the endpoint subset of EC2."""

    def __init__(self, endpoints: EndpointService) -> None:
        self._endpoints = endpoints

    def handlers(self) -> Handlers:
        return {
            "DescribeVpcEndpoints": Handler(self.describe_vpc_endpoints, read_only=True),
            "ModifyVpcEndpoint": Handler(self.modify_vpc_endpoint, read_only=False),
        }

    async def describe_vpc_endpoints(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("ec2:DescribeVpcEndpoints", None)
        if params.get("dry_run"):
            raise Ec2DryRunOperationError(_DRY_RUN_MESSAGE)
        rows = await self._endpoints.list_owned(
            ctx.principal.account_id, ctx.region, params.get("vpc_endpoint_ids") or []
        )
        rows = apply_filters(rows, params.get("filters") or [])
        after = params.get("next_token")
        if after:
            rows = [r for r in rows if r.vpc_endpoint_id > after]
        limit = params.get("max_results") or 1000
        if not 5 <= limit <= 1000:
            raise InvalidParameterValueError(f"Value ( {limit} ) for parameter maxResults is invalid. "
                                             "Expecting a value between 5 and 1000.")
        page = rows[:limit]
        result: Result = {"vpc_endpoints": [vpc_endpoint(r) for r in page]}
        if len(rows) > limit:
            result["next_token"] = page[-1].vpc_endpoint_id
        return result

    async def modify_vpc_endpoint(self, ctx: RequestContext, params: Params) -> Result:
        unsupported = sorted(k for k in params if k not in _POLICY_MEMBERS)
        if unsupported:
            names = ", ".join("".join(p.title() for p in k.split("_")) for k in unsupported)
            raise InvalidParameterValueError(
                f"Keystead VPC endpoints have no subnets, route tables, security groups or DNS "
                f"settings to modify; unsupported parameter(s): {names}"
            )
        reset = bool(params.get("reset_policy"))
        document: str | None = params.get("policy_document")
        if reset and document is not None:
            raise InvalidParameterCombinationError(
                "The parameter PolicyDocument cannot be used with ResetPolicy"
            )
        (row,) = await self._endpoints.list_owned(
            ctx.principal.account_id, ctx.region, [params["vpc_endpoint_id"]]
        )
        await ctx.authorize("ec2:ModifyVpcEndpoint", endpoint_resource(row))
        if params.get("dry_run"):
            raise Ec2DryRunOperationError(_DRY_RUN_MESSAGE)
        if not reset and document is None:
            return {"return": True}

        def change(tx: Tx) -> Result:
            self._endpoints.set_policy(tx, row, None if reset else document)
            return {"return": True}

        try:
            return await ctx.mutate(change)
        finally:
            # Also after a failure: a commit whose acknowledgement was lost must not stay stale.
            self._endpoints.invalidate(row.vpc_endpoint_id)


def ec2_handlers(endpoints: EndpointService) -> Handlers:
    return VpcEndpoints(endpoints).handlers()
