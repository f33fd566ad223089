"""The Textual front end of mailtls (``mailtls tui``, ``mailtls check --tui``).

Importing this package is cheap and does not import Textual; :func:`run_tui` and
:func:`create_app` import the app when called. Nothing outside ``mailtls.tui`` imports
Textual.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailtls.model import Report
    from mailtls.service import CheckOptions
    from mailtls.tui.app import CheckFunction, MailtlsApp


def create_app(
    report: Report | None = None,
    targets: Sequence[str] = (),
    options: CheckOptions | None = None,
    *,
    check_function: CheckFunction | None = None,
    output_dir: Path | None = None,
    debug: bool = False,
) -> MailtlsApp:
    """Build the app: from a finished ``report`` (no network), or to check ``targets``.

    With neither, the app opens on the start screen. ``check_function`` replaces
    :func:`mailtls.service.check` (same signature); ``output_dir`` is where exports and
    wizards suggest writing files (default: the current directory). ``debug`` keeps
    Textual's traceback for a bug in a screen (otherwise one line is printed on exit).
    """
    from mailtls.tui.app import MailtlsApp

    return MailtlsApp(
        report,
        targets,
        options,
        check_function=check_function,
        output_dir=output_dir,
        debug=debug,
    )


def run_tui(
    targets: Sequence[str], options: CheckOptions | None = None, *, debug: bool = False
) -> int:
    """Run the TUI in this terminal; returns the exit code ``mailtls check`` would give."""
    from mailtls.exitcodes import ExitCode
    from mailtls.report.outcome import exit_code

    app = create_app(targets=targets, options=options, debug=debug)
    app.run()
    if app.return_code not in (None, 0):
        return int(app.return_code)
    if app.report is None:  # quit before a check finished
        return int(ExitCode.UNCHECKED if targets else ExitCode.OK)
    return int(exit_code(app.report))
