"""What every recovery wizard shares: its inputs, typed messages, and the file list.

A wizard is a ``ModalScreen[tuple[Path, ...] | None]``: it dismisses with the files it
wrote (or None when closed without writing). Blocking work (key generation, signing,
verifying with the engine) runs in ``@work(thread=True)`` workers that post
:class:`ArtefactsWritten` or :class:`WizardFailed` to the wizard; errors are shown in the
wizard with what to do, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from mailtls.model import EndpointReport, Finding, Report


class ArtefactsWritten(Message):
    """The wizard's worker wrote these files; ``notes`` are lines to show with them."""

    def __init__(self, paths: tuple[Path, ...], notes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.paths = paths
        self.notes = notes


class WizardFailed(Message):
    """The worker refused or failed; ``error`` is one line, ``hint`` what to do."""

    def __init__(self, error: str, hint: str = "") -> None:
        super().__init__()
        self.error = error
        self.hint = hint


def describe_mode(path: Path) -> str:
    """``0600`` for a key, to show that it is private."""
    try:
        return f"{path.stat().st_mode & 0o777:04o}"
    except OSError:
        return "?"


class WizardScreen(ModalScreen[tuple[Path, ...] | None]):
    """Base class: holds the finding and where files go; shows results and errors."""

    TITLE: ClassVar[str] = "Fix"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
    ]

    def __init__(
        self,
        finding: Finding | None,
        endpoint_report: EndpointReport | None,
        report: Report | None,
        output_dir: Path,
    ) -> None:
        super().__init__()
        self.finding = finding
        self.endpoint_report = endpoint_report
        self.report = report
        self.output_dir = output_dir
        self.written: tuple[Path, ...] = ()
        self.error: str | None = None
        self.busy = False

    # --------------------------------------------------------------- results

    def show_error(self, message: str, hint: str = "") -> None:
        self.error = message
        box = self.query_one("#wizard-error", Static)
        box.update(message + (f"\n{hint}" if hint else ""))
        box.add_class("visible")

    def clear_error(self) -> None:
        self.error = None
        self.query_one("#wizard-error", Static).remove_class("visible")

    def on_artefacts_written(self, message: ArtefactsWritten) -> None:
        self.busy = False
        self.written = message.paths
        lines = [f"{path}  (mode {describe_mode(path)})" for path in message.paths]
        result = self.query_one("#wizard-result", Static)
        result.update("Written:\n" + "\n".join(lines + list(message.notes)))
        result.add_class("wizard-success")
        self.after_written(message)

    def after_written(self, message: ArtefactsWritten) -> None:
        """Hook: show the next steps once the files exist."""

    def on_wizard_failed(self, message: WizardFailed) -> None:
        self.busy = False
        self.show_error(message.error, message.hint)

    def action_close(self) -> None:
        self.dismiss(self.written or None)
