"""Guide-only wizards: steps to follow, nothing to write (stale exception, full chain, TLS).

The stale-exception guide also shows the fingerprints of the certificate the server sends
now, so the help desk can compare them with what the iPhone's Details sheet shows before
anybody taps Trust again.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from mailtls.tui.present import spaced_hex
from mailtls.tui.wizards.base import WizardScreen

spaced = spaced_hex  # the same form the chain view uses


class StaleExceptionWizard(WizardScreen):
    TITLE: ClassVar[str] = "Clear a stale 'Trust' exception on the iPhone"
    GUIDE_ID: ClassVar[str] = "stale_exception"
    SHORT: ClassVar[str] = "Stale exception"

    def compose_form(self) -> ComposeResult:
        er = self.endpoint_report
        if er is None and self.report is not None:
            er = next((e for e in self.report.endpoints if e.analysis is not None), None)
        if er is not None and er.analysis is not None and er.analysis.chain:
            leaf = er.analysis.chain[0]
            yield Static(
                f"The certificate {er.endpoint.host} sends now ({er.endpoint.url}):\n"
                f"  SHA-256 {spaced(leaf.sha256)}\n"
                f"  SHA-1   {spaced(leaf.sha1)}\n"
                "Compare with Details on the iPhone's warning before anybody taps Trust.",
                id="stale-fingerprints",
                markup=False,
            )
        yield Static(
            "Steps marked 'reported' are what users report to work; Apple does not document "
            "where Mail keeps these exceptions.",
            classes="hint",
        )


class FullChainWizard(WizardScreen):
    TITLE: ClassVar[str] = "Deploy the full chain"
    GUIDE_ID: ClassVar[str] = "full_chain"
    SHORT: ClassVar[str] = "Full chain"


class UpgradeTlsWizard(WizardScreen):
    TITLE: ClassVar[str] = "Offer TLS 1.2 or newer"
    GUIDE_ID: ClassVar[str] = "upgrade_tls"
    SHORT: ClassVar[str] = "TLS 1.2+"
