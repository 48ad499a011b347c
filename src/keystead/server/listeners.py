"""The listeners of one `keystead serve`: the main one plus one per declared VPC endpoint.

All listeners share one uvicorn server and so one event loop (and, with `--workers N`, every
worker serves every listener: the parent binds the sockets, the workers inherit them). A request
learns which listener it came in on from the local address of its connection (ASGI
`scope["server"]`), so listener ports must be distinct.

How a request arrived is part of its authorization (spec kms.md §11): through an endpoint it
carries `aws:SourceVpce`, `aws:SourceVpc` and `aws:VpcSourceIp`; otherwise `aws:SourceIp`.
`aws:SecureTransport` is true only for a request that really came over TLS. The source address
is the TCP peer, unless the peer is a trusted proxy (`--trusted-proxy CIDR`): then the rightmost
address in X-Forwarded-For that is not itself a trusted proxy.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keystead.config import Settings
from keystead.keystore.endpoints import VPC_ENDPOINT_ID, VPC_ID, EndpointDeclaration, EndpointService
from keystead.server.runtime import Runtime
from keystead.server.tls import TlsFiles
from keystead.types import NetworkContext

ENDPOINTS_ENV = "KEYSTEAD_ENDPOINT_LISTENERS"  # serve -> workers: [{"id", "vpc", "port"}, ...]
TRUSTED_PROXY_ENV = "KEYSTEAD_TRUSTED_PROXY"
_LISTEN = re.compile(r"^(?:\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[^:\[\]]+)):(?P<port>\d{1,5})$")
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ListenerSpecError(ValueError):
    """A `--vpc-endpoint` or `--trusted-proxy` value that cannot be used."""


@dataclass(frozen=True, slots=True)
class EndpointListener:
    declaration: EndpointDeclaration
    host: str
    port: int


def parse_vpc_endpoint(spec: str) -> EndpointListener:
    """Parse `ID,vpc=VPC_ID,listen=HOST:PORT[,policy=PATH][,account=ACCOUNT_ID]` (reads the policy file).

    Raises:
        ListenerSpecError: a malformed or missing part, or an unreadable policy file.
    """
    first, *rest = [part.strip() for part in spec.split(",")]
    options: dict[str, str] = {}
    for part in rest:
        name, sep, value = part.partition("=")
        if not sep or name not in ("vpc", "listen", "policy", "account") or name in options:
            raise ListenerSpecError(f"--vpc-endpoint {spec!r}: unexpected {part!r}")
        options[name] = value
    if VPC_ENDPOINT_ID.match(first) is None:
        raise ListenerSpecError(
            f"--vpc-endpoint {spec!r}: {first!r} is not an endpoint id like vpce-0a1b2c3d4e5f60718"
        )
    if VPC_ID.match(options.get("vpc", "")) is None:
        raise ListenerSpecError(f"--vpc-endpoint {spec!r}: vpc= must be a VPC id like vpc-0a1b2c3d")
    listen = _LISTEN.match(options.get("listen", ""))
    if listen is None or not 0 < int(listen["port"]) < 65536:
        raise ListenerSpecError(f"--vpc-endpoint {spec!r}: listen= must be HOST:PORT")
    account = options.get("account")
    if account is not None and re.fullmatch(r"\d{12}", account) is None:
        raise ListenerSpecError(f"--vpc-endpoint {spec!r}: account= must be a 12-digit account id")
    policy_text = None
    if "policy" in options:
        try:
            policy_text = Path(options["policy"]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ListenerSpecError(f"--vpc-endpoint {spec!r}: cannot read the policy: {error}") from None
    declaration = EndpointDeclaration(first, options["vpc"], account, policy_text)
    return EndpointListener(declaration, listen["v6"] or listen["host"], int(listen["port"]))


def parse_trusted_proxies(values: Iterable[str]) -> tuple[IpNetwork, ...]:
    """Parse `--trusted-proxy` CIDRs (a bare address is a /32 or /128).

    Raises:
        ListenerSpecError: a value that is not an address or a network.
    """
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ListenerSpecError(f"--trusted-proxy {value!r} is not a CIDR block") from None
    return tuple(networks)


class TrustedProxies:
    """Finds the client's address behind trusted proxies; with none trusted, the peer is it."""

    def __init__(self, networks: Sequence[IpNetwork]) -> None:
        self._networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._networks)

    def client_address(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The rightmost hop of `forwarded_for` + [peer] that is not a trusted proxy.

        A hop that is not an IP address ends the walk at the trusted proxy that reported it: the
        address then is that proxy's, never a string a client could choose.
        """
        if not self._networks or not self.trusts(peer):
            return peer
        address = peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return address
            address = hop
            if not self.trusts(hop):
                return hop
        return address  # every hop is a trusted proxy: the leftmost is the client


class NetworkTagger:
    """Builds a request's NetworkContext from its ASGI scope (step 1 of DESIGN.md §3)."""

    def __init__(
        self,
        endpoints_by_port: Mapping[int, tuple[str, str | None]] | None = None,
        proxies: TrustedProxies | None = None,
        default_endpoint: tuple[str, str | None] | None = None,
    ) -> None:
        self._by_port = dict(endpoints_by_port or {})
        self._proxies = proxies or TrustedProxies(())
        self._default = default_endpoint

    def context(self, scope: MutableMapping[str, Any]) -> NetworkContext:
        client = scope.get("client")
        peer = client[0] if client else "0.0.0.0"
        if self._proxies:
            forwarded = [v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-forwarded-for"]
            peer = self._proxies.client_address(peer, forwarded)
        local = scope.get("server")
        endpoint = self._by_port.get(local[1], self._default) if local else self._default
        return NetworkContext(
            source_ip=peer,
            secure_transport=scope.get("scheme") == "https",
            vpc_endpoint_id=endpoint[0] if endpoint else None,
            vpc_id=endpoint[1] if endpoint else None,
        )


def export_listeners(listeners: Sequence[EndpointListener], proxies: Sequence[str]) -> None:
    """Hand the listener map to worker processes, which build their app from the environment."""
    table = [
        {"id": e.declaration.vpc_endpoint_id, "vpc": e.declaration.vpc_id, "port": e.port} for e in listeners
    ]
    os.environ[ENDPOINTS_ENV] = json.dumps(table)
    os.environ[TRUSTED_PROXY_ENV] = " ".join(proxies)


def tagger_from_env(environ: Mapping[str, str] | None = None) -> NetworkTagger:
    """The NetworkTagger a worker builds from what `export_listeners` left in the environment.

    Raises:
        ListenerSpecError: a malformed trusted proxy list.
    """
    env = os.environ if environ is None else environ
    table = json.loads(env.get(ENDPOINTS_ENV) or "[]")
    by_port: dict[int, tuple[str, str | None]] = {
        int(item["port"]): (str(item["id"]), str(item["vpc"])) for item in table
    }
    proxies = parse_trusted_proxies(env.get(TRUSTED_PROXY_ENV, "").split())
    return NetworkTagger(by_port, TrustedProxies(proxies))


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that worker processes can inherit.

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


def check_distinct_ports(settings: Settings, listeners: Sequence[EndpointListener]) -> None:
    """Raises ListenerSpecError when two listeners share a port (the port tells them apart)."""
    seen = {settings.port: "the main listener"}
    for listener in listeners:
        name = listener.declaration.vpc_endpoint_id
        if listener.port in seen:
            raise ListenerSpecError(
                f"--vpc-endpoint {name}: port {listener.port} is already used by {seen[listener.port]}"
            )
        seen[listener.port] = name


def run_server(
    settings: Settings, listeners: Sequence[EndpointListener], tls: TlsFiles | None,
    extra: Sequence[tuple[str, int]] = (),
) -> None:
    """Serve every listener (plus `extra` HOST, PORT ones, e.g. IMDS) until interrupted, with
    `settings.workers` processes.

    Raises:
        OSError: a listener address cannot be bound.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    sockets = [bind_socket(settings.host, settings.port)]
    sockets += [bind_socket(listener.host, listener.port) for listener in listeners]
    sockets += [bind_socket(host, port) for host, port in extra]
    config = uvicorn.Config(
        "keystead.server.app:create_app", factory=True, workers=settings.workers,
        http="httptools", loop="uvloop", access_log=False, log_level="warning", timeout_graceful_shutdown=5,
        # X-Forwarded-* are ours to judge (TrustedProxies); uvicorn would trust 127.0.0.1 by default.
        proxy_headers=False,
        **(tls.uvicorn_options() if tls is not None else {}),  # type: ignore[arg-type]
    )
    if settings.workers > 1:
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def declare_endpoints(runtime: Runtime, listeners: Sequence[EndpointListener]) -> None:
    """Record the declared endpoints (owner, VPC, and policy when a file is given) in the database.

    Raises:
        InvalidPolicyDocumentError: a policy file is not a valid endpoint policy.
        InvalidParameterValueError: an endpoint's owner is ambiguous or does not exist.
    """
    if listeners:
        service = EndpointService(runtime.db, runtime.clock)
        service.declare([listener.declaration for listener in listeners], runtime.settings.default_region)
