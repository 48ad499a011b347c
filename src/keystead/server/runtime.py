"""Composition root: open the data directory and build every service from the settings."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from keystead.api.authorization import PolicyAuthorizer, RootOnlyIdentities
from keystead.api.kms import KmsDeps, kms_handlers
from keystead.api.pipeline import Pipeline, Services
from keystead.api.sts import sts_handlers
from keystead.audit.trail import AuditTrail
from keystead.auth.sigv4 import SigV4Verifier
from keystead.clock import Clock, SystemClock
from keystead.config import Settings
from keystead.crypto.keyring import Keyring
from keystead.crypto.root_key import FileRootKeyProvider
from keystead.errors import ServerError
from keystead.identity.accounts import AccountService
from keystead.identity.credentials import CredentialResolver
from keystead.identity.directory import PrincipalDirectory
from keystead.keystore.keys import KeyService
from keystead.protocol import load_codecs
from keystead.storage import Database


class NotInitialisedError(ServerError):
    code = "NotInitialised"


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    keyring: Keyring
    clock: Clock

    def accounts(self) -> AccountService:
        return AccountService(self.db, self.keyring, self.clock)


def initialise(settings: Settings, clock: Clock | None = None) -> bool:
    """Create the data directory, root key, schema and first keyring term; idempotent.

    Returns True when something was created.
    """
    clock = clock or SystemClock()
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    provider = FileRootKeyProvider(settings.root_key_path, settings.root_key_passphrase)
    created = False
    if not provider.exists():
        provider.create()
        created = True
    root_key = provider.load()
    db = Database(settings.resolved_database_url)
    try:
        before = db.schema_version()
        db.migrate()
        created = created or before == 0
        with db.transaction() as tx:
            if not tx.keyring_terms():
                tx.insert_keyring_term(1, Keyring.seal_term(root_key, 1), clock.now())
                created = True
    finally:
        db.dispose()
    return created


def open_runtime(settings: Settings, clock: Clock | None = None) -> Runtime:
    """Open an initialised data directory.

    Raises:
        NotInitialisedError: `keystead init` has not been run for this data directory / database.
    """
    provider = FileRootKeyProvider(settings.root_key_path, settings.root_key_passphrase)
    if not settings.data_dir.is_dir() or not provider.exists():
        raise NotInitialisedError(
            f"{settings.data_dir} is not an initialised data directory; run `keystead init` first."
        )
    db = Database(settings.resolved_database_url)
    if db.schema_version() == 0:
        db.dispose()
        raise NotInitialisedError("The database has no schema; run `keystead init` first.")
    with db.reader() as tx:
        terms = tx.keyring_terms()
    keyring = Keyring.open(provider.load(), terms)
    return Runtime(settings, db, keyring, clock or SystemClock())


def build_pipeline(runtime: Runtime) -> Pipeline:
    settings = runtime.settings
    keys = KeyService(runtime.db, runtime.keyring, runtime.clock)
    authorizer = PolicyAuthorizer(RootOnlyIdentities(), PrincipalDirectory(runtime.db))
    services = Services(
        codecs=load_codecs(),
        handlers={
            "kms": kms_handlers(KmsDeps(keys, authorizer.validate_key_policy)),
            "sts": sts_handlers(),
            "iam": {},
        },
        verifier=SigV4Verifier(runtime.clock, timedelta(seconds=settings.max_clock_skew_seconds)),
        credentials=CredentialResolver(runtime.db, runtime.keyring, runtime.clock),
        authorizer=authorizer,
        audit=AuditTrail(runtime.db),
        db=runtime.db,
        clock=runtime.clock,
        regions=settings.regions,
    )
    return Pipeline(services)


def settings_from_env(environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
    """Settings for a worker process: `keystead serve` passes its flags through KEYSTEAD_* variables."""
    env = os.environ if environ is None else environ
    regions = tuple(r for r in env.get("KEYSTEAD_REGION", "us-east-1").replace(",", " ").split() if r)
    return Settings(
        data_dir=Path(env.get("KEYSTEAD_DATA_DIR", "./.keystead")),
        database_url=env.get("KEYSTEAD_DATABASE_URL") or None,
        host=env.get("KEYSTEAD_HOST", "127.0.0.1"),
        port=int(env.get("KEYSTEAD_PORT", "4599")),
        regions=regions or ("us-east-1",),
        workers=int(env.get("KEYSTEAD_WORKERS", "1")),
        max_clock_skew_seconds=int(env.get("KEYSTEAD_MAX_CLOCK_SKEW", "300")),
        root_key_passphrase=env.get("KEYSTEAD_ROOT_KEY_PASSPHRASE") or None,
    )
