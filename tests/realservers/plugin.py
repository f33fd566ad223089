"""pytest fixtures for real Dovecot and Postfix (loaded from tests/conftest.py).

``rig`` (session scope) starts each distinct configuration once for the whole run and
stops everything at the end::

    def test_something(rig):
        dovecot, postfix = rig.both(chain_pem, key_pem)
        dovecot.ports["imaps"], postfix.url("submission", "mail.example.test")

When the rig cannot run: not root -> skip with the reason (a developer's machine);
root but Dovecot/Postfix missing -> fail (``scripts/test`` installs them); under
``CI=true`` never skip.
"""

from __future__ import annotations

import hashlib
import os
import statistics
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import pytest

from tests.realservers.common import RealServer, availability_problem, start_all, stop_all
from tests.realservers.dovecot import DovecotInstance
from tests.realservers.postfix import MASTER, PostfixInstance

RIG_FIXTURES = frozenset({"rig"})


#: At most this many servers run at once; the least recently used one is stopped first
#: (tests asking for it again get a fresh one). Dovecot ~22 MB, Postfix ~75 MB RSS each.
MAX_RUNNING = int(os.environ.get("MAILTLS_RIG_MAX_RUNNING", "16"))


class Rig:
    """Starts real servers on demand, one per distinct configuration, kept running (LRU)."""

    def __init__(self, max_running: int = MAX_RUNNING) -> None:
        self._instances: OrderedDict[tuple[Any, ...], RealServer] = OrderedDict()
        self.max_running = max(2, max_running)
        self.stopped: list[RealServer] = []

    @staticmethod
    def _key(
        kind: str, chain_pem: bytes, key_pem: bytes, options: dict[str, Any]
    ) -> tuple[Any, ...]:
        digest = hashlib.sha256(chain_pem + b"\0" + key_pem).hexdigest()
        return (kind, digest, tuple(sorted(options.items())))

    def _get(
        self, servers: list[tuple[type[RealServer], bytes, bytes, dict[str, Any]]]
    ) -> list[RealServer]:
        wanted: list[RealServer] = []
        new: list[RealServer] = []
        for cls, chain_pem, key_pem, options in servers:
            key = self._key(cls.KIND, chain_pem, key_pem, options)
            server = self._instances.get(key)
            if server is None:
                server = cls(chain_pem, key_pem, **options)
                new.append(server)
                self._instances[key] = server
            self._instances.move_to_end(key)
            wanted.append(server)
        if new:
            self._evict(keep=wanted)
            try:
                start_all(new)
            except BaseException:
                for key in [k for k, v in self._instances.items() if v in new]:
                    del self._instances[key]
                raise
        return wanted

    def _evict(self, keep: list[RealServer]) -> None:
        surplus = len(self._instances) - self.max_running
        old = [k for k, v in self._instances.items() if v not in keep][: max(0, surplus)]
        victims = [self._instances.pop(key) for key in old]
        stop_all(victims)
        self.stopped.extend(victims)

    def dovecot(self, chain_pem: bytes, key_pem: bytes, **options: Any) -> DovecotInstance:
        (server,) = self._get([(DovecotInstance, chain_pem, key_pem, options)])
        assert isinstance(server, DovecotInstance)
        return server

    def postfix(self, chain_pem: bytes, key_pem: bytes, **options: Any) -> PostfixInstance:
        (server,) = self._get([(PostfixInstance, chain_pem, key_pem, options)])
        assert isinstance(server, PostfixInstance)
        return server

    def both(
        self, chain_pem: bytes, key_pem: bytes, **options: Any
    ) -> tuple[DovecotInstance, PostfixInstance]:
        """A Dovecot and a Postfix serving the same chain, started side by side."""
        dovecot, postfix = self._get(
            [
                (DovecotInstance, chain_pem, key_pem, options),
                (PostfixInstance, chain_pem, key_pem, options),
            ]
        )
        assert isinstance(dovecot, DovecotInstance) and isinstance(postfix, PostfixInstance)
        return dovecot, postfix

    @property
    def running(self) -> list[RealServer]:
        return list(self._instances.values())

    def close(self) -> None:
        stop_all(self._instances.values())
        self.stopped.extend(self._instances.values())
        self._instances.clear()


_rig_for_summary: list[Rig] = []


def unavailable_action() -> str | None:
    """None when the rig can run; else the skip reason, or raises via pytest.fail."""
    problem = availability_problem("dovecot", MASTER)
    if problem is None:
        return None
    if os.environ.get("CI") or os.geteuid() == 0:
        pytest.fail(f"real-server rig cannot run: {problem}", pytrace=False)
    return problem


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    reason = unavailable_action()
    if reason is not None:
        pytest.skip(f"real servers not available: {reason}")
    instance = Rig()
    _rig_for_summary.append(instance)
    try:
        yield instance
    finally:
        instance.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the rig are real-server tests, marked or not (``-m real_servers``)."""
    for item in items:
        if RIG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_servers)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line of rig figures: how many servers, how long they took to start and stop."""
    servers = [s for rig_ in _rig_for_summary for s in rig_.stopped]
    if not servers:
        return
    for kind in ("dovecot", "postfix"):
        started = [s.start_seconds for s in servers if s.kind == kind and s.start_seconds]
        stopped = [s.stop_seconds for s in servers if s.kind == kind and s.stop_seconds]
        if started:
            terminalreporter.write_line(
                f"real servers: {len(started)} {kind} instance(s), start median "
                f"{statistics.median(started):.2f} s (max {max(started):.2f}), stop median "
                f"{statistics.median(stopped or [0.0]):.3f} s"
            )
