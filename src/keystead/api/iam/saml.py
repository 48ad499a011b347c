"""SAML identity providers: create, get, list, update, delete, and tag.

[IAM:id_roles_providers_create_saml][BM-IAM] A provider is `arn:aws:iam::<acct>:saml-provider/
<name>` holding the IdP's metadata document (checked by identity/iam/saml.py). Roles trust it
with `Principal.Federated = <provider ARN>` for sts:AssumeRoleWithSAML. Assertion encryption
(AssertionEncryptionMode=Required, AddPrivateKey) is not offered: such requests are refused.
"""

from __future__ import annotations

import uuid

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import IamDeps, Params, Result, change, paginate, read, request_tag_context, tag_list
from keystead.blocking import run_blocking
from keystead.errors import EntityAlreadyExistsError, InvalidInputError, NoSuchEntityError
from keystead.identity.iam import naming
from keystead.identity.iam.saml import parse_metadata
from keystead.storage import Tx
from keystead.storage.rows import SamlProviderRow

SAML_PROVIDER_TYPE = "AWS::IAM::SAMLProvider"
_UNSUPPORTED = ("add_private_key", "remove_private_key", "context_provider", "identity_center_instance_arn")


def _resource(arn: str, account: str, tags: dict[str, str] | None = None) -> ResourceAccess:
    context: dict[str, str | list[str]] = {"aws:ResourceAccount": account}
    context.update({f"aws:ResourceTag/{k}": v for k, v in (tags or {}).items()})
    return ResourceAccess(arn, account, SAML_PROVIDER_TYPE, context=context)


def _not_found(arn: str) -> NoSuchEntityError:
    return NoSuchEntityError(f"Manifest not found for arn {arn}")


def _refuse_encryption(params: Params) -> None:
    """Raises: InvalidInputError: SAML assertion encryption was asked for (not offered here)."""
    if params.get("assertion_encryption_mode") == "Required" or any(params.get(k) for k in _UNSUPPORTED):
        raise InvalidInputError("SAML assertion encryption and context providers are not supported by this server.")


class SamlProviders:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateSAMLProvider": Handler(self.create, read_only=False),
            "GetSAMLProvider": Handler(self.get, read_only=True),
            "ListSAMLProviders": Handler(self.list, read_only=True),
            "UpdateSAMLProvider": Handler(self.update, read_only=False),
            "DeleteSAMLProvider": Handler(self.delete, read_only=False),
            "TagSAMLProvider": Handler(self.tag, read_only=False),
            "UntagSAMLProvider": Handler(self.untag, read_only=False),
            "ListSAMLProviderTags": Handler(self.list_tags, read_only=True),
        }

    async def _authorized(self, ctx: RequestContext, action: str, arn: str) -> SamlProviderRow:
        account = ctx.principal.account_id

        def load(tx: Tx) -> tuple[SamlProviderRow | None, dict[str, str]]:
            row = tx.get_saml_provider(arn)
            return (row, tx.entity_tags(arn)) if row is not None and row.account_id == account else (None, {})

        row, tags = await read(self._deps, load)
        await ctx.authorize(action, _resource(arn, account, tags))
        if row is None:
            raise _not_found(arn)
        return row

    async def create(self, ctx: RequestContext, params: Params) -> Result:
        account, name = ctx.principal.account_id, params["name"]
        arn = f"arn:aws:iam::{account}:saml-provider/{name}"
        tags = naming.tag_map(params.get("tags"))
        extra = request_tag_context(tags) if tags else None
        await ctx.authorize("iam:CreateSAMLProvider", _resource(arn, account), extra)
        if tags:
            await ctx.authorize("iam:TagSAMLProvider", _resource(arn, account), extra)
        _refuse_encryption(params)
        document = params["saml_metadata_document"]
        metadata = await run_blocking(parse_metadata, document)
        row = SamlProviderRow(arn, account, name, str(uuid.uuid4()), document, self._deps.clock.now(),
                              metadata.valid_until)

        def create(tx: Tx) -> Result:
            if not tx.insert_saml_provider(row):
                raise EntityAlreadyExistsError(f"SAMLProvider {name} already exists.")
            tx.set_entity_tags(arn, tags)
            return {"saml_provider_arn": arn, "tags": tag_list(tags)}

        return await change(self._deps, ctx, create)

    async def get(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["saml_provider_arn"]
        row = await self._authorized(ctx, "iam:GetSAMLProvider", arn)
        tags = await read(self._deps, lambda tx: tx.entity_tags(arn))
        return {
            "saml_provider_uuid": row.provider_uuid, "saml_metadata_document": row.metadata_document,
            "create_date": row.created_at, "valid_until": row.valid_until, "tags": tag_list(tags),
            "assertion_encryption_mode": "Allowed",
        }

    async def list(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListSAMLProviders", None)
        rows = await read(self._deps, lambda tx: tx.list_saml_providers(ctx.principal.account_id))
        return {"saml_provider_list": [
            {"arn": r.provider_arn, "create_date": r.created_at, "valid_until": r.valid_until} for r in rows
        ]}

    async def update(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["saml_provider_arn"]
        await self._authorized(ctx, "iam:UpdateSAMLProvider", arn)
        _refuse_encryption(params)
        document = params.get("saml_metadata_document")
        if document is None:
            raise InvalidInputError("SAMLMetadataDocument is required.")
        metadata = await run_blocking(parse_metadata, document)

        def update(tx: Tx) -> Result:
            if not tx.update_saml_provider(arn, metadata_document=document, valid_until=metadata.valid_until):
                raise _not_found(arn)
            return {"saml_provider_arn": arn}

        return await change(self._deps, ctx, update)

    async def delete(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["saml_provider_arn"]
        await self._authorized(ctx, "iam:DeleteSAMLProvider", arn)

        def delete(tx: Tx) -> Result:
            if not tx.delete_saml_provider(arn):
                raise _not_found(arn)
            return {}

        return await change(self._deps, ctx, delete)

    async def tag(self, ctx: RequestContext, params: Params) -> Result:
        arn, tags = params["saml_provider_arn"], naming.tag_map(params["tags"])
        await self._authorized(ctx, "iam:TagSAMLProvider", arn)

        def tag(tx: Tx) -> Result:
            existing = tx.entity_tags(arn)
            naming.merged_tags(existing, tags)
            lowered = {k.lower() for k in tags}
            tx.remove_entity_tags(arn, [k for k in existing if k.lower() in lowered])
            tx.set_entity_tags(arn, tags)
            return {}

        return await change(self._deps, ctx, tag)

    async def untag(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["saml_provider_arn"]
        await self._authorized(ctx, "iam:UntagSAMLProvider", arn)
        lowered = {k.lower() for k in params["tag_keys"]}

        def untag(tx: Tx) -> Result:
            tx.remove_entity_tags(arn, [k for k in tx.entity_tags(arn) if k.lower() in lowered])
            return {}

        return await change(self._deps, ctx, untag)

    async def list_tags(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["saml_provider_arn"]
        await self._authorized(ctx, "iam:ListSAMLProviderTags", arn)
        tags = await read(self._deps, lambda tx: tx.entity_tags(arn))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}
