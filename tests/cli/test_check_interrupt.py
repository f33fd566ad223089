"""Ctrl-C during ``mailtls check``: the probes stop at once, the sockets close, one line.

``asyncio.run`` cancels the check's task on SIGINT, so every probe's ``finally`` closes its
socket before the CLI prints ``mailtls: interrupted`` and exits 130. Before the event loop
exists (the imports of the first moments) the interrupt is an ordinary KeyboardInterrupt,
which the CLI turns into the same line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailtls.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[2]


def _start_check(port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailtls",
            "check",
            "--no-history",
            "--no-versions",
            "--timeout",
            "60",
            f"imap://127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _assert_interrupted(child: subprocess.Popen[str], out: str, err: str) -> None:
    assert child.returncode == ExitCode.INTERRUPTED, err
    assert err.strip().splitlines() == ["mailtls: interrupted"]
    assert "Traceback" not in err + out


def test_ctrl_c_ends_a_check_waiting_on_a_silent_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        child = _start_check(port)
        try:
            listener.settimeout(30)
            peer, _ = listener.accept()  # the probe connected; it now waits for a greeting
            with peer:
                peer.settimeout(30)
                child.send_signal(signal.SIGINT)
                started = time.monotonic()
                out, err = child.communicate(timeout=30)
                assert time.monotonic() - started < 10
                assert peer.recv(1024) == b""  # the probe closed its socket (said nothing)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    _assert_interrupted(child, out, err)


def _interrupt_after(delay: float) -> tuple[subprocess.Popen[str], str, str]:
    """Start a check against a silent server and send SIGINT ``delay`` seconds later."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        child = _start_check(port)
        try:
            time.sleep(delay)
            child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=30)
            listener.settimeout(0.5)
            try:
                peer, _ = listener.accept()
            except TimeoutError:
                pass  # interrupted before it connected
            else:
                with peer:
                    peer.settimeout(5)
                    assert peer.recv(1024) == b""  # closed, nothing said
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    return child, out, err


@pytest.mark.parametrize("delay", [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5])
def test_ctrl_c_in_the_first_half_second(delay: float) -> None:
    """Whether it lands in the imports, the set-up of the loop or the first connect: one
    line, exit 130, no traceback, and no connection left open."""
    for _ in range(5):
        child, out, err = _interrupt_after(delay)
        # On a loaded machine the interpreter may still be in its own start-up (``site``),
        # before any mailtls code runs: not mailtls's business, so try a little later.
        if "init_import_site" not in err:
            break
        delay += 0.05
    _assert_interrupted(child, out, err)
