"""The Textual application: one check, its screens, and the worker that runs it.

Flow: Start (targets and options) -> Progress (endpoints appear as they are probed) ->
Overview (one line per endpoint, worst first) -> Chain / Finding views -> recovery
wizards. Start, Progress and Overview replace each other (``switch_screen``); the
detail views, export, help and wizards are pushed on top and closed with Escape.

The check runs in a ``@work(thread=True)`` worker that calls :mod:`mailtls.service`
(or the ``check_function`` given to the factory) in a daemon thread it watches, and only
posts the typed messages of :mod:`mailtls.tui.messages`; widgets are touched on the UI
thread only. Every error of the worker is caught and shown in the screen with what to
do (no traceback escapes), and quitting never waits for a slow server.

The screens never import this module: they reach the app through
:class:`mailtls.tui.protocol.AppServices`, which :class:`MailtlsApp` satisfies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import get_current_worker

from mailtls.errors import MailtlsError
from mailtls.model import Endpoint, EndpointReport, Finding, HostSource, Report
from mailtls.service import CheckObserver, CheckOptions, check
from mailtls.tui.messages import (
    CheckFailed,
    CheckFinished,
    CheckStarted,
    EndpointDone,
    EndpointStarted,
    HostsFound,
)
from mailtls.tui.protocol import CheckRequest

#: ``check(targets, options, observer) -> Report``: the service's check or a stand-in.
CheckFunction = Callable[[Sequence[str], CheckOptions | None, CheckObserver], Report]


class _PostingObserver(CheckObserver):
    """Receives the service's callbacks on the worker thread and posts messages."""

    def __init__(self, app: MailtlsApp) -> None:
        self._app = app

    def on_hosts(self, hosts: Sequence[HostSource]) -> None:
        self._app.post_message(HostsFound(tuple(hosts)))

    def on_endpoint_started(self, endpoint: Endpoint) -> None:
        self._app.post_message(EndpointStarted(endpoint))

    def on_endpoint_done(self, report: EndpointReport) -> None:
        self._app.post_message(EndpointDone(report))


def _service_check(
    targets: Sequence[str], options: CheckOptions | None, observer: CheckObserver
) -> Report:
    return check(list(targets), options or CheckOptions(), observer=observer)


class MailtlsApp(App[int]):
    """mailtls in a terminal: check a mail host and explain what the iPhone will do."""

    TITLE = "mailtls"
    SUB_TITLE = "why the iPhone says Cannot Verify Server Identity"
    CSS_PATH = "app.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("ctrl+p", "command_palette", "Commands", show=False),
    ]

    def __init__(
        self,
        report: Report | None = None,
        targets: Sequence[str] = (),
        options: CheckOptions | None = None,
        *,
        check_function: CheckFunction | None = None,
        output_dir: Path | None = None,
        debug: bool = False,
    ) -> None:
        super().__init__()
        #: Keep Textual's traceback for a bug in a screen (``mailtls --debug tui``).
        self.show_tracebacks = debug
        self.report: Report | None = report
        #: The report before the last re-check, for the before/after comparison.
        self.previous_report: Report | None = None
        self.request = CheckRequest(tuple(targets) or (report.targets if report else ()), options)
        self.check_function: CheckFunction = check_function or _service_check
        #: Where exports and wizards suggest writing files (the current directory).
        self.output_dir = output_dir or Path.cwd()
        self.checking = False
        self.last_error: CheckFailed | None = None

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        if self.report is not None:
            self.show_overview()
        elif self.request.targets:
            self.start_check(self.request)
        else:
            self.action_new_check()

    # ------------------------------------------------------------------ checking

    def start_check(self, request: CheckRequest) -> None:
        """Show the progress screen and run the check in a worker thread."""
        from mailtls.tui.screens.progress import ProgressScreen

        self.request = request
        self.checking = True
        self.last_error = None
        screen = ProgressScreen(request.targets)
        self._show_main(screen)
        self.post_message(CheckStarted(request.targets))
        self.run_check(request)

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def run_check(self, request: CheckRequest) -> None:
        """Blocking: probe and judge; results travel back as messages only.

        The check itself runs in a daemon thread that this worker waits for, checking
        every 0.1 s whether it was cancelled: quitting (or a new check) never waits for a
        slow server's time-outs, and an abandoned check dies with the process.
        """
        worker = get_current_worker()
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def check_thread() -> None:
            try:
                outcome["report"] = self.check_function(
                    request.targets, request.options, _PostingObserver(self)
                )
            except BaseException as exc:  # handed to the worker, which says what it was
                outcome["error"] = exc
            finally:
                finished.set()

        threading.Thread(target=check_thread, name="mailtls-check", daemon=True).start()
        while not finished.wait(0.1):
            if worker.is_cancelled:
                return
        if worker.is_cancelled:
            return
        try:
            if "error" in outcome:
                raise outcome["error"]
            report: Report = outcome["report"]
        except MailtlsError as exc:
            self.post_message(
                CheckFailed(
                    str(exc), "Press n to change the target or its options, r to try again."
                )
            )
        except Exception as exc:  # a bug in mailtls: say so, never show a traceback
            self.post_message(
                CheckFailed(
                    f"internal error: {type(exc).__name__}: {exc}",
                    "This is a bug in mailtls. Press r to try again or n to start over; "
                    "`mailtls --debug check ...` shows the details.",
                )
            )
        else:
            self.post_message(CheckFinished(report))

    def _progress(self) -> Any:
        from mailtls.tui.screens.progress import ProgressScreen

        for screen in self.screen_stack:
            if isinstance(screen, ProgressScreen):
                return screen
        return None

    @on(HostsFound)
    def _hosts_found(self, message: HostsFound) -> None:
        progress = self._progress()
        if progress is not None:
            progress.hosts_found(message.hosts)

    @on(EndpointStarted)
    def _endpoint_started(self, message: EndpointStarted) -> None:
        progress = self._progress()
        if progress is not None:
            progress.endpoint_started(message.endpoint)

    @on(EndpointDone)
    def _endpoint_done(self, message: EndpointDone) -> None:
        progress = self._progress()
        if progress is not None:
            progress.endpoint_done(message.report)

    @on(CheckFinished)
    def _check_finished(self, message: CheckFinished) -> None:
        self.checking = False
        if not message.report.endpoints and message.report.errors:
            # nothing could even be tried (bad input): back to the form, with the reason
            from mailtls.tui.screens.start import StartScreen

            start = StartScreen(self.request, error="; ".join(message.report.errors))
            self._show_main(start)
            return
        if self.report is not None and self.report.targets == message.report.targets:
            self.previous_report = self.report
        self.report = message.report
        self.show_overview()

    @on(CheckFailed)
    def _check_failed(self, message: CheckFailed) -> None:
        self.checking = False
        self.last_error = message
        progress = self._progress()
        if progress is not None:
            progress.show_error(message.error, message.hint)
        else:
            self.notify(f"{message.error}\n{message.hint}", title="Check failed", severity="error")

    def _fatal_error(self) -> None:
        """A bug in a screen: one line on exit instead of Textual's traceback.

        Overrides Textual's (8.x) private hook that renders the traceback shown when the
        app exits after an unhandled exception; with ``show_tracebacks`` it is kept.
        """
        if self.show_tracebacks:
            super()._fatal_error()
            return
        error = self._exception
        what = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
        self.bell()
        self._exit_renderables.append(
            Text(
                f"mailtls: internal error in the terminal UI: {what} "
                "(a bug in mailtls; run `mailtls --debug tui ...` for details, "
                "or use `mailtls check`)"
            )
        )
        self._close_messages_no_wait()

    # ------------------------------------------------------------------ navigation

    def _show_main(self, screen: Screen[Any]) -> None:
        """Replace the main screen (start, progress, overview), closing detail views.

        The stack is: Textual's blank default screen, the main screen, detail views.
        """
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_overview(self) -> None:
        from mailtls.tui.screens.overview import OverviewScreen

        assert self.report is not None
        self._show_main(OverviewScreen(self.report, self.previous_report))

    def show_chain(self, endpoint_report: EndpointReport) -> None:
        from mailtls.tui.screens.chain import ChainScreen

        self.push_screen(ChainScreen(endpoint_report))

    def show_finding(self, finding: Finding, endpoint_report: EndpointReport | None) -> None:
        from mailtls.tui.screens.finding import FindingScreen

        self.push_screen(FindingScreen(finding, endpoint_report, self.report))

    # ------------------------------------------------------------------ actions

    def action_help(self) -> None:
        from mailtls.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_recheck(self) -> None:
        """Run the same check again (one key: r)."""
        if self.checking:
            self.notify("A check is already running.", severity="warning")
            return
        if not self.request.targets:
            self.action_new_check()
            return
        self.start_check(self.request)

    def recheck_with_root(self, root: Path | None) -> None:
        """Re-check after a fix; with ``root``, as a phone that trusts it (``--ca-file``)."""
        if self.checking:
            self.notify("A check is already running.", severity="warning")
            return
        if not self.request.targets:
            self.action_new_check()
            return
        request = self.request
        if root is not None:
            options = request.options or CheckOptions()
            if root not in options.ca_files:
                options = replace(options, ca_files=(*options.ca_files, root))
            request = CheckRequest(request.targets, options)
        self.start_check(request)

    def action_new_check(self) -> None:
        from mailtls.tui.screens.start import StartScreen

        self._show_main(StartScreen(self.request))

    def action_export(self) -> None:
        from mailtls.tui.screens.export import ExportScreen

        if self.report is None:
            self.notify("Nothing to export yet: run a check first.", severity="warning")
            return
        self.push_screen(ExportScreen(self.report, self.output_dir))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """The command palette lists mailtls's actions first, then Textual's."""
        yield SystemCommand("Re-check", "Run the same check again (r)", self.action_recheck)
        yield SystemCommand(
            "New check", "Check another host or change options (n)", self.action_new_check
        )
        yield SystemCommand(
            "Export report", "Save the report as JSON or text (e)", self.action_export
        )
        yield SystemCommand("Help", "Keys and what the verdicts mean (?)", self.action_help)
        if self.report is not None:
            yield SystemCommand("Overview", "Back to the list of endpoints", self.show_overview)
        yield from super().get_system_commands(screen)
