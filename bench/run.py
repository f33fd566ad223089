#!/usr/bin/env python3
"""mailtls performance benchmark (issue 8): measured side by side, failing loudly.

    python3 bench/run.py                 # everything; exit 1 when a target is missed
    python3 bench/run.py --install-peers # first install sslyze into its own venv
    python3 bench/run.py --only startup,offline --rounds 3

Sections (see bench/README.md and docs/performance.md):

* startup: ``mailtls --version`` and ``mailtls check --help`` against ``python3 -c pass``
  (same interpreter, interleaved); ``check`` must not import textual.
* host: real Dovecot + Postfix (tests/realservers) serving one host's 7 endpoints;
  ``mailtls check`` (probe, full iOS analysis, JSON) against sslyze (certificate info,
  its Python API, concurrent) and ``openssl s_client`` (7 processes at once), interleaved.
* fleet: 1,000 endpoints served by the lab in a separate process; one ``mailtls check`` and
  two side by side (``--shard k/2``, one per core) against sslyze; endpoints per second, peak
  memory, file descriptors, growth with the fleet size and the concurrency, the history
  database.
* offline: the trust engine on typical 3-certificate chains, CPU time on one core, with a
  cProfile of where the time goes.

Every tool runs as its own process, timed from spawn to exit (wall time) with the peak
resident memory from ``os.wait4`` (``ru_maxrss``), started and reaped by a small spawner
process (see :class:`Spawner` for why). Python runs as the real interpreter
binary (not a pyenv shim), with bytecode caching on (as for an installed package; the
cache lives in ~/.cache/mailtls-bench so the checkout stays clean).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
CACHE = Path(os.environ.get("MAILTLS_BENCH_CACHE", Path.home() / ".cache" / "mailtls-bench"))
SSLYZE_VENV = CACHE / "sslyze"
SSLYZE_SPEC = "sslyze==6.*"
#: The interpreter itself, never a shim script in front of it (pyenv's is a bash script).
PYTHON = os.path.realpath(sys.executable)
#: The interpreter that runs mailtls and the ``python3 -c pass`` baseline (``--python``).
TOOL_PYTHON = PYTHON
SECTIONS = ("startup", "host", "fleet", "offline")
MIB = 1024 * 1024

# Targets of issue 8.
SHARDS = 2  # fleet processes side by side, one per core
HOST_RATIO_MAX = 0.3  # mailtls time / sslyze time, one host, 7 endpoints
HOST_MEMORY_MAX_MIB = 40.0
STARTUP_RATIO_MAX = 2.0  # x `python3 -c pass`
FLEET_RATE_MIN = 150.0  # endpoints per second
OFFLINE_RATE_MIN = 2000.0  # chains per second on one core


# --------------------------------------------------------------------------- processes


@dataclass
class Run:
    """One finished process (or group of processes run at the same time)."""

    wall: float  # seconds from spawn to exit
    rss_kib: int  # peak resident set size (ru_maxrss, KiB); max over a group
    returncode: int
    stdout: str = ""
    stderr: str = ""
    peak_fds: int = 0  # most open file descriptors seen (when sampled)
    cpu: float = 0.0  # user + system seconds

    @property
    def rss_mib(self) -> float:
        return self.rss_kib / 1024


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every measured process: the checkout, bytecode cached."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    env["PYTHONPATH"] = str(REPO)
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def _count_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def measure(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
    sample_fds: bool = False,
) -> Run:
    """Run ``command`` to completion; wall time, peak RSS (wait4) and output."""
    return measure_group([command], env=env, timeout=timeout, sample_fds=sample_fds)


#: The process that starts every measured tool and waits for it (see :class:`Spawner`).
SPAWNER = r"""
import json, os, signal, sys, time
pids = []
def expire(signum, frame):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
signal.signal(signal.SIGALRM, expire)
write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
for line in sys.stdin:
    job = json.loads(line)
    pids.clear()
    began = time.perf_counter()
    for i, argv in enumerate(job["commands"]):
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, job["prefix"] + ".%d.out" % i, write, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, job["prefix"] + ".%d.err" % i, write, 0o600),
        ]
        pids.append(os.posix_spawnp(argv[0], argv, job["env"], file_actions=actions))
    sys.stdout.write(json.dumps({"pids": pids}) + "\n")
    sys.stdout.flush()
    signal.alarm(max(1, int(job["timeout"])))
    results = []
    for pid in pids:
        _, status, usage = os.wait4(pid, 0)
        results.append([os.waitstatus_to_exitcode(status), usage.ru_maxrss,
                        usage.ru_utime + usage.ru_stime])
    wall = time.perf_counter() - began
    signal.alarm(0)
    sys.stdout.write(json.dumps({"wall": wall, "results": results}) + "\n")
    sys.stdout.flush()
"""


class Spawner:
    """A small process (``python -I -S``, about 10 MiB) that starts and reaps every tool.

    Why not spawn from this process: on Linux a child's ``ru_maxrss`` includes the resident
    size of the process that forked it, up to its exec (fs/exec.c, ``setmax_mm_hiwater_rss``
    on the old mm), so tools spawned by a benchmark that holds certificates, servers and
    outputs would all report at least the benchmark's own size. The spawner's size is the
    floor of every memory figure instead (below ``python3 -c pass``).
    """

    _instance: Spawner | None = None

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "-I", "-S", "-c", SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lock = threading.Lock()

    @classmethod
    def get(cls) -> Spawner:
        if cls._instance is None or cls._instance.process.poll() is not None:
            cls._instance = cls()
            atexit.register(cls.shutdown)
        return cls._instance

    @classmethod
    def shutdown(cls) -> None:
        """End the spawner (its input closes, it exits) and reap it."""
        spawner, cls._instance = cls._instance, None
        if spawner is None:
            return
        for stream in (spawner.process.stdin, spawner.process.stdout):
            if stream is not None:
                stream.close()
        try:
            spawner.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            spawner.process.kill()
            spawner.process.wait()

    def request(self, job: dict[str, object]) -> tuple[list[int], Callable[[], dict[str, object]]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        started = self.process.stdout.readline()
        if not started:
            raise BenchError("the spawner process died")
        stdout = self.process.stdout

        def finished() -> dict[str, object]:
            line = stdout.readline()
            if not line:
                raise BenchError("the spawner process died")
            return dict(json.loads(line))

        return list(json.loads(started)["pids"]), finished


def measure_group(
    commands: Sequence[Sequence[str]],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
    sample_fds: bool = False,
) -> Run:
    """Start every command at once; wall time until the last exits; the largest peak RSS."""
    env = env or child_env()
    spawner = Spawner.get()
    with tempfile.TemporaryDirectory(prefix="mailtls-bench-run.") as work, spawner.lock:
        prefix = str(Path(work) / "run")
        pids, finished = spawner.request(
            {
                "commands": [list(c) for c in commands],
                "env": env,
                "prefix": prefix,
                "timeout": timeout,
            }
        )
        peak_fds = 0
        stop_sampling = threading.Event()

        def sample() -> None:
            nonlocal peak_fds
            while not stop_sampling.wait(0.005):
                peak_fds = max(peak_fds, sum(_count_fds(pid) for pid in pids))

        sampler = threading.Thread(target=sample, daemon=True) if sample_fds else None
        if sampler is not None:
            sampler.start()
        try:
            done = finished()
        finally:
            stop_sampling.set()
            if sampler is not None:
                sampler.join()
        results = [tuple(r) for r in done["results"]]  # type: ignore[attr-defined]
        texts = [
            (
                Path(f"{prefix}.{i}.out").read_bytes().decode(errors="replace"),
                Path(f"{prefix}.{i}.err").read_bytes().decode(errors="replace"),
            )
            for i in range(len(commands))
        ]
    codes = [int(r[0]) for r in results]
    return Run(
        wall=float(done["wall"]),  # type: ignore[arg-type]
        rss_kib=max(int(r[1]) for r in results),
        returncode=next((c for c in codes if c != 0), 0),
        stdout="".join(t[0] for t in texts),
        stderr="".join(t[1] for t in texts),
        peak_fds=peak_fds,
        cpu=sum(float(r[2]) for r in results),
    )


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process so far (0.0 when unknown)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mailtls(*args: str) -> list[str]:
    """``mailtls ARGS`` as the console script runs it, from this checkout."""
    return [TOOL_PYTHON, "-m", "mailtls", *args]


def sslyze_python() -> Path | None:
    python = SSLYZE_VENV / "bin" / "python"
    return python if python.exists() else None


def sslyze_command(sslyze: Path, endpoints: Path, *extra: str) -> list[str]:
    """bench/sslyze_driver.py run by sslyze's own interpreter on an endpoints JSON file."""
    return [str(sslyze), "-W", "ignore", str(BENCH / "sslyze_driver.py"), str(endpoints), *extra]


def install_sslyze() -> None:
    """sslyze in its own venv: its pinned cryptography never meets the project's."""
    print(f"installing {SSLYZE_SPEC} into {SSLYZE_VENV} ...", flush=True)
    SSLYZE_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([PYTHON, "-m", "venv", str(SSLYZE_VENV)], check=True)
    subprocess.run(
        [str(SSLYZE_VENV / "bin" / "pip"), "install", "--quiet", SSLYZE_SPEC], check=True
    )


# --------------------------------------------------------------------------- results


@dataclass
class Target:
    name: str
    met: bool
    detail: str


@dataclass
class Results:
    targets: list[Target] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def target(self, name: str, met: bool, detail: str) -> None:
        self.targets.append(Target(name, met, detail))
        print(f"  target {'met   ' if met else 'MISSED'} {name}: {detail}", flush=True)

    def skip(self, what: str) -> None:
        self.skipped.append(what)
        print(f"  skipped: {what}", flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def interleaved(
    tools: dict[str, Callable[[], Run]], rounds: int, warmup: bool = True
) -> dict[str, list[Run]]:
    """Each round runs every tool once; the order rotates (A B C, B C A, ...)."""
    names = list(tools)
    if warmup:
        for name in names:
            tools[name]()
    runs: dict[str, list[Run]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            runs[name].append(tools[name]())
    return runs


def print_table(runs: dict[str, list[Run]]) -> None:
    print(f"  {'':28} {'median s':>9} {'min s':>7} {'max s':>7} {'CPU s':>7} {'peak MiB':>9}")
    for name, items in runs.items():
        walls = [r.wall for r in items]
        print(
            f"  {name:28} {median(walls):9.3f} {min(walls):7.3f} {max(walls):7.3f}"
            f" {median([r.cpu for r in items]):7.3f} {max(r.rss_mib for r in items):9.1f}"
        )


def require(run: Run, what: str, check: Callable[[Run], str | None] | None = None) -> None:
    """A measured run that failed must not be timed as if it worked."""
    problem = f"exit {run.returncode}" if run.returncode != 0 else None
    if problem is None and check is not None:
        problem = check(run)
    if problem:
        tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise BenchError(f"{what} failed ({problem}): " + " | ".join(tail))


class BenchError(RuntimeError):
    """The benchmark itself could not run (a tool failed, a server did not start)."""


# --------------------------------------------------------------------------- startup


def bench_startup(results: Results, rounds: int) -> None:
    print("\n== start-up: mailtls --version / check --help vs python3 -c pass", flush=True)
    env = child_env()
    tools = {
        "python3 -c pass": lambda: measure([TOOL_PYTHON, "-c", "pass"], env=env),
        "mailtls --version": lambda: measure(mailtls("--version"), env=env),
        "mailtls check --help": lambda: measure(mailtls("check", "--help"), env=env),
    }
    runs = interleaved(tools, rounds)
    for name in ("mailtls --version", "mailtls check --help"):
        for run in runs[name]:
            require(run, name)
    print_table(runs)
    base = median([r.wall for r in runs["python3 -c pass"]])
    for name in ("mailtls --version", "mailtls check --help"):
        value = median([r.wall for r in runs[name]])
        ratio = value / base
        results.figures[f"startup {name}"] = {"median_s": value, "ratio": ratio}
        results.target(
            f"start-up '{name}'",
            ratio <= STARTUP_RATIO_MAX,
            f"{value * 1000:.0f} ms = {ratio:.2f}x python3 -c pass ({base * 1000:.0f} ms);"
            f" limit {STARTUP_RATIO_MAX}x",
        )
    results.figures["startup python3 -c pass"] = {"median_s": base}
    traced = measure([TOOL_PYTHON, "-X", "importtime", "-m", "mailtls", "check", "--help"], env=env)
    heavy = imported_heavy(traced.stderr)
    results.target(
        "'check --help' imports no textual/cryptography/asyncio",
        not heavy,
        "none imported" if not heavy else f"imported: {', '.join(heavy)}",
    )


def imported_heavy(importtime_log: str) -> list[str]:
    """Top-level packages of interest in a ``-X importtime`` log."""
    found = set()
    for line in importtime_log.splitlines():
        name = line.rsplit("|", 1)[-1].strip()
        top = name.split(".", 1)[0]
        if top in ("textual", "rich", "cryptography", "asyncio", "dns"):
            found.add(top)
    return sorted(found)


# --------------------------------------------------------------------------- host


@contextlib.contextmanager
def real_servers() -> Iterator[tuple[list[dict[str, object]], Path]]:
    """Dovecot + Postfix of tests/realservers serving one host's 7 endpoints."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from tests.realservers.common import availability_problem, start_all, stop_all
    from tests.realservers.dovecot import DovecotInstance
    from tests.realservers.material import private_chain
    from tests.realservers.postfix import MASTER, PostfixInstance

    problem = availability_problem("dovecot", MASTER)
    if problem:
        raise BenchError(f"real servers unavailable: {problem}")
    material = private_chain("mail.example.test")
    directory = Path(tempfile.mkdtemp(prefix="mailtls-bench."))
    root = directory / "root.pem"
    root.write_bytes(material.root_pem)
    # weak_ok=False: TLS 1.2+ and default ciphers, as a current Dovecot/Postfix ships.
    servers = [
        DovecotInstance(material.chain_pem, material.key_pem, weak_ok=False),
        PostfixInstance(material.chain_pem, material.key_pem, weak_ok=False),
    ]
    start_all(servers)
    try:
        endpoints = [
            {"scheme": scheme, "host": "mail.example.test", "address": s.address, "port": port}
            for s in servers
            for scheme, port in s.ports.items()
        ]
        yield endpoints, root
    finally:
        stop_all(servers)
        shutil.rmtree(directory, ignore_errors=True)


S_CLIENT_STARTTLS = {"imap": "imap", "pop3": "pop3", "smtp": "smtp", "submission": "smtp"}


def s_client_command(endpoint: dict[str, object]) -> list[str]:
    command = [
        "openssl",
        "s_client",
        "-connect",
        f"{endpoint['address']}:{endpoint['port']}",
        "-servername",
        str(endpoint["host"]),
        "-showcerts",
    ]
    starttls = S_CLIENT_STARTTLS.get(str(endpoint["scheme"]))
    if starttls:
        command += ["-starttls", starttls]
    return command


def url(endpoint: dict[str, object]) -> str:
    return f"{endpoint['scheme']}://{endpoint['host']}:{endpoint['port']}"


def check_json_report(
    expected: int, verdict: str | None = "trusted"
) -> Callable[[Run], str | None]:
    def check(run: Run) -> str | None:
        try:
            report = json.loads(run.stdout)
        except json.JSONDecodeError:
            return "no JSON on stdout"
        endpoints = report.get("endpoints", [])
        ok = [e for e in endpoints if e.get("status") == "ok"]
        if len(ok) != expected:
            return f"{len(ok)} of {expected} endpoints ok"
        if verdict and any(e.get("verdict") != verdict for e in ok):
            return f"a verdict other than {verdict}: {sorted({e.get('verdict') for e in ok})}"
        return None

    return check


def check_sslyze(run: Run) -> str | None:
    return None if "certificates" in run.stdout else "no summary line"


def check_s_client(run: Run) -> str | None:
    return None if run.stdout.count("BEGIN CERTIFICATE") >= 7 else "not every chain printed"


def bench_host(results: Results, rounds: int) -> None:
    print("\n== one host, 7 endpoints: real Dovecot + Postfix on loopback", flush=True)
    env = child_env()
    sslyze = sslyze_python()
    with real_servers() as (endpoints, root), tempfile.TemporaryDirectory() as work:
        endpoints_file = Path(work) / "endpoints.json"
        endpoints_file.write_text(json.dumps(endpoints))
        address = str(endpoints[0]["address"])
        check_args = [
            "check",
            "--format",
            "json",
            "--no-history",
            "--no-discover",
            "--address",
            address,
            "--ca-file",
            str(root),
            *[url(e) for e in endpoints],
        ]
        verify_mailtls = check_json_report(len(endpoints))

        def run_mailtls() -> Run:
            run = measure(mailtls(*check_args), env=env)
            require(run, "mailtls check", verify_mailtls)
            return run

        def run_s_client() -> Run:
            run = measure_group([s_client_command(e) for e in endpoints], env=env)
            require(run, "openssl s_client", check_s_client)
            return run

        tools: dict[str, Callable[[], Run]] = {"mailtls check (json)": run_mailtls}
        if sslyze is not None:

            def run_sslyze() -> Run:
                run = measure(sslyze_command(sslyze, endpoints_file), env=env)
                require(run, "sslyze", check_sslyze)
                return run

            tools["sslyze certinfo (API)"] = run_sslyze
        else:
            results.skip("sslyze not installed (run with --install-peers): sslyze ratios skipped")
        if shutil.which("openssl"):
            tools["openssl s_client x7"] = run_s_client
        runs = interleaved(tools, rounds)
        print_table(runs)

        # Does a real check import textual? One more run, traced.
        traced = measure([TOOL_PYTHON, "-X", "importtime", "-m", "mailtls", *check_args], env=env)
        require(traced, "mailtls check (traced)")
        textual = [m for m in imported_heavy(traced.stderr) if m in ("textual", "rich")]
        results.target(
            "'check' never imports textual",
            not textual,
            "textual not imported" if not textual else f"imported: {', '.join(textual)}",
        )

    ours = runs["mailtls check (json)"]
    ours_median = median([r.wall for r in ours])
    peak = max(r.rss_mib for r in ours)
    results.figures["host mailtls"] = {
        "median_s": ours_median,
        "peak_mib": peak,
        "cpu_s": median([r.cpu for r in ours]),
    }
    results.target(
        "host peak memory",
        peak <= HOST_MEMORY_MAX_MIB,
        f"{peak:.1f} MiB (max of {len(ours)} runs); limit {HOST_MEMORY_MAX_MIB:.0f} MiB",
    )
    if "sslyze certinfo (API)" in runs:
        theirs = runs["sslyze certinfo (API)"]
        theirs_median = median([r.wall for r in theirs])
        ratio = ours_median / theirs_median
        # The same comparison round by round (each pair ran back to back, so a slow moment
        # of this shared machine hits both): information, the target uses the medians.
        pairs = sorted(a.wall / b.wall for a, b in zip(ours, theirs, strict=False))
        results.figures["host sslyze"] = {
            "median_s": theirs_median,
            "cpu_s": median([r.cpu for r in theirs]),
            "peak_mib": max(r.rss_mib for r in theirs),
            "ratio": ratio,
            "pairwise_ratios": pairs,
        }
        results.target(
            "host time vs sslyze",
            ratio <= HOST_RATIO_MAX,
            f"mailtls {ours_median:.3f} s / sslyze {theirs_median:.3f} s = {ratio:.2f}x;"
            f" limit {HOST_RATIO_MAX}x",
        )
        print(
            f"  per-round ratios mailtls/sslyze: median {median(pairs):.2f}x, "
            f"range {pairs[0]:.2f}-{pairs[-1]:.2f}x over {len(pairs)} rounds (information)"
        )
    if "openssl s_client x7" in runs:
        floor = median([r.wall for r in runs["openssl s_client x7"]])
        results.figures["host s_client"] = {"median_s": floor, "ratio": ours_median / floor}
        print(f"  mailtls / openssl s_client floor: {ours_median / floor:.1f}x (information)")


# --------------------------------------------------------------------------- fleet


@contextlib.contextmanager
def fleet_server(work: Path) -> Iterator[dict[str, object]]:
    """bench/fleet_server.py in its own process; yields its JSON line."""
    process = subprocess.Popen(
        [PYTHON, str(BENCH / "fleet_server.py"), str(work)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise BenchError("fleet server did not start")
        info = json.loads(line)
        info["pid"] = process.pid
        yield info
    finally:
        assert process.stdin is not None
        with contextlib.suppress(OSError):
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def fleet_endpoints(server: dict[str, object], size: int) -> list[dict[str, object]]:
    """``size`` endpoints: host names h0000.fleet.test, ... each with the 7 kinds in turn."""
    ports = dict(server["ports"])  # type: ignore[call-overload]
    kinds = list(ports)
    return [
        {
            "scheme": kinds[i % len(kinds)],
            "host": f"h{i // len(kinds):05d}.fleet.test",
            "address": server["address"],
            "port": ports[kinds[i % len(kinds)]],
        }
        for i in range(size)
    ]


def check_jsonl(expected: int) -> Callable[[Run], str | None]:
    def check(run: Run) -> str | None:
        ok = trusted = 0
        for line in run.stdout.splitlines():
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                return "a line that is not JSON"
            if item.get("record") == "endpoint" and item.get("status") == "ok":
                ok += 1
                trusted += item.get("verdict") == "trusted"
        if ok != expected or trusted != expected:
            return f"{ok} of {expected} endpoints ok, {trusted} trusted"
        return None

    return check


def bench_fleet(results: Results, rounds: int, size: int, concurrency: int) -> None:
    print(f"\n== fleet: {size} endpoints on loopback, served by a separate process", flush=True)
    env = child_env()
    sslyze = sslyze_python()
    with tempfile.TemporaryDirectory(prefix="mailtls-fleet.") as work_dir:
        work = Path(work_dir)
        with fleet_server(work) as server:
            root = str(server["root"])

            def files(n: int) -> tuple[Path, Path]:
                endpoints = fleet_endpoints(server, n)
                targets = work / f"targets-{n}.txt"
                targets.write_text("\n".join(url(e) for e in endpoints) + "\n")
                as_json = work / f"endpoints-{n}.json"
                as_json.write_text(json.dumps(endpoints))
                return targets, as_json

            def check_args(targets: Path, *extra: str) -> list[str]:
                return [
                    "check",
                    "--format",
                    "jsonl",
                    "--no-discover",
                    "--address",
                    str(server["address"]),
                    "--ca-file",
                    root,
                    "--timeout",
                    "600",
                    "--concurrency",
                    str(concurrency),
                    "-f",
                    str(targets),
                    *extra,
                ]

            targets, endpoints_json = files(size)

            server_cpu: list[float] = []

            def run_mailtls(n: int = size, target_file: Path = targets, *extra: str) -> Run:
                before = process_cpu(int(str(server["pid"])))
                run = measure(mailtls(*check_args(target_file, *extra)), env=env, sample_fds=True)
                if n == size:
                    server_cpu.append(process_cpu(int(str(server["pid"]))) - before)
                require(run, f"mailtls check ({n} endpoints)", check_jsonl(n))
                return run

            def run_sharded() -> Run:
                """One process per core: ``--shard 1/2`` and ``--shard 2/2`` side by side."""
                width = str(max(1, concurrency // SHARDS))
                run = measure_group(
                    [
                        mailtls(
                            *check_args(targets, "--no-history"),
                            "--shard",
                            f"{k}/{SHARDS}",
                            "--concurrency",
                            width,
                        )
                        for k in range(1, SHARDS + 1)
                    ],
                    env=env,
                    sample_fds=True,
                )
                require(run, f"mailtls check ({SHARDS} shards)", check_jsonl(size))
                return run

            tools: dict[str, Callable[[], Run]] = {
                "mailtls check (jsonl)": lambda: run_mailtls(size, targets, "--no-history"),
                f"mailtls x{SHARDS} --shard (jsonl)": run_sharded,
            }
            if sslyze is not None:

                def run_sslyze() -> Run:
                    run = measure(sslyze_command(sslyze, endpoints_json, str(concurrency)), env=env)
                    require(run, "sslyze (fleet)", check_sslyze)
                    return run

                tools["sslyze certinfo (API)"] = run_sslyze
            else:
                results.skip("sslyze not installed: fleet comparison skipped")
            runs = interleaved(tools, rounds, warmup=False)
            print_table(runs)
            ours = runs["mailtls check (jsonl)"]
            wall = median([r.wall for r in ours])
            rate = size / wall
            peak = max(r.rss_mib for r in ours)
            fds = max(r.peak_fds for r in ours)
            cpu = median([r.cpu for r in ours])
            results.figures["fleet mailtls"] = {
                "endpoints": size,
                "median_s": wall,
                "endpoints_per_s": rate,
                "peak_mib": peak,
                "peak_fds": fds,
                "cpu_s": cpu,
                "concurrency": concurrency,
            }
            served = median(server_cpu[: len(ours)])
            capacity = 2 / ((cpu + served) / size)
            results.figures["fleet mailtls"]["server_cpu_s"] = served  # type: ignore[index]
            results.figures["fleet mailtls"]["two_core_capacity"] = capacity  # type: ignore[index]
            print(
                f"  mailtls: {rate:.0f} endpoints/s, peak {peak:.1f} MiB, at most {fds} open"
                f" file descriptors; CPU {cpu:.2f} s client + {served:.2f} s server ="
                f" {(cpu + served) / size * 1000:.1f} ms per endpoint (2 idle cores could do"
                f" ~{capacity:.0f}/s; information)"
            )
            sharded = runs[f"mailtls x{SHARDS} --shard (jsonl)"]
            sharded_wall = median([r.wall for r in sharded])
            sharded_rate = size / sharded_wall
            results.figures["fleet mailtls sharded"] = {
                "processes": SHARDS,
                "median_s": sharded_wall,
                "endpoints_per_s": sharded_rate,
                "peak_mib_per_process": max(r.rss_mib for r in sharded),
                "cpu_s": median([r.cpu for r in sharded]),
            }
            print(
                f"  one process: {rate:.0f} endpoints/s; {SHARDS} processes (--shard k/{SHARDS},"
                f" one per core): {sharded_rate:.0f} endpoints/s"
            )
            results.target(
                f"fleet rate ({SHARDS} processes, one per core)",
                sharded_rate >= FLEET_RATE_MIN,
                f"{sharded_rate:.0f} endpoints/s ({size} in {sharded_wall:.2f} s; one process"
                f" {rate:.0f}/s); limit >= {FLEET_RATE_MIN:.0f}/s",
            )
            if "sslyze certinfo (API)" in runs:
                theirs = median([r.wall for r in runs["sslyze certinfo (API)"]])
                results.figures["fleet sslyze"] = {
                    "median_s": theirs,
                    "endpoints_per_s": size / theirs,
                    "peak_mib": max(r.rss_mib for r in runs["sslyze certinfo (API)"]),
                }
                results.target(
                    "fleet faster than sslyze",
                    wall < theirs,
                    f"mailtls {wall:.2f} s vs sslyze {theirs:.2f} s ({theirs / wall:.1f}x faster)",
                )

            # Growth: time, memory and descriptors at a quarter, once and 4 times the fleet.
            print("  growth with the fleet size (one process, one run each):")
            growth = []
            for n in (max(7, size // 4), size, size * 4):
                if n == size:
                    growth.append((n, ours[0]))
                    continue
                other_targets, _ = files(n)
                growth.append((n, run_mailtls(n, other_targets, "--no-history")))
            for n, run in growth:
                print(
                    f"    {n:6d} endpoints: {run.wall:6.2f} s  {n / run.wall:6.0f}/s"
                    f"  peak {run.rss_mib:6.1f} MiB  fds {run.peak_fds}"
                )
            (n0, r0), (n1, r1) = growth[0], growth[-1]
            per_endpoint_kib = (r1.rss_kib - r0.rss_kib) / max(1, n1 - n0)
            results.figures["fleet growth"] = {
                "points": [(n, r.wall, r.rss_mib, r.peak_fds) for n, r in growth],
                "kib_per_endpoint": per_endpoint_kib,
            }
            print(f"    memory grows by {per_endpoint_kib:.1f} KiB per endpoint checked")

            # Memory and descriptors per endpoint in flight: the same fleet at concurrency 8.
            narrow = measure(
                mailtls(*check_args(targets, "--no-history"), "--concurrency", "8"),
                env=env,
                sample_fds=True,
            )
            require(narrow, "mailtls check (concurrency 8)", check_jsonl(size))
            wide = ours[0]
            span = max(1, concurrency - 8)
            in_flight_kib = (wide.rss_kib - narrow.rss_kib) / span
            in_flight_fds = (wide.peak_fds - narrow.peak_fds) / span
            results.figures["fleet in flight"] = {
                "kib_per_endpoint": in_flight_kib,
                "fds_per_endpoint": in_flight_fds,
                "concurrency_8": (narrow.wall, narrow.rss_mib, narrow.peak_fds),
            }
            print(
                f"  in flight: concurrency 8 {narrow.wall:.2f} s, {narrow.rss_mib:.1f} MiB,"
                f" {narrow.peak_fds} fds; concurrency {concurrency} {wide.rss_mib:.1f} MiB,"
                f" {wide.peak_fds} fds: {in_flight_kib:.0f} KiB and {in_flight_fds:.1f} file"
                " descriptors per endpoint in flight"
            )

            # What TLS version probing costs (2 of the 3 connections per endpoint).
            quick = run_mailtls(size, targets, "--no-history", "--no-versions")
            results.figures["fleet no-versions"] = {"median_s": quick.wall, "cpu_s": quick.cpu}
            print(
                f"  without version probing (--no-versions, one run): {size / quick.wall:.0f}"
                f" endpoints/s, {quick.cpu:.2f} s CPU"
            )

            # The history database: what recording the fleet costs.
            database = work / "history.sqlite3"
            first = run_mailtls(size, targets, "--history", str(database))
            second = run_mailtls(size, targets, "--history", str(database))
            size_bytes = database.stat().st_size
            results.figures["fleet history"] = {
                "first_s": first.wall,
                "second_s": second.wall,
                "bytes_per_check_per_endpoint": size_bytes / (2 * size),
                "database_bytes": size_bytes,
            }
            print(
                f"  with history: {first.wall:.2f} s (first), {second.wall:.2f} s (second,"
                f" compares); database {size_bytes / MIB:.1f} MiB after 2 checks ="
                f" {size_bytes / (2 * size) / 1024:.1f} KiB per endpoint per check"
            )


# --------------------------------------------------------------------------- offline


def bench_offline(results: Results, chains: int) -> None:
    print(f"\n== offline analysis: {chains} typical 3-certificate chains, one core", flush=True)
    run = measure(
        [TOOL_PYTHON, str(BENCH / "offline.py"), str(chains)], env=child_env(), timeout=900
    )
    require(run, "offline analysis")
    print("\n".join("  " + line for line in run.stdout.rstrip().splitlines()))
    figures = json.loads(run.stdout.strip().splitlines()[-1].removeprefix("RESULT "))
    results.figures["offline"] = figures
    rate = figures["typical_chains_per_cpu_s"]
    results.target(
        "offline analysis rate",
        rate >= OFFLINE_RATE_MIN,
        f"{rate:.0f} chains per CPU second; limit >= {OFFLINE_RATE_MIN:.0f}",
    )


# --------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="mailtls performance benchmark (issue 8); exits 1 when a target is missed.",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        metavar="LIST",
        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--rounds", type=int, default=15, help="rounds per tool, one host (default 15)"
    )
    parser.add_argument(
        "--startup-rounds", type=int, default=21, help="rounds for start-up (default 21)"
    )
    parser.add_argument(
        "--fleet-size", type=int, default=1000, help="endpoints in the fleet (default 1000)"
    )
    parser.add_argument(
        "--fleet-rounds", type=int, default=3, help="rounds of the fleet run (default 3)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=64, help="fleet concurrency, both tools (default 64)"
    )
    parser.add_argument(
        "--chains", type=int, default=2000, help="chains in the offline run (default 2000)"
    )
    parser.add_argument(
        "--install-peers",
        action="store_true",
        help=f"install {SSLYZE_SPEC} into {SSLYZE_VENV} first (needs the package index)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="interpreter for mailtls and the 'python3 -c pass' baseline, e.g. a virtual"
        " environment's bin/python with mailtls installed (default: this one)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--no-fail", action="store_true", help="report missed targets but exit 0")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    for name in ("rounds", "startup_rounds", "fleet_size", "fleet_rounds", "concurrency", "chains"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def calibration() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this (virtual) machine is right now.

    The same benchmark can run 30 % or more apart on a shared host; this figure, printed at
    the start and the end, says which kind of moment a run had.
    """
    began = time.process_time()
    total = 0
    for number in range(3_000_000):
        total += number
    return time.process_time() - began


@contextlib.contextmanager
def machine_speed(results: Results, section: str) -> Iterator[None]:
    """The calibration loop just before and after a section whose figures move with the
    machine's speed (one host, offline), printed beside them: which kind of moment they
    were taken in. Information only; no target uses it."""
    before = calibration()
    yield
    after = calibration()
    results.figures[f"calibration around {section}"] = (before, after)
    print(
        f"  machine speed around this section: calibration {before:.3f} -> {after:.3f} CPU s"
        f" (0.11 on a quiet moment of this VM; higher is slower)",
        flush=True,
    )


def machine_line() -> str:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, load average {load}; {Path(PYTHON).name}"
        f" {sys.version.split()[0]} ({PYTHON})"
    )


def ask_python(python: Path | str, code: str) -> subprocess.CompletedProcess[str]:
    """Run one line of ``code`` with the interpreter ``python``, in the measured environment."""
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=child_env(), check=False
    )


def use_python(python: str) -> None:
    """Run mailtls (and the bare-interpreter baseline) with ``python`` (``--python``)."""
    global TOOL_PYTHON
    path = Path(python).absolute()  # not resolved: a venv's bin/python is a symlink
    try:
        probe = ask_python(path, "import mailtls, cryptography, dns, certifi; print('ok')")
    except OSError as exc:
        raise BenchError(f"--python {python}: cannot run it ({exc.strerror})") from None
    if probe.returncode != 0 or probe.stdout.strip() != "ok":
        last = (probe.stderr.strip().splitlines() or ["not a Python interpreter"])[-1]
        raise BenchError(f"--python {python}: cannot import mailtls and its dependencies: {last}")
    TOOL_PYTHON = str(path)


def startup_imports(python: Path | str) -> str:
    """What an interpreter imports before running anything (``site`` and ``.pth`` files).

    This machine's base interpreter has a ``.pth`` file that imports certifi into every
    process (~30 ms); sslyze's virtual environment does not read it. Printed so that the
    start-up and one-host figures can be read with that in mind.
    """
    probe = ask_python(python, "import sys; print(len(sys.modules), 'certifi' in sys.modules)")
    try:
        count, certifi = probe.stdout.split()
    except ValueError:
        return "unknown"
    return f"{count} modules at start-up" + (", certifi among them" if certifi == "True" else "")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.install_peers and sslyze_python() is None:
        install_sslyze()
    results = Results()
    started = time.monotonic()
    print(f"mailtls benchmark: {machine_line()}", flush=True)
    try:
        if args.python:
            use_python(args.python)
    except BenchError as exc:
        print(f"bench: FAILED: the benchmark could not run: {exc}", file=sys.stderr)
        return 2
    sslyze = sslyze_python()
    ours_at_start = startup_imports(TOOL_PYTHON)
    print(f"mailtls runs with {TOOL_PYTHON}: {ours_at_start}", flush=True)
    if sslyze is not None:
        print(f"sslyze runs with {sslyze}: {startup_imports(sslyze)}", flush=True)
    results.figures["mailtls interpreter"] = f"{TOOL_PYTHON} ({ours_at_start})"
    speed = calibration()
    print(f"calibration: a 3M-iteration Python loop took {speed:.3f} CPU s", flush=True)
    results.figures["machine at start"] = machine_line()
    results.figures["calibration at start"] = speed
    results.figures["started"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        if "startup" in args.sections:
            bench_startup(results, args.startup_rounds)
        if "host" in args.sections:
            with machine_speed(results, "host"):
                bench_host(results, args.rounds)
        if "fleet" in args.sections:
            bench_fleet(results, args.fleet_rounds, args.fleet_size, args.concurrency)
        if "offline" in args.sections:
            with machine_speed(results, "offline"):
                bench_offline(results, args.chains)
    except BenchError as exc:
        print(f"\nbench: FAILED: the benchmark could not run: {exc}", file=sys.stderr)
        return 2
    results.figures["machine"] = machine_line()
    results.figures["calibration at end"] = speed_at_end = calibration()
    print(
        f"\n== summary ({time.monotonic() - started:.0f} s; at the end: {machine_line()};"
        f" calibration {speed_at_end:.3f} CPU s)"
    )
    for target in results.targets:
        print(f"  {'PASS' if target.met else 'FAIL'}  {target.name}: {target.detail}")
    for what in results.skipped:
        print(f"  SKIP  {what}")
    if args.json:
        Path(args.json).write_text(json.dumps(results.figures, indent=2, default=str) + "\n")
    missed = [t for t in results.targets if not t.met]
    if missed:
        print(
            f"bench: FAILED: {len(missed)} target(s) missed: "
            + "; ".join(f"{t.name} ({t.detail})" for t in missed),
            file=sys.stderr,
        )
        return 0 if args.no_fail else 1
    print("bench: all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
