"""What a report means, shared by every renderer: levels, sentences, exit codes.

Levels order endpoints worst first (text), choose the exit code (``--fail-on``) and the
Nagios state. The sentence per endpoint is what a help-desk person reads out.

Exit codes (docs/exit-codes.md):

* 1 when any endpoint or cross-endpoint finding reaches the ``--fail-on`` threshold:
  ``fatal`` (verdict fatal or a fatal finding), ``prompt`` (default: verdicts fatal,
  prompt and needs_profile -- the iPhone shows the prompt until the profile is installed
  -- or an error-severity finding), ``warning`` (also any warning finding, e.g. expiry
  within 30 days, TLS 1.0 accepted, the leaf changed);
* else 2 when some endpoint could not be checked (status not ``ok``, or no verdict);
* else 3 when some target line was bad (the others were still checked);
* else 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum

from mailtls.exitcodes import ExitCode
from mailtls.model import EndpointReport, Finding, Report, Severity, Status, Verdict


class FailOn(StrEnum):
    WARNING = "warning"
    PROMPT = "prompt"
    FATAL = "fatal"


class Level(IntEnum):
    """How bad one endpoint is, for sorting (higher = worse)."""

    TRUSTED = 0
    WARNING = 1  # trusted, with a warning finding
    UNCHECKED = 2  # could not be checked
    NEEDS_PROFILE = 3
    PROMPT = 4
    FATAL = 5


#: The finding severity each ``--fail-on`` value starts at.
_THRESHOLD: dict[FailOn, Severity] = {
    FailOn.WARNING: Severity.WARNING,
    FailOn.PROMPT: Severity.ERROR,
    FailOn.FATAL: Severity.FATAL,
}

#: What a verdict counts as against ``--fail-on``: the phone prompts until the profile is
#: installed, so needs_profile fails as prompt does.
_VERDICT_SEVERITY: dict[Verdict, Severity] = {
    Verdict.TRUSTED: Severity.INFO,
    Verdict.NEEDS_PROFILE: Severity.ERROR,
    Verdict.PROMPT: Severity.ERROR,
    Verdict.FATAL: Severity.FATAL,
}


def all_findings(report: EndpointReport) -> tuple[Finding, ...]:
    """Trust findings of the analysis, then the endpoint's transport/history findings."""
    trust = report.analysis.findings if report.analysis else ()
    return (*trust, *report.findings)


def worst_severity(findings: Iterable[Finding]) -> int:
    """The highest :attr:`Severity.rank` among the findings (-1 = none)."""
    return max((f.severity.rank for f in findings), default=-1)


def is_checked(report: EndpointReport) -> bool:
    return report.probe.status is Status.OK and report.analysis is not None


def level(report: EndpointReport) -> Level:
    if not is_checked(report):
        return Level.UNCHECKED
    verdict = report.verdict
    if verdict is Verdict.FATAL:
        return Level.FATAL
    if verdict is Verdict.PROMPT:
        return Level.PROMPT
    if verdict is Verdict.NEEDS_PROFILE:
        return Level.NEEDS_PROFILE
    if worst_severity(all_findings(report)) >= Severity.WARNING.rank:
        return Level.WARNING
    return Level.TRUSTED


def endpoint_rank(report: EndpointReport) -> int:
    """0 info .. 3 fatal: the worst of the verdict and the findings (-1 = nothing)."""
    verdict = _VERDICT_SEVERITY[report.verdict].rank if report.verdict else -1
    return max(verdict, worst_severity(all_findings(report)))


def fails(report: Report, fail_on: FailOn | str = FailOn.PROMPT) -> bool:
    """Does anything reach the ``--fail-on`` threshold?"""
    return Tally(report.endpoints).fails(report, fail_on)


class Tally:
    """What the exit code needs of the endpoints, gathered one endpoint at a time.

    A streamed check (``--format jsonl``) writes and forgets each endpoint, so its report
    holds none; the writer keeps this instead (three numbers, whatever the fleet size).
    """

    __slots__ = ("count", "unchecked", "worst")

    def __init__(self, reports: Iterable[EndpointReport] = ()) -> None:
        self.count = 0
        self.unchecked = 0
        self.worst = -1  # the highest endpoint_rank seen
        for report in reports:
            self.add(report)

    def add(self, report: EndpointReport) -> None:
        self.count += 1
        self.unchecked += not is_checked(report)
        self.worst = max(self.worst, endpoint_rank(report))

    def fails(self, report: Report, fail_on: FailOn | str = FailOn.PROMPT) -> bool:
        """:func:`fails` for these endpoints and the report's cross-endpoint findings."""
        threshold = _THRESHOLD[FailOn(fail_on)].rank
        if self.worst >= threshold:
            return True
        judged = [f for f in report.findings if f.rule_id != "discovery_failed"]
        return worst_severity(judged) >= threshold


def exit_code(
    report: Report, fail_on: FailOn | str = FailOn.PROMPT, tally: Tally | None = None
) -> ExitCode:
    """The exit code (module docstring); ``tally``: the endpoints, when the report was
    streamed and holds none of them."""
    if tally is None:
        tally = Tally(report.endpoints)
    if tally.fails(report, fail_on):
        return ExitCode.IPHONE_FAILS
    if tally.unchecked or any(f.rule_id == "discovery_failed" for f in report.findings):
        return ExitCode.UNCHECKED
    if report.errors or not tally.count:
        return ExitCode.USAGE
    return ExitCode.OK


# --------------------------------------------------------------------------- sentences

_PROTOCOL_NAMES = {"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP"}


def where(report: EndpointReport) -> str:
    """'outgoing mail (SMTP, port 587)'."""
    endpoint = report.endpoint
    service = endpoint.service
    return (
        f"{service.role} mail ({_PROTOCOL_NAMES.get(str(service.protocol), 'mail')}, "
        f"port {endpoint.port})"
    )


def _clause(text: str) -> str:
    """A sentence to follow a colon: first letter lowered unless it starts a word in caps."""
    text = text.strip().rstrip(".")
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def status_phrase(report: EndpointReport) -> str:
    """Why an endpoint could not be checked, without the 'URL at ADDRESS [phase]: ' prefix
    the probe puts on its one-line errors (the sentence already says where)."""
    probe = report.probe
    if not probe.error:
        return str(probe.status).replace("_", " ")
    error = probe.error
    if error.startswith(report.endpoint.url) and "]: " in error:
        error = error.split("]: ", 1)[1]
    return error


def reason(report: EndpointReport) -> str:
    """The main problem in a few words: the worst trust finding, plus how many more."""
    if report.analysis is None:
        return ""
    failures = [
        f for f in report.analysis.findings if f.severity.rank >= Severity.ERROR.rank and f.summary
    ]
    if not failures:
        return ""
    worst = max(f.severity.rank for f in failures)
    first = next(f for f in failures if f.severity.rank == worst)
    more = len(failures) - 1
    extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return _clause(first.summary) + extra


def endpoint_sentence(report: EndpointReport) -> str:
    """One sentence a help-desk person can read out, about one endpoint."""
    place = where(report)
    analysis = report.analysis
    if report.probe.status is not Status.OK:
        return f"mailtls could not check {place}: {_clause(status_phrase(report))}."
    if analysis is None:
        return f"mailtls could not judge the certificate for {place}."
    detail = _clause(reason(report) or analysis.summary)
    tail = f": {detail}." if detail else "."
    if analysis.verdict is Verdict.TRUSTED:
        warning = next((f for f in all_findings(report) if f.severity is Severity.WARNING), None)
        if warning is not None:
            return (
                f"The iPhone connects without a warning for {place}, but: "
                f"{_clause(warning.summary)}."
            )
        return f"The iPhone connects without a warning for {place}."
    if analysis.verdict is Verdict.NEEDS_PROFILE:
        return (
            f"The iPhone will warn on {place} until the root certificate is installed "
            f"by profile and fully trusted{tail}"
        )
    if analysis.verdict is Verdict.FATAL:
        return f"The iPhone cannot use {place}, whatever the user taps{tail}"
    return f"The iPhone will warn on {place}{tail}"


def counts(report: Report) -> dict[str, int]:
    """Endpoints per verdict, plus ``unchecked`` and ``endpoints``."""
    result = {str(v): 0 for v in Verdict}
    result["unchecked"] = 0
    for endpoint in report.endpoints:
        if is_checked(endpoint) and endpoint.verdict is not None:
            result[str(endpoint.verdict)] += 1
        else:
            result["unchecked"] += 1
    result["endpoints"] = len(report.endpoints)
    return result


def summary_sentence(report: Report) -> str:
    """'7 endpoints: 5 trusted, 1 prompt, 1 could not be checked.'"""
    c = counts(report)
    total = c["endpoints"]
    parts = [f"{c[str(v)]} {v.label.lower()}" for v in Verdict if c[str(v)]]
    if c["unchecked"]:
        parts.append(f"{c['unchecked']} could not be checked")
    noun = "endpoint" if total == 1 else "endpoints"
    if not parts:
        return f"{total} {noun}."
    return f"{total} {noun}: {', '.join(parts)}."
