"""KMS operations (awsJson1_1, TrentService). Each handler: resolve → authorize → act → answer.

Member names are snake_case here; protocol/ maps them to and from the wire.
"""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.blocking import run_blocking
from keystead.errors import (
    NotFoundError,
    ValidationError,
    UnsupportedOperationError,
)
from keystead.keystore import specs
from keystead.keystore.keys import KeyRef, KeyService, NewKeySpec, key_arn_of
from keystead.keystore.policies import DEFAULT_POLICY_NAME
from keystead.storage import KeyRow

KEY_RESOURCE_TYPE = "AWS::KMS::Key"
DEFAULT_LIST_LIMIT = 100


def key_resource(ref: KeyRef) -> ResourceAccess:
    """The key as authorization sees it, with the condition keys that describe it."""
    key = ref.key
    context: dict[str, str | list[str]] = {
        "aws:ResourceAccount": key.account_id,
        "kms:KeySpec": key.key_spec,
        "kms:KeyUsage": key.key_usage,
        "kms:KeyOrigin": key.origin,
        "kms:KeyManager": key.key_manager,
        "kms:MultiRegion": "true" if key.multi_region else "false",
    }
    for tag_key, tag_value in ref.tags.items():
        context[f"aws:ResourceTag/{tag_key}"] = tag_value
    if ref.alias_arn is not None:
        context["kms:RequestAlias"] = ref.alias_arn.split(":", 5)[5]
    return ResourceAccess(ref.arn, key.account_id, KEY_RESOURCE_TYPE, key.policy, context)


def key_metadata(key: KeyRow) -> dict[str, Any]:
    """DescribeKey's KeyMetadata for a key row."""
    return {
        "aws_account_id": key.account_id,
        "key_id": key.key_id,
        "arn": key_arn_of(key),
        "creation_date": key.creation_date,
        "enabled": key.key_state == "Enabled",
        "description": key.description,
        "key_usage": key.key_usage,
        "key_state": key.key_state,
        "deletion_date": key.deletion_date,
        "valid_to": key.valid_to,
        "origin": key.origin,
        "expiration_model": key.expiration_model,
        "key_manager": key.key_manager,
        "customer_master_key_spec": key.key_spec,
        "key_spec": key.key_spec,
        "encryption_algorithms": specs.encryption_algorithms(key.key_spec, key.key_usage),
        "multi_region": key.multi_region,
        "pending_deletion_window_in_days": key.pending_window_days,
        "current_key_material_id": key.current_material_id.hex() if key.current_material_id else None,
    }


class KmsOperations:
    def __init__(self, keys: KeyService, validate_key_policy: Any) -> None:
        self._keys = keys
        # validate_key_policy(ctx, text, key: ResourceAccess | None, bypass_lockout) -> None: the
        # policy engine's check, injected so this module does not care how policies are parsed.
        self._validate_policy = validate_key_policy

    def handlers(self) -> Handlers:
        ops = {
            "CreateKey": (self.create_key, False),
            "DescribeKey": (self.describe_key, True),
            "ListKeys": (self.list_keys, True),
            "Encrypt": (self.encrypt, True),
            "Decrypt": (self.decrypt, True),
            "GenerateDataKey": (self.generate_data_key, True),
            "GenerateDataKeyWithoutPlaintext": (self.generate_data_key_without_plaintext, True),
            "EnableKey": (self.enable_key, False),
            "DisableKey": (self.disable_key, False),
            "GetKeyPolicy": (self.get_key_policy, True),
            "PutKeyPolicy": (self.put_key_policy, False),
            "ListKeyPolicies": (self.list_key_policies, True),
        }
        return {name: Handler(fn, read_only) for name, (fn, read_only) in ops.items()}

    async def _key(self, ctx: RequestContext, params: dict[str, Any], *, allow_alias: bool = True) -> KeyRef:
        return await self._keys.resolve(
            params["key_id"], account_id=ctx.principal.account_id, region=ctx.region, allow_alias=allow_alias
        )

    # --- key management ------------------------------------------------------------------------

    async def create_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        tags = {t["tag_key"]: t["tag_value"] for t in params.get("tags") or []}
        request_context: dict[str, str | list[str]] = {
            "kms:KeySpec": params.get("key_spec") or params.get("customer_master_key_spec") or "SYMMETRIC_DEFAULT",
            "kms:KeyUsage": params.get("key_usage") or "ENCRYPT_DECRYPT",
            "kms:KeyOrigin": params.get("origin") or "AWS_KMS",
            "kms:MultiRegion": "true" if params.get("multi_region") else "false",
            "kms:BypassPolicyLockoutSafetyCheck":
                "true" if params.get("bypass_policy_lockout_safety_check") else "false",
        }
        if tags:
            request_context["aws:TagKeys"] = list(tags)
            request_context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        await ctx.authorize("kms:CreateKey", None, request_context)
        if tags:
            await ctx.authorize("kms:TagResource", None, request_context)
        if params.get("custom_key_store_id") or params.get("xks_key_id"):
            raise UnsupportedOperationError("Custom key stores are not supported by this server.")
        policy = params.get("policy")
        account = ctx.principal.account_id
        if policy is not None:
            await self._validate_policy(ctx, policy, None, bool(params.get("bypass_policy_lockout_safety_check")))
        spec = NewKeySpec(
            account_id=account,
            region=ctx.region,
            policy=policy,
            description=params.get("description") or "",
            key_spec=params.get("key_spec") or params.get("customer_master_key_spec") or specs.SYMMETRIC_DEFAULT,
            key_usage=params.get("key_usage"),
            origin=params.get("origin") or "AWS_KMS",
            tags=tags,
            multi_region=bool(params.get("multi_region")),
        )
        if spec.origin != "AWS_KMS":
            raise UnsupportedOperationError(f"Origin {spec.origin} is not supported by this server yet.")
        if spec.multi_region:
            raise UnsupportedOperationError("Multi-Region keys are not supported by this server yet.")

        def create(tx: Any) -> dict[str, Any]:
            key = self._keys.create_key(tx, spec)
            ctx.resources.append(key_resource(KeyRef(key, key_arn_of(key), tags=tags)))
            return {"key_metadata": key_metadata(key)}

        return await ctx.mutate(create)

    async def describe_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = await self._key(ctx, params)
        await ctx.authorize("kms:DescribeKey", key_resource(ref))
        return {"key_metadata": key_metadata(ref.key)}

    async def list_keys(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        await ctx.authorize("kms:ListKeys")
        limit = params.get("limit") or DEFAULT_LIST_LIMIT
        rows, marker = await run_blocking(
            self._keys.list_keys, ctx.principal.account_id, ctx.region, limit=limit, marker=params.get("marker")
        )
        return {
            "keys": [{"key_id": row.key_id, "key_arn": key_arn_of(row)} for row in rows],
            "next_marker": marker,
            "truncated": marker is not None,
        }

    async def enable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._set_enabled(ctx, params, True)

    async def disable_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._set_enabled(ctx, params, False)

    async def _set_enabled(self, ctx: RequestContext, params: dict[str, Any], enabled: bool) -> dict[str, Any]:
        ref = await self._key(ctx, params, allow_alias=False)
        await ctx.authorize("kms:EnableKey" if enabled else "kms:DisableKey", key_resource(ref))

        def change(tx: Any) -> dict[str, Any]:
            self._keys.set_enabled(tx, ref.key.key_id, enabled)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._keys.forget(ref.key.key_id)

    # --- key policies --------------------------------------------------------------------------

    async def get_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = await self._key(ctx, params, allow_alias=False)
        await ctx.authorize("kms:GetKeyPolicy", key_resource(ref))
        _check_policy_name(params.get("policy_name"))
        return {"policy": ref.key.policy, "policy_name": DEFAULT_POLICY_NAME}

    async def put_key_policy(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = await self._key(ctx, params, allow_alias=False)
        resource = key_resource(ref)
        bypass = bool(params.get("bypass_policy_lockout_safety_check"))
        await ctx.authorize(
            "kms:PutKeyPolicy", resource, {"kms:BypassPolicyLockoutSafetyCheck": "true" if bypass else "false"}
        )
        _check_policy_name(params.get("policy_name"))
        policy = params["policy"]
        await self._validate_policy(ctx, policy, resource, bypass)

        def change(tx: Any) -> dict[str, Any]:
            self._keys.put_policy(tx, ref.key.key_id, policy)
            return {}

        try:
            return await ctx.mutate(change)
        finally:
            self._keys.forget(ref.key.key_id)

    async def list_key_policies(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = await self._key(ctx, params, allow_alias=False)
        await ctx.authorize("kms:ListKeyPolicies", key_resource(ref))
        return {"policy_names": [DEFAULT_POLICY_NAME], "truncated": False}

    # --- cryptography --------------------------------------------------------------------------

    async def encrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref = await self._key(ctx, params)
        context = params.get("encryption_context") or {}
        algorithm = params.get("encryption_algorithm")
        await ctx.authorize("kms:Encrypt", key_resource(ref), _context_keys(context, algorithm))
        blob = await self._keys.encrypt(ref, params["plaintext"], context, algorithm)
        return {"ciphertext_blob": blob, "key_id": ref.arn, "encryption_algorithm": "SYMMETRIC_DEFAULT"}

    async def decrypt(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        expected = await self._key(ctx, params) if params.get("key_id") else None
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
        ref = await self._keys.key_for_blob(blob, expected)
        await ctx.authorize("kms:Decrypt", key_resource(ref), _context_keys(context, algorithm))
        plaintext = await self._keys.decrypt(ref, blob, context, algorithm)
        return {
            "key_id": ref.arn,
            "plaintext": plaintext,
            "encryption_algorithm": "SYMMETRIC_DEFAULT",
            "key_material_id": None,
        }

    async def generate_data_key(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return await self._data_key(ctx, params, "kms:GenerateDataKey", with_plaintext=True)

    async def generate_data_key_without_plaintext(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return await self._data_key(ctx, params, "kms:GenerateDataKeyWithoutPlaintext", with_plaintext=False)

    async def _data_key(
        self, ctx: RequestContext, params: dict[str, Any], action: str, *, with_plaintext: bool
    ) -> dict[str, Any]:
        ref = await self._key(ctx, params)
        context = params.get("encryption_context") or {}
        await ctx.authorize(action, key_resource(ref), _context_keys(context))
        plaintext, blob = await self._keys.generate_data_key(
            ref, context, params.get("key_spec"), params.get("number_of_bytes")
        )
        result: dict[str, Any] = {"ciphertext_blob": blob, "key_id": ref.arn}
        if with_plaintext:
            result["plaintext"] = plaintext
        return result


def _check_policy_name(name: str | None) -> None:
    if name is not None and name != DEFAULT_POLICY_NAME:
        raise NotFoundError(f"No such policy exists: {name}")


def _context_keys(context: dict[str, str], algorithm: str | None = None) -> dict[str, str | list[str]]:
    """The kms:EncryptionContext* and kms:EncryptionAlgorithm condition keys of a request."""
    keys: dict[str, str | list[str]] = {f"kms:EncryptionContext:{k}": v for k, v in context.items()}
    keys["kms:EncryptionContextKeys"] = list(context)
    keys["kms:EncryptionAlgorithm"] = algorithm or "SYMMETRIC_DEFAULT"
    return keys


def unsupported(service: str, operation: str) -> Handler:
    async def refuse(ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        raise UnsupportedOperationError(f"{operation} is not supported by this server yet.")

    return Handler(refuse, read_only=True)

