"""SMTP up to STARTTLS, sans-I/O (RFC 5321 replies, RFC 3207 STARTTLS).

    greeting 220 (multi-line allowed) -> EHLO name -> 250 reply with extensions
    -> STARTTLS (only when advertised) -> 220 go ahead

Multi-line replies are read whole: ``250-`` lines continue, ``250 `` ends the reply.
Credentials are never sent; AUTH mechanisms offered before TLS are only recorded.
"""

from __future__ import annotations

from mailtls.model import Capabilities, Phase
from mailtls.probe.dialog import Dialog, NoTls, quote


class SmtpDialog(Dialog):
    quit_command = b"QUIT\r\n"

    def __init__(self, ehlo_name: str = "mailtls.invalid") -> None:
        super().__init__()
        self.ehlo_name = ehlo_name
        self.extensions: list[str] = []
        self._lines: list[str] = []
        self._state = "greeting"

    def capabilities(self) -> Capabilities:
        offered = {ext.split(" ", 1)[0].upper() for ext in self.extensions}
        mechanisms = _auth_mechanisms(self.extensions)
        return Capabilities(
            greeting=self.greeting,
            starttls_offered=("STARTTLS" in offered) if self._state != "greeting" else None,
            login_disabled=None,
            auth_before_tls=mechanisms,
            plaintext_login_offered=bool({"PLAIN", "LOGIN"} & set(mechanisms)),
            raw=tuple(self.raw),
        )

    def _on_line(self, line: str) -> None:
        code, separator, text = line[:3], line[3:4], line[4:]
        if not (code.isdigit() and separator in ("", " ", "-")):
            self._fail(
                f"server sent {quote(line)} which is not an SMTP reply (while we waited for {self.waiting_for})"
            )
            return
        self._keep(line)
        self._lines.append(text)
        if separator == "-":
            return  # continuation: the reply is not finished yet
        lines, self._lines = self._lines, []
        self._on_reply(int(code), lines)

    def _on_reply(self, code: int, lines: list[str]) -> None:
        summary = f"{code} {quote(' '.join(lines))}"
        if self._state == "greeting":
            self.greeting = "\n".join(lines)
            if code != 220:
                self._fail(
                    f"server greeted with {summary} instead of 220 (it does not accept this client)"
                )
                return
            self._state = "ehlo"
            self._send(
                f"EHLO {self.ehlo_name}\r\n".encode("ascii"),
                Phase.CAPABILITIES,
                "the reply to EHLO",
            )
        elif self._state == "ehlo":
            if code != 250:
                self._finish(
                    NoTls(
                        f"server rejected EHLO with {summary}, so STARTTLS cannot be used",
                        self.capabilities(),
                    )
                )
                return
            self.extensions = [line.strip() for line in lines[1:]]
            if not any(ext.split(" ", 1)[0].upper() == "STARTTLS" for ext in self.extensions):
                self._finish(
                    NoTls(
                        "server does not advertise STARTTLS in its EHLO reply", self.capabilities()
                    )
                )
                return
            self._state = "starttls"
            self._send(b"STARTTLS\r\n", Phase.STARTTLS, "the reply to STARTTLS")
        elif self._state == "starttls":
            if code != 220:
                self._finish(NoTls(f"server refused STARTTLS with {summary}", self.capabilities()))
                return
            self._state = "tls"
            self._go_ahead(self.capabilities())


def _auth_mechanisms(extensions: list[str]) -> tuple[str, ...]:
    """SASL mechanisms from ``AUTH PLAIN LOGIN`` (and the old ``AUTH=PLAIN`` form)."""
    found: list[str] = []
    for ext in extensions:
        words = ext.replace("=", " ", 1).split() if ext.upper().startswith("AUTH=") else ext.split()
        if words and words[0].upper() == "AUTH":
            for mechanism in words[1:]:
                if mechanism.upper() not in found:
                    found.append(mechanism.upper())
    return tuple(found)
