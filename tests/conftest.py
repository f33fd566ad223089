"""Suite-wide pytest setup. Keep it small: areas keep their fixtures in their own conftest.

The real-server rig (session-scoped ``rig`` fixture: real Dovecot and Postfix) lives in
tests/realservers/ and is loaded here so every area can use it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # "tests.realservers" must import from any working directory
    sys.path.insert(0, _ROOT)

pytest_plugins = ("tests.realservers.plugin",)


import pytest  # noqa: E402

SHARED_STORE = Path(__file__).resolve().parents[2] / "shared" / "apple-trust-store"


@pytest.fixture(autouse=True, scope="session")
def _apple_trust_store(tmp_path_factory: pytest.TempPathFactory) -> object:
    """Every test runs as a user who has run `mailtls roots update`: Apple's store (the
    shared copy) is imported into a fresh data directory, never the user's. Nothing is
    fetched: MAILTLS_OFFLINE is set, and tests of the stand-in use data directories of
    their own."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MAILTLS_DATA_DIR", str(tmp_path_factory.mktemp("mailtls-data")))
    patch.setenv("MAILTLS_OFFLINE", "1")
    patch.delenv("MAILTLS_ROOTS_URL", raising=False)
    if SHARED_STORE.is_dir():
        from mailtls import roots

        roots.import_from(SHARED_STORE)
    yield None
    patch.undo()
