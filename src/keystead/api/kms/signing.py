"""KMS signatures and public keys: Sign, Verify, GetPublicKey, DeriveSharedSecret."""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.api.kms.dry_run import finish_dry_run
from keystead.keystore import specs
from keystead.keystore.asymmetric import check_algorithm, check_signing_request, check_usage


class Signing:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "Sign": Handler(self.sign, read_only=True),
            "Verify": Handler(self.verify, read_only=True),
            "GetPublicKey": Handler(self.get_public_key, read_only=True),
            "DeriveSharedSecret": Handler(self.derive_shared_secret, read_only=True),
        }

    async def sign(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        algorithm, message_type = params["signing_algorithm"], params.get("message_type") or "RAW"
        await ctx.authorize(
            "kms:Sign", key_resource(ref), {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type}
        )
        if params.get("dry_run"):
            check_signing_request(ref, "Sign", algorithm, params["message"], message_type)
            finish_dry_run(params)
        signature = await self._deps.key_pairs.sign(ref, algorithm, params["message"], message_type)
        return {"key_id": ref.arn, "signature": signature, "signing_algorithm": algorithm}

    async def verify(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        algorithm, message_type = params["signing_algorithm"], params.get("message_type") or "RAW"
        await ctx.authorize(
            "kms:Verify", key_resource(ref), {"kms:SigningAlgorithm": algorithm, "kms:MessageType": message_type}
        )
        if params.get("dry_run"):
            check_signing_request(ref, "Verify", algorithm, params["message"], message_type)
            finish_dry_run(params)
        # A bad signature raises KMSInvalidSignatureException; AWS never answers SignatureValid=false.
        await self._deps.key_pairs.verify(ref, algorithm, params["message"], message_type, params["signature"])
        return {"key_id": ref.arn, "signature_valid": True, "signing_algorithm": algorithm}

    async def get_public_key(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        await ctx.authorize("kms:GetPublicKey", key_resource(ref))
        public_key = await self._deps.key_pairs.public_key(ref)
        key = ref.key
        return {
            "key_id": ref.arn,
            "public_key": public_key,
            "customer_master_key_spec": key.key_spec,
            "key_spec": key.key_spec,
            "key_usage": key.key_usage,
            "encryption_algorithms": specs.encryption_algorithms(key.key_spec, key.key_usage),
            "signing_algorithms": specs.signing_algorithms(key.key_spec, key.key_usage),
            "key_agreement_algorithms": specs.key_agreement_algorithms(key.key_spec, key.key_usage),
        }

    async def derive_shared_secret(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        algorithm = params["key_agreement_algorithm"]
        await ctx.authorize("kms:DeriveSharedSecret", key_resource(ref), {"kms:KeyAgreementAlgorithm": algorithm})
        if params.get("dry_run"):
            check_usage(ref, specs.KEY_AGREEMENT, "DeriveSharedSecret")
            check_algorithm(ref, algorithm, specs.key_agreement_algorithms(ref.key.key_spec, ref.key.key_usage))
        secret = await self._deps.key_pairs.derive_shared_secret(ref, algorithm, params["public_key"])
        finish_dry_run(params)
        return {
            "key_id": ref.arn,
            "shared_secret": secret,
            "key_agreement_algorithm": algorithm,
            "key_origin": ref.key.origin,
        }
