"""Overview: the sentence to read to the user, one line per endpoint, the problems.

Endpoints are sorted worst first (:func:`mailtls.report.words.sort_worst_first`); the
problem list holds every finding once, worst first. Enter on an endpoint opens its chain
view, Enter on a problem opens the finding view (from where the fix wizards start).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from mailtls.model import EndpointReport, Finding, Report
from mailtls.report.words import (
    SEVERITY_LABELS,
    endpoints_with_finding,
    report_findings,
    service_label,
    sort_worst_first,
    state_label,
    top_finding,
    verdict_label,
)
from mailtls.tui.present import summary_sentences, verdict_class
from mailtls.tui.protocol import AppServices, services
from mailtls.tui.widgets.styles import severity_style, verdict_style
from mailtls.tui.widgets.title_bar import TitleBar


def _ports(endpoints: list[EndpointReport]) -> str:
    ports = sorted({er.endpoint.port for er in endpoints})
    shown = ", ".join(str(p) for p in ports[:3])
    return shown + (f" +{len(ports) - 3}" if len(ports) > 3 else "")


class OverviewScreen(Screen[None]):
    """The result of one check."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "chain", "Chain"),
        Binding("f", "finding", "Finding"),
        Binding("r", "app.recheck", "Re-check"),
        Binding("e", "app.export", "Export"),
        Binding("n", "app.new_check", "New"),
        Binding("b", "compare", "Before/after", show=False),
    ]

    def __init__(self, report: Report, previous: Report | None = None) -> None:
        super().__init__()
        self.report = report
        self.previous = previous
        self.endpoints: list[EndpointReport] = sort_worst_first(report.endpoints)
        self.findings: list[tuple[EndpointReport | None, Finding]] = report_findings(report)
        self.sentences: list[str] = summary_sentences(report)

    @property
    def mailtls_app(self) -> AppServices:
        return services(self.app)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        summary = Text()
        summary.append(self.sentences[0], style="bold")
        for sentence in self.sentences[1:4]:
            summary.append("\n" + sentence)
        if len(self.sentences) > 4:
            summary.append(f"\n(and {len(self.sentences) - 4} more; see the list below)")
        for error in self.report.errors:
            summary.append(f"\nNot checked: {error}", style="italic")
        store = self.report.options.get("trust_store")
        if store:
            summary.append(f"\nJudged with {store}", style="dim")
        hint = self.report.options.get("trust_store_hint")
        if hint:
            summary.append(f"\n{hint}", style="italic")
        yield Static(summary, id="summary")
        if self.previous is not None:
            yield Static(
                "A re-check finished: press b to compare before and after.", id="comparison"
            )
        yield DataTable(id="endpoints", cursor_type="row", zebra_stripes=True)
        yield Static(
            f"Problems found: {len(self.findings)} (Enter opens one, Tab switches list)"
            if self.findings
            else "No problems found."
            if any(er.analysis is not None for er in self.endpoints)
            else "No certificate was received, so there is nothing to judge.",
            id="findings-title",
        )
        yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        hosts = list(dict.fromkeys(er.endpoint.host for er in self.endpoints))
        shown = hosts or list(self.report.targets)
        self.title = ", ".join(shown[:3]) + (f" (+{len(shown) - 3})" if len(shown) > 3 else "")
        several_hosts = len(hosts) > 1
        table = self.query_one("#endpoints", DataTable)
        columns = ["Verdict", "Service", *(["Host"] if several_hosts else []), "Address", "Problem"]
        for column in columns:
            table.add_column(column, key=column.lower())
        for position, er in enumerate(self.endpoints):
            finding = top_finding(er)
            problem = finding.title if finding else state_label(er)
            cells: list[Text | str] = [
                Text(verdict_label(er), style=verdict_style(verdict_class(er))),
                service_label(er),
            ]
            if several_hosts:
                cells.append(er.endpoint.host)
            cells += [er.endpoint.address or "", problem]
            table.add_row(*cells, key=str(position))
        findings_table = self.query_one("#findings", DataTable)
        for column in ("Severity", "Where", "Problem"):
            findings_table.add_column(column, key=column.lower())
        judged = [er for er in self.report.endpoints if er.analysis is not None]
        for position, (owner, finding) in enumerate(self.findings):
            affected = endpoints_with_finding(self.report, finding)
            if owner is None or not affected:
                where = "the check"  # across endpoints: consistency, discovery, history
            elif len(affected) == len(judged) > 1:
                where = "all ports"
            else:
                where = _ports(affected)
            findings_table.add_row(
                Text(SEVERITY_LABELS[finding.severity], style=severity_style(finding.severity)),
                where,
                finding.title,
                key=str(position),
            )
        findings_table.display = bool(self.findings)
        table.focus()

    # ------------------------------------------------------------------ selection

    def selected_endpoint(self) -> EndpointReport | None:
        if not self.endpoints:
            return None
        row = self.query_one("#endpoints", DataTable).cursor_row
        return self.endpoints[max(0, min(row, len(self.endpoints) - 1))]

    def selected_finding(self) -> tuple[EndpointReport | None, Finding] | None:
        if not self.findings:
            return None
        table = self.query_one("#findings", DataTable)
        if table.has_focus:
            return self.findings[max(0, min(table.cursor_row, len(self.findings) - 1))]
        endpoint = self.selected_endpoint()
        if endpoint is not None:
            finding = top_finding(endpoint)
            if finding is not None:
                return endpoint, finding
        return self.findings[0]

    @on(DataTable.RowSelected, "#endpoints")
    def _endpoint_selected(self, event: DataTable.RowSelected) -> None:
        self.mailtls_app.show_chain(self.endpoints[int(str(event.row_key.value))])

    @on(DataTable.RowSelected, "#findings")
    def _finding_selected(self, event: DataTable.RowSelected) -> None:
        endpoint, finding = self.findings[int(str(event.row_key.value))]
        self.mailtls_app.show_finding(finding, endpoint)

    def action_chain(self) -> None:
        endpoint = self.selected_endpoint()
        if endpoint is None:
            self.notify("No endpoint to show.", severity="warning")
            return
        self.mailtls_app.show_chain(endpoint)

    def action_finding(self) -> None:
        selected = self.selected_finding()
        if selected is None:
            self.notify("No problems found: nothing to explain.")
            return
        endpoint, finding = selected
        self.mailtls_app.show_finding(finding, endpoint)

    def action_compare(self) -> None:
        if self.previous is None:
            self.notify("Press r to re-check; then b compares before and after.")
            return
        from mailtls.tui.wizards.recheck import ComparisonScreen

        self.app.push_screen(ComparisonScreen(self.previous, self.report))
