"""Wizards: reissue the server certificate from a private CA, or make a CSR for a public CA.

Both start from the host names the check saw (every name the phones use must be in the
SAN). The private path reuses a CA found in the CA folder or creates one
(:func:`mailtls.remedy.ca.init_ca`), then issues key, certificate and full chain
(:func:`~mailtls.remedy.ca.issue_server_cert`, which has the engine verify the result
first). The public path writes key and CSR (:func:`mailtls.remedy.csr.make_csr`) and
shows the ACME commands. Keys are written 0600; nothing is replaced unless asked.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Static

from mailtls.errors import UsageError
from mailtls.tui.wizards.base import ArtefactsWritten, WizardScreen, first_host, report_names


def _path(text: str, base: Path, what: str) -> Path:
    if not text:
        raise UsageError(f"enter the {what}")
    path = Path(text).expanduser()
    return path if path.is_absolute() else base / path


def _names(text: str) -> list[str]:
    names = [n for n in text.replace(",", " ").split() if n]
    if not names:
        raise UsageError("enter at least one host name for the certificate")
    return names


class ReissueWizard(WizardScreen):
    TITLE: ClassVar[str] = "Reissue the certificate from a private CA"
    GUIDE_ID: ClassVar[str] = "reissue"
    SHORT: ClassVar[str] = "Private CA"
    ACTION: ClassVar[str | None] = "Create CA and certificate"

    def compose_form(self) -> ComposeResult:
        from mailtls.remedy.ca import DEFAULT_SERVER_DAYS, MAX_SERVER_DAYS

        host = first_host(self.report, self.endpoint_report)
        domain = host.split(".", 1)[1] if host.count(".") >= 2 else host
        yield Static(
            "Every host name the phones use goes into the certificate (iOS reads only the "
            "SAN). These come from the check; add any other name the phones are set up with."
        )
        yield from self.field(
            "Host names", "reissue-names", " ".join(report_names(self.report, self.endpoint_report))
        )
        yield from self.field("CA folder", "reissue-ca-dir", str(self.output_dir / "ca"))
        yield from self.field("New CA name", "reissue-ca-cn", f"{domain or 'Company'} Mail Root")
        yield Static(id="reissue-ca-state", classes="hint")
        yield from self.field("Days valid", "reissue-days", str(DEFAULT_SERVER_DAYS))
        yield Static(
            f"{DEFAULT_SERVER_DAYS} days by default: iOS refuses more than {MAX_SERVER_DAYS} "
            "even under a company root, and a short life limits a leaked key.",
            classes="hint",
        )
        yield from self.field("Output folder", "reissue-out", str(self.output_dir / "server"))
        yield self.force_checkbox()

    def on_mount(self) -> None:
        self._describe_ca()

    @on(Input.Changed, "#reissue-ca-dir")
    def _ca_dir_changed(self) -> None:
        self._describe_ca()

    def ca_exists(self) -> bool:
        from mailtls.remedy.ca import ca_paths

        text = self.value("reissue-ca-dir")
        if not text:
            return False
        paths = ca_paths(_path(text, self.output_dir, "CA folder"))
        return paths.cert.is_file() and paths.key.is_file()

    def _describe_ca(self) -> None:
        state = self.query_one("#reissue-ca-state", Static)
        if self.ca_exists():
            state.update("A CA exists in that folder: it will sign (the name above is not used).")
        else:
            state.update("No CA in that folder yet: mailtls creates one with the name above.")

    def prepare(self) -> Callable[[], ArtefactsWritten]:
        from mailtls.remedy.ca import ca_paths, init_ca, issue_server_cert
        from mailtls.remedy.names import parse_names

        names = _names(self.value("reissue-names"))
        parse_names(names)  # a bad name is reported now, before any key is made
        ca_dir = _path(self.value("reissue-ca-dir"), self.output_dir, "CA folder")
        out = _path(self.value("reissue-out"), self.output_dir, "output folder")
        cn = self.value("reissue-ca-cn")
        try:
            days = int(self.value("reissue-days"))
        except ValueError:
            raise UsageError("'Days valid' must be a whole number of days") from None
        create_ca = not self.ca_exists()
        if create_ca and not cn:
            raise UsageError("the new CA needs a name (shown in Certificate Trust Settings)")
        force = self.force
        values = self.guide_values()

        def job() -> ArtefactsWritten:
            written: list[Path] = []
            ca = ca_paths(ca_dir)
            if create_ca:
                ca = init_ca(ca_dir, cn=cn, force=force)
                written += [ca.key, ca.cert]
            issued = issue_server_cert(ca_dir, names, out_directory=out, days=days, force=force)
            written += [issued.key, issued.cert, issued.fullchain]
            return ArtefactsWritten(
                tuple(written),
                notes=(
                    f"names: {', '.join(issued.names)}",
                    f"valid until {issued.not_after:%Y-%m-%d}",
                    "checked: trusted by mailtls's iOS rules under this root",
                    "Next: deploy fullchain.pem and server.key, install the root (profile), "
                    "then Re-check.",
                ),
                values={
                    **values,
                    "names": " ".join(issued.names),
                    "ca_dir": str(ca_dir),
                    "out": str(out),
                    "cert": str(issued.fullchain),
                    "key": str(issued.key),
                    "root": str(ca.cert),
                },
            )

        return job

    def recheck_root(self) -> Path | None:
        from mailtls.remedy.ca import ca_paths

        text = self.value("reissue-ca-dir")
        if not text:
            return None
        cert = ca_paths(_path(text, self.output_dir, "CA folder")).cert
        return cert if cert.is_file() else None


class CsrWizard(WizardScreen):
    TITLE: ClassVar[str] = "Get a certificate from a public CA (key + CSR)"
    GUIDE_ID: ClassVar[str] = "public_ca"
    SHORT: ClassVar[str] = "Public CA (CSR)"
    ACTION: ClassVar[str | None] = "Write key and CSR"

    def compose_form(self) -> ComposeResult:
        yield Static(
            "A public certificate works on every iPhone without a profile. List every host "
            "name the phones use; public CAs refuse private names (.local, .lan, .test)."
        )
        yield from self.field(
            "Host names", "csr-names", " ".join(report_names(self.report, self.endpoint_report))
        )
        yield from self.field("Output folder", "csr-out", str(self.output_dir / "server"))
        yield self.force_checkbox()
        yield Static(id="csr-acme")

    def prepare(self) -> Callable[[], ArtefactsWritten]:
        from mailtls.remedy.csr import make_csr, render_acme_text
        from mailtls.remedy.names import parse_names

        names = _names(self.value("csr-names"))
        parse_names(names)
        out = _path(self.value("csr-out"), self.output_dir, "output folder")
        force = self.force
        values = self.guide_values()

        def job() -> ArtefactsWritten:
            made = make_csr(names, out_directory=out, force=force)
            acme = render_acme_text(
                made.names,
                csr_path=str(made.csr),
                key_path=str(made.key),
                out_directory=str(out),
            )
            return ArtefactsWritten(
                (made.key, made.csr),
                notes=(
                    *(f"warning: {w}" for w in made.warnings),
                    "",
                    *acme.rstrip("\n").splitlines(),
                ),
                values={
                    **values,
                    "names": " ".join(made.names),
                    "out": str(out),
                    "csr": str(made.csr),
                    "key": str(made.key),
                    "cert": str(out / "fullchain.pem"),
                },
            )

        return job
