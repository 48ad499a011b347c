"""KMS symmetric cryptography: Encrypt, Decrypt and data keys."""

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
from keystead.errors import ValidationError


class SymmetricCrypto:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "Encrypt": Handler(self.encrypt, read_only=True),
            "Decrypt": Handler(self.decrypt, read_only=True),
            "GenerateDataKey": Handler(self.generate_data_key, read_only=True),
            "GenerateDataKeyWithoutPlaintext": Handler(self.generate_data_key_without_plaintext, read_only=True),
        }

    async def encrypt(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        context = params.get("encryption_context") or {}
        algorithm = params.get("encryption_algorithm")
        await ctx.authorize("kms:Encrypt", key_resource(ref), encryption_context_keys(context, algorithm))
        blob = await self._deps.keys.encrypt(ref, params["plaintext"], context, algorithm)
        return {"ciphertext_blob": blob, "key_id": ref.arn, "encryption_algorithm": "SYMMETRIC_DEFAULT"}

    async def decrypt(self, ctx: RequestContext, params: Params) -> Result:
        expected = await resolve_key(self._deps, ctx, params["key_id"]) if params.get("key_id") else None
        context = params.get("encryption_context") or {}
        algorithm = params.get("encryption_algorithm")
        # The key comes from the blob's header: find it, authorize on it, then open the blob.
        blob = params.get("ciphertext_blob")
        if blob is None:
            # The model leaves it optional only for DryRun with IGNORE_CIPHERTEXT.
            raise ValidationError(
                "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: "
                "Member must not be null"
            )
        ref = await self._deps.keys.key_for_blob(blob, expected)
        await ctx.authorize("kms:Decrypt", key_resource(ref), encryption_context_keys(context, algorithm))
        plaintext = await self._deps.keys.decrypt(ref, blob, context, algorithm)
        return {
            "key_id": ref.arn,
            "plaintext": plaintext,
            "encryption_algorithm": "SYMMETRIC_DEFAULT",
            "key_material_id": None,
        }

    async def generate_data_key(self, ctx: RequestContext, params: Params) -> Result:
        return await self._data_key(ctx, params, "kms:GenerateDataKey", with_plaintext=True)

    async def generate_data_key_without_plaintext(
        self, ctx: RequestContext, params: Params
    ) -> Result:
        return await self._data_key(ctx, params, "kms:GenerateDataKeyWithoutPlaintext", with_plaintext=False)

    async def _data_key(
        self, ctx: RequestContext, params: Params, action: str, *, with_plaintext: bool
    ) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        context = params.get("encryption_context") or {}
        await ctx.authorize(action, key_resource(ref), encryption_context_keys(context))
        plaintext, blob = await self._deps.keys.generate_data_key(
            ref, context, params.get("key_spec"), params.get("number_of_bytes")
        )
        result: Params = {"ciphertext_blob": blob, "key_id": ref.arn}
        if with_plaintext:
            result["plaintext"] = plaintext
        return result
