"""Issuing long-term access keys for IAM users (and the root user), two at most per user.

The secret is returned once, to the caller of CreateAccessKey, and stored only wrapped under the
keyring with the IAM_SECRET_ACCESS_KEY purpose (the resolver needs it back to verify SigV4).
"""

from __future__ import annotations

from keystead.clock import Clock
from keystead.crypto.keyring import Keyring
from keystead.crypto.passwords import new_secret_access_key
from keystead.errors import LimitExceededError
from keystead.identity import ids
from keystead.identity.accounts import ACCESS_KEY_SECRET_PURPOSE
from keystead.storage import AccessKeyRow, Tx

MAX_KEYS_PER_USER = 2


def issue_access_key(
    tx: Tx, keyring: Keyring, clock: Clock, account_id: str, user_name: str | None
) -> tuple[AccessKeyRow, str]:
    """Create an active key for a user (None: the root user); returns the row and the secret.

    Raises:
        LimitExceededError: the user already has two keys.
    """
    if len(tx.list_access_keys(account_id, user_name)) >= MAX_KEYS_PER_USER:
        raise LimitExceededError(f"Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}")
    secret = new_secret_access_key()
    wrapped = keyring.wrap(secret.encode(), purpose=ACCESS_KEY_SECRET_PURPOSE)
    while True:
        row = AccessKeyRow(
            access_key_id=ids.new_access_key_id(),
            account_id=account_id,
            user_name=user_name,
            secret_wrapped=wrapped,
            status="Active",
            created_at=clock.now(),
        )
        if tx.insert_access_key(row):
            return row, secret
