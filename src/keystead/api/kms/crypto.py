"""KMS encryption: Encrypt, Decrypt and data keys, with symmetric and RSA keys, and DryRun.

Symmetric ciphertexts name their key, so Decrypt may omit KeyId; RSA-OAEP ciphertexts do not,
so Decrypt with an asymmetric key needs its KeyId (AWS API_Decrypt, "KeyId").
"""

from __future__ import annotations

from collections.abc import Mapping

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
from keystead.api.kms.dry_run import finish_dry_run, ignores_ciphertext
from keystead.errors import InvalidKeyUsageError, ValidationError
from keystead.keystore import specs, states
from keystead.keystore.asymmetric import check_usage
from keystead.keystore.keys import KeyRef

_MISSING_BLOB = (
    "1 validation error detected: Value null at 'ciphertextBlob' failed to satisfy constraint: "
    "Member must not be null"
)


async def encrypt_under(
    deps: KmsDeps, ref: KeyRef, plaintext: bytes, context: Mapping[str, str], algorithm: str | None,
    operation: str,
) -> tuple[bytes, str]:
    """Ciphertext under a symmetric or RSA key, and the algorithm used (Encrypt, ReEncrypt)."""
    if ref.key.key_spec == specs.SYMMETRIC_DEFAULT:
        return await deps.keys.encrypt(ref, plaintext, context, algorithm), specs.SYMMETRIC_DEFAULT
    return await deps.key_pairs.rsa_encrypt(ref, algorithm, plaintext, context, operation)


async def key_for_ciphertext(deps: KmsDeps, blob: bytes, named: KeyRef | None, region: str) -> KeyRef:
    """The key that can open `blob`: the named asymmetric key, or the key a symmetric blob names in `region`."""
    if named is not None and named.key.key_spec != specs.SYMMETRIC_DEFAULT:
        return named
    return await deps.keys.key_for_blob(blob, named, region)


async def decrypt_with(
    deps: KmsDeps, ref: KeyRef, blob: bytes, context: Mapping[str, str], algorithm: str | None, operation: str
) -> tuple[bytes, str]:
    """Plaintext of a symmetric or RSA ciphertext, and the algorithm used (Decrypt, ReEncrypt)."""
    if ref.key.key_spec == specs.SYMMETRIC_DEFAULT:
        return await deps.keys.decrypt(ref, blob, context, algorithm), specs.SYMMETRIC_DEFAULT
    return await deps.key_pairs.rsa_decrypt(ref, algorithm, blob, context, operation)


class SymmetricCrypto:
    """Encrypt, Decrypt, GenerateDataKey(WithoutPlaintext); the name predates RSA support."""

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
        blob, used = await encrypt_under(self._deps, ref, params["plaintext"], context, algorithm, "Encrypt")
        finish_dry_run(params)
        return {"ciphertext_blob": blob, "key_id": ref.arn, "encryption_algorithm": used}

    async def decrypt(self, ctx: RequestContext, params: Params) -> Result:
        named = await resolve_key(self._deps, ctx, params["key_id"]) if params.get("key_id") else None
        context = params.get("encryption_context") or {}
        algorithm = params.get("encryption_algorithm")
        condition_keys = encryption_context_keys(context, algorithm)
        if ignores_ciphertext(params):
            # Permissions only: without a ciphertext the key must be named.
            if named is None:
                raise ValidationError("KeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.")
            await ctx.authorize("kms:Decrypt", key_resource(named), condition_keys)
            states.check_usable(named.arn, named.key.key_state)
            finish_dry_run(params)
        blob = params.get("ciphertext_blob")
        if blob is None:
            # The model leaves it optional only for DryRun with IGNORE_CIPHERTEXT.
            raise ValidationError(_MISSING_BLOB)
        # A symmetric blob names its key: find it, authorize on it, then open the blob.
        ref = await key_for_ciphertext(self._deps, blob, named, ctx.region)
        await ctx.authorize("kms:Decrypt", key_resource(ref), condition_keys)
        plaintext, used = await decrypt_with(self._deps, ref, blob, context, algorithm, "Decrypt")
        finish_dry_run(params)
        return {"key_id": ref.arn, "plaintext": plaintext, "encryption_algorithm": used, "key_material_id": None}

    async def generate_data_key(self, ctx: RequestContext, params: Params) -> Result:
        return await self._data_key(ctx, params, "GenerateDataKey", with_plaintext=True)

    async def generate_data_key_without_plaintext(self, ctx: RequestContext, params: Params) -> Result:
        return await self._data_key(ctx, params, "GenerateDataKeyWithoutPlaintext", with_plaintext=False)

    async def _data_key(self, ctx: RequestContext, params: Params, operation: str, *, with_plaintext: bool) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"])
        context = params.get("encryption_context") or {}
        await ctx.authorize(f"kms:{operation}", key_resource(ref), encryption_context_keys(context))
        key_spec, number_of_bytes = params.get("key_spec"), params.get("number_of_bytes")
        if (key_spec is None) == (number_of_bytes is None):
            raise ValidationError("Please specify either number of bytes or key spec.")
        if ref.key.key_spec != specs.SYMMETRIC_DEFAULT:
            check_usage(ref, specs.ENCRYPT_DECRYPT, operation)
            raise InvalidKeyUsageError("You cannot generate a data key with an asymmetric CMK")
        plaintext, blob = await self._deps.keys.generate_data_key(ref, context, key_spec, number_of_bytes)
        finish_dry_run(params)
        result: Params = {"ciphertext_blob": blob, "key_id": ref.arn}
        if with_plaintext:
            result["plaintext"] = plaintext
        return result
