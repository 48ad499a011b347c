"""Virtual MFA devices: create (seed + QR code shown once), enable for a user with two
consecutive codes, resynchronise, deactivate, delete, list, get, and tag.

[IAM:id_credentials_mfa_enable_virtual][BM-IAM] The device is an entity of its own
(`arn:aws:iam::<acct>:mfa<path><name>`, its serial number); enabling assigns it to one user.
Codes are checked in the server (identity/iam/mfa.py); a user may have up to 8 MFA devices.
"""

from __future__ import annotations

from keystead.api.context import RequestContext, ResourceAccess
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import (
    USER, IamDeps, Params, Result, authorized_entity, change, paginate, read, request_tag_context, tag_list,
)
from keystead.blocking import run_blocking
from keystead.errors import (
    DeleteConflictError, EntityAlreadyExistsError, InvalidAuthenticationCodeError, LimitExceededError,
    NoSuchEntityError,
)
from keystead.identity.iam import naming
from keystead.identity.iam.mfa import MfaCodes, consecutive_codes_step, new_seed, provisioning_uri, qr_code_png
from keystead.storage import Tx
from keystead.storage.rows import IamUserRow, MfaDeviceRow

MAX_DEVICES_PER_USER = 8


def _missing(serial: str) -> NoSuchEntityError:
    return NoSuchEntityError(f"MFA Device with serial number {serial} does not exist.")


def _device_resource(account: str, serial: str, tags: dict[str, str] | None = None) -> ResourceAccess:
    context: dict[str, str | list[str]] = {"aws:ResourceAccount": account}
    context.update({f"aws:ResourceTag/{k}": v for k, v in (tags or {}).items()})
    return ResourceAccess(serial, account, naming.MFA_TYPE, context=context)


def _device(tx: Tx, account: str, serial: str) -> MfaDeviceRow:
    """Raises: NoSuchEntityError: no such device in the account."""
    device = tx.get_mfa_device(serial)
    if device is None or device.account_id != account:
        raise _missing(serial)
    return device


class MfaDevices:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps
        self._codes = MfaCodes(deps.db, deps.keyring, deps.clock)

    def handlers(self) -> Handlers:
        return {
            "CreateVirtualMFADevice": Handler(self.create_virtual_mfa_device, read_only=False),
            "EnableMFADevice": Handler(self.enable_mfa_device, read_only=False),
            "ResyncMFADevice": Handler(self.resync_mfa_device, read_only=False),
            "DeactivateMFADevice": Handler(self.deactivate_mfa_device, read_only=False),
            "DeleteVirtualMFADevice": Handler(self.delete_virtual_mfa_device, read_only=False),
            "ListMFADevices": Handler(self.list_mfa_devices, read_only=True),
            "ListVirtualMFADevices": Handler(self.list_virtual_mfa_devices, read_only=True),
            "GetMFADevice": Handler(self.get_mfa_device, read_only=True),
            "TagMFADevice": Handler(self.tag_mfa_device, read_only=False),
            "UntagMFADevice": Handler(self.untag_mfa_device, read_only=False),
            "ListMFADeviceTags": Handler(self.list_mfa_device_tags, read_only=True),
        }

    async def _user(self, ctx: RequestContext, action: str, name: str | None) -> IamUserRow | None:
        """The user meant (None: the root user, who has no IAM user entity), after authorizing."""
        principal = ctx.principal
        if name is None:
            if principal.is_root:
                await ctx.authorize(action, None)
                return None
            if principal.name is None or principal.type.value != "User":
                raise NoSuchEntityError("Must specify userName when calling with non-User credentials")
            name = principal.name
        user: IamUserRow = await authorized_entity(self._deps, ctx, USER, action, name)
        return user

    async def _named_user(self, ctx: RequestContext, action: str, name: str) -> IamUserRow:
        user: IamUserRow = await authorized_entity(self._deps, ctx, USER, action, name)
        return user

    async def _authorized_device(self, ctx: RequestContext, action: str, serial: str) -> MfaDeviceRow:
        account = ctx.principal.account_id

        def load(tx: Tx) -> tuple[MfaDeviceRow | None, dict[str, str]]:
            device = tx.get_mfa_device(serial)
            mine = device is not None and device.account_id == account
            return (device, tx.entity_tags(serial)) if mine else (None, {})

        device, tags = await read(self._deps, load)
        await ctx.authorize(action, _device_resource(account, serial, tags))
        if device is None:
            raise _missing(serial)
        return device

    async def create_virtual_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        account = ctx.principal.account_id
        name, path = params["virtual_mfa_device_name"], params.get("path") or "/"
        serial = naming.mfa_arn(account, path, name)
        tags = naming.tag_map(params.get("tags"))
        extra = request_tag_context(tags) if tags else None
        await ctx.authorize("iam:CreateVirtualMFADevice", _device_resource(account, serial), extra)
        if tags:
            await ctx.authorize("iam:TagMFADevice", _device_resource(account, serial), extra)
        seed = new_seed()
        _, alias = await read(self._deps, lambda tx: tx.account_settings(account))
        png = await run_blocking(qr_code_png, provisioning_uri(seed, name, alias or account))
        row = MfaDeviceRow(serial, account, self._codes.wrap_seed(seed), None, None, self._deps.clock.now())

        def create(tx: Tx) -> Result:
            if not tx.insert_mfa_device(row):
                raise EntityAlreadyExistsError("MFADevice entity at the same path and name already exists.")
            tx.set_entity_tags(serial, tags)
            return {}

        await change(self._deps, ctx, create)
        # The seed leaves the server once, here, and never enters the audit record.
        device: Result = {"serial_number": serial, "base32_string_seed": seed.encode(), "qr_code_png": png}
        if tags:
            device["tags"] = tag_list(tags)
        return {"virtual_mfa_device": device}

    async def enable_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._named_user(ctx, "iam:EnableMFADevice", params["user_name"])
        serial, now = params["serial_number"], self._deps.clock.now()

        def enable(tx: Tx) -> Result:
            device = _device(tx, user.account_id, serial)
            if device.user_id is not None:
                raise EntityAlreadyExistsError("MFA Device is already in use.")
            if len(tx.list_mfa_devices(user.account_id, user.user_id)) >= MAX_DEVICES_PER_USER:
                raise LimitExceededError(f"Cannot exceed quota for MFADevicesPerUser: {MAX_DEVICES_PER_USER}")
            seed = self._codes.seed_of(device.seed_wrapped)
            step = consecutive_codes_step(seed, params["authentication_code1"], params["authentication_code2"], now)
            tx.update_mfa_device(serial, user_id=user.user_id, enabled_at=now, last_counter=step)
            return {}

        return await change(self._deps, ctx, enable)

    async def resync_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._named_user(ctx, "iam:ResyncMFADevice", params["user_name"])
        serial, now = params["serial_number"], self._deps.clock.now()

        def resync(tx: Tx) -> Result:
            device = _device(tx, user.account_id, serial)
            if device.user_id != user.user_id:
                raise _missing(serial)
            seed = self._codes.seed_of(device.seed_wrapped)
            step = consecutive_codes_step(
                seed, params["authentication_code1"], params["authentication_code2"], now, after=device.last_counter
            )
            if not tx.advance_mfa_counter(serial, step):
                raise InvalidAuthenticationCodeError("Authentication code for device is not valid.")
            return {}

        return await change(self._deps, ctx, resync)

    async def deactivate_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:DeactivateMFADevice", params.get("user_name"))
        serial = params["serial_number"]
        account = ctx.principal.account_id

        def deactivate(tx: Tx) -> Result:
            device = _device(tx, account, serial)
            if user is None or device.user_id != user.user_id:
                raise _missing(serial)
            tx.update_mfa_device(serial, user_id=None, enabled_at=None)
            return {}

        return await change(self._deps, ctx, deactivate)

    async def delete_virtual_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        device = await self._authorized_device(ctx, "iam:DeleteVirtualMFADevice", params["serial_number"])

        def delete(tx: Tx) -> Result:
            current = _device(tx, device.account_id, device.serial_number)
            if current.user_id is not None:
                raise DeleteConflictError("MFA Device is still in use.")
            tx.delete_mfa_device(device.serial_number)
            return {}

        return await change(self._deps, ctx, delete)

    async def list_mfa_devices(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:ListMFADevices", params.get("user_name"))
        if user is None:
            return {"mfa_devices": [], "is_truncated": False}
        rows = await read(self._deps, lambda tx: tx.list_mfa_devices(user.account_id, user.user_id))
        page, more = paginate(rows, lambda r: r.serial_number, params)
        return {"mfa_devices": [_mfa_view(user, r) for r in page], **more}

    async def list_virtual_mfa_devices(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:ListVirtualMFADevices", None)
        status = params.get("assignment_status") or "Any"
        account = ctx.principal.account_id

        def load(tx: Tx) -> list[tuple[MfaDeviceRow, IamUserRow | None]]:
            rows = tx.list_mfa_devices(account)
            if status != "Any":
                rows = [r for r in rows if (r.user_id is not None) == (status == "Assigned")]
            return [(r, tx.get_iam_entity_by_id(IamUserRow, r.user_id) if r.user_id else None) for r in rows]

        rows = await read(self._deps, load)
        page, more = paginate(rows, lambda item: item[0].serial_number, params)
        return {"virtual_mfa_devices": [_virtual_view(d, u) for d, u in page], **more}

    async def get_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:GetMFADevice", params.get("user_name"))
        serial = params["serial_number"]
        device = await read(self._deps, _device, ctx.principal.account_id, serial)
        if user is None or device.user_id != user.user_id:
            raise _missing(serial)
        return {"user_name": user.user_name, "serial_number": serial, "enable_date": device.enabled_at}

    async def tag_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        tags = naming.tag_map(params["tags"])
        device = await self._authorized_device(ctx, "iam:TagMFADevice", params["serial_number"])

        def tag(tx: Tx) -> Result:
            existing = tx.entity_tags(device.serial_number)
            naming.merged_tags(existing, tags)
            lowered = {k.lower() for k in tags}
            tx.remove_entity_tags(device.serial_number, [k for k in existing if k.lower() in lowered])
            tx.set_entity_tags(device.serial_number, tags)
            return {}

        return await change(self._deps, ctx, tag)

    async def untag_mfa_device(self, ctx: RequestContext, params: Params) -> Result:
        device = await self._authorized_device(ctx, "iam:UntagMFADevice", params["serial_number"])
        lowered = {k.lower() for k in params["tag_keys"]}

        def untag(tx: Tx) -> Result:
            existing = tx.entity_tags(device.serial_number)
            tx.remove_entity_tags(device.serial_number, [k for k in existing if k.lower() in lowered])
            return {}

        return await change(self._deps, ctx, untag)

    async def list_mfa_device_tags(self, ctx: RequestContext, params: Params) -> Result:
        device = await self._authorized_device(ctx, "iam:ListMFADeviceTags", params["serial_number"])
        tags = await read(self._deps, lambda tx: tx.entity_tags(device.serial_number))
        page, more = paginate(list(tags.items()), lambda item: item[0], params)
        return {"tags": tag_list(dict(page)), **more}


def _mfa_view(user: IamUserRow, row: MfaDeviceRow) -> Result:
    return {"user_name": user.user_name, "serial_number": row.serial_number, "enable_date": row.enabled_at}


def _virtual_view(row: MfaDeviceRow, user: IamUserRow | None) -> Result:
    view: Result = {"serial_number": row.serial_number}
    if user is not None:
        view["user"] = {
            "path": user.path, "user_name": user.user_name, "user_id": user.user_id,
            "arn": USER.arn(user.account_id, user.path, user.user_name), "create_date": user.created_at,
        }
        view["enable_date"] = row.enabled_at
    return view

