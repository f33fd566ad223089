"""Fixtures of the trust-store tests: a throwaway data directory, stores built from
../shared/apple-trust-store, and the loopback HTTPS server standing in for the download."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.roots.storebuild import HTTPSServer, flat_store, https_server, own_root


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("MAILTLS_DATA_DIR", str(path))
    monkeypatch.delenv("MAILTLS_ROOTS_URL", raising=False)
    return path


@pytest.fixture(scope="session")
def our_root() -> bytes:
    return own_root()


@pytest.fixture
def flat(tmp_path: Path, our_root: bytes) -> Path:
    """Apple's 156 roots plus our own, version 2025072000, roots/ at the top."""
    return flat_store(tmp_path / "flat", extra_roots=(our_root,))


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HTTPSServer]:
    """The download server, trusted through SSL_CERT_FILE (as a user's mirror would be)."""
    with https_server(tmp_path) as state:
        monkeypatch.setenv("SSL_CERT_FILE", str(state.ca_pem))
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        yield state
