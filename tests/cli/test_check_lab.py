"""mailtls check end to end (in-process CLI) against a lab: every format, exit codes, history.

The JSON output of a real run is validated against docs/schema/check-report.schema.json.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailtls.cli import main
from mailtls.commands.check import check_and_print
from mailtls.lab.scenarios import Scenario
from mailtls.lab.servers import Lab, start_lab
from tests.hostile import HostileServers, Spec
from tests.report.schema import endpoint_validator, validate
from tests.report.test_nagios import STATUS_LINE
from tests.report.test_prometheus import parse as parse_prometheus
from tests.service.conftest import FIXTURE_NOW, options, scenario, url_targets

AT = FIXTURE_NOW.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def good() -> Scenario:
    return scenario("good-private")


@pytest.fixture(scope="module")
def lab(good: Scenario) -> Iterator[Lab]:
    with start_lab(good.chain_pem, good.key_pem) as running:
        yield running


@pytest.fixture
def root(good: Scenario, tmp_path: Path) -> Path:
    assert good.root_pem is not None
    path = tmp_path / "root.pem"
    path.write_bytes(good.root_pem)
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _check(lab: Lab, good: Scenario, *extra: str, more: tuple[str, ...] = ()) -> list[str]:
    targets = [*url_targets(lab, good.host), *more]
    return ["check", *targets, "--address", "127.0.0.1", "--at", AT, "--timeout", "5", *extra]


def test_json_of_a_real_run_validates_against_the_schema(
    lab: Lab, good: Scenario, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = _run(
        _check(lab, good, "--format", "json", "--no-history", "--ca-file", str(root)), capsys
    )
    assert rc == 0, err
    document = json.loads(out)
    validate(document)
    assert len(document["endpoints"]) == 7
    assert {e["verdict"] for e in document["endpoints"]} == {"trusted"}
    assert {e["tls_mode"] for e in document["endpoints"]} == {"starttls", "implicit"}
    starttls = [e for e in document["endpoints"] if e["tls_mode"] == "starttls"]
    assert all(e["capabilities"]["starttls_offered"] for e in starttls)
    assert document["summary"]["exit_code"] == 0
    assert err == ""


def test_json_untrusted_run_validates_and_exits_1(
    lab: Lab, good: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(
        _check(lab, good, "--format", "json", "--no-history", more=("imaps://127.0.0.1:1",)), capsys
    )
    document = json.loads(out)
    validate(document)
    assert rc == 1
    refused = [e for e in document["endpoints"] if e["status"] == "refused"]
    assert len(refused) == 1 and refused[0]["error"] and refused[0]["phase"] == "connect"
    assert all(e["chain"] for e in document["endpoints"] if e["status"] == "ok")


def test_fail_on_fatal_lets_prompts_pass(
    lab: Lab, good: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, _ = _run(
        _check(lab, good, "--format", "json", "--no-history", "--fail-on", "fatal"), capsys
    )
    assert rc == 0


def test_jsonl_streams_one_object_per_endpoint(
    lab: Lab, good: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(
        _check(lab, good, "--format", "jsonl", "--no-history", more=("bad target!",)), capsys
    )
    assert rc == 1
    records = [json.loads(line) for line in out.splitlines()]
    endpoints = [r for r in records if r["record"] == "endpoint"]
    assert len(endpoints) == 7
    for r in endpoints:
        endpoint_validator().validate(r)
    assert records[-1]["record"] == "error" and "bad target!" in records[-1]["message"]


def test_nagios_format_and_exit_codes(
    lab: Lab, good: Scenario, root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(
        _check(lab, good, "--format", "nagios", "--no-history", "--ca-file", str(root)), capsys
    )
    first = out.splitlines()[0]
    assert rc == 0 and first.startswith("MAILTLS OK - all 7 endpoints trusted")
    match = STATUS_LINE.match(first)
    assert match
    assert re.search(r"'imaps_\d+_127\.0\.0\.1_days_chain_elem0'=\d+;30;0", match.group(2))
    rc, out, _ = _run(_check(lab, good, "--format", "nagios", "--no-history"), capsys)
    assert rc == 2 and out.startswith("MAILTLS CRITICAL - 7 of 7 endpoints need attention")
    rc, out, _ = _run(
        [
            "check",
            "--no-history",
            "--format",
            "nagios",
            "--at",
            "2040-01-01",
            "--ca-file",
            str(root),
            "--address",
            "127.0.0.1",
            url_targets(lab, good.host)[0],
        ],
        capsys,
    )
    assert rc == 2 and "_days_chain_elem0'=-" in out  # expired by then: negative days


def test_prometheus_format_keeps_certificate_metrics_when_untrusted(
    lab: Lab, good: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, _ = _run(_check(lab, good, "--format", "prometheus", "--no-history"), capsys)
    assert rc == 1
    samples = parse_prometheus(out)
    assert len(samples["mailtls_endpoint_up"]) == 7
    assert all(s.endswith(" 1") for s in samples["mailtls_endpoint_up"])
    prompt = [s for s in samples["mailtls_verdict"] if 'verdict="prompt"' in s]
    assert len(prompt) == 7 and all(s.endswith(" 1") for s in prompt)
    assert len(samples["mailtls_cert_not_after_timestamp_seconds"]) == 7 * len(good.chain_ders)
    assert len(samples["mailtls_tls_version_info"]) == 7


def test_text_without_colour_when_piped_or_no_color(
    lab: Lab, good: Scenario, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    rc, out, err = _run(_check(lab, good, "--no-history"), capsys)
    assert rc == 1
    assert "\x1b[" not in out and "\x1b[" not in err  # no colour, no progress bar when piped
    assert "The iPhone will warn on incoming mail (IMAP, port" in out
    assert out.rstrip().endswith("7 endpoints: 7 prompt.")


def test_history_records_a_certificate_change_and_reports_it(
    good: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = scenario("self-signed-leaf")  # same host name, a different leaf
    database = tmp_path / "history.sqlite3"
    with start_lab(good.chain_pem, good.key_pem, schemes=("imaps", "submission")) as first:
        ports = dict(first.endpoints)
        targets = url_targets(first, good.host)
        common = [
            *targets,
            "--address",
            "127.0.0.1",
            "--at",
            AT,
            "--history",
            str(database),
            "--no-versions",
        ]
        rc, out, _ = _run(["check", *common, "--format", "json"], capsys)
        assert rc == 1
        assert not [
            f
            for e in json.loads(out)["endpoints"]
            for f in e["findings"]
            if f["rule_id"] == "history_leaf_changed"
        ]
        rc, out, _ = _run(["check", *common, "--format", "json"], capsys)  # same leaf: quiet
        assert not [
            f
            for e in json.loads(out)["endpoints"]
            for f in e["findings"]
            if f["rule_id"] == "history_leaf_changed"
        ]
    with start_lab(other.chain_pem, other.key_pem, schemes=("imaps", "submission"), ports=ports):
        rc, out, _ = _run(["check", *common, "--format", "json"], capsys)
    changed = [
        (e["url"], f)
        for e in json.loads(out)["endpoints"]
        for f in e["findings"]
        if f["rule_id"] == "history_leaf_changed"
    ]
    assert sorted(url for url, _ in changed) == sorted(targets)
    finding = changed[0][1]
    assert finding["severity"] == "warning" and "asked again" in finding["user_sees"]
    assert finding["evidence"]["previous_sha256"] != finding["evidence"]["current_sha256"]

    rc, out, _ = _run(["history", good.host, "--history", str(database)], capsys)
    assert rc == 0
    assert out.count("<- certificate changed") == 2
    assert "(2 checks)" in out and "(1 check)" in out
    rc, out, _ = _run(["history", "--history", str(database)], capsys)
    assert rc == 0 and f"{good.host}  (6 endpoint checks, last " in out
    rc, out, _ = _run(
        ["history", targets[0], "--history", str(database), "--format", "json"], capsys
    )
    periods = json.loads(out)["targets"][0]["periods"]
    assert [p["checks"] for p in periods] == [2, 1]
    assert len({p["leaf_sha256"] for p in periods}) == 2


def test_history_of_an_unknown_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = _run(
        ["history", "mail.example.test", "--history", str(tmp_path / "none.sqlite3")], capsys
    )
    assert rc == 3 and out == ""
    assert len(err.strip().splitlines()) == 1 and "nothing recorded yet" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal(lab: Lab, good: Scenario) -> None:
    targets = url_targets(lab, good.host)
    opts = options(check_versions=False)
    out, err = io.StringIO(), _Terminal()
    check_and_print(targets, opts, "json", stdout=out, stderr=err)
    assert "\r[" in err.getvalue() and "7/7 endpoints" in err.getvalue()
    assert err.getvalue().endswith("\r")  # the bar is wiped before the report
    assert "\r" not in out.getvalue()
    quiet = io.StringIO()
    check_and_print(targets, opts, "json", stdout=io.StringIO(), stderr=quiet)
    assert quiet.getvalue() == ""


class _TimedStream(io.StringIO):
    """Remembers when each line was written."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def write(self, text: str) -> int:
        self.times.extend(time.monotonic() for _ in range(text.count("\n")))
        return super().write(text)


def test_jsonl_lines_arrive_before_slow_endpoints_finish(lab: Lab, good: Scenario) -> None:
    with HostileServers() as servers:
        silent = servers.start(Spec("imap", "starttls", behaviour="silent"))
        out = _TimedStream()
        started = time.monotonic()
        check_and_print(
            [url_targets(lab, good.host)[0], f"imap://{good.host}:{silent}"],
            options(check_versions=False, timeout=1.5),
            "jsonl",
            stdout=out,
            stderr=io.StringIO(),
        )
        finished = time.monotonic()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["status"] for r in records] == ["ok", "timeout"]
    assert out.times[0] - started < 1.0 < finished - started  # streamed, not at the end
