"""How long and how wide to probe. Re-exported by :mod:`mailtls.probe`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed for each phase of one connection (httpx-style: one value per phase).

    ``starttls`` covers each step of the plaintext dialog after the greeting (EHLO /
    CAPABILITY / CAPA, then STARTTLS); ``handshake`` the whole TLS handshake.
    """

    connect: float = 3.0
    greeting: float = 5.0
    starttls: float = 5.0
    handshake: float = 5.0


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """``deadline`` bounds each endpoint's whole probe (all phases and the extra version
    handshakes), counted from when that endpoint starts; with at most ``concurrency``
    endpoints in flight, a dead port never holds the others past it."""

    timeouts: Timeouts = field(default_factory=Timeouts)
    deadline: float = 10.0
    ehlo_name: str = "mailtls.invalid"
    check_versions: bool = True
    concurrency: int = 64
    #: DNS server ("IP[:PORT]") used only when an endpoint comes without an address.
    nameserver: str | None = None
