"""Chain view: every certificate as the server presented it, and the path iOS builds.

Each certificate shows the fields iOS judges (SAN, validity and its length in days, key,
signature, basic constraints, key usage, EKU, fingerprints). A field a finding points at
is marked with ``!`` and the finding's title under it (and coloured). The endpoint's
problems are listed at the bottom; Enter opens one.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from mailtls.model import EndpointReport, Finding
from mailtls.report.words import (
    SEVERITY_LABELS,
    VERDICT_MEANINGS,
    certificate_fields,
    certificate_role,
    endpoint_findings,
    path_lines,
    service_label,
    state_label,
    verdict_label,
)
from mailtls.tui.protocol import AppServices, services
from mailtls.tui.widgets.title_bar import TitleBar


class ChainScreen(Screen[None]):
    """The certificates of one endpoint."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("f", "finding", "Finding"),
        Binding("r", "app.recheck", "Re-check"),
        Binding("e", "app.export", "Export"),
    ]

    def __init__(self, endpoint_report: EndpointReport) -> None:
        super().__init__()
        self.endpoint_report = endpoint_report
        self.findings: list[Finding] = endpoint_findings(endpoint_report)
        #: Field keys marked as problems, per certificate index (for tests and snapshots).
        self.problem_fields: dict[int, list[str]] = {}

    @property
    def mailtls_app(self) -> AppServices:
        return services(self.app)

    def compose(self) -> ComposeResult:
        er = self.endpoint_report
        endpoint = er.endpoint
        yield TitleBar()
        with VerticalScroll(id="chain-body"):
            head = Text()
            head.append(f"{service_label(er)}  {endpoint.host}")
            if endpoint.address:
                head.append(f" [{endpoint.address}]")
            head.append("  ")
            head.append(verdict_label(er), style="bold reverse")
            yield Static(head, id="chain-head")
            analysis = er.analysis
            if analysis is None:
                probe = er.probe
                yield Static(
                    f"No certificate was received: {state_label(er)}"
                    + (f" during {probe.phase.value}" if probe.phase else "")
                    + (f": {probe.error}" if probe.error else "")
                    + ".\nCheck that the server offers this service on this port and that "
                    "nothing blocks it; press r to check again.",
                    id="chain-missing",
                )
            else:
                yield Static(
                    analysis.summary or VERDICT_MEANINGS[analysis.verdict] + ".",
                    id="chain-summary",
                    markup=False,
                )
                at = analysis.evaluated_at
                for cert in analysis.chain:
                    role = certificate_role(cert, len(analysis.chain))
                    yield Static(
                        f"#{cert.index} {role}: {cert.subject_cn or cert.subject}",
                        classes="cert-title",
                    )
                    for cert_field in certificate_fields(cert, analysis.findings, at):
                        classes = "cert-field problem" if cert_field.is_problem else "cert-field"
                        if cert_field.is_problem:
                            self.problem_fields.setdefault(cert.index, []).append(cert_field.key)
                        label = ("! " if cert_field.is_problem else "") + cert_field.label
                        with Horizontal(classes=classes, id=f"cert{cert.index}-{cert_field.key}"):
                            yield Label(label, classes="field-label")
                            yield Static(cert_field.value, classes="field-value", markup=False)
                        for problem in cert_field.problems:
                            key = f" ({problem.check_key})" if problem.check_key else ""
                            yield Static(
                                f"↳ {problem.title}{key}", classes="field-problem", markup=False
                            )
                yield Static("Path iOS would build", classes="section-title")
                yield Static("\n".join(path_lines(analysis)), id="path", markup=False)
                if analysis.trust_store:
                    yield Static(f"Trust store: {analysis.trust_store}", classes="hint")
            yield Static(
                f"Problems at this endpoint: {len(self.findings)}"
                + (" (Enter opens one)" if self.findings else ""),
                classes="section-title",
            )
            if self.findings:
                yield OptionList(
                    *[
                        Option(f"{SEVERITY_LABELS[f.severity]}: {f.title}", id=str(i))
                        for i, f in enumerate(self.findings)
                    ],
                    id="chain-findings",
                )
        yield Footer()

    def on_mount(self) -> None:
        er = self.endpoint_report
        self.title = f"Chain: {er.endpoint.url}"
        self.query_one("#chain-body", VerticalScroll).focus()

    @on(OptionList.OptionSelected, "#chain-findings")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.mailtls_app.show_finding(self.findings[event.option_index], self.endpoint_report)

    def action_finding(self) -> None:
        if not self.findings:
            self.notify("No problems at this endpoint.")
            return
        index = 0
        options = self.query("#chain-findings")
        if options:
            highlighted = self.query_one("#chain-findings", OptionList).highlighted
            index = highlighted if highlighted is not None else 0
        self.mailtls_app.show_finding(self.findings[index], self.endpoint_report)
