"""Layers point one way (STYLE.md): checked on the source and in fresh interpreters.

    model, errors  <-  probe/, analysis/, dns  <-  service, report/, remedy/, lab/
                   <-  cli, commands/, tui/

* ``analysis`` never imports ``probe`` (it judges data, from a socket or a file alike);
* nothing outside ``tui/`` imports ``textual``;
* nothing below the front ends imports ``cli``, ``commands`` or ``tui``;
* ``mailtls check --help`` in a fresh interpreter does not import textual.
"""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mailtls"
FRONT_ENDS = ("mailtls.cli", "mailtls.commands", "mailtls.tui", "mailtls.__main__")


@functools.cache
def _imports(path: Path) -> frozenset[str]:
    """Every module a file imports, at any depth (lazy imports inside functions count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _module(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_scan_sees_imports() -> None:
    """The checks below would pass vacuously if the scan found nothing."""
    assert "mailtls.model" in _imports(PACKAGE / "service.py")
    assert any(_module(p) == "mailtls.service" for p in _sources())


def test_analysis_never_imports_probe() -> None:
    offenders = [
        f"{_module(p)} imports {name}"
        for p in _sources()
        if _under(_module(p), "mailtls.analysis")
        for name in _imports(p)
        if _under(name, "mailtls.probe")
    ]
    assert not offenders


def test_only_tui_imports_textual() -> None:
    offenders = [
        f"{_module(p)} imports {name}"
        for p in _sources()
        if not _under(_module(p), "mailtls.tui")
        for name in _imports(p)
        if _under(name, "textual") or _under(name, "rich")
    ]
    assert not offenders


def test_engines_and_use_cases_never_import_front_ends() -> None:
    offenders = [
        f"{_module(p)} imports {name}"
        for p in _sources()
        if not any(_under(_module(p), front) for front in FRONT_ENDS)
        for name in _imports(p)
        if any(_under(name, front) for front in FRONT_ENDS)
    ]
    assert not offenders


def test_vocabulary_imports_no_engine() -> None:
    engines = (
        "mailtls.probe",
        "mailtls.analysis",
        "mailtls.dns",
        "mailtls.service",
        "mailtls.report",
    )
    for name in ("model.py", "errors.py", "exitcodes.py", "serialize.py"):
        imported = _imports(PACKAGE / name)
        assert not [i for i in imported if any(_under(i, e) for e in engines)], name


def _fresh(code: str) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PACKAGE.parent,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_check_help_does_not_import_textual() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from mailtls.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    rc = main(['check', '--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'rich', 'cryptography', 'dns', 'ssl', 'sqlite3'))\n"
        "print(json.dumps({'rc': rc, 'help': out.getvalue(), 'heavy': heavy}))\n"
    )
    result = _fresh(code)
    assert result["rc"] == 0
    assert "--format" in str(result["help"])
    heavy = result["heavy"]
    assert isinstance(heavy, list)
    assert not [m for m in heavy if m.split(".")[0] in ("textual", "rich")], heavy


def test_check_command_module_imports_no_textual_when_run_path_is_loaded() -> None:
    """Loading the whole check path (service, renderers) still keeps textual out."""
    code = (
        "import json, sys\n"
        "import mailtls.service, mailtls.report.text, mailtls.report.json\n"
        "import mailtls.report.nagios, mailtls.report.prometheus, mailtls.history\n"
        "import mailtls.commands.check\n"
        "print(json.dumps({'textual': [m for m in sys.modules if m.startswith('textual')]}))\n"
    )
    assert _fresh(code)["textual"] == []


def test_analysis_does_not_load_probe_at_runtime() -> None:
    pytest.importorskip("mailtls.analysis")
    code = (
        "import json, sys\n"
        "import mailtls.analysis\n"
        "print(json.dumps({'probe': [m for m in sys.modules if m.startswith('mailtls.probe')]}))\n"
    )
    assert _fresh(code)["probe"] == []
