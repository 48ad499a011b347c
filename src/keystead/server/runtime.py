"""Composition root: open the data directory and build every service from the settings."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from keystead.analysis import AccessAnalyzer
from keystead.api.access import AccessApi, access_routes
from keystead.api.cloudtrail import cloudtrail_handlers
from keystead.api.authorization import PolicyAuthorizer
from keystead.api.authorization_messages import DenialMessages
from keystead.api.ec2 import ec2_handlers
from keystead.api.iam import IamDeps, iam_handlers
from keystead.api.kms import KmsDeps, kms_handlers
from keystead.api.kms.grant_source import KmsGrantSource
from keystead.api.pipeline import Pipeline, Services
from keystead.api.sts import sts_handlers
from keystead.api.sts_common import StsDeps
from keystead.audit.digest import DigestWriter
from keystead.audit.trail import DEFAULT_DIGEST_INTERVAL, AuditTrail
from keystead.auth.sigv4 import SigV4Verifier
from keystead.clock import Clock, SystemClock
from keystead.config import Settings
from keystead.crypto.keyring import Keyring
from keystead.crypto.root_key import FileRootKeyProvider
from keystead.errors import ServerError
from keystead.identity.accounts import AccountService
from keystead.identity.authorization_messages import AuthorizationMessages
from keystead.identity.credentials import CredentialResolver
from keystead.identity.directory import PrincipalDirectory
from keystead.identity.sessions import SessionTokens
from keystead.identity.iam.mfa import MfaCodes
from keystead.identity.policies import IamPolicySource
from keystead.keystore.asymmetric import AsymmetricKeys
from keystead.keystore.endpoints import EndpointService
from keystead.keystore.grant_service import GrantService
from keystead.keystore.keys import KeyService
from keystead.keystore.lifecycle_services import LifecycleServices
from keystead.keystore.sweeps import KeySweeper
from keystead.protocol import load_codecs
from keystead.server.background import BackgroundTasks, record_service_event
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


def build_pipeline(runtime: Runtime, on_background: Callable[[BackgroundTasks], None] | None = None) -> Pipeline:
    """The request pipeline; `on_background` receives the periodic tasks that share its services."""
    settings = runtime.settings
    keys = KeyService(runtime.db, runtime.keyring, runtime.clock)
    lifecycle = LifecycleServices.build(runtime.db, keys, runtime.keyring, runtime.clock)
    if on_background is not None:
        sweeper = KeySweeper(
            runtime.db, keys, lifecycle.rotation, lifecycle.imports, runtime.clock, record_service_event
        )
        on_background(BackgroundTasks(sweeper, lifecycle.usage))
    endpoints = EndpointService(runtime.db, runtime.clock)
    identities = IamPolicySource(runtime.db)
    directory = PrincipalDirectory(runtime.db)
    sessions = SessionTokens(runtime.db, runtime.keyring, runtime.clock)
    credentials = CredentialResolver(runtime.db, runtime.keyring, runtime.clock, sessions=sessions)
    grants = GrantService(runtime.db, runtime.keyring, runtime.clock)
    messages = AuthorizationMessages(runtime.db, runtime.keyring, runtime.clock)
    authorizer = PolicyAuthorizer(
        identities, directory, grants=KmsGrantSource(grants, identities), endpoints=endpoints,
        denials=DenialMessages(messages),
    )
    services = Services(
        codecs=load_codecs(),
        handlers={
            "kms": kms_handlers(KmsDeps(
                keys, authorizer.validate_key_policy, asymmetric=AsymmetricKeys(keys, runtime.db, runtime.keyring),
                grants=grants, lifecycle=lifecycle, regions=settings.regions, iam_changed=identities.invalidate,
            )),
            "sts": sts_handlers(StsDeps(
                runtime.db, sessions, MfaCodes(runtime.db, runtime.keyring, runtime.clock), messages=messages
            )),
            "iam": iam_handlers(
                IamDeps(runtime.db, runtime.keyring, runtime.clock, credentials, identities, directory)
            ),
            "ec2": ec2_handlers(endpoints),
            "cloudtrail": cloudtrail_handlers(runtime.db),
        },
        verifier=SigV4Verifier(runtime.clock, timedelta(seconds=settings.max_clock_skew_seconds)),
        credentials=credentials,
        authorizer=authorizer,
        audit=AuditTrail(
            runtime.db, runtime.clock, DigestWriter(runtime.keyring),
            float(os.environ.get("KEYSTEAD_AUDIT_DIGEST_INTERVAL", DEFAULT_DIGEST_INTERVAL)),
        ),
        db=runtime.db,
        clock=runtime.clock,
        regions=settings.regions,
        extensions=access_routes(AccessApi(keys, AccessAnalyzer(runtime.db))),
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
