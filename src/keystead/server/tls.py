"""TLS for the listeners: one certificate and key serve the main and every endpoint listener.

`aws:SecureTransport` is true only for a request that arrived over one of these TLS listeners;
a proxy's X-Forwarded-Proto is never believed (see listeners.py).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from keystead.errors import ServerError


class TlsConfigurationError(ServerError):
    code = "TlsConfiguration"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert: Path  # PEM certificate chain, leaf first
    key: Path  # PEM private key (unencrypted)

    def check(self) -> None:
        """Load the pair once in this process, so that a bad file fails `serve` with one line.

        Raises:
            TlsConfigurationError: a file is missing, unreadable, or the key does not match.
        """
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(str(self.cert), str(self.key))
        except (OSError, ssl.SSLError) as error:
            raise TlsConfigurationError(
                f"cannot use TLS certificate {self.cert} with key {self.key}: {error}"
            ) from None

    def uvicorn_options(self) -> dict[str, object]:
        return {"ssl_certfile": str(self.cert), "ssl_keyfile": str(self.key)}


def tls_files(cert: Path | None, key: Path | None) -> TlsFiles | None:
    """The TLS pair from the flags, None when TLS is off.

    Raises:
        TlsConfigurationError: only one of the two was given.
    """
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise TlsConfigurationError("--tls-cert and --tls-key must be given together")
    return TlsFiles(cert, key)
