"""Multi-Region keys: ReplicateKey and UpdatePrimaryRegion.

[KMS API:ReplicateKey] needs kms:ReplicateKey on the primary (key policy) and kms:CreateKey (and
kms:TagResource for tags) in IAM for the replica Region. [KMS API:UpdatePrimaryRegion] needs
kms:UpdatePrimaryRegion on the current primary and on the replica being promoted.
[KMS DG:multi-region-auth-slr] The first replica in an account creates KMS's service-linked role
AWSServiceRoleForKeyManagementServiceMultiRegionKeys, which needs iam:CreateServiceLinkedRole
(iam:AWSServiceName = mrk.kms.amazonaws.com); the role is written in the replica's transaction.
"""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import ROLE
from keystead.api.kms.common import KmsDeps, Params, Result, key_metadata, key_resource, resolve_key
from keystead.blocking import run_blocking
from keystead.errors import AlreadyExistsError, ConflictError, NotFoundError, TagError, UnsupportedOperationError, ValidationError
from keystead.identity.iam import service_linked
from keystead.keystore import multi_region, states
from keystead.keystore.keys import KeyRef, key_arn_of
from keystead.keystore.lifecycle import MAX_TAGS_PER_KEY, check_new_tags
from keystead.keystore.policies import default_key_policy
from keystead.storage import KeyReplicaRow, Tx
from keystead.storage.rows import IamRoleRow


def _ensure_role(tx: Tx, role: IamRoleRow | None, account_id: str) -> None:
    """Create the multi-Region service-linked role decided on before the transaction.

    Raises:
        ConflictError: the role was deleted after the caller was found not to need it (so
            iam:CreateServiceLinkedRole was never checked); a retry checks it.
    """
    spec = service_linked.SERVICE_LINKED_ROLES[service_linked.MULTI_REGION_KEYS_SERVICE]
    if role is not None:
        service_linked.install_role(tx, spec, role)  # False: created concurrently, which is as good
    elif not service_linked.role_exists(tx, spec, account_id):
        raise ConflictError("The multi-Region service-linked role changed concurrently; retry the request.")


class MultiRegionKeys:
    def __init__(self, deps: KmsDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "ReplicateKey": Handler(self.replicate_key, read_only=False),
            "UpdatePrimaryRegion": Handler(self.update_primary_region, read_only=False),
        }

    async def replicate_key(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        region = params["replica_region"]
        await ctx.authorize("kms:ReplicateKey", key_resource(ref), {"kms:ReplicaRegion": region})
        self._check_replicable(ref, region)
        tags = {t["tag_key"]: t["tag_value"] for t in params.get("tags") or []}
        check_new_tags(tags)
        if len(tags) > MAX_TAGS_PER_KEY:
            raise TagError(f"A KMS key can have at most {MAX_TAGS_PER_KEY} tags.")
        bypass = bool(params.get("bypass_policy_lockout_safety_check"))
        # The replica is created in its own Region: CreateKey (and TagResource) are IAM checks there.
        request_context: dict[str, str | list[str]] = {
            "kms:MultiRegion": "true", "kms:MultiRegionKeyType": multi_region.REPLICA,
            "kms:BypassPolicyLockoutSafetyCheck": "true" if bypass else "false",
        }
        if tags:
            request_context["aws:TagKeys"] = list(tags)
            request_context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        await ctx.authorize("kms:CreateKey", None, request_context)
        if tags:
            await ctx.authorize("kms:TagResource", None, request_context)
        policy = params.get("policy")
        if policy is not None:
            await self._deps.validate_key_policy(ctx, policy, None, bypass)
        role = await self._service_linked_role(ctx)
        replica = KeyReplicaRow(
            key_id=ref.key.key_id, region=region, account_id=ref.key.account_id,
            description=params.get("description") or "", policy=policy or default_key_policy(ref.key.account_id),
            key_state=states.ENABLED, creation_date=self._deps.keys.now(), tags=multi_region.encode_tags(tags),
            is_primary=False,
        )

        def create(tx: Tx) -> Result:
            if tx.get_key(ref.key.key_id) is None:
                raise NotFoundError(f"Key '{ref.arn}' does not exist")
            if not tx.insert_key_replica(replica):
                raise AlreadyExistsError(f"Replica key {key_arn_of(ref.key).replace(ref.key.region, region, 1)} "
                                         "already exists.")
            _ensure_role(tx, role, ref.key.account_id)
            return {}

        try:
            await ctx.mutate(create)
        finally:
            self._deps.keys.forget(ref.key.key_id)
            if role is not None and self._deps.iam_changed is not None:
                self._deps.iam_changed(ref.key.account_id)
        created = await self._deps.keys.ref(ref.key.key_id, region=region)
        if created is None:  # deleted between the write and this read: report what was written
            raise NotFoundError(f"Key '{ref.arn}' does not exist")
        ctx.resources.append(key_resource(created))
        return {
            "replica_key_metadata": key_metadata(created.key, created),
            "replica_policy": replica.policy,
            "replica_tags": [{"tag_key": k, "tag_value": v} for k, v in tags.items()],
        }

    async def _service_linked_role(self, ctx: RequestContext) -> IamRoleRow | None:
        """The multi-Region service-linked role to create with the replica, or None if the account
        has it; creating it needs iam:CreateServiceLinkedRole.

        Raises:
            AccessDeniedError: the role is missing and the caller may not create it.
        """
        spec = service_linked.SERVICE_LINKED_ROLES[service_linked.MULTI_REGION_KEYS_SERVICE]
        account = ctx.principal.account_id

        def exists() -> bool:
            with ctx.db.reader() as tx:
                return service_linked.role_exists(tx, spec, account)

        if await run_blocking(exists):
            return None
        await ctx.authorize(
            "iam:CreateServiceLinkedRole", ROLE.resource_at(account, spec.path, spec.role_name),
            {"iam:AWSServiceName": spec.service},
        )
        return service_linked.new_role_row(spec, account, self._deps.keys.now())

    def _check_replicable(self, ref: KeyRef, region: str) -> None:
        if ref.multi_region_key_type is None:
            raise UnsupportedOperationError(f"{ref.arn} is not a multi-Region key.")
        if ref.multi_region_key_type != multi_region.PRIMARY:
            raise UnsupportedOperationError(f"{ref.arn} is not a multi-Region primary key.")
        if ref.key.origin != "AWS_KMS":
            raise UnsupportedOperationError(f"Replicating keys with origin {ref.key.origin} is not supported.")
        if ref.key.key_state in (
            states.PENDING_DELETION, states.PENDING_REPLICA_DELETION, states.PENDING_IMPORT
        ):
            states.check_usable(ref.arn, ref.key.key_state)
        if region not in self._deps.regions:
            raise UnsupportedOperationError(f"Region {region} is not served by this server.")
        if region == ref.key.region:
            raise ValidationError(f"The replica region {region} must differ from the primary key's region.")

    async def update_primary_region(self, ctx: RequestContext, params: Params) -> Result:
        ref = await resolve_key(self._deps, ctx, params["key_id"], allow_alias=False)
        region = params["primary_region"]
        await ctx.authorize("kms:UpdatePrimaryRegion", key_resource(ref), {"kms:PrimaryRegion": region})
        if ref.multi_region_key_type is None:
            raise UnsupportedOperationError(f"{ref.arn} is not a multi-Region key.")
        if ref.multi_region_key_type != multi_region.PRIMARY:
            raise UnsupportedOperationError(f"{ref.arn} is not a multi-Region primary key.")
        target = await self._deps.keys.ref(ref.key.key_id, region=region)
        if target is None:
            raise NotFoundError(f"Key '{key_arn_of(ref.key).replace(ref.key.region, region, 1)}' does not exist")
        if region == ref.key.region:
            return {}  # already the primary
        await ctx.authorize("kms:UpdatePrimaryRegion", key_resource(target), {"kms:PrimaryRegion": region})
        for key in (ref, target):
            states.check_can_change_enablement(key.arn, key.key.key_state)

        def swap(tx: Tx) -> Result:
            home = tx.get_key(ref.key.key_id)
            if home is None:
                raise NotFoundError(f"Key '{ref.arn}' does not exist")
            multi_region.promote(tx, home, tx.list_key_replicas(home.key_id), region)
            return {}

        try:
            return await ctx.mutate(swap)
        finally:
            self._deps.keys.forget(ref.key.key_id)
