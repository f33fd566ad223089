"""--format prometheus: valid text exposition; certificate metrics even when untrusted."""

from __future__ import annotations

import re

from mailtls.model import Status, Verdict
from mailtls.report.prometheus import escape, render
from tests.report.factory import NOW, endpoint, mixed_report, report

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(\{{(?:{LABEL})(?:,{LABEL})*\}})? (-?[0-9.e+]+|NaN|[+-]Inf)$")


def parse(text: str) -> dict[str, list[str]]:
    """Check every line against the exposition format; return samples per metric name."""
    assert text.endswith("\n")
    samples: dict[str, list[str]] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            name, kind = line[7:].split(" ")
            assert kind in {"gauge", "counter"} and name not in typed
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, line
        assert match.group(1) in typed, f"sample before its TYPE: {line}"
        samples.setdefault(match.group(1), []).append(line)
    return samples


def test_format_and_metrics() -> None:
    samples = parse(render(mixed_report()))
    up = samples["mailtls_endpoint_up"]
    assert len(up) == 4
    assert any('scheme="pop3"' in s and s.endswith(" 0") for s in up)
    assert any(
        'verdict="prompt"' in s and 'port="587"' in s and s.endswith(" 1")
        for s in samples["mailtls_verdict"]
    )
    assert any('version="TLSv1.3"' in s for s in samples["mailtls_tls_version_info"])
    assert any(
        'version="TLSv1"' in s and s.endswith(" 0") for s in samples["mailtls_tls_version_accepted"]
    )


def test_certificate_metrics_present_for_untrusted_and_expired_chains() -> None:
    r = report(endpoint("imaps", verdict=Verdict.PROMPT, days_left=-10))
    samples = parse(render(r))
    not_after = [s for s in samples["mailtls_cert_not_after_timestamp_seconds"] if 'index="0"' in s]
    assert len(not_after) == 1
    value = float(not_after[0].rsplit(" ", 1)[1])
    assert value < NOW.timestamp()
    assert len(samples["mailtls_cert_info"]) == 2


def test_unreachable_endpoint_has_status_but_no_verdict() -> None:
    samples = parse(render(report(endpoint("pop3", verdict=None, status=Status.REFUSED))))
    assert "mailtls_verdict" not in samples
    assert any('status="refused"' in s for s in samples["mailtls_endpoint_status"])


def test_label_values_are_escaped() -> None:
    assert escape('CN="x"\\y\nz') == 'CN=\\"x\\"\\\\y\\nz'
