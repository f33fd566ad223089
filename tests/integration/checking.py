"""Run ``mailtls check`` in-process against the rig's real servers and read its JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from mailtls.cli import main
from tests.realservers.common import RealServer


@dataclass(frozen=True)
class CheckRun:
    exit_code: int
    report: dict[str, Any]

    @property
    def endpoints(self) -> dict[str, dict[str, Any]]:
        """Endpoint objects of the JSON report by scheme (one host, one address)."""
        found = {endpoint["scheme"]: endpoint for endpoint in self.report["endpoints"]}
        assert len(found) == len(self.report["endpoints"]), "one endpoint per scheme expected"
        return found


CheckCli = Callable[..., CheckRun]


def make_check_cli(capsys: pytest.CaptureFixture[str]) -> CheckCli:
    """``check_cli(servers, host, *extra_args)``: every endpoint of ``servers`` in one check."""

    def run(servers: Sequence[RealServer], host: str, *extra: str) -> CheckRun:
        addresses = {server.address for server in servers}
        assert len(addresses) == 1, "one host: every server on the same address"
        urls = [url for server in servers for url in server.urls(host)]
        capsys.readouterr()
        exit_code = main(
            [
                "check",
                "--format",
                "json",
                "--no-history",
                "--no-discover",
                "--address",
                addresses.pop(),
                *extra,
                *urls,
            ]
        )
        captured = capsys.readouterr()
        try:
            report = json.loads(captured.out)
        except json.JSONDecodeError:
            pytest.fail(f"mailtls check gave no JSON (exit {exit_code}): {captured.err.strip()}")
        return CheckRun(exit_code, report)

    return run


def rule_ids(endpoint: dict[str, Any]) -> set[str]:
    return {finding["rule_id"] for finding in endpoint.get("findings", [])}
