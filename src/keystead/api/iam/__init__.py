"""IAM operations (awsQuery, 2010-05-08), one module per operation group.

Each handler: look up → authorize (`iam:*` on the entity's ARN) → act → answer. `iam_handlers`
gathers every group; an operation of the model that is not listed here answers
UnsupportedOperation (signing certificates, SSH keys, credential reports).
"""

from __future__ import annotations

from keystead.api.handlers import Handlers
from keystead.api.iam.access_keys import AccessKeys
from keystead.api.iam.account import AccountOperations
from keystead.api.iam.attachments import Attachments
from keystead.api.iam.common import IamDeps
from keystead.api.iam.groups import Groups
from keystead.api.iam.inline_policies import InlinePolicies
from keystead.api.iam.instance_profiles import InstanceProfiles
from keystead.api.iam.login_profiles import LoginProfiles
from keystead.api.iam.managed_policies import ManagedPolicies
from keystead.api.iam.mfa import MfaDevices
from keystead.api.iam.oidc import OidcProviders
from keystead.api.iam.policy_tags import PolicyTags
from keystead.api.iam.roles import Roles
from keystead.api.iam.saml import SamlProviders
from keystead.api.iam.service_linked_roles import ServiceLinkedRoles
from keystead.api.iam.simulator import PolicySimulator
from keystead.api.iam.users import Users


def iam_handlers(deps: IamDeps) -> Handlers:
    """Every implemented IAM operation; a name claimed twice is a programming error."""
    handlers: Handlers = {}
    groups = (
        Users, AccessKeys, InlinePolicies, ManagedPolicies, Attachments, Groups, Roles, LoginProfiles,
        AccountOperations, OidcProviders,
        PolicySimulator, MfaDevices, ServiceLinkedRoles, SamlProviders, PolicyTags,
        InstanceProfiles,
    )
    for group in groups:
        for name, handler in group(deps).handlers().items():
            if name in handlers:
                raise RuntimeError(f"iam:{name} is registered twice")
            handlers[name] = handler
    return handlers


__all__ = ["IamDeps", "iam_handlers"]
