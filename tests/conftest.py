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
