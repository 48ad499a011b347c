"""`Tx`: one database transaction, with every repository method on it.

The methods are grouped by subject in mixins (identity, keys, aliases and audit) so that each
module stays small; `Tx` is the one type the services see. Obtain one from
`Database.transaction()` (read-write) or `Database.reader()` (read-only snapshot).
"""

from __future__ import annotations

from keystead.storage.aliases_audit_repo import AliasRepository
from keystead.storage.audit_chain_repo import AuditChainRepository
from keystead.storage.grants_repo import GrantRepository
from keystead.storage.iam_extras_repo import IamExtrasRepository
from keystead.storage.iam_policies_repo import IamPolicyRepository
from keystead.storage.iam_repo import IamRepository
from keystead.storage.instance_profiles_repo import InstanceProfileRepository
from keystead.storage.identity_repo import IdentityRepository
from keystead.storage.key_replicas_repo import KeyReplicaRepository
from keystead.storage.keys_repo import KeyRepository
from keystead.storage.kms_lifecycle_repo import KmsLifecycleRepository
from keystead.storage.sts_repo import StsRepository
from keystead.storage.vpc_endpoints_repo import VpcEndpointRepository


class Tx(
    IdentityRepository,
    KeyRepository,
    AliasRepository,
    AuditChainRepository,  # extends AuditRepository: every append also extends the hash chain
    VpcEndpointRepository,
    GrantRepository,
    KmsLifecycleRepository,
    IamRepository,
    IamPolicyRepository,
    StsRepository,
    IamExtrasRepository,
    InstanceProfileRepository,
    KeyReplicaRepository,
):
    """A transaction. Unique-key clashes are a False from `insert_*`; lost races raise ConflictError.

    A database failure inside the block aborts the transaction; it reaches the caller as a
    `StorageError` once it leaves the `with` block (code inside the block should not catch it).
    """

    __slots__ = ()
