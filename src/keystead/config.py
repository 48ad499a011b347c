"""Settings of one Keystead deployment, read from flags and KEYSTEAD_* environment variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 4599
DEFAULT_REGION = "us-east-1"
ROOT_KEY_FILE = "root.key"
DATABASE_FILE = "keystead.db"


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    regions: tuple[str, ...] = (DEFAULT_REGION,)
    workers: int = 1
    max_clock_skew_seconds: int = 300
    root_key_passphrase: str | None = field(default=None, repr=False)

    @property
    def root_key_path(self) -> Path:
        return self.data_dir / ROOT_KEY_FILE

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite database in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / DATABASE_FILE).resolve()}"

    @property
    def default_region(self) -> str:
        return self.regions[0]
