"""IMAP up to STARTTLS, sans-I/O (RFC 9051 / RFC 3501, STARTTLS per RFC 2595).

    greeting "* OK" (its [CAPABILITY ...] code saves a round trip)
    -> "a1 CAPABILITY" (untagged lines until the tagged "a1 OK")
    -> "a2 STARTTLS" (only when advertised) -> "a2 OK" go ahead

Credentials are never sent: LOGINDISABLED and AUTH= mechanisms are only recorded.
"""

from __future__ import annotations

from mailtls.model import Capabilities, Phase
from mailtls.probe.dialog import Dialog, NoTls, quote

_TAG_CAPABILITY = "a1"
_TAG_STARTTLS = "a2"


class ImapDialog(Dialog):
    quit_command = b"a9 LOGOUT\r\n"

    def __init__(self) -> None:
        super().__init__()
        self.capability_words: list[str] | None = None
        self._state = "greeting"

    def capabilities(self) -> Capabilities:
        words = {w.upper() for w in self.capability_words or ()}
        known = self.capability_words is not None
        mechanisms = tuple(
            w[5:] for w in (self.capability_words or ()) if w.upper().startswith("AUTH=")
        )
        return Capabilities(
            greeting=self.greeting,
            starttls_offered=("STARTTLS" in words) if known else None,
            login_disabled=("LOGINDISABLED" in words) if known else None,
            auth_before_tls=tuple(m.upper() for m in mechanisms),
            plaintext_login_offered=known and "LOGINDISABLED" not in words,
            raw=tuple(self.raw),
        )

    def _on_line(self, line: str) -> None:
        self._keep(line)
        if self._state == "greeting":
            self._on_greeting(line)
            return
        tag, _, rest = line.partition(" ")
        if tag == "*":
            words = rest.split()
            if words and words[0].upper() == "CAPABILITY":
                self.capability_words = words[1:]
            return  # other untagged data is allowed before the tagged reply
        if tag == "+":
            return  # a continuation request we did not ask for; ignore it
        expected = _TAG_CAPABILITY if self._state == "capability" else _TAG_STARTTLS
        if tag != expected:
            self._fail(f"server sent {quote(line)} while we waited for {self.waiting_for}")
            return
        status = rest.split(" ", 1)[0].upper()
        if self._state == "capability":
            if status != "OK":
                self._fail(f"server answered CAPABILITY with {quote(rest)}")
                return
            self._after_capabilities()
        else:
            if status != "OK":
                self._finish(
                    NoTls(f"server refused STARTTLS with {quote(rest)}", self.capabilities())
                )
                return
            self._state = "tls"
            self._go_ahead(self.capabilities())

    def _on_greeting(self, line: str) -> None:
        words = line.split(" ", 2)
        if len(words) < 2 or words[0] != "*" or words[1].upper() not in ("OK", "PREAUTH", "BYE"):
            self._fail(f"server sent {quote(line)} which is not an IMAP greeting")
            return
        self.greeting = line
        if words[1].upper() == "BYE":
            self._fail(f"server refused the session in its greeting: {quote(line)}")
            return
        text = words[2] if len(words) > 2 else ""
        if text.upper().startswith("[CAPABILITY "):
            self.capability_words = text[1:].split("]", 1)[0].split()[1:]
            if "STARTTLS" in {w.upper() for w in self.capability_words}:
                self._after_capabilities()
                return
            # Some servers list less in the greeting; ask before concluding "no STARTTLS".
        self._state = "capability"
        self._send(
            f"{_TAG_CAPABILITY} CAPABILITY\r\n".encode(),
            Phase.CAPABILITIES,
            "the reply to CAPABILITY",
        )

    def _after_capabilities(self) -> None:
        words = {w.upper() for w in self.capability_words or ()}
        if "STARTTLS" not in words:
            self._finish(
                NoTls(
                    "server does not advertise STARTTLS in its IMAP capabilities",
                    self.capabilities(),
                )
            )
            return
        self._state = "starttls"
        self._send(
            f"{_TAG_STARTTLS} STARTTLS\r\n".encode(), Phase.STARTTLS, "the reply to STARTTLS"
        )
