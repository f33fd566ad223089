"""``mailtls lab`` in-process through mailtls.cli.main."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import threading
import time
from pathlib import Path

import pytest

from mailtls.cli import main
from mailtls.commands.lab import leaf_host, parse_ports
from mailtls.errors import UsageError
from mailtls.exitcodes import ExitCode
from mailtls.lab import scenarios
from mailtls.lab.servers import pem_chain_to_der
from mailtls.model import Protocol

from .client import LineClient, client_context, unverified_chain
from .conftest import LabChain


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_list_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--list-scenarios"]) == ExitCode.OK
    out = capsys.readouterr().out
    names = [line.split()[0] for line in out.splitlines()]
    assert names == list(scenarios.SCENARIO_NAMES)
    for name in scenarios.DEMO_SCENARIOS:
        assert re.search(rf"^{re.escape(name)} .*\[demo\]$", out, re.MULTILINE)


def test_serves_a_scenario_until_sigterm(capsys: pytest.CaptureFixture[str]) -> None:
    """The real command: banner, the exact scenario chain on the wire, clean stop."""
    imaps, smtp = _free_port(), _free_port()
    seen: dict[str, object] = {}

    def client() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with LineClient.connect("127.0.0.1", smtp) as plain:
                    seen["banner"] = plain.readline()
                    plain.command(Protocol.SMTP, b"EHLO c.test")
                    plain.command(Protocol.SMTP, b"STARTTLS")
                    plain.start_tls(client_context(), "mail.example.test")
                    assert isinstance(plain.sock, ssl.SSLSocket)
                    seen["chain"] = unverified_chain(plain.sock)
                break
            except (ConnectionRefusedError, ConnectionResetError):
                time.sleep(0.02)
        # Only while the command's handler is installed: never kill the test runner itself.
        if signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=client)
    thread.start()
    try:
        code = main(
            [
                "lab",
                "--scenario",
                "wrong-host",
                "--at",
                "2026-11-01T00:00Z",
                "--port",
                f"imaps={imaps}",
                "--port",
                f"smtp={smtp}",
                "--scheme",
                "imaps",
                "--scheme",
                "smtp",
                "--serve-for",
                "20",
                "--verbose",
            ]
        )
    finally:
        thread.join()
    assert code == ExitCode.OK
    captured = capsys.readouterr()
    expected = scenarios.build_scenario("wrong-host", now=scenarios.FIXTURE_DATE)
    assert seen["chain"] == expected.chain_ders
    assert seen["banner"] == b"220 mail.example.test ESMTP mailtls lab\r\n"
    assert f"imaps://mail.example.test:{imaps}\n" in captured.out
    assert (
        f"mailtls check imaps://mail.example.test:{imaps} smtp://mail.example.test:{smtp} "
        "--address 127.0.0.1 --at 2026-11-01T00:00:00Z\n"
    ) in captured.out
    ca_file = re.search(r"--ca-file (\S+)", captured.out)
    assert ca_file is not None
    assert not Path(ca_file.group(1)).exists()  # removed when the lab stopped
    assert "stopped" in captured.err and "WARNING" not in captured.err
    # --verbose logs each connection on stderr (never on stdout, which is data).
    assert re.search(
        r"mailtls lab: \[ *[\d.]+s\] smtp +127\.0\.0\.1:\d+ +tls TLSv1\.3 \S+ sni=mail\.example\.test",
        captured.err,
    )
    assert "sni=" not in captured.out


def test_own_chain_and_key_files(
    tmp_path: Path, chain: LabChain, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    (tmp_path / "chain.pem").write_bytes(chain.served)
    (tmp_path / "key.pem").write_bytes(chain.leaf_key)
    code = main(
        [
            "lab",
            "--chain",
            str(tmp_path / "chain.pem"),
            "--key",
            str(tmp_path / "key.pem"),
            "--serve-for",
            "0",
        ]
    )
    assert code == ExitCode.OK
    out = capsys.readouterr().out
    assert "Serving mail.example.test on 127.0.0.1 (loopback only):" in out
    assert "--ca-file" not in out  # no root known for a chain file
    # A DER leaf works too.
    der = x509.load_pem_x509_certificate(chain.leaf).public_bytes(Encoding.DER)
    (tmp_path / "leaf.der").write_bytes(der)
    assert (
        main(
            [
                "lab",
                "--chain",
                str(tmp_path / "leaf.der"),
                "--key",
                str(tmp_path / "key.pem"),
                "--serve-for",
                "0",
                "--host",
                "h.test",
            ]
        )
        == ExitCode.OK
    )
    assert "imaps://h.test:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lab"], "give --scenario NAME"),
        (
            ["lab", "--chain", "/nonexistent/chain.pem", "--key", "/nonexistent/key.pem"],
            "/nonexistent/chain.pem: no such file",
        ),
        (["lab", "--scenario", "good-private", "--host", "mail example"], "cannot contain spaces"),
        (["lab", "--scenario", "good-private", "--host", "mail.example.test:993"], "without port"),
        (["lab", "--scenario", "good-private", "--host", "a@b.test"], "without port"),
        (["lab", "--scenario", "good-private", "--key", "k.pem"], "--key goes with --chain"),
        (["lab", "--scenario", "no-such-scenario"], "unknown scenario 'no-such-scenario'"),
        (["lab", "--scenario", "good-private", "--port-base", "65000"], "would need port"),
        (["lab", "--scenario", "good-private", "--port", "imapx=1000"], "unknown scheme 'imapx'"),
        (["lab", "--scenario", "good-private", "--port", "imaps=99999"], "expected SCHEME=PORT"),
        (["lab", "--scenario", "good-private", "--scheme", "ftp"], "unknown scheme 'ftp'"),
        (["lab", "--scenario", "good-private", "--at", "yesterday"], "--at 'yesterday'"),
        (
            ["lab", "--scenario", "good-private", "--min-tls", "TLSv1.3", "--max-tls", "TLSv1.2"],
            "above max",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--serve-for", "0"] if argv != ["lab"] else argv) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_key_file_given_as_chain_is_named(
    tmp_path: Path, chain: LabChain, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "key.pem").write_bytes(chain.leaf_key)
    assert (
        main(["lab", "--chain", str(tmp_path / "key.pem"), "--key", str(tmp_path / "key.pem")])
        == ExitCode.USAGE
    )
    assert "no certificate in this PEM file" in capsys.readouterr().err


def test_non_loopback_bind_warns_loudly(capsys: pytest.CaptureFixture[str]) -> None:
    """192.0.2.10 (TEST-NET-1) is not on this machine: the warning comes first, then the
    bind fails, so the test never listens on a real interface."""
    assert (
        main(["lab", "--scenario", "good-private", "--bind", "192.0.2.10", "--serve-for", "0"])
        == ExitCode.USAGE
    )
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert lines[0].startswith(
        "mailtls lab: WARNING: the mailtls lab is listening on 192.0.2.10, not on loopback"
    )
    assert "cannot listen on 192.0.2.10" in lines[1]


def test_loopback_bind_does_not_warn(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["lab", "--scenario", "self-signed-ca", "--bind", "127.0.0.2", "--serve-for", "0"])
        == ExitCode.OK
    )
    captured = capsys.readouterr()
    assert "WARNING" not in captured.err and "--address 127.0.0.2" in captured.out


def test_parse_ports() -> None:
    assert parse_ports(10000, [], ["imaps", "smtp"]) == {"imaps": 10993, "smtp": 10025}
    assert parse_ports(10000, ["smtps=2465"], ["imaps"]) == {"imaps": 10993, "submissions": 2465}
    assert parse_ports(None, [], ["imaps"]) == {}
    with pytest.raises(UsageError):
        parse_ports(-1, [], ["imaps"])


def test_leaf_host(chain: LabChain) -> None:
    assert leaf_host(chain.served) == "mail.example.test"
    wrong = scenarios.build_scenario("wrong-host", now=scenarios.FIXTURE_DATE)
    assert leaf_host(wrong.chain_pem) == "server17.hoster.example"
    assert pem_chain_to_der(wrong.chain_pem) == wrong.chain_ders


def test_printed_check_command_works_and_ctrl_c_stops(capsys: pytest.CaptureFixture[str]) -> None:
    """The real CLI in a child process: paste its check command, then Ctrl-C it."""
    import shlex
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mailtls",
            "lab",
            "--scenario",
            "self-signed-ca",
            "--scheme",
            "imap",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdout is not None
        banner = []
        for line in child.stdout:
            banner.append(line)
            if "Press Ctrl-C to stop." in line:
                break
        commands = [line.strip() for line in banner if line.strip().startswith("mailtls check ")]
        assert len(commands) == 2, banner
        plain, with_root = (shlex.split(c) for c in commands)
        assert plain[-2:] == ["--address", "127.0.0.1"] and with_root[-2] == "--ca-file"
        assert main([*plain[1:], "--no-history", "--format", "json"]) == ExitCode.IPHONE_FAILS
        (endpoint,) = json.loads(capsys.readouterr().out)["endpoints"]
        assert endpoint["verdict"] == "needs_profile" and endpoint["tls_mode"] == "starttls"
        assert main([*with_root[1:], "--no-history", "--format", "json"]) == ExitCode.OK
        (endpoint,) = json.loads(capsys.readouterr().out)["endpoints"]
        assert endpoint["verdict"] == "trusted"
        ca_file = Path(with_root[-1])
        assert ca_file.exists()
        child.send_signal(signal.SIGINT)
        _out, err = child.communicate(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
    assert not ca_file.exists()


def test_one_file_with_chain_and_key(
    tmp_path: Path, chain: LabChain, capsys: pytest.CaptureFixture[str]
) -> None:
    combined = tmp_path / "combined.pem"
    combined.write_bytes(chain.served + chain.leaf_key)
    assert (
        main(["lab", "--chain", str(combined), "--serve-for", "0", "--host", "Bücher.example"])
        == ExitCode.OK
    )
    out = capsys.readouterr().out
    assert "imaps://xn--bcher-kva.example:" in out  # IDN shown in the ASCII form used for SNI
    only_chain = tmp_path / "chain.pem"
    only_chain.write_bytes(chain.served)
    assert main(["lab", "--chain", str(only_chain), "--serve-for", "0"]) == ExitCode.USAGE
    assert "no private key in it; give --key FILE" in capsys.readouterr().err


def test_written_chain_file_never_contains_the_key(chain: LabChain) -> None:
    from mailtls.commands.lab import certificates_only

    cleaned = certificates_only(chain.served + chain.leaf_key)
    assert b"PRIVATE KEY" not in cleaned
    assert pem_chain_to_der(cleaned) == pem_chain_to_der(chain.served)
