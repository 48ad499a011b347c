from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import Server, running_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One live Keystead (SQLite) shared by the conformance tests; tests create what they need."""
    with running_server(Path(tmp_path_factory.mktemp("keystead"))) as live:
        yield live
