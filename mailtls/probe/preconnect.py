"""TCP connections opened before the probe's event loop exists (issue 8).

A one-host check spends its first ~50 ms importing (ssl, the probe, its event loop), one core busy
and the other idle, while a mail server needs about as long to get ready for each new
connection: Dovecot starts a login process for every one (~11 ms of CPU each in its default
"high-security" mode), Postfix an smtpd. ``mailtls check`` therefore opens the connections it
is about to make as soon as it knows where they go, before it imports the rest; the servers
get ready on the idle core, and each probe adopts one of these sockets instead of opening its
own (:func:`mailtls.probe.transport._connect`, which treats it exactly like its own
non-blocking connect: same time budget, same statuses and reasons). Sockets left over (a
probe that needed fewer version handshakes) are closed by :meth:`Preconnected.close`.

Only used where nothing needs looking up first (``--address`` or IP targets) and for a few
dozen connections at most; never sends a byte.
"""

from __future__ import annotations

import errno
import socket

#: Most connections opened ahead: enough for a few hosts' sweeps, never a fleet's.
LIMIT = 64


class Preconnected:
    """Non-blocking connects in progress, by (address, port), handed out once each."""

    def __init__(self) -> None:
        self._sockets: dict[tuple[str, int], list[socket.socket]] = {}
        self.opened = 0

    def open(self, address: str, port: int, count: int = 1) -> None:
        """Start ``count`` connections to ``address`` (an IP literal) and ``port``.

        Anything unusual (no IPv6 here, an immediate error) opens nothing: the probe's own
        connect then runs and reports it in its usual words.
        """
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        for _ in range(count):
            if self.opened >= LIMIT:
                return
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError:
                return
            try:
                sock.setblocking(False)
                error = sock.connect_ex((address, port))
            except (OSError, OverflowError, ValueError):
                sock.close()
                return
            if error not in (0, errno.EINPROGRESS):
                sock.close()
                return
            self._sockets.setdefault((address, port), []).append(sock)
            self.opened += 1

    def take(self, address: str, port: int) -> socket.socket | None:
        """One of the connections to (address, port), or None when there is none left."""
        sockets = self._sockets.get((address, port))
        return sockets.pop(0) if sockets else None

    def close(self) -> None:
        """Close every connection not taken."""
        for sockets in self._sockets.values():
            for sock in sockets:
                sock.close()
        self._sockets.clear()

    def __len__(self) -> int:
        return sum(len(s) for s in self._sockets.values())
