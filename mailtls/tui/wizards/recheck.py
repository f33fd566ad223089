"""Re-check and compare: before and after, endpoint by endpoint.

The re-check itself is the app's (``r`` anywhere); when it finishes the overview offers
``b``, which opens :class:`ComparisonScreen` over the two reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Static

from mailtls.model import EndpointReport, Report
from mailtls.report.words import overview_rank, verdict_label
from mailtls.tui.present import verdict_class
from mailtls.tui.widgets.styles import verdict_style


@dataclass(frozen=True)
class EndpointChange:
    """One endpoint before and after (either side may be missing)."""

    key: tuple[str, str, int, str]
    before: EndpointReport | None
    after: EndpointReport | None

    @property
    def change(self) -> str:
        if self.before is None:
            return "new"
        if self.after is None:
            return "gone"
        old, new = overview_rank(self.before), overview_rank(self.after)
        if new > old:
            return "better"
        if new < old:
            return "worse"
        before_leaf = self.before.probe.chain[:1]
        after_leaf = self.after.probe.chain[:1]
        if before_leaf != after_leaf:
            return "same verdict, new certificate"
        return "unchanged"


def _key(er: EndpointReport) -> tuple[str, str, int, str]:
    e = er.endpoint
    return (e.scheme, e.host, e.port, e.address or "")


def compare_reports(before: Report, after: Report) -> list[EndpointChange]:
    """Pair endpoints of two checks by scheme, host, port and address."""
    old = {_key(er): er for er in before.endpoints}
    new = {_key(er): er for er in after.endpoints}
    keys = list(dict.fromkeys([*new, *old]))
    return [EndpointChange(k, old.get(k), new.get(k)) for k in keys]


class ComparisonScreen(ModalScreen[None]):
    """A table: service, address, verdict before, verdict after, what changed."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,b", "close", "Close")]

    def __init__(self, before: Report, after: Report) -> None:
        super().__init__()
        self.changes = compare_reports(before, after)

    def compose(self) -> ComposeResult:
        better = sum(1 for c in self.changes if c.change == "better")
        worse = sum(1 for c in self.changes if c.change == "worse")
        with Vertical(classes="dialog"):
            yield Static("Before and after the fix", classes="dialog-title")
            yield Static(
                f"{better} endpoint(s) better, {worse} worse, "
                f"{len(self.changes) - better - worse} without a verdict change.",
                id="comparison-summary",
            )
            yield DataTable(id="comparison-table", classes="comparison-table", cursor_type="row")
            yield Button("Close (Esc)", id="comparison-close")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("Service", "Address", "Before", "After", "Change"):
            table.add_column(column, key=column.lower())
        for change in self.changes:
            scheme, host, port, address = change.key
            cells: list[Text | str] = [f"{scheme} {port}", address or host]
            for side in (change.before, change.after):
                if side is None:
                    cells.append("-")
                else:
                    cells.append(
                        Text(verdict_label(side), style=verdict_style(verdict_class(side)))
                    )
            cells.append(change.change)
            table.add_row(*cells)

    def on_button_pressed(self) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
