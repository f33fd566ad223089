"""Process exit codes. Documented in docs/exit-codes.md; scripts rely on the numbers."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # every endpoint checked is trusted and reachable
    IPHONE_FAILS = 1  # an iPhone would prompt or fail (at or above --fail-on)
    UNCHECKED = 2  # some endpoint could not be checked (refused, timeout, no TLS, DNS)
    USAGE = 3  # usage or input error: nothing was checked
    INTERNAL = 4  # a bug in mailtls (never expected)
    INTERRUPTED = 130
