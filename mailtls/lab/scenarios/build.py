"""Build the catalogue: scenarios by name, their files, and the fixtures/ provenance."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from mailtls import pki
from mailtls.errors import ArtefactError, UsageError
from mailtls.lab.scenarios import (
    catalogue_ca,
    catalogue_chain,
    catalogue_eku,
    catalogue_keys,
    catalogue_names,
    catalogue_structure,
    catalogue_validity,
)
from mailtls.lab.scenarios.kit import ANCHOR_KINDS, REGISTRY, Kit, Scenario

#: The families in the catalogue's order (SCENARIO_NAMES, fixtures/, PROVENANCE.md); within
#: a family, the order of definition.
_FAMILIES = (
    catalogue_chain,
    catalogue_names,
    catalogue_keys,
    catalogue_eku,
    catalogue_validity,
    catalogue_ca,
    catalogue_structure,
)
_RANK = {family.__name__: rank for rank, family in enumerate(_FAMILIES)}

SCENARIO_NAMES: tuple[str, ...] = tuple(
    sorted(REGISTRY, key=lambda name: _RANK[REGISTRY[name].build.__module__])
)
DEMO_SCENARIOS: tuple[str, ...] = tuple(n for n in SCENARIO_NAMES if REGISTRY[n].demo)
#: name -> one-line title, without building anything (cheap, for listings).
SCENARIO_TITLES: dict[str, str] = {n: REGISTRY[n].title for n in SCENARIO_NAMES}


def build_scenario(name: str, *, now: datetime) -> Scenario:
    """Build the scenario ``name`` for the moment ``now`` (naive means UTC).

    Deterministic: the same ``name`` and ``now`` give byte-identical PEM.
    """
    entry = REGISTRY.get(name)
    if entry is None:
        raise UsageError(f"unknown scenario {name!r}; valid names: {', '.join(SCENARIO_NAMES)}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now = now.astimezone(UTC).replace(microsecond=0)
    made = entry.build(Kit(name, now))
    return Scenario(
        name=name,
        title=entry.title,
        description=entry.description,
        host=entry.host,
        chain_pem=b"".join(pki.cert_to_pem(cert) for cert in made.chain),
        key_pem=pki.key_to_pem(made.key),
        root_pem=pki.cert_to_pem(made.root) if made.root is not None else None,
        expected_verdict=dict(entry.verdicts),
        expected_rules={kind: entry.rules.get(kind, ()) for kind in entry.verdicts},
        demo=entry.demo,
        absent_rules=dict(entry.absent),
        at=now,
        openssl_seclevel=entry.openssl_seclevel,
        expected_notices=dict(entry.notices),
        openssl_loads=entry.openssl_loads,
    )


def build_all(*, now: datetime) -> tuple[Scenario, ...]:
    return tuple(build_scenario(name, now=now) for name in SCENARIO_NAMES)


def write_scenario(s: Scenario, directory: Path, *, force: bool = False) -> dict[str, Path]:
    """Write chain.pem, key.pem (mode 0600) and root.pem (if any) into ``directory``.

    Refuses to overwrite an existing file unless ``force``. Returns {"chain"|"key"|"root": path}.
    """
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[Path, bytes]] = {
        "chain": (directory / "chain.pem", s.chain_pem),
        "key": (directory / "key.pem", s.key_pem),
    }
    if s.root_pem is not None:
        files["root"] = (directory / "root.pem", s.root_pem)
    if not force:
        existing = [str(path) for path, _ in files.values() if path.exists()]
        if existing:
            raise ArtefactError(f"{existing[0]} exists; use --force to overwrite")
    for role, (path, data) in files.items():
        if role == "key":
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        else:
            path.write_bytes(data)
    return {role: path for role, (path, _) in files.items()}


def _describe_chain(chain_pem: bytes) -> str:
    names = []
    for cert in x509.load_pem_x509_certificates(chain_pem):
        cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        names.append(str(cns[0].value) if cns else "(empty subject)")
    return ", ".join(names)


def _expectation_text(s: Scenario) -> str:
    parts = []
    for kind in ANCHOR_KINDS:
        if kind not in s.expected_verdict:
            continue
        rules = s.expected_rules.get(kind, ())
        absent = s.absent_rules.get(kind, ())
        detail = ", ".join(rules)
        if absent:
            detail += ("; " if detail else "") + "not " + ", ".join(absent)
        notices = s.expected_notices.get(kind, ())
        if notices:
            detail += ("; " if detail else "") + "notices " + ", ".join(notices)
        parts.append(f"{kind} {s.expected_verdict[kind]}" + (f" ({detail})" if detail else ""))
    return "; ".join(parts)


def provenance_markdown(scenarios: Sequence[Scenario]) -> str:
    """The generated fixtures/PROVENANCE.md: one line per fixture."""
    at = scenarios[0].at.strftime("%Y-%m-%dT%H:%M:%SZ") if scenarios else "?"
    lines = [
        "# Fixture provenance (generated; do not edit)",
        "",
        # The wording (old module path included) is the committed PROVENANCE.md's, byte for byte.
        f"Built for {at} by `python -m mailtls.lab.scenarios build fixtures --at {at[:10]}"
        " --force` from `mailtls/lab/scenarios.py` with `mailtls.pki` (cryptography), the "
        "public lab keys in `mailtls/lab/keys/`, fixed serial numbers and RSA PKCS#1 v1.5 / "
        "Ed25519 signatures (deterministic). Each directory holds `chain.pem` (what the "
        "server sends, in order), `key.pem` (the leaf key) and `root.pem` (the private root). "
        "Expected verdicts per root kind (ios-trust-rules.md §1g): NONE = default stores, "
        "USR = root.pem as `--ca-file`, SYS = root.pem as `--system-roots`; rule ids that "
        "must fire, then those that must not, then other findings that must appear (notices).",
        "",
    ]
    for s in scenarios:
        lines.append(
            f"- **{s.name}** — {s.description} Host `{s.host}`; sends: {_describe_chain(s.chain_pem)}."
            f" Expected: {_expectation_text(s)}."
            + (" Serve with OpenSSL @SECLEVEL=0." if s.openssl_seclevel == 0 else "")
            + ("" if s.openssl_loads else " OpenSSL refuses to load it: files only.")
        )
    return "\n".join(lines) + "\n"


def build_fixtures(directory: Path, *, now: datetime, force: bool = False) -> list[Path]:
    """Write every scenario into ``directory/NAME/`` plus PROVENANCE.md; returns the files."""
    scenarios = build_all(now=now)
    written: list[Path] = []
    for s in scenarios:
        written.extend(write_scenario(s, directory / s.name, force=force).values())
    provenance = directory / "PROVENANCE.md"
    if provenance.exists() and not force:
        raise ArtefactError(f"{provenance} exists; use --force to overwrite")
    provenance.write_text(provenance_markdown(scenarios), encoding="utf-8")
    written.append(provenance)
    return written
