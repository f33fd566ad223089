"""What the screens and wizards need of the app, so that none of them imports it.

:class:`~mailtls.tui.app.MailtlsApp` satisfies :class:`AppServices`; a screen reaches it
through :func:`services` (``services(self.app)``). The app imports the screens, never the
other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from mailtls.model import EndpointReport, Finding, Report
from mailtls.service import CheckOptions


@dataclass(frozen=True)
class CheckRequest:
    """What the start screen asks for: targets and the check's options (or None)."""

    targets: tuple[str, ...]
    options: CheckOptions | None = None


@runtime_checkable
class AppServices(Protocol):
    """The app as the screens see it: the current report and where to go next."""

    @property
    def report(self) -> Report | None:
        """The last finished report (None before the first check)."""

    @property
    def output_dir(self) -> Path:
        """Where exports and wizards suggest writing files."""

    def start_check(self, request: CheckRequest) -> None:
        """Show the progress screen and run ``request``."""

    def recheck_with_root(self, root: Path | None) -> None:
        """Re-check after a fix; with ``root``, as a phone that trusts it."""

    def show_overview(self) -> None:
        """Go back to the overview of the current report."""

    def show_chain(self, endpoint_report: EndpointReport) -> None:
        """Open the chain view of one endpoint."""

    def show_finding(self, finding: Finding, endpoint_report: EndpointReport | None) -> None:
        """Open one finding (``endpoint_report`` None for a cross-endpoint one)."""


def services(app: object) -> AppServices:
    """``app`` (a screen's ``self.app``) as :class:`AppServices`."""
    if not isinstance(app, AppServices):
        raise TypeError(f"{type(app).__name__} is not a mailtls app")
    return app
