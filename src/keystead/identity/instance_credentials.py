"""Role credentials for an instance profile, issued the way EC2 issues them to an instance.

[IAM:id_roles_use_switch-role-ec2] EC2 assumes the profile's role on the instance's behalf: the
role's trust policy must allow the service principal `ec2.amazonaws.com` to `sts:AssumeRole`; the
session is named after the instance id, so the caller is
`arn:aws:sts::<acct>:assumed-role/<role>/<i-…>` and `aws:userid` is `<AROA…>:<i-…>`.
[EC2:instance-metadata-security-credentials] Credentials are rotated automatically and new ones are
available at least five minutes before the old ones expire: we keep one set per (account, profile,
instance) and issue a fresh set once fewer than REFRESH_BEFORE remain, or as soon as the profile
now holds another role or the role's trust policy changed.

The profile is looked up on every call (one indexed read, off the event loop), so a listener may
be declared before its profile exists, and removing the role from the profile stops delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from keystead import arn
from keystead.blocking import run_blocking
from keystead.clock import Clock
from keystead.errors import MalformedPolicyDocumentError
from keystead.identity.session_principals import role_session_principal
from keystead.identity.sessions import IssuedCredentials, SessionTokens
from keystead.policy import AuthzRequest, EvaluationInput, PolicyKind, PrincipalInfo, evaluate, parse_policy
from keystead.storage import Database
from keystead.storage.rows import IamRoleRow
from keystead.types import SessionInfo

EC2_SERVICE = "ec2.amazonaws.com"
# EC2 hands out instance credentials that live about six hours.
SESSION_LIFETIME = timedelta(hours=6)
REFRESH_BEFORE = timedelta(minutes=5)
TROUBLESHOOTING_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/RolesTroubleshooting.html"


@dataclass(frozen=True, slots=True)
class ProfileRole:
    """An instance profile as IMDS reports it, and its role (None: the profile holds none)."""

    profile_arn: str
    profile_id: str
    role: IamRoleRow | None
    role_tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class InstanceRoleCredentials:
    """What IMDS serves for the role: credentials, or why EC2 could not assume the role."""

    role_name: str
    issued_at: datetime
    credentials: IssuedCredentials | None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True, slots=True)
class _Cached:
    role_id: str
    trust_policy: str
    result: InstanceRoleCredentials


def instance_profile_arn(account_id: str, path: str, name: str) -> str:
    return f"arn:{arn.PARTITION}:iam::{account_id}:instance-profile{path}{name}"


def ec2_may_assume(role: IamRoleRow, instance_arn: str) -> bool:
    """Whether the role's trust policy lets EC2 assume it (the role's account is the source).

    Raises: nothing; a trust policy that no longer parses allows nothing.
    """
    try:
        trust = parse_policy(role.assume_role_policy, PolicyKind.TRUST, name="trust policy")
    except MalformedPolicyDocumentError:
        return False
    role_arn = arn.role_arn(role.account_id, role.path, role.role_name)
    context = {
        "aws:PrincipalServiceName": EC2_SERVICE,
        "aws:PrincipalIsAWSService": "true",
        "aws:SourceAccount": role.account_id,
        "aws:SourceArn": instance_arn,
        "sts:RoleSessionName": instance_arn.rsplit("/", 1)[1],
    }
    request = AuthzRequest(
        principal=PrincipalInfo(arn=EC2_SERVICE, account_id="", type="AWSService", service=EC2_SERVICE),
        action="sts:AssumeRole", resource=role_arn, context=context,
    )
    inp = EvaluationInput(request, resource_account=role.account_id, resource_policy=trust, resource_policy_strict=True)
    return evaluate(inp).allowed


class InstanceCredentials:
    """Issues and caches instance-profile role credentials; one per process."""

    def __init__(self, db: Database, sessions: SessionTokens, clock: Clock) -> None:
        self._db = db
        self._sessions = sessions
        self._clock = clock
        self._cache: dict[tuple[str, str, str], _Cached] = {}

    async def profile(self, account_id: str, profile_name: str) -> ProfileRole | None:
        """The profile by name and the role it holds now, or None when there is no such profile."""
        return await run_blocking(self._read_profile, account_id, profile_name)

    def _read_profile(self, account_id: str, profile_name: str) -> ProfileRole | None:
        with self._db.reader() as tx:
            row = tx.get_instance_profile(account_id, profile_name)
            if row is None:
                return None
            role = tx.get_iam_entity_by_id(IamRoleRow, row.role_id) if row.role_id is not None else None
            tags = tx.entity_tags(role.role_id) if role is not None else {}
        profile_arn = instance_profile_arn(account_id, row.path, row.instance_profile_name)
        return ProfileRole(profile_arn, row.instance_profile_id, role, tags)

    async def credentials(self, profile: ProfileRole, instance_id: str, region: str) -> InstanceRoleCredentials:
        """The role's current credentials for this instance, re-issued when due.

        Raises: nothing for a role EC2 may not assume: the answer then carries the failure.
        """
        role = profile.role
        assert role is not None, "only a profile holding a role has credentials"
        key = (role.account_id, profile.profile_id, instance_id)
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None and cached.role_id == role.role_id and cached.trust_policy == role.assume_role_policy:
            issued = cached.result.credentials
            if issued is None or issued.expiration - now > REFRESH_BEFORE:
                return cached.result
        result = await self._issue(profile, role, instance_id, region, now)
        self._cache[key] = _Cached(role.role_id, role.assume_role_policy, result)
        return result

    async def _issue(
        self, profile: ProfileRole, role: IamRoleRow, instance_id: str, region: str, now: datetime
    ) -> InstanceRoleCredentials:
        instance_arn = f"arn:{arn.PARTITION}:ec2:{region}:{role.account_id}:instance/{instance_id}"
        if not ec2_may_assume(role, instance_arn):
            message = f"EC2 cannot assume the role {role.role_name}.  Please see documentation at {TROUBLESHOOTING_URL}."
            return InstanceRoleCredentials(role.role_name, now, None, "AssumeRoleUnauthorizedAccess", message)
        session = SessionInfo(
            issuer_arn=arn.role_arn(role.account_id, role.path, role.role_name), issuer_id=role.role_id,
            session_name=instance_id, issued_at=now, expires_at=now + SESSION_LIFETIME,
        )
        principal = role_session_principal(
            role.account_id, role.role_name, role.path, role.role_id, session, profile.role_tags
        )
        return InstanceRoleCredentials(role.role_name, now, await self._sessions.issue(principal))
