"""Unit: parsing listener declarations, finding the client behind trusted proxies, tagging requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from keystead.server.listeners import (
    ListenerSpecError,
    NetworkTagger,
    TrustedProxies,
    parse_trusted_proxies,
    parse_vpc_endpoint,
    tagger_from_env,
)

PROXIES = TrustedProxies(parse_trusted_proxies(["10.0.0.0/8", "127.0.0.1"]))


def test_a_full_endpoint_declaration_is_parsed_with_its_policy_file(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text('{"Statement": []}')
    listener = parse_vpc_endpoint(
        f"vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=0.0.0.0:4600,policy={tmp_path / 'p.json'},account=123456789012"
    )
    assert (listener.host, listener.port) == ("0.0.0.0", 4600)
    assert listener.declaration.vpc_id == "vpc-0a1b2c3d"
    assert listener.declaration.account_id == "123456789012"
    assert listener.declaration.policy_text == '{"Statement": []}'


def test_an_ipv6_listen_address_is_bracketed() -> None:
    listener = parse_vpc_endpoint("vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=[::1]:4600")
    assert (listener.host, listener.port, listener.declaration.policy_text) == ("::1", 4600, None)


@pytest.mark.parametrize("spec", [
    "endpoint,vpc=vpc-0a1b2c3d,listen=127.0.0.1:4600",
    "vpce-0a1b2c3d4e5f60718,listen=127.0.0.1:4600",
    "vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d",
    "vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=127.0.0.1:99999",
    "vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=127.0.0.1:4600,colour=blue",
    "vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=127.0.0.1:4600,account=12",
    "vpce-0a1b2c3d4e5f60718,vpc=vpc-0a1b2c3d,listen=127.0.0.1:4600,policy=/nonexistent/p.json",
])
def test_a_malformed_endpoint_declaration_is_refused(spec: str) -> None:
    with pytest.raises(ListenerSpecError):
        parse_vpc_endpoint(spec)


def test_a_bad_cidr_is_refused() -> None:
    with pytest.raises(ListenerSpecError):
        parse_trusted_proxies(["10.0.0.0/33"])


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert TrustedProxies(()).client_address("127.0.0.1", ["203.0.113.7"]) == "127.0.0.1"


def test_an_untrusted_peer_cannot_set_its_address() -> None:
    assert PROXIES.client_address("198.51.100.1", ["203.0.113.7"]) == "198.51.100.1"


def test_the_rightmost_untrusted_hop_is_the_client() -> None:
    assert PROXIES.client_address("127.0.0.1", ["1.1.1.1, 203.0.113.7", "10.1.2.3"]) == "203.0.113.7"


def test_a_chain_of_trusted_proxies_only_yields_its_leftmost_hop() -> None:
    assert PROXIES.client_address("127.0.0.1", ["10.0.0.5, 10.0.0.6"]) == "10.0.0.5"


def test_a_garbage_hop_stops_at_the_proxy_that_reported_it() -> None:
    assert PROXIES.client_address("127.0.0.1", ["203.0.113.7, not-an-ip"]) == "127.0.0.1"


def test_the_listener_port_selects_the_endpoint() -> None:
    tagger = NetworkTagger({4600: ("vpce-0a1b2c3d4e5f60718", "vpc-0a1b2c3d")})
    scope = {"client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 4600), "scheme": "https", "headers": []}
    network = tagger.context(scope)
    assert (network.vpc_endpoint_id, network.vpc_id, network.secure_transport) == (
        "vpce-0a1b2c3d4e5f60718", "vpc-0a1b2c3d", True)
    main = tagger.context(dict(scope, server=("127.0.0.1", 4599), scheme="http"))
    assert (main.vpc_endpoint_id, main.secure_transport, main.source_ip) == (None, False, "127.0.0.1")


def test_a_worker_rebuilds_the_listener_map_from_the_environment() -> None:
    env = {"KEYSTEAD_ENDPOINT_LISTENERS": '[{"id": "vpce-0a1b2c3d4e5f60718", "vpc": "vpc-0a1b2c3d", "port": 4600}]',
           "KEYSTEAD_TRUSTED_PROXY": "127.0.0.1/32"}
    tagger = tagger_from_env(env)
    scope = {"client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 4600), "scheme": "http",
             "headers": [(b"x-forwarded-for", b"203.0.113.7")]}
    network = tagger.context(scope)
    assert (network.vpc_endpoint_id, network.source_ip) == ("vpce-0a1b2c3d4e5f60718", "203.0.113.7")
