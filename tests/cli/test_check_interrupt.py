"""Ctrl-C during ``mailtls check``: the probes stop at once, the sockets close, one line.

The check runs on mailtls.aio; its ``run`` cancels the check's task on SIGINT, so every
probe's ``finally`` closes its socket before the CLI prints ``mailtls: interrupted`` and
exits 130 (issue 8 replaced asyncio; this holds the behaviour asyncio.run had).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from mailtls.exitcodes import ExitCode

REPO = Path(__file__).resolve().parents[2]


def test_ctrl_c_ends_a_check_waiting_on_a_silent_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
        child = subprocess.Popen(
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
    assert child.returncode == ExitCode.INTERRUPTED
    assert err.strip().splitlines() == ["mailtls: interrupted"]
    assert "Traceback" not in err + out
