"""mailtls never runs a shell or another program with user input (issue 7).

A static check over the package: no module imports subprocess or pty, and nothing calls
os.system, os.popen, os.exec*, os.spawn*, eval or exec. Run-time tests elsewhere show the
probe never sends credentials (tests/probe) and the lab refuses them (tests/lab).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mailtls"
FORBIDDEN_MODULES = {"subprocess", "pty", "pexpect"}
FORBIDDEN_OS_CALLS = ("system", "popen", "exec", "spawn", "posix_spawn", "fork")
FORBIDDEN_BUILTINS = {"eval", "exec"}


def _clears_flag(call: ast.Call) -> bool:
    """``exec("pass")``, the one exec allowed: it runs nothing, and clears CPython's
    unhandled-KeyboardInterrupt flag so that Ctrl-C exits 130 (mailtls/cli.py)."""
    return (
        len(call.args) == 1
        and isinstance(call.args[0], ast.Constant)
        and call.args[0].value == "pass"
    )


def _problems(path: Path, base: Path = PACKAGE.parent) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Name)
                and func.id in FORBIDDEN_BUILTINS
                and not _clears_flag(node)
            ):
                found.append(f"{func.id}()")
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "os"
                and func.attr.startswith(FORBIDDEN_OS_CALLS)
            ):
                found.append(f"os.{func.attr}()")
    return [f"{path.relative_to(base)}: {item}" for item in found]


def test_the_package_has_modules_to_scan() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) > 40


@pytest.mark.parametrize(
    "source",
    [
        "import subprocess\n",
        "from subprocess import run\n",
        "import os\nos.system('ls')\n",
        "import os\nos.execvp('ls', ['ls'])\n",
        "eval('1')\n",
    ],
)
def test_the_scan_catches_each_kind(tmp_path: Path, source: str) -> None:
    module = tmp_path / "x.py"
    module.write_text(source)
    assert _problems(module, tmp_path), f"{source!r} was not caught"


def test_no_module_runs_a_shell_or_a_program() -> None:
    problems = [p for path in sorted(PACKAGE.rglob("*.py")) for p in _problems(path)]
    assert problems == []
