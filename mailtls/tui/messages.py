"""Typed messages the check worker posts to the app (thread-safe ``post_message``).

The worker thread never touches a widget: it only posts these, and the app's handlers
(on the UI thread) update the screens. Tests collect them with ``run_test(message_hook=...)``.
"""

from __future__ import annotations

from textual.message import Message

from mailtls.model import Endpoint, EndpointReport, HostSource, Report


class CheckStarted(Message):
    """A check began for these targets."""

    def __init__(self, targets: tuple[str, ...]) -> None:
        super().__init__()
        self.targets = targets


class HostsFound(Message):
    """Discovery decided which hosts to probe (and why)."""

    def __init__(self, hosts: tuple[HostSource, ...]) -> None:
        super().__init__()
        self.hosts = hosts


class EndpointStarted(Message):
    """Probing of one endpoint began."""

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__()
        self.endpoint = endpoint


class EndpointDone(Message):
    """One endpoint was probed and judged."""

    def __init__(self, report: EndpointReport) -> None:
        super().__init__()
        self.report = report


class CheckFinished(Message):
    """The whole check is done; ``report`` is final."""

    def __init__(self, report: Report) -> None:
        super().__init__()
        self.report = report


class CheckFailed(Message):
    """The check could not run at all; ``error`` is one line, ``hint`` says what to do."""

    def __init__(self, error: str, hint: str) -> None:
        super().__init__()
        self.error = error
        self.hint = hint
