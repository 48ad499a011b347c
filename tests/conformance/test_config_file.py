"""`keystead serve --config FILE`: settings (including VPC endpoint listeners) from a TOML file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.conformance.network_support import ENDPOINT_B, VPC_B, client_at
from tests.support import free_port, running_server


def test_endpoint_listener_declared_in_a_config_file(tmp_path: Path) -> None:
    deny_all = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"}]}
    policy_file = tmp_path / "endpoint-policy.json"
    policy_file.write_text(json.dumps(deny_all))
    endpoint_port = free_port()
    config = tmp_path / "keystead.toml"
    config.write_text(
        f'vpc-endpoint = ["{ENDPOINT_B},vpc={VPC_B},listen=127.0.0.1:{endpoint_port},policy={policy_file}"]\n'
    )
    with running_server(tmp_path, None, "--config", str(config)) as server:
        account = server.accounts[0]
        assert server.client("kms").list_keys()["Keys"] == []
        through_endpoint = client_at(f"http://127.0.0.1:{endpoint_port}", "kms", account)
        with pytest.raises(ClientError) as exc:
            through_endpoint.list_keys()
        assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "VPC endpoint policy" in exc.value.response["Error"]["Message"]


def test_unknown_config_settings_are_a_one_line_error(tmp_path: Path) -> None:
    from tests.support import Server

    config = tmp_path / "bad.toml"
    config.write_text("colour = 'blue'\n")
    out = Server(data_dir=tmp_path, port=free_port(), database_url=None).cli("serve", "--config", str(config), check=False)
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1 and "colour" in out.stderr
