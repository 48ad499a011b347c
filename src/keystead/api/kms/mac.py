"""KMS HMAC operations: GenerateMac and VerifyMac."""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.api.kms.dry_run import finish_dry_run


class Macs:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "GenerateMac": Handler(self.generate_mac, read_only=True),
            "VerifyMac": Handler(self.verify_mac, read_only=True),
        }

    async def generate_mac(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        algorithm = params["mac_algorithm"]
        await ctx.authorize("kms:GenerateMac", key_resource(ref), {"kms:MacAlgorithm": algorithm})
        mac = await self._deps.key_pairs.generate_mac(ref, algorithm, params["message"])
        finish_dry_run(params)
        return {"mac": mac, "mac_algorithm": algorithm, "key_id": ref.arn}

    async def verify_mac(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        algorithm = params["mac_algorithm"]
        await ctx.authorize("kms:VerifyMac", key_resource(ref), {"kms:MacAlgorithm": algorithm})
        if params.get("dry_run"):
            self._deps.key_pairs.check_mac_request(ref, "VerifyMac", algorithm)
            finish_dry_run(params)
        # A wrong MAC raises KMSInvalidMacException; AWS never answers MacValid=false.
        await self._deps.key_pairs.verify_mac(ref, algorithm, params["message"], params["mac"])
        return {"key_id": ref.arn, "mac_valid": True, "mac_algorithm": algorithm}
