"""`--imds` values and IMDSv2 session tokens, without a server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from keystead.clock import FixedClock
from keystead.server.imds import ImdsListener, ImdsSpecError, SessionTokenMinter, check_imds_ports, parse_imds
from keystead.storage.testing import T0

SPEC = "listen=127.0.0.1:9100,account=111122223333,instance-profile=web"


def test_a_full_spec_is_parsed_and_the_instance_id_can_be_pinned() -> None:
    listener = parse_imds(SPEC + ",instance-id=i-0123456789abcdef0")
    assert listener == ImdsListener("127.0.0.1", 9100, "111122223333", "web", "i-0123456789abcdef0")


def test_without_instance_id_a_stable_ec2_shaped_one_is_derived() -> None:
    first, again, other = parse_imds(SPEC), parse_imds(SPEC), parse_imds(SPEC.replace("web", "db"))
    assert first.instance_id == again.instance_id != other.instance_id
    assert first.instance_id.startswith("i-") and len(first.instance_id) == 19


@pytest.mark.parametrize("spec", [
    "account=111122223333,instance-profile=web",
    "listen=127.0.0.1:0,account=111122223333,instance-profile=web",
    "listen=127.0.0.1:9100,account=1234,instance-profile=web",
    "listen=127.0.0.1:9100,account=111122223333",
    "listen=127.0.0.1:9100,account=111122223333,instance-profile=no spaces",
    SPEC + ",instance-id=vm-1",
    SPEC + ",colour=blue",
    SPEC + ",account=111122223333",
])
def test_malformed_specs_are_refused(spec: str) -> None:
    with pytest.raises(ImdsSpecError):
        parse_imds(spec)


def test_imds_ports_must_differ_from_every_other_listener() -> None:
    with pytest.raises(ImdsSpecError, match="already used by the main listener"):
        check_imds_ports({9100: "the main listener"}, [parse_imds(SPEC)])
    with pytest.raises(ImdsSpecError):
        check_imds_ports({}, [parse_imds(SPEC), parse_imds(SPEC.replace("web", "db"))])


def test_tokens_open_only_on_their_listener_and_until_their_ttl() -> None:
    clock = FixedClock(T0)
    minter = SessionTokenMinter(b"secret", clock)
    token = minter.mint(9100, 60)
    assert minter.valid(token, 9100)
    assert not minter.valid(token, 9101)
    assert not SessionTokenMinter(b"other secret", clock).valid(token, 9100)
    assert not minter.valid(token[:-2] + "AA", 9100)
    clock.set(T0 + timedelta(seconds=61))
    assert not minter.valid(token, 9100)
