"""aws:SecureTransport over real TLS, and aws:SourceIp with and without trusted proxies (live servers)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.conformance.network_support import (
    ENDPOINT_A,
    VPC_A,
    admin,
    another_node,
    client_at,
    endpoint_flag,
    make_test_ca,
    policy,
    root,
    with_header,
)
from tests.support import Account, Server, free_port, running_server


@dataclass
class Nodes:
    plain: Server  # HTTP, no trusted proxy
    tls: Server  # HTTPS on the same database, 127.0.0.1 trusted as a proxy
    tls_endpoint_port: int
    ca: Path

    @property
    def owner(self) -> Account:
        return self.plain.accounts[0]

    def tls_client(self, service: str, port: int | None = None) -> Any:
        return client_at(f"https://localhost:{port or self.tls.port}", service, self.owner, verify=str(self.ca))


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    tmp = Path(tmp_path_factory.mktemp("transport"))
    ca, cert, key = make_test_ca(tmp)
    with running_server(tmp) as plain:
        endpoint_port = free_port()
        tls = another_node(plain, "--tls-cert", str(cert), "--tls-key", str(key), "--trusted-proxy", "127.0.0.1/32",
                           *endpoint_flag(ENDPOINT_A, VPC_A, endpoint_port))
        try:
            yield Nodes(plain, tls, endpoint_port, ca)
        finally:
            tls.stop()


def new_key(nodes: Nodes, *statements: dict[str, Any], kms: Any = None) -> str:
    manage = dict(admin(nodes.owner), Action=["kms:Describe*", "kms:Get*", "kms:Put*"])
    kms = kms or nodes.plain.client("kms", nodes.owner)
    return str(kms.create_key(Policy=policy(manage, *statements))["KeyMetadata"]["KeyId"])


def allow(nodes: Nodes, action: str, condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": root(nodes.owner)}, "Action": action, "Resource": "*",
            "Condition": condition}


def test_a_key_policy_denying_insecure_transport_blocks_http_and_allows_tls(nodes: Nodes) -> None:
    deny_plain = {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*",
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    # Created over TLS: over plain HTTP the lockout check would (rightly) refuse this policy.
    key_id = new_key(nodes, {**admin(nodes.owner), "Action": "kms:Encrypt"}, deny_plain, kms=nodes.tls_client("kms"))
    with pytest.raises(ClientError) as exc:
        nodes.plain.client("kms", nodes.owner).encrypt(KeyId=key_id, Plaintext=b"x")
    assert exc.value.response["Error"]["Message"].endswith("with an explicit deny in a resource-based policy")
    assert nodes.tls_client("kms").encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    # The endpoint listener of the TLS node speaks TLS too.
    assert nodes.tls_client("kms", nodes.tls_endpoint_port).encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]


def test_a_forwarded_proto_header_does_not_make_plain_http_secure(nodes: Nodes) -> None:
    key_id = new_key(nodes, allow(nodes, "kms:Encrypt", {"Bool": {"aws:SecureTransport": "true"}}))
    kms = with_header(nodes.plain.client("kms", nodes.owner), "X-Forwarded-Proto", "https")
    with pytest.raises(ClientError):
        kms.encrypt(KeyId=key_id, Plaintext=b"x")
    assert nodes.tls_client("kms").encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]


def test_the_tls_listener_refuses_plain_http(nodes: Nodes) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.post(f"http://127.0.0.1:{nodes.tls.port}/", content=b"{}", timeout=5)


def test_source_ip_matches_the_loopback_range_and_not_others(nodes: Nodes) -> None:
    key_id = new_key(
        nodes,
        allow(nodes, "kms:Encrypt", {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}),
        allow(nodes, "kms:GenerateDataKey", {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}}),
    )
    kms = nodes.plain.client("kms", nodes.owner)
    assert kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as exc:
        kms.generate_data_key(KeyId=key_id, KeySpec="AES_256")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(nodes: Nodes) -> None:
    key_id = new_key(nodes, allow(nodes, "kms:Encrypt", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    untrusted = with_header(nodes.plain.client("kms", nodes.owner), "X-Forwarded-For", "203.0.113.7")
    with pytest.raises(ClientError):
        untrusted.encrypt(KeyId=key_id, Plaintext=b"x")
    trusted = with_header(nodes.tls_client("kms"), "X-Forwarded-For", "203.0.113.7")
    assert trusted.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]


def test_the_rightmost_untrusted_hop_is_the_source_address(nodes: Nodes) -> None:
    key_id = new_key(nodes, allow(nodes, "kms:Encrypt", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))
    # A client may prepend anything; the hop the trusted proxy saw is the rightmost untrusted one.
    spoofed = with_header(nodes.tls_client("kms"), "X-Forwarded-For", "203.0.113.7, 198.51.100.9")
    with pytest.raises(ClientError):
        spoofed.encrypt(KeyId=key_id, Plaintext=b"x")
    through_two_proxies = with_header(nodes.tls_client("kms"), "X-Forwarded-For", "203.0.113.7, 127.0.0.1")
    assert through_two_proxies.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
