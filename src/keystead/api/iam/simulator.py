"""The policy simulator and its context-key helpers: SimulatePrincipalPolicy,
SimulateCustomPolicy, GetContextKeysForPrincipalPolicy, GetContextKeysForCustomPolicy.

[BM-IAM][IAM:access_policies_testing-policies] The decisions come from
`keystead.identity.iam.simulator`, which evaluates with the enforcing engine. Authorization:
`iam:SimulatePrincipalPolicy` / `iam:GetContextKeysForPrincipalPolicy` on the simulated entity,
the custom variants on "*". Policy inputs are identified as AWS does: "PolicyInputList.1",
"PermissionsBoundaryPolicyInputList.1", "ResourcePolicy", or a stored policy's name.
"""

from __future__ import annotations

import re
from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import IamDeps, Params, Result, paginate, read
from keystead.blocking import run_blocking
from keystead.errors import InvalidInputError
from keystead.identity.iam import naming
from keystead.identity.iam.simulated_principals import SimulatedPrincipal, caller_principal, load_principal
from keystead.identity.iam.simulation_inputs import context_from_entries
from keystead.identity.iam.simulator import (
    ActionResult, PolicySource, ResourceResult, Scenario, Simulator, StatementMatch, context_keys,
)
from keystead.policy import PrincipalInfo

# [BM-IAM ResourceHandlingOption] The EC2 scenarios; none changes how Keystead evaluates.
_SCENARIOS = frozenset({"EC2-VPC-InstanceStore", "EC2-VPC-InstanceStore-Subnet", "EC2-VPC-EBS", "EC2-VPC-EBS-Subnet"})
_ACCOUNT_ARN = re.compile(r"^arn:aws:iam::(\d{12}):root$")
_TYPES = {"user": naming.USER_TYPE, "group": naming.GROUP_TYPE, "role": naming.ROLE_TYPE}


def _inputs(params: Params, member: str, source_id: str) -> tuple[PolicySource, ...]:
    return tuple(
        PolicySource(f"{source_id}.{n}", "none", text) for n, text in enumerate(params.get(member) or (), 1)
    )


def _entity_resource(account: str, arn: str) -> ResourceAccess:
    kind = arn.split(":", 5)[-1].split("/", 1)[0]
    return ResourceAccess(arn, account, _TYPES.get(kind, naming.USER_TYPE), context={"aws:ResourceAccount": account})


def _boundary(params: Params, fallback: PolicySource | None) -> PolicySource | None:
    given = _inputs(params, "permissions_boundary_policy_input_list", "PermissionsBoundaryPolicyInputList")
    if len(given) > 1:
        raise InvalidInputError("Only one permissions boundary policy may be simulated.")
    return given[0] if given else fallback


def _resource_owner(params: Params) -> str | None:
    owner = params.get("resource_owner")
    if owner is None:
        return None
    match = _ACCOUNT_ARN.match(owner)
    if match is None:
        raise InvalidInputError(f"Invalid ResourceOwner ARN: {owner}")
    return match.group(1)


def _context(params: Params, principal_keys: dict[str, str]) -> dict[str, Any]:
    """The principal's own keys, overridden by the caller's ContextEntries (names ignore case)."""
    given = context_from_entries(params.get("context_entries"))
    lowered = {key.lower() for key in given}
    context: dict[str, Any] = {k: v for k, v in principal_keys.items() if k.lower() not in lowered}
    context.update(given)
    return context


def _check_common(params: Params) -> None:
    option = params.get("resource_handling_option")
    if option is not None and option not in _SCENARIOS:
        raise InvalidInputError(f"Invalid ResourceHandlingOption: {option}")


class PolicySimulator:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "SimulatePrincipalPolicy": Handler(self.simulate_principal_policy, read_only=True),
            "SimulateCustomPolicy": Handler(self.simulate_custom_policy, read_only=True),
            "GetContextKeysForPrincipalPolicy": Handler(self.get_context_keys_for_principal_policy, read_only=True),
            "GetContextKeysForCustomPolicy": Handler(self.get_context_keys_for_custom_policy, read_only=True),
        }

    async def _subject(self, ctx: RequestContext, action: str, arn: str) -> SimulatedPrincipal:
        account = ctx.principal.account_id
        await ctx.authorize(action, _entity_resource(account, arn))
        return await read(self._deps, load_principal, account, arn)

    async def simulate_principal_policy(self, ctx: RequestContext, params: Params) -> Result:
        _check_common(params)
        subject = await self._subject(ctx, "iam:SimulatePrincipalPolicy", params["policy_source_arn"])
        excluded = set(params.get("policy_exclusion_list") or ())
        own = tuple(p for p in subject.policies if p.arn is None or p.arn not in excluded)
        caller, keys = subject.info, dict(subject.context)
        if params.get("caller_arn"):
            caller = caller_principal(ctx.principal.account_id, params["caller_arn"])
            keys = {"aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": caller.account_id,
                    "aws:PrincipalType": caller.type}
        elif params.get("resource_policy") and not params["policy_source_arn"].split(":", 5)[-1].startswith("user/"):
            raise InvalidInputError("CallerArn must be specified when simulating a resource policy for a group or role.")
        scenario = Scenario(
            caller=caller, identity=own + _inputs(params, "policy_input_list", "PolicyInputList"),
            boundary=_boundary(params, subject.boundary), resource_policy=_resource_policy(params),
            resource_owner=_resource_owner(params) or ctx.principal.account_id,
            context=_context(params, keys),
        )
        return await self._run(scenario, params)

    async def simulate_custom_policy(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:SimulateCustomPolicy", None)
        _check_common(params)
        account = ctx.principal.account_id
        resource_policy = _resource_policy(params)
        if params.get("caller_arn"):
            caller = caller_principal(account, params["caller_arn"])
        elif resource_policy is not None:
            raise InvalidInputError("CallerArn must be specified when simulating a resource policy.")
        else:
            caller = PrincipalInfo(f"arn:aws:iam::{account}:user/SimulatedCaller", account, "User")
        levels = params.get("ordered_organization_policy_input_list")
        scp_levels = None
        if levels:
            scp_levels = tuple(
                tuple(PolicySource(f"OrderedOrganizationPolicyInputList.{n}.{m}", "none", text)
                      for m, text in enumerate(level.get("service_control_policy_input_list") or (), 1))
                for n, level in enumerate(levels, 1)
            )
        keys = {"aws:PrincipalArn": caller.arn, "aws:PrincipalAccount": caller.account_id,
                "aws:PrincipalType": caller.type}
        scenario = Scenario(
            caller=caller, identity=_inputs(params, "policy_input_list", "PolicyInputList"),
            boundary=_boundary(params, None), resource_policy=resource_policy,
            resource_owner=_resource_owner(params) or caller.account_id, scp_levels=scp_levels,
            context=_context(params, keys),
        )
        return await self._run(scenario, params)

    async def _run(self, scenario: Scenario, params: Params) -> Result:
        actions, resources = params["action_names"], params.get("resource_arns")

        def simulate() -> list[ActionResult]:
            return Simulator(scenario).run(actions, resources)

        # Compiling and evaluating many policies is CPU work; keep it off the event loop.
        results = await run_blocking(simulate)
        numbered = list(enumerate(results))
        page, more = paginate(numbered, lambda item: f"{item[0]:08d}", params)
        return {"evaluation_results": [_result_view(r) for _, r in page], **more}

    async def get_context_keys_for_principal_policy(self, ctx: RequestContext, params: Params) -> Result:
        subject = await self._subject(ctx, "iam:GetContextKeysForPrincipalPolicy", params["policy_source_arn"])
        sources = subject.policies + _inputs(params, "policy_input_list", "PolicyInputList")
        return {"context_key_names": await run_blocking(context_keys, sources)}

    async def get_context_keys_for_custom_policy(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:GetContextKeysForCustomPolicy", None)
        sources = _inputs(params, "policy_input_list", "PolicyInputList")
        return {"context_key_names": await run_blocking(context_keys, sources)}


def _resource_policy(params: Params) -> PolicySource | None:
    text = params.get("resource_policy")
    return None if text is None else PolicySource("ResourcePolicy", "resource", text)


def _statement_view(match: StatementMatch) -> Result:
    view: Result = {"source_policy_id": match.source_id, "source_policy_type": match.source_type}
    if match.start is not None and match.end is not None:
        view["start_position"] = {"line": match.start.line, "column": match.start.column}
        view["end_position"] = {"line": match.end.line, "column": match.end.column}
    return view


def _details(view: Result, boundary: bool | None, organizations: bool | None) -> Result:
    if boundary is not None:
        view["permissions_boundary_decision_detail"] = {"allowed_by_permissions_boundary": boundary}
    if organizations is not None:
        view["organizations_decision_detail"] = {"allowed_by_organizations": organizations}
    return view


def _resource_view(result: ResourceResult) -> Result:
    view: Result = {
        "eval_resource_name": result.resource,
        "eval_resource_decision": result.decision,
        "matched_statements": [_statement_view(m) for m in result.matched],
        "missing_context_values": list(result.missing),
    }
    return _details(view, result.boundary_allowed, None)


def _result_view(result: ActionResult) -> Result:
    view: Result = {
        "eval_action_name": result.action,
        "eval_resource_name": result.resource,
        "eval_decision": result.decision,
        "matched_statements": [_statement_view(m) for m in result.matched],
        "missing_context_values": list(result.missing),
    }
    if result.per_resource is not None:
        view["resource_specific_results"] = [_resource_view(r) for r in result.per_resource]
    return _details(view, result.boundary_allowed, result.organizations_allowed)
