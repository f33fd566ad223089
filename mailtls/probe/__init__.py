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

from typing import TYPE_CHECKING, Any

from mailtls.probe.options import ProbeOptions, Timeouts

if TYPE_CHECKING:
    from mailtls.probe.transport import probe_all, probe_endpoint, probe_sync

__all__ = ["ProbeOptions", "Timeouts", "probe_all", "probe_endpoint", "probe_sync"]


def __getattr__(name: str) -> Any:
    # The driver (asyncio, ssl) loads on first use: ``mailtls.probe.Timeouts`` stays cheap.
    if name in ("probe_all", "probe_endpoint", "probe_sync"):
        from mailtls.probe import transport

        return getattr(transport, name)
    raise AttributeError(f"module 'mailtls.probe' has no attribute {name!r}")
