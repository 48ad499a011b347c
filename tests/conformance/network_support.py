"""Helpers for the network-context tests: endpoint listeners, extra nodes, a test CA, clients."""

from __future__ import annotations

import datetime
import ipaddress
import json
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import Account, Server, free_port

ENDPOINT_A = "vpce-0a1b2c3d4e5f60718"  # default (full access) policy
ENDPOINT_B = "vpce-0fedcba9876543210"  # restricted by a policy file
VPC_A = "vpc-0a1b2c3d"
VPC_B = "vpc-0b2c3d4e"


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def root(account: Account) -> str:
    return f"arn:aws:iam::{account.account_id}:root"


def admin(account: Account) -> dict[str, Any]:
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": root(account)},
            "Action": "kms:*", "Resource": "*"}


def client_at(url: str, service: str, account: Account, verify: str | bool | None = None) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", verify=verify,
        aws_access_key_id=account.access_key_id, aws_secret_access_key=account.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )


def with_header(client: Any, name: str, value: str) -> Any:
    """Add a header to every request of `client` after signing (as a proxy on the way would)."""

    def add(request: Any, **_: Any) -> None:
        request.headers[name] = value

    client.meta.events.register("before-send", add)
    return client


def another_node(first: Server, *extra: str) -> Server:
    """A second `keystead serve` on the same data directory (and so the same SQLite database)."""
    node = Server(data_dir=first.data_dir, port=free_port(), database_url=first.database_url)
    node.accounts = first.accounts
    node.start(*extra)
    return node


def endpoint_flag(endpoint_id: str, vpc_id: str, port: int, **options: str) -> tuple[str, str]:
    spec = ",".join([endpoint_id, f"vpc={vpc_id}", f"listen=127.0.0.1:{port}"]
                    + [f"{k}={v}" for k, v in options.items()])
    return ("--vpc-endpoint", spec)


def make_test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1: (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Keystead test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    paths[2].chmod(0o600)
    return paths
