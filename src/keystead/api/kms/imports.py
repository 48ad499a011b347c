"""Imported key material: GetParametersForImport, ImportKeyMaterial, DeleteImportedKeyMaterial."""

from __future__ import annotations

from typing import Any

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.kms.common import KmsDeps, Params, Result, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.keystore.imports import check_external, material_terms
from keystead.keystore.keys import key_arn_of
from keystead.keystore.lifecycle_services import LifecycleServices


class KeyMaterialImport:
    def __init__(self, deps: KmsDeps, services: LifecycleServices) -> None:
        self._deps = deps
        self._imports = services.imports

    def handlers(self) -> Handlers:
        return {
            "GetParametersForImport": Handler(self.get_parameters_for_import, read_only=True),
            "ImportKeyMaterial": Handler(self.import_key_material, read_only=False),
            "DeleteImportedKeyMaterial": Handler(self.delete_imported_key_material, read_only=False),
        }

    async def get_parameters_for_import(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        algorithm, spec = params["wrapping_algorithm"], params["wrapping_key_spec"]
        await ctx.authorize(
            "kms:GetParametersForImport", key_resource(ref),
            {"kms:WrappingAlgorithm": algorithm, "kms:WrappingKeySpec": spec},
        )
        found = await run_blocking(self._imports.parameters, ref.key, algorithm, spec)
        return {
            "key_id": ref.arn,
            "import_token": found.import_token,
            "public_key": found.public_key,
            "parameters_valid_to": found.valid_to,
        }

    async def import_key_material(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        terms = material_terms(params.get("valid_to"), params.get("expiration_model"), ctx.call.event_time)
        extra: dict[str, str | list[str]] = {"kms:ExpirationModel": terms.expiration_model}
        if terms.valid_to is not None:
            extra["kms:ValidTo"] = str(int(terms.valid_to.timestamp()))
        await ctx.authorize("kms:ImportKeyMaterial", key_resource(ref), extra)
        check_external(ref.key)
        material = await run_blocking(
            self._imports.open_material, ref.key, params["import_token"], params["encrypted_key_material"]
        )

        def change(tx: Any) -> Result:
            key = self._imports.import_material(
                tx, ref.key.key_id, material, terms, params.get("import_type"), params.get("key_material_id")
            )
            assert key.current_material_id is not None
            return {"key_id": key_arn_of(key), "key_material_id": key.current_material_id.hex()}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def delete_imported_key_material(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        await ctx.authorize("kms:DeleteImportedKeyMaterial", key_resource(ref))

        def change(tx: Any) -> Result:
            key = self._imports.delete_material(tx, ref.key.key_id)
            material = key.current_material_id.hex() if key.current_material_id else ""
            return {"key_id": key_arn_of(key), "key_material_id": material}

        return await self._mutate(ctx, ref.key.key_id, change)

    async def _mutate(self, ctx: RequestContext, key_id: str, change: Any) -> Result:
        try:
            return await ctx.mutate(change)
        finally:
            self._deps.keys.forget(key_id)
