"""KMS ReEncrypt: decrypt under one key and encrypt under another without exposing the plaintext.

Needs kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the destination key, each with
its own encryption context and algorithm as condition keys, plus kms:ReEncryptOnSameKey.
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
from keystead.api.kms.crypto import decrypt_with, encrypt_under, key_for_ciphertext
from keystead.api.kms.dry_run import finish_dry_run, ignores_ciphertext
from keystead.errors import ValidationError
from keystead.keystore import states
from keystead.keystore.keys import KeyRef


class ReEncryption:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {"ReEncrypt": Handler(self.re_encrypt, read_only=True)}

    async def re_encrypt(self, ctx: RequestContext, params: Params) -> Result:
        named = await resolve_key(self._deps, ctx, params["source_key_id"]) if params.get("source_key_id") else None
        destination = await resolve_key(self._deps, ctx, params["destination_key_id"])
        if ignores_ciphertext(params):
            if named is None:
                raise ValidationError("SourceKeyId is required when DryRunModifiers includes IGNORE_CIPHERTEXT.")
            await self._authorize(ctx, params, named, destination)
            states.check_usable(named.arn, named.key.key_state)
            states.check_usable(destination.arn, destination.key.key_state)
            finish_dry_run(params)
        blob = params["ciphertext_blob"]
        source = await key_for_ciphertext(self._deps, blob, named, ctx.region)
        await self._authorize(ctx, params, source, destination)
        source_context = params.get("source_encryption_context") or {}
        plaintext, source_algorithm = await decrypt_with(
            self._deps, source, blob, source_context, params.get("source_encryption_algorithm"), "ReEncrypt"
        )
        new_blob, destination_algorithm = await encrypt_under(
            self._deps, destination, plaintext, params.get("destination_encryption_context") or {},
            params.get("destination_encryption_algorithm"), "ReEncrypt",
        )
        finish_dry_run(params)
        return {
            "ciphertext_blob": new_blob,
            "source_key_id": source.arn,
            "key_id": destination.arn,
            "source_encryption_algorithm": source_algorithm,
            "destination_encryption_algorithm": destination_algorithm,
        }

    @staticmethod
    async def _authorize(ctx: RequestContext, params: Params, source: KeyRef, destination: KeyRef) -> None:
        same = "true" if source.key.key_id == destination.key.key_id else "false"
        source_keys = encryption_context_keys(
            params.get("source_encryption_context") or {}, params.get("source_encryption_algorithm")
        )
        destination_keys = encryption_context_keys(
            params.get("destination_encryption_context") or {}, params.get("destination_encryption_algorithm")
        )
        await ctx.authorize("kms:ReEncryptFrom", key_resource(source), {**source_keys, "kms:ReEncryptOnSameKey": same})
        await ctx.authorize(
            "kms:ReEncryptTo", key_resource(destination), {**destination_keys, "kms:ReEncryptOnSameKey": same}
        )
