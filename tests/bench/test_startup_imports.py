"""Start-up stays cheap: what ``mailtls --version`` and ``check --help`` import.

Measured in a fresh interpreter, like a person's shell; import lists rather than times so
that a loaded machine cannot make the test flaky.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailtls.cli import COMMANDS, commands_needed

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from mailtls.cli import main
try:
    code = main({argv!r})
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m.split('.')[0] in {{'mailtls', 'textual', 'rich',
    'cryptography', 'asyncio', 'dns', 'json', 'argparse', 'typing',
    'pathlib', 'datetime', 'threading', 'shutil'}})
print('LOADED', ' '.join(loaded), file=sys.stderr)
"""


def loaded_after(argv: list[str], *, site: bool = True) -> set[str]:
    """Modules loaded by ``main(argv)`` in a fresh interpreter; ``site=False``: without the
    ``site`` module, whose ``.pth`` files on this machine import certifi (and with it typing)
    into every process."""
    flags = [] if site else ["-S"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, *flags, "-c", PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=env,
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED"))
    return set(line.split()[1:])


def test_version_imports_no_command() -> None:
    loaded = loaded_after(["--version"])
    assert not {m for m in loaded if m.startswith("mailtls.commands.")}
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "cryptography", "asyncio")}
    # A bare interpreter starts in ~12 ms; argparse (with re and gettext) or typing would add
    # a third of that to printing one line.
    assert not loaded_after(["--version"], site=False) & {"argparse", "typing"}
    assert "argparse" in loaded_after(["check", "--help"], site=False)  # the probe sees it


def test_check_help_imports_only_what_the_help_needs() -> None:
    # In a clean interpreter these would be a large part of check --help's time.
    loaded = loaded_after(["check", "--help"], site=False)
    assert not loaded & {"typing", "pathlib", "datetime", "threading", "shutil"}
    assert "mailtls.commands.check" in loaded


def test_version_prints_what_argparse_would() -> None:
    from mailtls import __version__

    for argv in (["--version"], ["--debug", "--version"]):  # the second goes through argparse
        done = subprocess.run(
            [sys.executable, "-m", "mailtls", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, f"mailtls {__version__}\n", "")


def test_check_help_imports_only_the_check_command() -> None:
    loaded = loaded_after(["check", "--help"])
    assert {m for m in loaded if m.startswith("mailtls.commands.")} == {
        "mailtls.commands.check",
        "mailtls.commands.storeopts",
    }
    heavy = {m.split(".")[0] for m in loaded} & {
        "textual",
        "rich",
        "cryptography",
        "asyncio",
        "dns",
    }
    assert not heavy


def test_top_level_help_still_lists_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mailtls", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "check" in done.stdout and "lab" in done.stdout


@pytest.mark.parametrize(
    ("argv", "needed"),
    [
        (["check", "example.com"], ("check",)),
        (["--debug", "lab", "--help"], ("lab",)),
        (["--version"], ()),
        (["--help", "--version"], COMMANDS),
        ([], COMMANDS),
        (["nonsense"], COMMANDS),
    ],
)
def test_commands_needed(argv: list[str], needed: tuple[str, ...]) -> None:
    assert commands_needed(argv) == needed


def test_a_whole_check_runs_on_asyncio_and_never_imports_textual(tmp_path: Path) -> None:
    """A whole check (probe with STARTTLS dialogs and version tries, a DNS lookup through
    dnspython's asyncio resolver, the trust analysis and the JSON report) runs on asyncio;
    textual stays in the TUI."""
    from mailtls.lab.servers import start_lab
    from tests.dnsserver import LoopbackDnsServer
    from tests.service.conftest import scenario

    good = scenario("good-private")
    with start_lab(good.chain_pem, good.key_pem) as lab:
        address = lab.connect_address
        with LoopbackDnsServer([f"{good.host}. A {address}"]) as dns:
            argv = [
                "check",
                "--format=json",
                "--no-history",
                "--no-discover",
                f"--nameserver={dns.nameserver}",
                *lab.urls(good.host),
            ]
            loaded = loaded_after(argv)
    assert {"asyncio", "mailtls.dns", "mailtls.analysis.engine", "dns.asyncresolver"} <= loaded
    assert "mailtls.aio" not in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "rich")}
