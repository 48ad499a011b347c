"""The root key file: created once with mode 0600, refused when exposed, sealable by a passphrase."""

from __future__ import annotations

import os
import stat
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from keystead.crypto.root_key import (
    FileRootKeyProvider,
    PassphraseKdfParams,
    RootKeyProvider,
    StaticRootKeyProvider,
)
from keystead.errors import RootKeyError, ServerError

# Cheap argon2id parameters keep the tests fast; the format stores them, so load reads them back.
FAST = PassphraseKdfParams(time_cost=1, memory_kib=1024, parallelism=1)

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX-only")


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return tmp_path / "root.key"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # With umask 0 a careless create would produce a world-readable file; ours must not.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def sealed(path: Path, passphrase: str = "correct horse battery staple") -> FileRootKeyProvider:
    return FileRootKeyProvider(path, passphrase, kdf_params=FAST)


# --- Plain files -----------------------------------------------------------------------------


def test_created_key_loads_back_as_32_bytes(key_path: Path) -> None:
    provider = FileRootKeyProvider(key_path)
    assert not provider.exists()
    provider.create()
    assert provider.exists()
    key = provider.load()
    assert len(key) == 32
    assert FileRootKeyProvider(key_path).load() == key


def test_each_created_key_is_random(tmp_path: Path) -> None:
    first, second = FileRootKeyProvider(tmp_path / "a"), FileRootKeyProvider(tmp_path / "b")
    first.create()
    second.create()
    assert first.load() != second.load()


@posix_only
@pytest.mark.usefixtures("permissive_umask")
def test_created_file_has_mode_0600_even_with_umask_0(key_path: Path) -> None:
    FileRootKeyProvider(key_path).create()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


def test_plain_file_starts_with_format_version_1(key_path: Path) -> None:
    FileRootKeyProvider(key_path).create()
    content = key_path.read_bytes()
    assert content[0] == 0x01
    assert len(content) == 1 + 32 + 8


def test_create_refuses_to_overwrite_an_existing_key(key_path: Path) -> None:
    provider = FileRootKeyProvider(key_path)
    provider.create()
    original = key_path.read_bytes()
    with pytest.raises(RootKeyError, match="refusing to overwrite"):
        provider.create()
    assert key_path.read_bytes() == original


def test_create_refuses_to_replace_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "root.key"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RootKeyError, match="refusing to overwrite"):
        FileRootKeyProvider(link).create()
    assert not (tmp_path / "elsewhere").exists()


def test_create_leaves_no_temporary_files_behind(key_path: Path) -> None:
    provider = FileRootKeyProvider(key_path)
    provider.create()
    with pytest.raises(RootKeyError):
        provider.create()
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["root.key"]


def test_concurrent_creates_produce_exactly_one_key(key_path: Path) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            FileRootKeyProvider(key_path).create()
            outcomes.append("created")
        except RootKeyError:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created"] + ["refused"] * 7
    assert len(FileRootKeyProvider(key_path).load()) == 32


def test_create_in_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(RootKeyError, match="cannot create"):
        FileRootKeyProvider(tmp_path / "missing" / "root.key").create()


def test_load_of_a_missing_file_says_to_run_init(key_path: Path) -> None:
    with pytest.raises(RootKeyError, match="keystead init"):
        FileRootKeyProvider(key_path).load()


@posix_only
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666, 0o644])
def test_load_refuses_a_file_that_group_or_others_can_access(key_path: Path, mode: int) -> None:
    FileRootKeyProvider(key_path).create()
    key_path.chmod(mode)
    with pytest.raises(RootKeyError, match="chmod 600"):
        FileRootKeyProvider(key_path).load()


@posix_only
def test_load_accepts_a_read_only_owner_file(key_path: Path) -> None:
    FileRootKeyProvider(key_path).create()
    key_path.chmod(0o400)
    assert len(FileRootKeyProvider(key_path).load()) == 32


def test_load_refuses_a_directory(tmp_path: Path) -> None:
    directory = tmp_path / "root.key"
    directory.mkdir(mode=0o700)
    with pytest.raises(RootKeyError):
        FileRootKeyProvider(directory).load()


def test_load_detects_a_corrupted_plain_key(key_path: Path) -> None:
    FileRootKeyProvider(key_path).create()
    content = bytearray(key_path.read_bytes())
    content[5] ^= 0x01
    key_path.write_bytes(bytes(content))
    with pytest.raises(RootKeyError, match="corrupt"):
        FileRootKeyProvider(key_path).load()


@pytest.mark.parametrize("content", [b"", b"\x01" + bytes(10), b"\x01" + bytes(41), b"\x07" + bytes(40)])
def test_load_refuses_truncated_oversized_or_unknown_files(key_path: Path, content: bytes) -> None:
    key_path.write_bytes(content)
    key_path.chmod(0o600)
    with pytest.raises(RootKeyError):
        FileRootKeyProvider(key_path).load()


def test_giving_a_passphrase_for_a_plain_file_is_refused(key_path: Path) -> None:
    FileRootKeyProvider(key_path).create()
    with pytest.raises(RootKeyError, match="not passphrase-sealed"):
        sealed(key_path).load()


# --- Passphrase-sealed files -----------------------------------------------------------------


def test_passphrase_sealed_key_round_trips(key_path: Path) -> None:
    provider = sealed(key_path)
    provider.create()
    key = provider.load()
    assert len(key) == 32
    # The KDF parameters come from the file, so a provider with default parameters loads it too.
    assert FileRootKeyProvider(key_path, "correct horse battery staple").load() == key


def test_sealed_file_does_not_contain_the_key(key_path: Path) -> None:
    provider = sealed(key_path)
    provider.create()
    assert provider.load() not in key_path.read_bytes()


def test_sealed_file_records_format_kdf_and_parameters(key_path: Path) -> None:
    sealed(key_path).create()
    content = key_path.read_bytes()
    version, kdf, time_cost, memory_kib, parallelism = struct.unpack(">BBIIB", content[:11])
    assert (version, kdf, time_cost, memory_kib, parallelism) == (0x02, 0x01, 1, 1024, 1)
    assert len(content) == 11 + 16 + 12 + 32 + 16


def test_wrong_passphrase_is_an_error(key_path: Path) -> None:
    sealed(key_path).create()
    with pytest.raises(RootKeyError, match="wrong passphrase"):
        sealed(key_path, "Correct horse battery staple").load()


def test_missing_passphrase_for_a_sealed_file_is_an_error(key_path: Path) -> None:
    sealed(key_path).create()
    with pytest.raises(RootKeyError, match="give the passphrase"):
        FileRootKeyProvider(key_path).load()


def test_passphrases_are_compared_after_unicode_normalization(key_path: Path) -> None:
    sealed(key_path, "caf\u00e9").create()  # precomposed é
    assert len(sealed(key_path, "cafe\u0301").load()) == 32  # e + combining acute accent


def test_lowering_the_kdf_cost_in_the_file_breaks_the_seal(key_path: Path) -> None:
    sealed(key_path).create()
    content = bytearray(key_path.read_bytes())
    content[6:10] = struct.pack(">I", 512)  # memory_kib: 1024 -> 512
    key_path.write_bytes(bytes(content))
    with pytest.raises(RootKeyError):
        sealed(key_path).load()


def test_absurd_kdf_parameters_in_the_file_are_refused_before_deriving(key_path: Path) -> None:
    sealed(key_path).create()
    content = bytearray(key_path.read_bytes())
    content[6:10] = struct.pack(">I", 0xFFFFFFFF)  # 4 TiB of memory
    key_path.write_bytes(bytes(content))
    with pytest.raises(RootKeyError, match="out-of-range"):
        sealed(key_path).load()


def test_an_empty_passphrase_is_refused(key_path: Path) -> None:
    with pytest.raises(RootKeyError):
        FileRootKeyProvider(key_path, "")


@pytest.mark.parametrize(
    "kwargs",
    [{"time_cost": 0}, {"parallelism": 0}, {"memory_kib": 4}, {"memory_kib": 2**23}],
)
def test_out_of_range_kdf_parameters_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(RootKeyError):
        PassphraseKdfParams(**kwargs)


def test_repr_never_shows_the_passphrase(key_path: Path) -> None:
    assert "hunter2" not in repr(FileRootKeyProvider(key_path, "hunter2"))


# --- The protocol and the in-memory provider -------------------------------------------------


def test_both_providers_satisfy_the_protocol(key_path: Path) -> None:
    assert isinstance(FileRootKeyProvider(key_path), RootKeyProvider)
    assert isinstance(StaticRootKeyProvider(bytes(32)), RootKeyProvider)


def test_static_provider_returns_its_key_and_hides_it_in_repr() -> None:
    provider = StaticRootKeyProvider(b"\x11" * 32)
    assert provider.load() == b"\x11" * 32
    assert "11" not in repr(provider)


def test_static_provider_refuses_a_key_of_the_wrong_length() -> None:
    with pytest.raises(RootKeyError):
        StaticRootKeyProvider(b"short")


def test_root_key_errors_are_server_errors() -> None:
    assert issubclass(RootKeyError, ServerError)
    assert RootKeyError.status == 500
