"""What every recovery wizard shares: its inputs, typed messages, layout and file list.

A wizard is a ``ModalScreen[tuple[Path, ...] | None]``: it dismisses with the files it
wrote (or None when closed without writing). Its form sits above the recovery guide of
:mod:`mailtls.remedy.guides` (the same steps the runbooks print), with the guide's
placeholders filled from the check and the form. Blocking work (key generation, signing,
verifying with the engine) runs in a ``@work(thread=True)`` worker that posts
:class:`ArtefactsWritten` or :class:`WizardFailed` to the wizard; errors are shown in the
wizard with what to do, never as a traceback. Existing files are never replaced unless
"Replace existing files" is ticked (the library's ``force``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Label, Static

from mailtls.errors import MailtlsError
from mailtls.model import EndpointReport, Finding, Report
from mailtls.remedy.guides import guide_for
from mailtls.tui.protocol import AppServices, services
from mailtls.tui.widgets.guide_view import GuideView
from mailtls.tui.widgets.toggles import MarkedCheckbox


class ArtefactsWritten(Message):
    """The wizard's worker wrote these files; ``notes`` are lines to show with them."""

    def __init__(
        self,
        paths: tuple[Path, ...],
        notes: tuple[str, ...] = (),
        values: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.paths = paths
        self.notes = notes
        #: Guide placeholders the work decided (paths of what was written).
        self.values = values or {}


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


def first_host(report: Report | None, endpoint_report: EndpointReport | None) -> str:
    if endpoint_report is not None:
        return endpoint_report.endpoint.host
    if report is not None and report.endpoints:
        return report.endpoints[0].endpoint.host
    if report is not None and report.targets:
        return report.targets[0]
    return ""


def report_names(report: Report | None, endpoint_report: EndpointReport | None) -> list[str]:
    """Every host name the phones use, from the check (the default SAN list)."""
    from mailtls.remedy.names import names_from_report

    if report is not None:
        return list(names_from_report(report))
    if endpoint_report is not None:
        return [endpoint_report.endpoint.host]
    return []


class WizardScreen(ModalScreen[tuple[Path, ...] | None]):
    """Base class: form above the guide, a primary action, re-check and close."""

    TITLE: ClassVar[str] = "Fix"
    #: A few words for the finding screen's button.
    SHORT: ClassVar[str] = "Guide"
    GUIDE_ID: ClassVar[str] = "recheck"
    #: Label of the primary button (None: the wizard only guides, it writes nothing).
    ACTION: ClassVar[str | None] = None
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("ctrl+s", "run", "Write files"),
        Binding("ctrl+r", "recheck", "Re-check"),
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

    @property
    def mailtls_app(self) -> AppServices:
        return services(self.app)

    # --------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wizard"):
            yield Static(self.TITLE, classes="dialog-title")
            with VerticalScroll(classes="wizard-body"):
                yield from self.compose_form()
                yield Static(id="wizard-error", classes="error-box")
                yield Static(id="wizard-result")
                yield GuideView(guide_for(self.GUIDE_ID), self.guide_values(), id="wizard-guide")
            with Horizontal(classes="dialog-buttons"):
                if self.ACTION:
                    yield Button(f"{self.ACTION} (Ctrl+S)", id="wizard-run", variant="primary")
                yield Button("Re-check (Ctrl+R)", id="wizard-recheck")
                yield Button("Close (Esc)", id="wizard-close")
        yield Footer()

    def on_mount(self) -> None:
        """Keyboard first: focus the first field of the form (or the body, to scroll)."""
        fields = self.query(".wizard-body RadioSet, .wizard-body Input")
        if fields:
            fields.first().focus()
        else:
            self.query_one(".wizard-body", VerticalScroll).focus()

    def compose_form(self) -> ComposeResult:
        """Hook: the wizard's fields (none for guide-only wizards)."""
        yield from ()

    def field(self, label: str, widget_id: str, value: str, placeholder: str = "") -> ComposeResult:
        with Horizontal(classes="option-row"):
            yield Label(label, classes="option-label")
            yield Input(value, placeholder=placeholder, id=widget_id, compact=True)

    def force_checkbox(self) -> Checkbox:
        return MarkedCheckbox("Replace existing files", id="wizard-force", compact=True)

    def value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    @property
    def force(self) -> bool:
        boxes = self.query("#wizard-force")
        return bool(boxes) and self.query_one("#wizard-force", Checkbox).value

    def guide_values(self) -> dict[str, str]:
        """Hook: placeholders for the guide (host, names, paths)."""
        names = report_names(self.report, self.endpoint_report)
        return {
            "host": first_host(self.report, self.endpoint_report),
            "names": " ".join(names),
        }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Guide-only wizards write nothing: no Ctrl+S in their footer."""
        return action != "run" or bool(self.ACTION)

    # --------------------------------------------------------------- running

    def action_run(self) -> None:
        if not self.ACTION:
            return
        if self.busy:
            self.notify("Still working…")
            return
        self.clear_error()
        try:
            job = self.prepare()
        except MailtlsError as exc:
            self.show_error(str(exc), self.hint_for(exc))
            return
        if job is None:
            return
        self.busy = True
        self.query_one("#wizard-result", Static).update("Working… (keys take a moment)")
        self.run_job(job)

    def prepare(self) -> Callable[[], ArtefactsWritten] | None:
        """Hook: validate the form (raise UsageError) and return the blocking job.

        Guide-only wizards (no ``ACTION``) write nothing and keep this default;
        :meth:`__init_subclass__` makes sure every wizard with an ``ACTION`` overrides it.
        """
        return None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.ACTION and cls.prepare is WizardScreen.prepare:
            raise TypeError(f"{cls.__name__} has ACTION {cls.ACTION!r} but no prepare()")

    def hint_for(self, exc: MailtlsError) -> str:
        text = str(exc)
        if "exist" in text or "--force" in text:
            return "Tick 'Replace existing files' to overwrite them, or choose another folder."
        return "Correct the field above and try again."

    @work(thread=True, exclusive=True, group="wizard", exit_on_error=False)
    def run_job(self, job: Callable[[], ArtefactsWritten]) -> None:
        try:
            message = job()
        except MailtlsError as exc:
            self.post_message(WizardFailed(str(exc), self.hint_for(exc)))
        except OSError as exc:
            self.post_message(
                WizardFailed(
                    f"could not write: {exc.strerror or exc}"
                    + (f" ({exc.filename})" if exc.filename else ""),
                    "Choose a folder you can write to.",
                )
            )
        except Exception as exc:  # a bug in mailtls: shown, never a traceback
            self.post_message(
                WizardFailed(
                    f"internal error: {type(exc).__name__}: {exc}",
                    "This is a bug in mailtls; the CLI command (see the guide) does the same.",
                )
            )
        else:
            self.post_message(message)

    # --------------------------------------------------------------- results

    def show_error(self, message: str, hint: str = "") -> None:
        self.error = message
        box = self.query_one("#wizard-error", Static)
        box.update(message + (f"\n{hint}" if hint else ""))
        box.add_class("visible")
        self.query_one("#wizard-result", Static).update("")
        self.call_after_refresh(box.scroll_visible)

    def clear_error(self) -> None:
        self.error = None
        self.query_one("#wizard-error", Static).remove_class("visible")

    @on(ArtefactsWritten)
    def _written(self, message: ArtefactsWritten) -> None:
        self.busy = False
        self.written = message.paths
        lines = [f"  {path}  (mode {describe_mode(path)})" for path in message.paths]
        result = self.query_one("#wizard-result", Static)
        head = "Written:" if message.paths else "Result:"
        result.update(head + "\n" + "\n".join(lines + [f"  {n}" for n in message.notes]))
        result.add_class("wizard-success")
        if message.values:
            self.query_one("#wizard-guide", GuideView).show(message.values)
        self.call_after_refresh(result.scroll_visible, top=True)

    @on(WizardFailed)
    def _failed(self, message: WizardFailed) -> None:
        self.busy = False
        self.show_error(message.error, message.hint)

    def recheck_root(self) -> Path | None:
        """Hook: the root to re-check with (``--ca-file``), once the wizard made one."""
        return None

    def action_recheck(self) -> None:
        root = self.recheck_root()
        app = self.mailtls_app
        self.dismiss(self.written or None)
        app.recheck_with_root(root)

    def action_close(self) -> None:
        self.dismiss(self.written or None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        """Enter in a field does what the primary button does."""
        self.action_run()

    @on(Button.Pressed, "#wizard-run")
    def _run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#wizard-recheck")
    def _recheck_pressed(self) -> None:
        self.action_recheck()

    @on(Button.Pressed, "#wizard-close")
    def _close_pressed(self) -> None:
        self.action_close()
