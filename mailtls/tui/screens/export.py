"""Export: save the report as JSON (``mailtls check --json``) or text, or copy the text.

The renderers are the CLI's (:mod:`mailtls.report.json`, :mod:`mailtls.report.text`), so
a saved file is exactly what ``mailtls check`` prints. An existing file is only replaced
after a second press of Save (the dialog says so); write errors are shown in place.
Dismisses with the written path, or None.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, RadioSet, Static, TextArea

from mailtls.model import Report
from mailtls.tui.widgets.toggles import MarkedRadioButton


def render_report(report: Report, kind: str) -> str:
    """``kind`` is "json" or "text"; the same bytes ``mailtls check`` would print."""
    if kind == "json":
        from mailtls.report import json as json_report

        return json_report.render(report)
    from mailtls.report import text as text_report

    return text_report.render(report, colour=False)


def default_file_name(report: Report, kind: str) -> str:
    if report.endpoints:
        target = report.endpoints[0].endpoint.host
    else:
        target = report.targets[0] if report.targets else "report"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", target).strip("._") or "report"
    return f"mailtls-{stem}.{'json' if kind == 'json' else 'txt'}"


class ExportScreen(ModalScreen[Path | None]):
    """Choose JSON or text and a file name; Save writes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+y", "copy", "Copy text"),
    ]

    def __init__(self, report: Report, directory: Path) -> None:
        super().__init__()
        self.report = report
        self.directory = directory
        self.kind = "json"
        self._confirm_replace: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Export the report", classes="dialog-title")
            with RadioSet(id="export-kind"):
                yield MarkedRadioButton(
                    "JSON (for scripts and tickets)", value=True, id="kind-json"
                )
                yield MarkedRadioButton("Text (to paste into a ticket or e-mail)", id="kind-text")
            yield Input(
                str(self.directory / default_file_name(self.report, "json")), id="export-path"
            )
            yield Static("Copy-friendly text (select with the mouse, or Ctrl+Y copies all):")
            yield TextArea(render_report(self.report, "text"), id="export-preview", read_only=True)
            yield Static(id="export-error", classes="error-box")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (Ctrl+S)", id="export-save", variant="primary")
                yield Button("Copy text (Ctrl+Y)", id="export-copy")
                yield Button("Cancel (Esc)", id="export-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(RadioSet.Changed, "#export-kind")
    def _kind_changed(self, event: RadioSet.Changed) -> None:
        self.kind = "json" if event.pressed.id == "kind-json" else "text"
        path_input = self.query_one("#export-path", Input)
        current = Path(path_input.value)
        path_input.value = str(current.parent / default_file_name(self.report, self.kind))

    def show_error(self, message: str) -> None:
        box = self.query_one("#export-error", Static)
        box.update(message)
        box.add_class("visible")

    def action_save(self) -> None:
        text = self.query_one("#export-path", Input).value.strip()
        if not text:
            self.show_error("Enter a file name to save to.")
            return
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.directory / path
        if path.is_dir():
            path = path / default_file_name(self.report, self.kind)
        if path.exists() and self._confirm_replace != path:
            self._confirm_replace = path
            self.show_error(f"{path} exists. Press Save again to replace it, or change the name.")
            return
        try:
            content = render_report(self.report, self.kind)
            path.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")
        except OSError as exc:
            self.show_error(
                f"Could not write {path}: {exc.strerror or exc}. Choose another folder or name."
            )
            return
        self.app.notify(f"Saved the report to {path}", title="Export")
        self.dismiss(path)

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(render_report(self.report, "text"))
        self.app.notify("The text report is on the clipboard (if the terminal allows it).")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#export-save")
    def _save(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#export-copy")
    def _copy(self) -> None:
        self.action_copy()

    @on(Button.Pressed, "#export-cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Input.Submitted, "#export-path")
    def _submitted(self) -> None:
        self.action_save()
