"""``import mailtls.analysis`` stays cheap: the engine and cryptography load on first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_package_import_is_light() -> None:
    code = (
        "import sys, mailtls.analysis, mailtls.commands.inspect, mailtls.commands.rules;"
        "heavy = [m for m in ('cryptography', 'mailtls.analysis.engine', 'mailtls.probe') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


def test_analysis_never_imports_probe() -> None:
    code = (
        "import sys; from mailtls.analysis import analyze_chain, RULES, transport_findings;"
        "print('mailtls.probe' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
