"""Wizards that write nothing: a stale exception (steps on the phone), deployment (files
checked, settings shown) and the TLS floor.

The stale-exception guide also shows the fingerprints of the certificate the server sends
now, so the help desk can compare them with what the iPhone's Details sheet shows before
anybody taps Trust again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from mailtls.errors import UsageError
from mailtls.report.words import spaced_hex
from mailtls.tui.wizards.base import ArtefactsWritten, WizardScreen

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
    """Check the files before deploying them, and show the mail servers' settings."""

    TITLE: ClassVar[str] = "Deploy the full chain"
    GUIDE_ID: ClassVar[str] = "full_chain"
    SHORT: ClassVar[str] = "Full chain"
    ACTION: ClassVar[str | None] = "Check files, show settings"

    def compose_form(self) -> ComposeResult:
        yield Static(
            "Which files will the mail servers use? mailtls checks them (leaf without its "
            "intermediate, wrong order, key that does not match) and prints Dovecot, Postfix "
            "and Exim settings with a TLS 1.2 floor. Nothing is written."
        )
        yield from self.field(
            "Chain file", "deploy-cert", str(self.output_dir / "server" / "fullchain.pem")
        )
        yield from self.field(
            "Key file", "deploy-key", str(self.output_dir / "server" / "server.key")
        )

    def prepare(self) -> Callable[[], ArtefactsWritten]:
        from mailtls.remedy.snippets import inspect_deployment, render_snippets, snippets

        cert = self.value("deploy-cert")
        key = self.value("deploy-key")
        if not cert:
            raise UsageError("enter the certificate chain file the servers will use")
        values = self.guide_values()

        def job() -> ArtefactsWritten:
            check = inspect_deployment(cert, key or None)
            items = snippets(("all",), cert, key or cert)
            verdict = (
                ["The files look right: " + f"{check.certificates} certificate(s)."]
                if check.ok
                else ["PROBLEM: " + problem for problem in check.problems]
            )
            return ArtefactsWritten(
                (),
                notes=(
                    *verdict,
                    *("note: " + note for note in check.notes),
                    "",
                    *render_snippets(items).rstrip("\n").splitlines(),
                ),
                values={**values, "cert": cert, "key": key},
            )

        return job


class UpgradeTlsWizard(FullChainWizard):
    TITLE: ClassVar[str] = "Offer TLS 1.2 or newer"
    GUIDE_ID: ClassVar[str] = "upgrade_tls"
    SHORT: ClassVar[str] = "TLS 1.2+"
