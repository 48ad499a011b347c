"""The CLI contract (DESIGN.md §6): flags, JSON output, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import Server, free_port


def cli(tmp_path: Path, *args: str, check: bool = False):
    return Server(data_dir=tmp_path / "data", port=free_port(), database_url=None).cli(*args, check=check)


def test_init_is_idempotent_and_creates_a_private_root_key(tmp_path: Path) -> None:
    first = cli(tmp_path, "init", "--data-dir", str(tmp_path / "data"))
    second = cli(tmp_path, "init", "--data-dir", str(tmp_path / "data"))
    assert first.returncode == 0 and second.returncode == 0
    assert "already initialised" in second.stdout
    assert (tmp_path / "data" / "root.key").stat().st_mode & 0o077 == 0


def test_account_create_prints_the_contract_json(tmp_path: Path) -> None:
    cli(tmp_path, "init", "--data-dir", str(tmp_path / "data"), check=True)
    out = cli(tmp_path, "account", "create", "--data-dir", str(tmp_path / "data"), "--name", "acme",
              "--email", "ops@acme.example", "--password", "long enough pw", "--account-id", "111122223333", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["AccountId"] == "111122223333"
    assert data["Arn"] == "arn:aws:iam::111122223333:root"
    assert data["AccessKeyId"].startswith("AKIA") and len(data["AccessKeyId"]) == 20
    assert len(data["SecretAccessKey"]) == 40
    again = cli(tmp_path, "account", "create", "--data-dir", str(tmp_path / "data"), "--name", "acme",
                "--email", "other@acme.example", "--password", "long enough pw", "--account-id", "111122223333")
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1


def test_serve_without_init_is_a_one_line_error(tmp_path: Path) -> None:
    out = cli(tmp_path, "serve", "--data-dir", str(tmp_path / "missing"), "--port", str(free_port()))
    assert out.returncode != 0
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr and "keystead init" in out.stderr


def test_bad_flags_are_one_line_errors(tmp_path: Path) -> None:
    for args in (("serve", "--data-dir", str(tmp_path), "--port", "notaport"), ("init",), ("frobnicate",),
                 ("account", "create", "--data-dir", str(tmp_path))):
        out = cli(tmp_path, *args)
        assert out.returncode != 0, args
        assert len(out.stderr.strip().splitlines()) == 1, (args, out.stderr)
        assert "Traceback" not in out.stderr


def test_flags_read_environment_variables(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.support import KEYSTEAD

    env = dict(os.environ, KEYSTEAD_DATA_DIR=str(tmp_path / "envdata"))
    out = subprocess.run([KEYSTEAD, "init"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "envdata" / "root.key").exists()
