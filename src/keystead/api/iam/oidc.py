"""IAM OIDC identity providers: the issuers AssumeRoleWithWebIdentity trusts.

[IAM:id_roles_providers_create_oidc] ARN `arn:aws:iam::<acct>:oidc-provider/<host/path>`; one per
URL per account; up to 100 client ids and 5 thumbprints (40 hex). The URL must be https, except
that http is accepted for loopback issuers (docs/compatibility.md).
"""

from __future__ import annotations

import json
from typing import Any

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import IamDeps, Params, Result, change, read
from keystead.errors import EntityAlreadyExistsError, InvalidInputError, LimitExceededError, NoSuchEntityError
from keystead.identity.iam import naming
from keystead.identity.oidc import allowed_issuer_url, provider_path
from keystead.storage import Tx
from keystead.storage.rows import OidcProviderRow

RESOURCE_TYPE = "AWS::IAM::OIDCProvider"
MAX_CLIENT_IDS = 100
MAX_THUMBPRINTS = 5


def _not_found(arn: str) -> NoSuchEntityError:
    return NoSuchEntityError(f"OpenIDConnect Provider not found for arn {arn}")


def _resource(arn: str, account_id: str) -> ResourceAccess:
    return ResourceAccess(arn, account_id, RESOURCE_TYPE, context={"aws:ResourceAccount": account_id})


def _check_lists(client_ids: list[str], thumbprints: list[str]) -> None:
    if len(client_ids) > MAX_CLIENT_IDS:
        raise LimitExceededError(f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}")
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise LimitExceededError(f"Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: {MAX_THUMBPRINTS}")


class OidcProviders:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateOpenIDConnectProvider": Handler(self.create, read_only=False),
            "GetOpenIDConnectProvider": Handler(self.get, read_only=True),
            "ListOpenIDConnectProviders": Handler(self.list, read_only=True),
            "DeleteOpenIDConnectProvider": Handler(self.delete, read_only=False),
            "AddClientIDToOpenIDConnectProvider": Handler(self.add_client_id, read_only=False),
            "RemoveClientIDFromOpenIDConnectProvider": Handler(self.remove_client_id, read_only=False),
            "UpdateOpenIDConnectProviderThumbprint": Handler(self.update_thumbprint, read_only=False),
        }

    async def create(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        url = params["url"]
        if not allowed_issuer_url(url):
            raise InvalidInputError("Invalid provider url: it must begin with https://")
        arn = f"arn:aws:iam::{account}:oidc-provider/{provider_path(url)}"
        tags = naming.tag_map(params.get("tags"))
        await ctx.authorize("iam:CreateOpenIDConnectProvider", _resource(arn, account))
        client_ids = list(dict.fromkeys(params.get("client_id_list") or []))
        thumbprints = list(dict.fromkeys(params.get("thumbprint_list") or []))
        _check_lists(client_ids, thumbprints)
        row = OidcProviderRow(arn, account, url.rstrip("/"), json.dumps(client_ids), json.dumps(thumbprints),
                              self._deps.clock.now())

        def create(tx: Tx) -> Result:
            if not tx.insert_oidc_provider(row):
                raise EntityAlreadyExistsError(f"Provider with url {url} already exists.")
            tx.set_entity_tags(arn, tags)
            return {"open_id_connect_provider_arn": arn, "tags": naming_tags(tags)}

        return await change(self._deps, ctx, create)

    async def _authorized(self, ctx: RequestContext, action: str, arn: str) -> OidcProviderRow:
        await ctx.authorize(action, _resource(arn, ctx.principal.account_id))
        row = await read(self._deps, lambda tx: tx.get_oidc_provider(arn))
        if row is None or row.account_id != ctx.principal.account_id:
            raise _not_found(arn)
        return row  # type: ignore[no-any-return]

    async def get(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["open_id_connect_provider_arn"]
        row = await self._authorized(ctx, "iam:GetOpenIDConnectProvider", arn)
        tags = await read(self._deps, lambda tx: tx.entity_tags(arn))
        return {
            "url": provider_path(row.url), "client_id_list": json.loads(row.client_ids),
            "thumbprint_list": json.loads(row.thumbprints), "create_date": row.created_at,
            "tags": naming_tags(tags),
        }

    async def list(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListOpenIDConnectProviders", None)
        rows = await read(self._deps, lambda tx: tx.list_oidc_providers(ctx.principal.account_id))
        return {"open_id_connect_provider_list": [{"arn": row.provider_arn} for row in rows]}

    async def delete(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["open_id_connect_provider_arn"]
        await self._authorized(ctx, "iam:DeleteOpenIDConnectProvider", arn)
        return await change(self._deps, ctx, lambda tx: {} if tx.delete_oidc_provider(arn) else _raise(arn))

    async def add_client_id(self, ctx: RequestContext, params: Params) -> Result:
        return await self._edit_client_ids(ctx, params, "iam:AddClientIDToOpenIDConnectProvider", add=True)

    async def remove_client_id(self, ctx: RequestContext, params: Params) -> Result:
        return await self._edit_client_ids(ctx, params, "iam:RemoveClientIDFromOpenIDConnectProvider", add=False)

    async def _edit_client_ids(self, ctx: RequestContext, params: Params, action: str, *, add: bool) -> Result:
        arn = params["open_id_connect_provider_arn"]
        row = await self._authorized(ctx, action, arn)
        client_ids = [c for c in json.loads(row.client_ids) if c != params["client_id"]]
        if add:
            client_ids.append(params["client_id"])
        _check_lists(client_ids, [])
        return await change(self._deps, ctx, lambda tx: _update(tx, arn, client_ids=json.dumps(client_ids)))

    async def update_thumbprint(self, ctx: RequestContext, params: Params) -> Result:
        arn = params["open_id_connect_provider_arn"]
        await self._authorized(ctx, "iam:UpdateOpenIDConnectProviderThumbprint", arn)
        thumbprints = list(dict.fromkeys(params["thumbprint_list"]))
        _check_lists([], thumbprints)
        return await change(self._deps, ctx, lambda tx: _update(tx, arn, thumbprints=json.dumps(thumbprints)))


def naming_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": value} for key, value in tags.items()]


def _update(tx: Tx, arn: str, **values: Any) -> Result:
    if not tx.update_oidc_provider(arn, **values):
        raise _not_found(arn)
    return {}


def _raise(arn: str) -> Result:
    raise _not_found(arn)
