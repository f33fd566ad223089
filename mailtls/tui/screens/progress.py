"""Live progress: each endpoint appears as it is probed, then gets its verdict.

The app calls :meth:`ProgressScreen.endpoint_started`, :meth:`endpoint_done`,
:meth:`hosts_found` and :meth:`show_error` from its message handlers (UI thread).
States and verdicts are words (``probing``, ``TRUSTED``, ``PROMPT``...), coloured as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from mailtls.model import Endpoint, EndpointReport, HostSource
from mailtls.report.words import service_label, state_label, verdict_label
from mailtls.tui.present import verdict_class
from mailtls.tui.widgets.styles import verdict_style
from mailtls.tui.widgets.title_bar import TitleBar


def endpoint_key(endpoint: Endpoint) -> str:
    return f"{endpoint.scheme}|{endpoint.host}|{endpoint.port}|{endpoint.address or ''}"


class ProgressScreen(Screen[None]):
    """Endpoints of the running check, in the order they were started."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.recheck", "Retry"),
        Binding("n", "app.new_check", "New check"),
    ]

    #: Column names and widths (fixed: rows arrive one by one, the columns must not jump).
    #: The words that matter come first; the host (also listed above) may be cut at 80x24.
    COLUMNS = (("State", 17), ("Verdict", 13), ("Service", 17), ("Address", 15), ("Host", 24))

    def __init__(self, targets: Sequence[str]) -> None:
        super().__init__()
        self.targets = tuple(targets)
        self.started: list[Endpoint] = []
        self.done: list[EndpointReport] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(
            f"Checking {' '.join(self.targets)} the way iPhone Mail would…",
            id="progress-title",
            markup=False,
        )
        yield Static("", id="progress-hosts")
        yield DataTable(id="progress-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="progress-error", classes="error-box")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column, width in self.COLUMNS:
            table.add_column(column, key=column.lower(), width=width)

    def hosts_found(self, hosts: Sequence[HostSource]) -> None:
        lines = [f"{h.host}  ({h.source})" for h in hosts]
        self.query_one("#progress-hosts", Static).update(
            "Hosts: " + "; ".join(lines) if lines else "No mail hosts found."
        )

    def _count(self) -> None:
        targets = " ".join(self.targets)
        self.query_one("#progress-title", Static).update(
            f"Checking {targets} the way iPhone Mail would… "
            f"{len(self.done)} of {len(self.started)} endpoints done"
        )

    def endpoint_started(self, endpoint: Endpoint) -> None:
        self.started.append(endpoint)
        self._count()
        table = self.query_one(DataTable)
        key = endpoint_key(endpoint)
        if key in table.rows:
            return
        table.add_row(
            Text("probing…", style="italic"),
            Text("…"),
            f"{endpoint.protocol.value.upper()} {endpoint.port} "
            + ("STARTTLS" if endpoint.tls_mode.value == "starttls" else "TLS"),
            endpoint.address or "",
            endpoint.host,
            key=key,
        )

    def endpoint_done(self, report: EndpointReport) -> None:
        self.done.append(report)
        self._count()
        table = self.query_one(DataTable)
        key = endpoint_key(report.endpoint)
        if key not in table.rows:
            # started before its address was known: the row without an address is this one
            unresolved = endpoint_key(
                Endpoint(report.endpoint.scheme, report.endpoint.host, report.endpoint.port)
            )
            if unresolved in table.rows:
                key = unresolved
                table.update_cell(key, "address", report.endpoint.address or "")
        verdict = Text(verdict_label(report), style=verdict_style(verdict_class(report)))
        if key not in table.rows:
            table.add_row(
                state_label(report),
                verdict,
                service_label(report),
                report.endpoint.address or "",
                report.endpoint.host,
                key=key,
            )
            return
        table.update_cell(key, "state", state_label(report))
        table.update_cell(key, "service", service_label(report))
        table.update_cell(key, "verdict", verdict)

    def show_error(self, error: str, hint: str) -> None:
        box = self.query_one("#progress-error", Static)
        box.update(f"The check could not run: {error}\n{hint}")
        box.add_class("visible")
        self.query_one("#progress-title", Static).update(
            f"Checking {' '.join(self.targets)} failed."
        )
