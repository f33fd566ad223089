"""mailtls.probe: reach every way iPhone Mail talks to a host and capture what it shows.

Public API (other layers depend on these names)::

    Timeouts, ProbeOptions
    async probe_endpoint(endpoint, options) -> ProbeResult
    async probe_all(endpoints, options, on_result=None) -> list[ProbeResult]
    probe_sync(endpoints, options, on_result=None) -> list[ProbeResult]

Layout: sans-I/O dialogs (``smtp``, ``imap``, ``pop3`` on ``dialog``), a memory-BIO TLS
client (``tls``), one asyncio socket driver (``transport``). Probe failures are data
(``ProbeResult.status``), never exceptions.
"""

from __future__ import annotations

from mailtls.probe.options import ProbeOptions, Timeouts
from mailtls.probe.transport import probe_all, probe_endpoint, probe_sync

__all__ = ["ProbeOptions", "Timeouts", "probe_all", "probe_endpoint", "probe_sync"]
