"""KMS data key pairs: GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext.

The private key (PKCS#8 DER) is sealed under a symmetric KMS key exactly like Encrypt would, so
Decrypt of PrivateKeyCiphertextBlob (with the same encryption context) returns it.
"""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import (
    KmsDeps,
    Params,
    Result,
    encryption_context_keys,
    key_resource,
    resolve_key,
)
from keystead.api.kms.dry_run import finish_dry_run, is_dry_run
from keystead.errors import UnsupportedOperationError


class DataKeyPairs:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "GenerateDataKeyPair": Handler(self.generate_data_key_pair, read_only=True),
            "GenerateDataKeyPairWithoutPlaintext": Handler(
                self.generate_data_key_pair_without_plaintext, read_only=True
            ),
        }

    async def generate_data_key_pair(self, ctx: RequestContext, params: Params) -> Result:
        return await self._pair(ctx, params, "GenerateDataKeyPair", with_plaintext=True)

    async def generate_data_key_pair_without_plaintext(self, ctx: RequestContext, params: Params) -> Result:
        return await self._pair(ctx, params, "GenerateDataKeyPairWithoutPlaintext", with_plaintext=False)

    async def _pair(self, ctx: RequestContext, params: Params, operation: str, *, with_plaintext: bool) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        context = params.get("encryption_context") or {}
        pair_spec = params["key_pair_spec"]
        condition_keys = {**encryption_context_keys(context), "kms:DataKeyPairSpec": pair_spec}
        await ctx.authorize(f"kms:{operation}", key_resource(ref), condition_keys)
        if params.get("recipient"):
            raise UnsupportedOperationError("Recipient (Nitro Enclaves attestation) is not supported by this server.")
        if is_dry_run(params):
            self._deps.key_pairs.check_data_key_pair(ref, operation, pair_spec)
            finish_dry_run(params)
        private_der, public_der, sealed = await self._deps.key_pairs.generate_data_key_pair(
            ref, operation, pair_spec, context
        )
        result: Result = {
            "private_key_ciphertext_blob": sealed,
            "public_key": public_der,
            "key_id": ref.arn,
            "key_pair_spec": pair_spec,
        }
        if with_plaintext:
            result["private_key_plaintext"] = private_der
        return result
