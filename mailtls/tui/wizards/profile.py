"""Wizard: trust a private root on the iPhone with a configuration profile.

Pick the root (one the server sent, or a PEM file), a display name and where to save;
mailtls checks that iOS will offer the root for full trust (:func:`build_profile_with_info`
refuses otherwise, with the reasons), writes the ``.mobileconfig`` (and, for a root
taken from the server, the root as PEM for ``--ca-file``), then shows the iPhone steps.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.widgets import RadioSet, Static

from mailtls.errors import UsageError
from mailtls.model import CertificateInfo
from mailtls.tui.widgets.toggles import MarkedCheckbox, MarkedRadioButton
from mailtls.tui.wizards.base import ArtefactsWritten, WizardScreen, first_host

if TYPE_CHECKING:
    from mailtls.remedy.profile import MailAccount

FILE_CHOICE = "root-file-choice"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.").lower() or "company-root"


class ProfileWizard(WizardScreen):
    TITLE: ClassVar[str] = "Trust the company root on the iPhone (profile)"
    GUIDE_ID: ClassVar[str] = "profile"
    SHORT: ClassVar[str] = "Install root (profile)"
    ACTION: ClassVar[str | None] = "Write profile"

    def server_roots(self) -> list[CertificateInfo]:
        """Self-signed CA certificates the server sent (candidates for the profile)."""
        seen: dict[str, CertificateInfo] = {}
        reports = [self.endpoint_report] if self.endpoint_report else []
        if self.report is not None:
            reports += list(self.report.endpoints)
        for er in reports:
            if er is None or er.analysis is None:
                continue
            for cert in er.analysis.chain:
                bc = cert.basic_constraints or {}
                if cert.self_signed and bc.get("ca") and cert.der:
                    seen.setdefault(cert.sha256, cert)
        return list(seen.values())

    def compose_form(self) -> ComposeResult:
        roots = self.server_roots()
        yield Static("Which root should the iPhones trust?")
        with RadioSet(id="profile-root-choice"):
            for position, cert in enumerate(roots):
                yield MarkedRadioButton(
                    f"Sent by the server: {cert.subject_cn or cert.subject} "
                    f"(SHA-256 {cert.sha256[:16]}…)",
                    value=position == 0,
                    id=f"root-sent-{position}",
                )
            yield MarkedRadioButton("A PEM file (path below)", value=not roots, id=FILE_CHOICE)
        yield from self.field("Root file", "profile-root-file", "", "path of the root (PEM)")
        name = (roots[0].subject_cn if roots else None) or "Company"
        yield from self.field("Display name", "profile-name", f"{name} (mail server root)")
        yield from self.field(
            "Save as", "profile-output", str(self.output_dir / f"{_slug(name)}.mobileconfig")
        )
        yield self.force_checkbox()
        protocol, incoming, outgoing = self.account_defaults()
        yield MarkedCheckbox(
            "Also set up the mail account (host names the check used; never a password)",
            id="profile-account",
            compact=True,
        )
        yield from self.field(f"Incoming {protocol.upper()}", "profile-incoming", incoming)
        yield from self.field("Outgoing SMTP", "profile-outgoing", outgoing)
        yield from self.field("User name", "profile-user", "", "optional")
        yield from self.field("E-mail", "profile-email", "", "optional")

    def account_defaults(self) -> tuple[str, str, str]:
        """(incoming protocol, "host:port" incoming, "host:port" outgoing) from the check."""
        found: dict[str, str] = {}
        reports = list(self.report.endpoints) if self.report else []
        if self.endpoint_report is not None:
            reports.insert(0, self.endpoint_report)
        for er in reports:
            endpoint = er.endpoint
            found.setdefault(endpoint.scheme, f"{endpoint.host}:{endpoint.port}")
        incoming_scheme = next(
            (s for s in ("imaps", "imap", "pop3s", "pop3") if s in found), "imaps"
        )
        protocol = "pop3" if incoming_scheme.startswith("pop3") else "imap"
        host = first_host(self.report, self.endpoint_report) or "mail.example.com"
        incoming = found.get(incoming_scheme, f"{host}:993")
        outgoing = next(
            (found[s] for s in ("submission", "submissions", "smtp") if s in found),
            f"{host}:587",
        )
        return protocol, incoming, outgoing

    def chosen_account(self) -> MailAccount | None:
        from mailtls.model import Protocol
        from mailtls.remedy.profile import MailAccount, parse_server

        if not self.query_one("#profile-account", MarkedCheckbox).value:
            return None
        protocol = Protocol.POP3 if self.account_defaults()[0] == "pop3" else Protocol.IMAP
        return MailAccount(
            incoming_protocol=protocol,
            incoming=parse_server(self.value("profile-incoming"), protocol.value),
            outgoing=parse_server(self.value("profile-outgoing"), "smtp"),
            user_name=self.value("profile-user") or None,
            email_address=self.value("profile-email") or None,
        )

    @on(RadioSet.Changed, "#profile-root-choice")
    def _choice(self, event: RadioSet.Changed) -> None:
        if event.pressed.id == FILE_CHOICE:
            self.query_one("#profile-root-file").focus()

    def chosen_root(self) -> tuple[bytes, str, Path | None]:
        """(DER, where it came from, the PEM file if one was given)."""
        from mailtls.analysis.certs import load_certificates
        from mailtls.remedy.profile import pick_root

        radio = self.query_one("#profile-root-choice", RadioSet)
        pressed = radio.pressed_button
        roots = self.server_roots()
        if pressed is not None and pressed.id and pressed.id.startswith("root-sent-"):
            cert = roots[int(pressed.id.removeprefix("root-sent-"))]
            return cert.der, "sent by the server", None
        text = self.value("profile-root-file")
        if not text:
            raise UsageError("enter the path of the root certificate (PEM) to put in the profile")
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.output_dir / path
        der, _ = pick_root(load_certificates(path), str(path))
        return der, str(path), path

    def prepare(self) -> Callable[[], ArtefactsWritten]:
        from mailtls.remedy import files
        from mailtls.remedy.profile import build_profile_with_info, common_name

        root_der, source, root_file = self.chosen_root()
        account = self.chosen_account()
        display_name = self.value("profile-name")
        if not display_name:
            raise UsageError("the profile needs a display name (shown on the iPhone)")
        output_text = self.value("profile-output")
        if not output_text:
            raise UsageError("enter where to save the .mobileconfig file")
        output = Path(output_text).expanduser()
        if not output.is_absolute():
            output = self.output_dir / output
        force = self.force
        values = self.guide_values()

        def job() -> ArtefactsWritten:
            from cryptography import x509
            from cryptography.hazmat.primitives.serialization import Encoding

            data, info = build_profile_with_info(
                root_der, display_name=display_name, account=account
            )
            written = [files.write_file(output, data, force=force)]
            root_path = root_file
            if root_path is None:  # keep the root as PEM: the re-check needs --ca-file
                pem = x509.load_der_x509_certificate(root_der).public_bytes(Encoding.PEM)
                root_path = files.write_file(output.with_suffix(".pem"), pem, force=force)
                written.append(root_path)
            cn = common_name(root_der) or "the root"
            return ArtefactsWritten(
                tuple(written),
                notes=(
                    f"root: {info.root_subject} ({source})",
                    f"SHA-256: {info.root_sha256}",
                    f"payloads: {', '.join(info.payload_types)}",
                    *(
                        [
                            "the account uses "
                            + ", ".join(account.host_names)
                            + ": the server certificate must list each of them"
                        ]
                        if account
                        else []
                    ),
                    "Next: the iPhone steps below, then Re-check (it uses this root).",
                ),
                values={
                    **values,
                    "root": str(root_path),
                    "profile": str(written[0]),
                    "root_name": cn,
                },
            )

        return job

    def recheck_root(self) -> Path | None:
        pems = [p for p in self.written if p.suffix == ".pem"]
        if pems:
            return pems[0]
        try:
            return self.chosen_root()[2]
        except Exception:
            return None
