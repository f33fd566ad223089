"""The demo's words: an introduction, one section per scenario, the self-check, what next.

Renders the results of :func:`mailtls.lab.demo.run_demo` as text (each report by
:mod:`mailtls.report.text`) or as JSON (each report by :mod:`mailtls.report.json`).
"""

from __future__ import annotations

import json
import textwrap

from mailtls.lab.demo import DemoResult, problems


def _wrap(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, width=88, initial_indent=indent, subsequent_indent=indent)


def describe_kind(scheme: str) -> str:
    """ "imaps" -> "imaps (IMAP, implicit TLS, like port 993)"."""
    from mailtls.model import TlsMode, service_for_scheme

    service = service_for_scheme(scheme)
    mode = "implicit TLS" if service.tls_mode is TlsMode.IMPLICIT else "STARTTLS"
    return f"{scheme} ({service.protocol.value.upper()}, {mode}, like port {service.default_port})"


def intro(results: list[DemoResult]) -> list[str]:
    count = len(results)
    servers = "one mail server" if count == 1 else f"{count} mail servers"
    lines = _wrap(
        f"mailtls demo: {servers} now run on this machine (127.0.0.1, free ports), each "
        "presenting a certificate chain the way real servers get it right or wrong. mailtls "
        "checks each one exactly as 'mailtls check' checks a real host: it connects the way "
        "iPhone Mail does (IMAP, POP3 or SMTP; implicit TLS or STARTTLS), captures the chain "
        "and judges it by Apple's rules. Nothing leaves this machine: the host names are "
        "never looked up."
    )
    lines.append("")
    for number, result in enumerate(results, 1):
        case = result.case
        root = "root installed on the iPhone" if case.root_installed else "nothing installed"
        kinds = describe_kind(case.schemes[0]) if len(case.schemes) == 1 else "all 7 kinds"
        lines.append(f"  {number}. {case.scenario.name}: {case.scenario.title}")
        lines.append(f"     served as {kinds}; {root}")
    return lines


def section(number: int, result: DemoResult) -> list[str]:
    case = result.case
    rule = "=" * 88
    lines = [rule, f"{number}. {case.scenario.name}: {case.scenario.title}"]
    root = (
        "yes (judged as with mailtls check --ca-file ROOT)"
        if case.root_installed
        else "no (the iPhone's preinstalled roots only)"
    )
    lines.append(f"   Root installed on the iPhone: {root}")
    lines += _wrap(f"Look at: {case.look_at}", "   ")
    if case.expected_verdict:
        lines.append(f"   Expected verdict: {case.expected_verdict}")
    lines.append(rule)
    return lines


def self_check_lines(results: list[DemoResult]) -> list[str]:
    found = problems(results)
    if not found:
        return ["Demo self-check: every verdict is the one the scenario catalogue expects."]
    return [
        "Demo self-check FAILED (unless --timeout was made very short, this is a bug in "
        "mailtls: please report it):",
        *(f"  {p}" for p in found),
    ]


def outro() -> list[str]:
    return [
        "Next:",
        "  mailtls lab --list-scenarios          the whole catalogue: every iOS rule, broken and intact",
        "  mailtls lab --scenario wrong-host     serve one; it prints the mailtls check to paste",
        "  mailtls check mail.example.com        your own server: every port iPhone Mail uses",
    ]


def render_text(results: list[DemoResult], *, colour: bool = False, verbose: bool = False) -> str:
    from mailtls.report.text import render

    lines = intro(results)
    for number, result in enumerate(results, 1):
        lines.append("")
        lines += section(number, result)
        lines.append(render(result.report, colour=colour, verbose=verbose).rstrip("\n"))
    lines += ["", *self_check_lines(results), "", *outro()]
    return "\n".join(lines) + "\n"


def render_json(results: list[DemoResult]) -> str:
    from mailtls.report.json import report_to_json

    data = {
        "demo": [
            {
                "scenario": result.case.scenario.name,
                "title": result.case.scenario.title,
                "description": result.case.scenario.description,
                "root_installed": result.case.root_installed,
                "anchor_kind": result.case.anchor_kind,
                "expected_verdict": result.case.expected_verdict,
                "as_expected": result.as_expected(),
                "look_at": result.case.look_at,
                "urls": list(result.urls),
                "report": report_to_json(result.report),
            }
            for result in results
        ],
        "self_check": {
            "ok": not problems(results),
            "problems": problems(results),
        },
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
