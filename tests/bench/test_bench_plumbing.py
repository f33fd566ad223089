"""Smoke test of bench/run.py's plumbing (the benchmark itself is not part of the test run).

It checks what would make ``python3 bench/run.py`` fail for the wrong reason: argument
parsing, process measurement with ``os.wait4``, and that a missed target fails loudly.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[2] / "bench" / "run.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("mailtls_bench_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    module.Spawner.shutdown()


def test_defaults_run_every_section(bench: ModuleType) -> None:
    args = bench.parse_args([])
    assert args.sections == ["startup", "host", "fleet", "offline"]
    assert (args.rounds, args.fleet_size, args.no_fail) == (15, 1000, False)


def test_only_picks_sections(bench: ModuleType) -> None:
    assert bench.parse_args(["--only", "offline, startup"]).sections == ["offline", "startup"]


@pytest.mark.parametrize(
    "argv", [["--only", "startup,speed"], ["--rounds", "0"], ["--fleet-size", "-5"]]
)
def test_bad_arguments_are_refused(
    bench: ModuleType, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert "bench/run.py: error:" in capsys.readouterr().err


def test_interpreter_is_the_real_binary(bench: ModuleType) -> None:
    python = Path(bench.PYTHON)
    assert python.is_file()
    assert python.read_bytes()[:4] == b"\x7fELF"  # not a shell script such as a pyenv shim


def test_measure_reports_time_memory_and_output(bench: ModuleType) -> None:
    script = "import sys; b = bytearray(64 * 1024 * 1024); print('hi'); sys.exit(3)"
    run = bench.measure([bench.PYTHON, "-c", script])
    assert run.returncode == 3
    assert run.stdout == "hi\n"
    assert run.rss_mib >= 64  # the 64 MiB buffer shows in ru_maxrss
    assert 0 < run.wall < 30


def test_measure_group_waits_for_every_process(bench: ModuleType) -> None:
    quick = [bench.PYTHON, "-c", "print(1)"]
    slow = [bench.PYTHON, "-c", "import time; time.sleep(0.3); print(2)"]
    run = bench.measure_group([quick, slow])
    assert run.returncode == 0
    assert sorted(run.stdout.split()) == ["1", "2"]
    assert run.wall >= 0.3


def test_failed_tool_is_not_timed_as_a_success(bench: ModuleType) -> None:
    run = bench.measure(
        [bench.PYTHON, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(1)"]
    )
    with pytest.raises(bench.BenchError, match="boom"):
        bench.require(run, "tool")


def test_missed_target_fails_loudly(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def slow_offline(results: object, chains: int) -> None:
        results.target("offline analysis rate", False, "10 chains per CPU second")  # type: ignore[attr-defined]

    monkeypatch.setattr(bench, "bench_offline", slow_offline)
    assert bench.main(["--only", "offline"]) == 1
    captured = capsys.readouterr()
    assert "FAIL  offline analysis rate" in captured.out
    assert "bench: FAILED: 1 target(s) missed" in captured.err
    assert bench.main(["--only", "offline", "--no-fail"]) == 0


def test_imported_heavy_reads_importtime_logs(bench: ModuleType) -> None:
    log = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       100 |        100 |   argparse\n"
        "import time:       900 |       2000 |     textual.app\n"
    )
    assert bench.imported_heavy(log) == ["textual"]


def test_memory_is_the_tool_s_own_not_the_benchmark_s(bench: ModuleType) -> None:
    """A child's ru_maxrss counts whatever forked it; the spawner keeps that floor small."""
    ballast = b"\x01" * (150 * 1024 * 1024)  # written, so resident: this process is > 150 MiB
    run = bench.measure([bench.PYTHON, "-I", "-S", "-c", "pass"])
    del ballast
    assert run.returncode == 0
    assert run.rss_mib < 40


@pytest.mark.parametrize("python", ["/nonexistent/bin/python", "/bin/true"])
def test_another_interpreter_must_run_mailtls(bench: ModuleType, python: str) -> None:
    with pytest.raises(bench.BenchError, match="--python"):
        bench.use_python(python)
    assert bench.TOOL_PYTHON == bench.PYTHON


def test_another_interpreter_runs_mailtls_and_the_baseline(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    link = tmp_path / "python"  # a venv's bin/python is a symlink: used as given
    link.symlink_to(bench.PYTHON)
    monkeypatch.setattr(bench, "TOOL_PYTHON", bench.PYTHON)
    bench.use_python(str(link))
    assert str(link) == bench.TOOL_PYTHON
    assert bench.mailtls("--version")[:3] == [str(link), "-m", "mailtls"]
    count, said = bench.startup_imports(link).split(" ", 1)
    assert int(count) > 10
    assert said.startswith("modules at start-up")
    assert bench.startup_imports("/bin/true") == "unknown"
