"""Layers point one way (STYLE.md): checked on the source and in fresh interpreters.

    model, errors, exitcodes, serialize  <-  analysis/ (and roots/)  <-  service, history
        <-  report/, remedy/, lab/  <-  cli, commands/, tui/
    model, errors  <-  probe/, dns  <-  service

* no import circles: the module-level imports of ``mailtls/`` form an acyclic graph
  (an import inside a function is lazy and may point back);
* the layers of the picture never import upwards (any import, lazy ones included);
  ``analysis`` never imports ``probe`` (it judges data, from a socket or a file alike);
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


def _is_front_end(module: str) -> bool:
    """A front end, or a ``python -m`` entry point (``__main__``) that hands over to one."""
    return module.endswith(".__main__") or any(_under(module, front) for front in FRONT_ENDS)


def test_engines_and_use_cases_never_import_front_ends() -> None:
    offenders = [
        f"{_module(p)} imports {name}"
        for p in _sources()
        if not _is_front_end(_module(p))
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


# --------------------------------------------------------------------------- circles and arrows

#: Import circles known to exist and being removed; each names its issue. None at present.
EXPECTED_CIRCLES: list[set[str]] = []


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(path: Path, module: str) -> set[str]:
    """Modules a file imports when it is loaded: top-level statements, ``if``/``try``/``with``
    blocks included, ``if TYPE_CHECKING:`` and function bodies left out."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package[: len(package) - node.level + 1]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.If):
                if not _is_type_checking(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)).body)
    return names


@functools.cache
def _load_graph() -> dict[str, frozenset[str]]:
    """module -> the mailtls modules loading it runs first. ``import a.b.c`` runs the
    packages ``a`` and ``a.b`` too, except the importer's own packages (already running)."""
    modules = {_module(p): p for p in _sources()}
    graph: dict[str, frozenset[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for name in _module_level_imports(path, module):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                if target in modules and target != module and not _under(module, target):
                    targets.add(target)
        graph[module] = frozenset(targets)
    return graph


def _circles(graph: dict[str, frozenset[str]]) -> list[set[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for target in edges:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
    return found


def test_the_graph_sees_module_level_imports_only() -> None:
    graph = _load_graph()
    assert "mailtls.analysis.rules" in graph["mailtls.analysis.engine"]
    assert "mailtls.analysis.context" in graph["mailtls.analysis.hostname"]
    assert "mailtls.analysis.engine" not in graph["mailtls.service"]  # imported in a function
    assert _circles({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}) == [
        {"a", "b", "c"}
    ]


def test_no_import_circles() -> None:
    circles = [c for c in _circles(_load_graph()) if c not in EXPECTED_CIRCLES]
    assert not circles, [sorted(c) for c in circles]


#: layer -> what it must never import (at any depth: a lazy import is still a dependency).
#: The vocabulary (model, errors, ...) is checked by test_vocabulary_imports_no_engine.
NEVER_IMPORTS: dict[str, tuple[str, ...]] = {
    "mailtls.analysis": (
        "mailtls.probe",
        "mailtls.dns",
        "mailtls.targets",
        "mailtls.service",
        "mailtls.history",
        "mailtls.report",
        "mailtls.remedy",
        "mailtls.lab",
        *FRONT_ENDS,
    ),
    "mailtls.probe": (
        "mailtls.analysis",
        "mailtls.service",
        "mailtls.history",
        "mailtls.report",
        "mailtls.remedy",
        "mailtls.lab",
        *FRONT_ENDS,
    ),
    "mailtls.dns": ("mailtls.analysis", "mailtls.probe", "mailtls.service", *FRONT_ENDS),
    "mailtls.service": ("mailtls.report", "mailtls.remedy", "mailtls.lab", *FRONT_ENDS),
    "mailtls.history": ("mailtls.service", "mailtls.report", "mailtls.probe", *FRONT_ENDS),
    "mailtls.report": ("mailtls.probe", *FRONT_ENDS),
}


def test_layers_point_one_way() -> None:
    offenders = []
    for path in _sources():
        module = _module(path)
        for layer, forbidden in NEVER_IMPORTS.items():
            if not _under(module, layer):
                continue
            offenders += [
                f"{module} imports {name}"
                for name in _imports(path)
                if any(_under(name, f) for f in forbidden)
            ]
    assert not offenders
