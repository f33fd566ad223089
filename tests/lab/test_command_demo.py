"""``mailtls demo`` in-process through mailtls.cli.main: the README's first command."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailtls.cli import main
from mailtls.exitcodes import ExitCode
from mailtls.lab import demo, scenarios
from mailtls.model import Endpoint, EndpointReport, Phase, ProbeResult, Report, Status
from mailtls.report import demo as demo_words

NOW = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail any name lookup that is not an IP literal: the demo must never need DNS."""
    import ipaddress

    lookups: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        text = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(text)
        except ValueError:
            lookups.append(text)
            raise socket.gaierror(socket.EAI_NONAME, f"demo looked up {text!r}") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    try:
        import dns.resolver

        def no_dns(*args: Any, **kwargs: Any) -> Any:
            lookups.append(f"dnspython {args[1:2]}")
            raise dns.resolver.NoNameservers("the demo must not use DNS")

        monkeypatch.setattr(dns.resolver.Resolver, "resolve", no_dns)
    except ImportError:
        pass
    return lookups


def test_demo_runs_end_to_end_offline_and_fast(
    capsys: pytest.CaptureFixture[str], offline: list[str]
) -> None:
    started = time.monotonic()
    code = main(["demo"])
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == ExitCode.OK, out + err
    assert offline == []
    assert elapsed < 10, f"demo took {elapsed:.1f} s"
    assert out.startswith("mailtls demo: 4 mail servers now run on this machine")
    for name in scenarios.DEMO_SCENARIOS:
        assert f". {name}: " in out
    assert "Demo self-check: every verdict is the one the scenario catalogue expects." in out
    # E's text renderer printed one report per scenario, naming the lab URLs it checked.
    headings = re.findall(r"^mailtls check (\w+)://mail\.example\.test:\d+$", out, re.MULTILINE)
    assert headings == list(demo.DEMO_SCHEMES[: len(scenarios.DEMO_SCENARIOS)])
    assert "Traceback" not in out + err


def test_demo_json_for_one_scenario(capsys: pytest.CaptureFixture[str], offline: list[str]) -> None:
    assert main(["demo", "--format", "json", "--scenario", "wrong-host"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert data["self_check"] == {"ok": True, "problems": []}
    (entry,) = data["demo"]
    assert entry["scenario"] == "wrong-host" and entry["root_installed"] is False
    assert entry["expected_verdict"] == "prompt"
    endpoints = entry["report"]["endpoints"]
    assert [e["url"] for e in endpoints] == entry["urls"] or sorted(
        e["url"] for e in endpoints
    ) == sorted(entry["urls"])
    for endpoint in endpoints:
        assert endpoint["status"] == "ok" and endpoint["verdict"] == "prompt"
        assert endpoint["address"] == "127.0.0.1"
        assert len(endpoint["chain"]) == 2  # leaf + intermediate, as the scenario serves them
    assert offline == []


def test_demo_good_private_is_trusted_with_its_root_installed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        main(["demo", "--format", "json", "--scenario", "good-private", "--sweep"]) == ExitCode.OK
    )
    (entry,) = json.loads(capsys.readouterr().out)["demo"]
    assert entry["root_installed"] is True
    verdicts = {e["url"].split("://")[0]: e["verdict"] for e in entry["report"]["endpoints"]}
    assert verdicts == {scheme: "trusted" for scheme in demo_schemes_all()}


def demo_schemes_all() -> tuple[str, ...]:
    from mailtls.model import IPHONE_SWEEP

    return IPHONE_SWEEP


def test_unknown_scenario_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--scenario", "nope"]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "unknown scenario 'nope'" in err and len(err.strip().splitlines()) == 1


def test_bad_timeout_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--timeout", "0"]) == ExitCode.USAGE
    assert "--timeout" in capsys.readouterr().err


# --------------------------------------------------------------------------- plan and text


def test_plan_defaults_to_the_catalogue_demo_set() -> None:
    cases = demo.plan([], NOW)
    assert [c.scenario.name for c in cases] == list(scenarios.DEMO_SCENARIOS)
    installed = {c.scenario.name for c in cases if c.root_installed}
    assert installed == {"good-private"} & set(scenarios.DEMO_SCENARIOS)
    for case in cases:
        assert case.expected_verdict == case.scenario.expected_verdict[case.anchor_kind]
        assert case.look_at
    # One endpoint kind each, in turn, unless --sweep.
    assert [c.schemes for c in cases] == [(s,) for s in demo.DEMO_SCHEMES[: len(cases)]]
    assert all(len(c.schemes) == 7 for c in demo.plan([], NOW, sweep=True))


def _unchecked_result(case: demo.DemoCase) -> demo.DemoResult:
    endpoint = Endpoint("imaps", case.scenario.host, 993, "127.0.0.1")
    probe = ProbeResult(endpoint, Status.REFUSED, Phase.CONNECT, "connection refused")
    report = Report((endpoint.url,), (EndpointReport(probe, None),), NOW, NOW)
    return demo.DemoResult(case, report, (endpoint.url,))


def test_unchecked_endpoint_fails_the_self_check_with_exit_2() -> None:
    (case,) = demo.plan(["expired"], NOW)
    result = _unchecked_result(case)
    assert demo.exit_code([result]) == ExitCode.UNCHECKED
    lines = demo_words.self_check_lines([result])
    assert lines[0].startswith("Demo self-check FAILED")
    assert "imaps://mail.example.test:993 was not checked: connection refused" in lines[1]


def test_intro_and_sections_explain_each_scenario() -> None:
    cases = demo.plan(["self-signed-ca", "good-private"], NOW)
    results = [_unchecked_result(c) for c in cases]
    text = "\n".join(demo_words.intro(results))
    assert text.startswith("mailtls demo: 2 mail servers now run on this machine")
    assert "1. self-signed-ca:" in text
    assert "served as imaps (IMAP, implicit TLS, like port 993); nothing installed" in text
    assert "2. good-private:" in text
    assert "served as submission (SMTP, STARTTLS, like port 587); root installed" in text
    section = "\n".join(demo_words.section(2, results[1]))
    assert "Root installed on the iPhone: yes" in section and "Expected verdict: trusted" in section
    assert "Look at: what 'fixed' looks like." in section


def test_plan_installs_the_root_for_scenarios_that_only_make_sense_with_it() -> None:
    (case,) = demo.plan(["expired-root"], NOW)
    assert case.root_installed and case.anchor_kind == "USR"
    assert case.expected_verdict == case.scenario.expected_verdict["USR"]
    assert case.look_at == case.scenario.description  # no hand-written note: the provenance


def test_unservable_scenario_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    name = next(
        n
        for n in scenarios.SCENARIO_NAMES
        if not scenarios.build_scenario(n, now=NOW).openssl_loads
    )
    assert main(["demo", "--scenario", name]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"scenario {name} cannot be served" in err and len(err.strip().splitlines()) == 1


def test_demo_of_several_catalogue_scenarios_matches_their_expectations(
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = ["expired", "expired-root", "self-signed-leaf", "rsa512-leaf", "cn-only"]
    code = main(["demo", "--format", "json", *(f"--scenario={n}" for n in names)])
    data = json.loads(capsys.readouterr().out)
    assert [d["scenario"] for d in data["demo"]] == names
    assert data["self_check"]["problems"] == [] and code == ExitCode.OK


def test_demo_of_every_servable_scenario_matches_the_catalogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The whole catalogue through lab, probe, analysis and service (one lab each)."""
    names = [
        n for n in scenarios.SCENARIO_NAMES if scenarios.build_scenario(n, now=NOW).openssl_loads
    ]
    started = time.monotonic()
    code = main(["demo", "--format", "json", *(f"--scenario={n}" for n in names)])
    elapsed = time.monotonic() - started
    data = json.loads(capsys.readouterr().out)
    assert data["self_check"]["problems"] == []
    assert code == ExitCode.OK
    assert len(data["demo"]) == len(names)
    assert elapsed < 30


def test_demo_json_reports_follow_the_check_schema(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    schema_path = (
        Path(__file__).resolve().parents[2] / "docs" / "schema" / "check-report.schema.json"
    )
    schema = json.loads(schema_path.read_text())
    assert main(["demo", "--format", "json"]) == ExitCode.OK
    data = json.loads(capsys.readouterr().out)
    assert [entry["scenario"] for entry in data["demo"]] == list(scenarios.DEMO_SCENARIOS)
    for entry in data["demo"]:
        jsonschema.validate(entry["report"], schema)


def test_readme_first_command_in_a_child_process(tmp_path: Path) -> None:
    """``python3 -m mailtls demo`` exactly as the README says, from another directory."""
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "HOME": str(tmp_path)}
    env.pop("NO_COLOR", None)
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "Demo self-check: every verdict is the one the scenario catalogue expects." in done.stdout
    )
    assert "\x1b[" not in done.stdout  # piped: no colour codes
    assert done.stderr == ""
    assert list(tmp_path.iterdir()) == []  # nothing written (no history, no temp files left)
