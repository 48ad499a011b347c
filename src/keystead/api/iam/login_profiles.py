"""Console passwords: login profiles, ChangePassword, and the account password policy.

Passwords are checked against the account's policy on every set and stored as argon2id hashes;
hashing is memory-hard and slow by design, so it runs off the event loop.
"""

from __future__ import annotations

from keystead.api.context import RequestContext
from keystead.api.handlers import Handler, Handlers
from keystead.api.iam.common import USER, IamDeps, Params, Result, authorized_entity, change, read, still_there
from keystead.blocking import run_blocking
from keystead.crypto.passwords import hash_password, verify_password
from keystead.errors import AccessDeniedError, EntityAlreadyExistsError, NoSuchEntityError
from keystead.identity.iam.lookup import require_user as lookup_user
from keystead.identity.iam.passwords import PasswordPolicy, check_password
from keystead.storage import Tx
from keystead.storage.rows import IamUserRow, LoginProfileRow


class LoginProfiles:
    def __init__(self, deps: IamDeps) -> None:
        self._deps = deps

    def handlers(self) -> Handlers:
        return {
            "CreateLoginProfile": Handler(self.create_login_profile, read_only=False),
            "GetLoginProfile": Handler(self.get_login_profile, read_only=True),
            "UpdateLoginProfile": Handler(self.update_login_profile, read_only=False),
            "DeleteLoginProfile": Handler(self.delete_login_profile, read_only=False),
            "ChangePassword": Handler(self.change_password, read_only=False),
            "GetAccountPasswordPolicy": Handler(self.get_account_password_policy, read_only=True),
            "UpdateAccountPasswordPolicy": Handler(self.update_account_password_policy, read_only=False),
            "DeleteAccountPasswordPolicy": Handler(self.delete_account_password_policy, read_only=False),
        }

    async def _user(self, ctx: RequestContext, action: str, params: Params) -> IamUserRow:
        name = params.get("user_name") or (ctx.principal.name if ctx.principal.type.value == "User" else None)
        if name is None:
            raise NoSuchEntityError("Must specify userName when calling with non-User credentials")
        return await authorized_entity(self._deps, ctx, USER, action, name)  # type: ignore[no-any-return]

    async def _hash(self, ctx: RequestContext, password: str) -> str:
        policy = await self._policy(ctx.principal.account_id)
        check_password(password, policy)
        return await run_blocking(hash_password, password)

    async def _policy(self, account: str) -> PasswordPolicy | None:
        text, _ = await read(self._deps, lambda tx: tx.account_settings(account))
        return None if text is None else PasswordPolicy.from_json(text)

    async def create_login_profile(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:CreateLoginProfile", params)
        password_hash = await self._hash(ctx, params.get("password") or "")
        row = LoginProfileRow(user.user_id, password_hash, self._deps.clock.now(),
                              bool(params.get("password_reset_required")))

        def create(tx: Tx) -> Result:
            still_there(tx, USER, user)
            if not tx.put_login_profile(row, replace=False):
                raise EntityAlreadyExistsError(f"Login Profile for user {user.user_name} already exists.")
            return {"login_profile": _view(user, row)}

        return await change(self._deps, ctx, create)

    async def get_login_profile(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:GetLoginProfile", params)
        row = await read(self._deps, lambda tx: tx.get_login_profile(user.user_id))
        if row is None:
            raise NoSuchEntityError(f"Login Profile for User {user.user_name} cannot be found.")
        return {"login_profile": _view(user, row)}

    async def update_login_profile(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:UpdateLoginProfile", params)
        password = params.get("password")
        password_hash = await self._hash(ctx, password) if password is not None else None
        reset = params.get("password_reset_required")

        def update(tx: Tx) -> Result:
            current = tx.get_login_profile(user.user_id)
            if current is None:
                raise NoSuchEntityError(f"Login Profile for User {user.user_name} cannot be found.")
            tx.put_login_profile(LoginProfileRow(
                user.user_id, password_hash or current.password_hash, current.created_at,
                current.password_reset_required if reset is None else bool(reset),
            ), replace=True)
            return {}

        return await change(self._deps, ctx, update)

    async def delete_login_profile(self, ctx: RequestContext, params: Params) -> Result:
        user = await self._user(ctx, "iam:DeleteLoginProfile", params)

        def delete(tx: Tx) -> Result:
            if not tx.delete_login_profile(user.user_id):
                raise NoSuchEntityError(f"Login Profile for User {user.user_name} cannot be found.")
            return {}

        return await change(self._deps, ctx, delete)

    async def change_password(self, ctx: RequestContext, params: Params) -> Result:
        principal = ctx.principal
        if principal.type.value != "User" or principal.name is None:
            raise AccessDeniedError("Only IAM users can change their own password with ChangePassword.")
        policy = await self._policy(principal.account_id)
        if policy is not None and policy.allow_users_to_change_password:
            # The account policy lets every user change their own password, no IAM policy needed.
            user = await read(self._deps, lookup_user, principal.account_id, principal.name)
        else:
            user = await authorized_entity(self._deps, ctx, USER, "iam:ChangePassword", principal.name)
        current = await read(self._deps, lambda tx: tx.get_login_profile(user.user_id))
        if current is None:
            raise NoSuchEntityError(f"Login Profile for User {user.user_name} cannot be found.")
        if not await run_blocking(verify_password, current.password_hash, params["old_password"]):
            raise AccessDeniedError("The old password is incorrect.")
        password_hash = await self._hash(ctx, params["new_password"])
        row = LoginProfileRow(user.user_id, password_hash, current.created_at, False)

        def write(tx: Tx) -> Result:
            still_there(tx, USER, user)
            tx.put_login_profile(row, replace=True)
            return {}

        return await change(self._deps, ctx, write)

    async def get_account_password_policy(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:GetAccountPasswordPolicy", None)
        policy = await self._policy(ctx.principal.account_id)
        if policy is None:
            raise NoSuchEntityError(
                f"The Password Policy with domain name {ctx.principal.account_id} cannot be found."
            )
        return {"password_policy": policy.as_result()}

    async def update_account_password_policy(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:UpdateAccountPasswordPolicy", None)
        policy = PasswordPolicy.from_params(params)
        account = ctx.principal.account_id
        return await change(self._deps, ctx, lambda tx: _set_policy(tx, account, policy.to_json()))

    async def delete_account_password_policy(self, ctx: RequestContext, params: Params) -> Result:
        await ctx.authorize("iam:DeleteAccountPasswordPolicy", None)
        account = ctx.principal.account_id

        def delete(tx: Tx) -> Result:
            if tx.account_settings(account)[0] is None:
                raise NoSuchEntityError(f"The account policy with name {account} cannot be found.")
            return _set_policy(tx, account, None)

        return await change(self._deps, ctx, delete)


def _set_policy(tx: Tx, account: str, text: str | None) -> Result:
    tx.set_account_settings(account, password_policy=text)
    return {}


def _view(user: IamUserRow, row: LoginProfileRow) -> Result:
    return {"user_name": user.user_name, "create_date": row.created_at,
            "password_reset_required": row.password_reset_required}

