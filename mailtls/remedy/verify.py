"""Hand nothing over that mailtls's own trust engine would not pass.

The engine is :mod:`mailtls.analysis` (``analyze_chain``, ``system_store``,
``user_store``). It is imported here, lazily, so that :mod:`mailtls.remedy` still imports
while the engine is being built; calling a verifier without it raises a clear
:class:`~mailtls.errors.ArtefactError` instead of handing out something unchecked.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from mailtls.errors import ArtefactError
from mailtls.model import Analysis, Verdict


def engine_available() -> bool:
    try:
        _engine()
    except ArtefactError:
        return False
    return True


def _engine() -> Any:
    try:
        from mailtls import analysis
    except ImportError as exc:  # pragma: no cover - the package always exists
        raise ArtefactError(f"mailtls's trust engine cannot be loaded: {exc}") from exc
    missing = [
        n for n in ("analyze_chain", "system_store", "user_store") if not hasattr(analysis, n)
    ]
    if missing:
        raise ArtefactError(
            "mailtls's trust engine (mailtls.analysis) is not available yet "
            f"(missing {', '.join(missing)}); refusing to hand over an unverified artefact"
        )
    return analysis


def analyze_under_private_root(
    chain_ders: Sequence[bytes],
    host: str,
    ca_path: str | os.PathLike[str],
    *,
    at: datetime,
) -> Analysis:
    """Judge ``chain_ders`` for ``host`` as an iPhone with ``ca_path`` trusted (USR) would."""
    engine = _engine()
    result: Analysis = engine.analyze_chain(
        list(chain_ders),
        host,
        at=at,
        system=engine.system_store(),
        user=engine.user_store([Path(ca_path)]),
    )
    return result


def require_trusted(
    chain_ders: Sequence[bytes],
    hosts: Sequence[str],
    ca_path: str | os.PathLike[str],
    *,
    at: datetime,
) -> None:
    """Raise :class:`ArtefactError` unless the chain is ``trusted`` for every host."""
    for host in hosts:
        analysis = analyze_under_private_root(chain_ders, host, ca_path, at=at)
        if analysis.verdict is not Verdict.TRUSTED:
            reasons = "; ".join(f"{f.rule_id}: {f.summary}" for f in analysis.findings) or "-"
            raise ArtefactError(
                f"the server certificate is not trusted for {host} under the root "
                f"(verdict {analysis.verdict.value}: {reasons}); nothing was written"
            )
