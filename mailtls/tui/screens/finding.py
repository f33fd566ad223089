"""Finding view: the rule in plain words, what the user sees, why iOS does it, the fix.

The fix section lists the recovery wizards that apply (:data:`mailtls.tui.wizards.WIZARDS`
keyed by ``Finding.remedy``); the first one opens with ``w``.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from mailtls.model import EndpointReport, Finding, Report, ResultClass
from mailtls.report.words import (
    SEVERITY_LABELS,
    endpoints_with_finding,
    evidence_lines,
    service_label,
)
from mailtls.tui.protocol import AppServices, services
from mailtls.tui.widgets.title_bar import TitleBar
from mailtls.tui.wizards import WIZARDS, wizards_for

RESULT_CLASS_WORDS: dict[ResultClass, str] = {
    ResultClass.RECOVERABLE: (
        'Recoverable: Mail offers "Trust" in the certificate details; that stores an '
        "exception for this exact certificate only, and the warning comes back when the "
        "certificate changes."
    ),
    ResultClass.FATAL: "Fatal: no button on the iPhone makes this work; the server must change.",
    ResultClass.DENY: "Denied: the certificate or its CA is explicitly distrusted.",
}


class FindingScreen(Screen[None]):
    """One finding, explained."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("w", "wizard", "Fix it"),
        Binding("r", "app.recheck", "Re-check"),
        Binding("e", "app.export", "Export"),
    ]

    def __init__(
        self, finding: Finding, endpoint_report: EndpointReport | None, report: Report | None
    ) -> None:
        super().__init__()
        self.finding = finding
        self.endpoint_report = endpoint_report
        self.report = report
        self.wizard_ids: list[str] = wizards_for(finding)

    @property
    def mailtls_app(self) -> AppServices:
        return services(self.app)

    def _section(self, title: str, text: str, widget_id: str) -> ComposeResult:
        if not text:
            return
        yield Static(title, classes="section-title")
        yield Static(text, classes="finding-text", id=widget_id, markup=False)

    def compose(self) -> ComposeResult:
        f = self.finding
        yield TitleBar()
        with VerticalScroll(id="finding-body"):
            yield Static(
                f"{SEVERITY_LABELS[f.severity]}: {f.title}", id="finding-title", markup=False
            )
            yield Static(f.summary, id="finding-summary", markup=False)
            yield from self._section("Where", self._where(), "finding-where")
            user_sees = f.user_sees or (
                self.endpoint_report.analysis.user_sees
                if self.endpoint_report and self.endpoint_report.analysis
                else ""
            )
            yield from self._section("What the iPhone user sees", user_sees, "finding-user-sees")
            yield from self._section("Why iOS does this", self._why(), "finding-why")
            yield from self._section(
                "What mailtls saw", "\n".join(evidence_lines(f)), "finding-evidence"
            )
            yield from self._section("How to fix it", f.fix, "finding-fix")
            if self.wizard_ids:
                yield Static("Guided fixes (w opens the first):", classes="section-title")
                with Horizontal(id="finding-actions"):
                    for position, wizard_id in enumerate(self.wizard_ids):
                        key = " (w)" if position == 0 else ""
                        yield Button(
                            WIZARDS[wizard_id].SHORT + key,
                            id=f"wizard-{wizard_id}",
                            variant="primary" if position == 0 else "default",
                        )
            else:
                yield Static(
                    "No guided fix for this one: follow the text above, then press r to re-check.",
                    classes="hint",
                )
        yield Footer()

    def _where(self) -> str:
        f = self.finding
        if self.report is not None:
            affected = endpoints_with_finding(self.report, f)
        elif self.endpoint_report is not None:
            affected = [self.endpoint_report]
        else:
            affected = []
        lines = [
            f"{service_label(er)} {er.endpoint.host}"
            + (f" [{er.endpoint.address}]" if er.endpoint.address else "")
            for er in affected
        ]
        if f.cert_index is not None:
            lines.append(
                "Certificate #"
                + str(f.cert_index)
                + (" (the server certificate)" if f.cert_index == 0 else " of the chain as sent")
            )
        return "\n".join(lines)

    def _why(self) -> str:
        f = self.finding
        parts = []
        if f.check_key:
            parts.append(f"Apple's check: {f.check_key} (rule {f.rule_id}).")
        else:
            parts.append(f"Rule {f.rule_id} ({f.category.value}).")
        if f.result_class is not None:
            parts.append(RESULT_CLASS_WORDS[f.result_class])
        if f.citation:
            parts.append(f"Source: {f.citation}")
        return "\n".join(parts)

    def on_mount(self) -> None:
        self.title = f"Finding: {self.finding.title}"
        self.query_one("#finding-body", VerticalScroll).focus()

    def open_wizard(self, wizard_id: str) -> None:
        wizard = WIZARDS[wizard_id]
        self.app.push_screen(
            wizard(self.finding, self.endpoint_report, self.report, self.mailtls_app.output_dir)
        )

    def action_wizard(self) -> None:
        if not self.wizard_ids:
            self.notify("No guided fix for this finding; follow 'How to fix it'.")
            return
        self.open_wizard(self.wizard_ids[0])

    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id.startswith("wizard-"):
            self.open_wizard(button_id.removeprefix("wizard-"))
