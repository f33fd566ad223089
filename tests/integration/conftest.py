"""Fixtures of the real-server integration tests (helpers live in checking.py)."""

from __future__ import annotations

import pytest

from tests.integration.checking import CheckCli, make_check_cli


@pytest.fixture
def check_cli(capsys: pytest.CaptureFixture[str]) -> CheckCli:
    """``check_cli(servers, host, *extra_args)``: run ``mailtls check`` on every endpoint."""
    return make_check_cli(capsys)
