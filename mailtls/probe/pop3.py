"""POP3 up to STLS, sans-I/O (RFC 1939, CAPA per RFC 2449, STLS per RFC 2595).

    greeting "+OK" -> CAPA ("+OK", capability lines until ".") -> STLS -> "+OK" go ahead

A server without CAPA ("-ERR") still gets an STLS attempt, since the command may work
without being listed; ``starttls_offered`` is then None (unknown). Credentials are never
sent: USER and SASL mechanisms are only recorded.
"""

from __future__ import annotations

from mailtls.model import Capabilities, Phase
from mailtls.probe.dialog import Dialog, NoTls, quote


class Pop3Dialog(Dialog):
    quit_command = b"QUIT\r\n"

    def __init__(self) -> None:
        super().__init__()
        self.capability_lines: list[str] | None = None
        self._collecting: list[str] | None = None
        self._state = "greeting"

    def capabilities(self) -> Capabilities:
        lines = self.capability_lines
        names = {line.split(" ", 1)[0].upper() for line in lines or ()}
        mechanisms: list[str] = []
        for line in lines or ():
            words = line.split()
            if words and words[0].upper() == "SASL":
                mechanisms.extend(m.upper() for m in words[1:] if m.upper() not in mechanisms)
        return Capabilities(
            greeting=self.greeting,
            starttls_offered=("STLS" in names) if lines is not None else None,
            login_disabled=None,
            auth_before_tls=tuple(mechanisms),
            plaintext_login_offered="USER" in names,
            raw=tuple(self.raw),
        )

    def _on_line(self, line: str) -> None:
        self._keep(line)
        if self._collecting is not None:
            if line == ".":
                self.capability_lines, self._collecting = self._collecting, None
                self._after_capa()
            else:
                # RFC 1939 byte-stuffing: a leading "." is doubled.
                self._collecting.append(line[1:] if line.startswith("..") else line)
            return
        status = line.split(" ", 1)[0].upper()
        if status not in ("+OK", "-ERR"):
            self._fail(
                f"server sent {quote(line)} which is not a POP3 reply (while we waited for {self.waiting_for})"
            )
            return
        if self._state == "greeting":
            self.greeting = line
            if status != "+OK":
                self._fail(f"server greeted with {quote(line)} instead of +OK")
                return
            self._state = "capa"
            self._send(b"CAPA\r\n", Phase.CAPABILITIES, "the reply to CAPA")
        elif self._state == "capa":
            if status == "+OK":
                self._collecting = []
            else:
                self._send_stls()  # no CAPA: try STLS anyway
        elif self._state == "stls":
            if status != "+OK":
                self._finish(NoTls(f"server refused STLS with {quote(line)}", self.capabilities()))
                return
            self._state = "tls"
            self._go_ahead(self.capabilities())

    def _after_capa(self) -> None:
        if not any(line.split(" ", 1)[0].upper() == "STLS" for line in self.capability_lines or ()):
            self._finish(
                NoTls("server does not advertise STLS in its CAPA reply", self.capabilities())
            )
            return
        self._send_stls()

    def _send_stls(self) -> None:
        self._state = "stls"
        self._send(b"STLS\r\n", Phase.STARTTLS, "the reply to STLS")
