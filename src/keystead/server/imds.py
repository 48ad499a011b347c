"""`--imds` listeners: an IMDSv2-compatible instance metadata service per declared instance.

[EC2:configuring-instance-metadata-service][EC2:instance-metadata-security-credentials] A client
first PUTs `/latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1..21600) and then
sends the token as `X-aws-ec2-metadata-token` with every GET; a GET without a valid token is 401
(IMDSv2 required; v1 is not served), a token PUT carrying X-Forwarded-For is refused (403), as
EC2 does to keep tokens from leaving the host. Tokens are HMACs over (expiry, listener port)
under a secret `keystead serve` hands its workers, so any worker accepts any worker's token.

Paths served: the directory listings, `meta-data/instance-id`, `meta-data/placement/{region,
availability-zone}`, `meta-data/iam/info`, `meta-data/iam/security-credentials/[<role>]` and
`dynamic/instance-identity/document`. Credentials come from `InstanceCredentials`, which looks the
profile up per request. Listeners share the main uvicorn server; the local port tells them apart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from keystead.clock import Clock
from keystead.identity.instance_credentials import InstanceCredentials, InstanceRoleCredentials
from keystead.identity.sessions import SessionTokens
from keystead.server.runtime import Runtime

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]

IMDS_ENV = "KEYSTEAD_IMDS_LISTENERS"  # serve -> workers: [{"host", "port", "account", "profile", "instance"}]
SECRET_ENV = "KEYSTEAD_IMDS_TOKEN_SECRET"
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
MAX_TTL = 21_600
_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$")
_PROFILE_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")
_TEXT = [(b"content-type", b"text/plain")]
_DIRECTORIES = {
    "/latest/": "dynamic\nmeta-data",
    "/latest/meta-data/": "iam/\ninstance-id\nplacement/",
    "/latest/meta-data/iam/": "info\nsecurity-credentials/",
    "/latest/meta-data/placement/": "availability-zone\nregion",
    "/latest/dynamic/": "instance-identity/",
    "/latest/dynamic/instance-identity/": "document",
}


class ImdsSpecError(ValueError):
    """An `--imds` value that cannot be used."""


@dataclass(frozen=True, slots=True)
class ImdsListener:
    host: str
    port: int
    account_id: str
    profile_name: str
    instance_id: str


def parse_imds(spec: str) -> ImdsListener:
    """Parse `listen=HOST:PORT,account=ID,instance-profile=NAME[,instance-id=ID]`.

    Without instance-id, a stable one is derived from the other parts (same flags, same id).

    Raises:
        ImdsSpecError: a malformed, missing or repeated part.
    """
    options: dict[str, str] = {}
    for part in (p.strip() for p in spec.split(",")):
        name, sep, value = part.partition("=")
        if not sep or name not in ("listen", "account", "instance-profile", "instance-id") or name in options:
            raise ImdsSpecError(f"--imds {spec!r}: unexpected {part!r}")
        options[name] = value
    listen = _LISTEN.match(options.get("listen", ""))
    if listen is None or not 0 < int(listen["port"]) < 65536:
        raise ImdsSpecError(f"--imds {spec!r}: listen= must be HOST:PORT")
    if re.fullmatch(r"\d{12}", options.get("account", "")) is None:
        raise ImdsSpecError(f"--imds {spec!r}: account= must be a 12-digit account id")
    if _PROFILE_NAME.match(options.get("instance-profile", "")) is None:
        raise ImdsSpecError(f"--imds {spec!r}: instance-profile= must be an instance profile name")
    host, port = listen["v6"] or listen["host"], int(listen["port"])
    instance_id = options.get("instance-id")
    if instance_id is None:
        seed = f"{options['account']}/{options['instance-profile']}/{host}:{port}".encode()
        instance_id = "i-" + hashlib.sha256(seed).hexdigest()[:17]
    elif _INSTANCE_ID.match(instance_id) is None:
        raise ImdsSpecError(f"--imds {spec!r}: instance-id= must look like i-0123456789abcdef0")
    return ImdsListener(host, port, options["account"], options["instance-profile"], instance_id)


def check_imds_ports(taken: Mapping[int, str], listeners: Sequence[ImdsListener]) -> None:
    """Raises ImdsSpecError when an IMDS listener reuses a port (the port tells listeners apart)."""
    seen = dict(taken)
    for listener in listeners:
        if listener.port in seen:
            raise ImdsSpecError(f"--imds: port {listener.port} is already used by {seen[listener.port]}")
        seen[listener.port] = f"the IMDS listener of {listener.instance_id}"


def export_imds(listeners: Sequence[ImdsListener]) -> None:
    """Hand the IMDS listeners and a fresh token secret to the worker processes."""
    table = [
        {"host": l.host, "port": l.port, "account": l.account_id, "profile": l.profile_name,
         "instance": l.instance_id}
        for l in listeners
    ]
    os.environ[IMDS_ENV] = json.dumps(table)
    os.environ.setdefault(SECRET_ENV, secrets.token_hex(32))


def imds_from_env(environ: Mapping[str, str] | None = None) -> list[ImdsListener]:
    env = os.environ if environ is None else environ
    return [
        ImdsListener(str(i["host"]), int(i["port"]), str(i["account"]), str(i["profile"]), str(i["instance"]))
        for i in json.loads(env.get(IMDS_ENV) or "[]")
    ]


class SessionTokenMinter:
    """IMDSv2 session tokens: `<expiry>.<port>.<mac>`, base64url, checked in constant time."""

    def __init__(self, secret: bytes, clock: Clock) -> None:
        self._secret = secret
        self._clock = clock

    def _mac(self, expiry: int, port: int) -> str:
        return hmac.new(self._secret, f"{expiry}.{port}".encode(), hashlib.sha256).hexdigest()

    def mint(self, port: int, ttl: int) -> str:
        expiry = int(self._clock.now().timestamp()) + ttl
        raw = f"{expiry}.{port}.{self._mac(expiry, port)}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def valid(self, token: str, port: int) -> bool:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            expiry_text, port_text, mac = raw.split(".")
            expiry, token_port = int(expiry_text), int(port_text)
        except (ValueError, UnicodeDecodeError):
            return False
        return (
            hmac.compare_digest(mac, self._mac(expiry, token_port)) and token_port == port and expiry > self._clock.now().timestamp()
        )


def _json(document: Mapping[str, Any]) -> bytes:
    # EC2 pretty-prints these documents with " : " between keys and values.
    return json.dumps(document, indent=2, separators=(",", " : ")).encode()


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(status: int, body: str) -> Answer:
    return status, body.encode(), list(_TEXT)


class ImdsService:
    """Answers the IMDS requests of the declared listeners."""

    def __init__(
        self, credentials: InstanceCredentials, minter: SessionTokenMinter, region: str, started: datetime
    ) -> None:
        self._credentials = credentials
        self._minter = minter
        self._region = region
        self._started = started

    async def answer(self, listener: ImdsListener, method: str, path: str, headers: Mapping[str, str]) -> Answer:
        if path == "/latest/api/token":
            if method != "PUT":
                return _text(405, "Method Not Allowed")
            return self._token(listener, headers)
        if method not in ("GET", "HEAD"):
            return _text(405, "Method Not Allowed")
        token = headers.get(TOKEN_HEADER)
        if token is None or not self._minter.valid(token, listener.port):
            return _text(401, "Unauthorized")
        if path in _DIRECTORIES:
            return _text(200, _DIRECTORIES[path])
        return await self._item(listener, path)

    def _token(self, listener: ImdsListener, headers: Mapping[str, str]) -> Answer:
        if "x-forwarded-for" in headers:
            return _text(403, "Forbidden")
        ttl = headers.get(TTL_HEADER, "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TTL:
            return _text(400, "Bad Request")
        status, body, out = _text(200, self._minter.mint(listener.port, int(ttl)))
        out.append((TTL_HEADER.encode(), ttl.encode()))
        return status, body, out

    async def _item(self, listener: ImdsListener, path: str) -> Answer:
        simple = {
            "/latest/meta-data/instance-id": listener.instance_id,
            "/latest/meta-data/placement/region": self._region,
            "/latest/meta-data/placement/availability-zone": f"{self._region}a",
        }
        if path in simple:
            return _text(200, simple[path])
        if path == "/latest/dynamic/instance-identity/document":
            return 200, _json(self._identity_document(listener)), list(_TEXT)
        if path.startswith("/latest/meta-data/iam/"):
            return await self._iam(listener, path[len("/latest/meta-data/iam/"):])
        return _text(404, "Not Found")

    def _identity_document(self, listener: ImdsListener) -> dict[str, Any]:
        return {
            "accountId": listener.account_id,
            "availabilityZone": f"{self._region}a",
            "instanceId": listener.instance_id,
            "pendingTime": _timestamp(self._started),
            "privateIp": listener.host,
            "region": self._region,
            "version": "2017-09-30",
        }

    async def _iam(self, listener: ImdsListener, rest: str) -> Answer:
        # An instance whose profile is missing, or holds no role, has no iam/ credentials (404).
        profile = await self._credentials.profile(listener.account_id, listener.profile_name)
        if profile is None or profile.role is None:
            return _text(404, "Not Found")
        if rest == "security-credentials/":
            return _text(200, profile.role.role_name)
        if rest not in ("info", f"security-credentials/{profile.role.role_name}"):
            return _text(404, "Not Found")
        result = await self._credentials.credentials(profile, listener.instance_id, self._region)
        if rest == "info":
            document: dict[str, Any] = {"Code": result.failure_code or "Success"}
            if result.failure_message is not None:
                document["Message"] = result.failure_message
            document["LastUpdated"] = _timestamp(result.issued_at)
            if result.failure_code is None:
                document.update(InstanceProfileArn=profile.profile_arn, InstanceProfileId=profile.profile_id)
            return 200, _json(document), list(_TEXT)
        return 200, _json(credentials_document(result)), list(_TEXT)


def credentials_document(result: InstanceRoleCredentials) -> dict[str, Any]:
    """The security-credentials/<role> JSON: credentials, or EC2's Code + Message on failure."""
    issued = result.credentials
    if issued is None:
        return {"Code": result.failure_code, "Message": result.failure_message,
                "LastUpdated": _timestamp(result.issued_at)}
    return {
        "Code": "Success",
        "LastUpdated": _timestamp(result.issued_at),
        "Type": "AWS-HMAC",
        "AccessKeyId": issued.access_key_id,
        "SecretAccessKey": issued.secret_access_key,
        "Token": issued.session_token,
        "Expiration": _timestamp(issued.expiration),
    }


class ImdsDispatch:
    """ASGI: requests that arrive on an IMDS listener's port go to IMDS, the rest to `app`."""

    def __init__(self, app: AsgiApp, listeners: Iterable[ImdsListener], service: ImdsService) -> None:
        self._app = app
        self._by_port = {listener.port: listener for listener in listeners}
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        local = scope.get("server") if scope["type"] == "http" else None
        listener = self._by_port.get(local[1]) if local else None
        if listener is None:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, body, out = await self._service.answer(listener, scope["method"], scope["path"], headers)
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def with_imds(app: AsgiApp, runtime: Runtime) -> AsgiApp:
    """`app`, behind an IMDS dispatcher when `keystead serve` declared IMDS listeners."""
    listeners = imds_from_env()
    if not listeners:
        return app
    secret = os.environ.get(SECRET_ENV) or secrets.token_hex(32)
    sessions = SessionTokens(runtime.db, runtime.keyring, runtime.clock)
    service = ImdsService(
        InstanceCredentials(runtime.db, sessions, runtime.clock), SessionTokenMinter(secret.encode(), runtime.clock),
        runtime.settings.default_region, runtime.clock.now(),
    )
    return ImdsDispatch(app, listeners, service)
