"""Authorization cost with grants: flat from 10 to 50,000 grants on one key (DESIGN.md §7).

Plain script, in-process, no server:

    .venv/bin/python bench/grants_bench.py [--iterations N] [--sizes 10,100,1000,10000,50000]

For each size it stores that many grants on one key (one of them for the caller, the rest for
other principals), then times `PolicyAuthorizer.authorize` for a cross-account Encrypt whose key
policy does not allow the caller, so the grant source (in-memory index) must find the grant and
the engine must evaluate the key policy plus the grant. Prints microseconds per authorization.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from keystead.api.authorization import PolicyAuthorizer, RootOnlyIdentities
from keystead.api.context import RequestContext
from keystead.api.kms.common import key_resource
from keystead.api.kms.grant_source import KmsGrantSource
from keystead.audit.events import ApiCall
from keystead.clock import SystemClock
from keystead.crypto.keyring import Keyring
from keystead.identity.directory import PrincipalDirectory
from keystead.keystore.grant_service import GrantService
from keystead.keystore.grants import Grant, GrantConstraint, new_grant_id
from keystead.keystore.keys import KeyRef, key_arn_of
from keystead.storage import Database
from keystead.storage.testing import sample_account, sample_key
from keystead.types import NetworkContext, Principal, PrincipalType

OWNER, CALLER = "111122223333", "444455556666"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
CALLER_ARN = f"arn:aws:iam::{CALLER}:root"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
    "Action": "kms:*", "Resource": "*"}]})


def fill(db: Database, size: int) -> None:
    """`size` grants on the key: one for the caller (with a constraint), the rest for other users."""
    clock = SystemClock()
    with db.transaction() as tx:
        for n in range(size):
            grantee = CALLER_ARN if n == size // 2 else f"arn:aws:iam::{OWNER}:user/u{n}"
            grant = Grant(
                new_grant_id(), KEY_ID, "us-east-1", OWNER, grantee, ("Encrypt", "Decrypt"),
                constraint=GrantConstraint("EncryptionContextSubset", {"app": "bench"}),
                creation_date=clock.now(),
            )
            tx.insert_grant(grant.to_row())


def context_for(authorizer: PolicyAuthorizer, db: Database) -> RequestContext:
    principal = Principal(PrincipalType.ROOT, CALLER, CALLER_ARN, CALLER)
    call = ApiCall("bench", SystemClock().now(), "kms", "Encrypt", "us-east-1", NetworkContext("127.0.0.1"),
                   None, principal, True)
    return RequestContext(call=call, params={}, db=db, authorizer=authorizer)


async def measure(db: Database, iterations: int) -> float:
    grants = GrantService(db, Keyring({1: os.urandom(32)}), SystemClock())
    identities = RootOnlyIdentities()
    source = KmsGrantSource(grants, identities)
    authorizer = PolicyAuthorizer(identities, PrincipalDirectory(db), grants=source)
    with db.reader() as tx:
        key = tx.get_key(KEY_ID)
    assert key is not None
    resource = key_resource(KeyRef(key, key_arn_of(key)))
    extra: dict[str, str | list[str]] = {
        "kms:EncryptionContext:app": "bench", "kms:EncryptionContextKeys": ["app"]
    }
    ctx = context_for(authorizer, db)
    await authorizer.authorize(ctx, "kms:Encrypt", resource, extra)  # warm: loads the index once
    start = time.perf_counter()
    for _ in range(iterations):
        await authorizer.authorize(ctx, "kms:Encrypt", resource, extra)
    return (time.perf_counter() - start) / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--sizes", default="10,100,1000,10000,50000")
    args = parser.parse_args()
    print("| grants on the key | authorize (µs/call) |")
    print("|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
            db.migrate()
            with db.transaction() as tx:
                tx.insert_account(sample_account(OWNER))
                tx.insert_key(sample_key(KEY_ID, account_id=OWNER, policy=POLICY))
            fill(db, size)
            micros = asyncio.run(measure(db, args.iterations))
            db.dispose()
        print(f"| {size:,} | {micros:.1f} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
