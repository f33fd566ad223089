"""The scenario catalogue: every chain-decidable iOS trust rule, broken and intact.

A :class:`Scenario` is what a lab server sends (``chain_pem`` with its ``key_pem``), the
name the client is configured with (``host``), the private root (``root_pem``), and what
an iPhone does with it for each kind of root (ios-trust-rules.md §1g):

* ``"NONE"`` — default stores, the private root not installed (Mail prompts);
* ``"USR"``  — ``root_pem`` installed with full trust (``--ca-file``);
* ``"SYS"``  — ``root_pem`` treated as a preinstalled system root (``--system-roots``).

``expected_verdict`` maps those keys to ``trusted`` / ``needs_profile`` / ``prompt`` /
``fatal``; ``expected_rules`` lists the trust rule ids (ios-trust-rules.md) that must fire
and ``absent_rules`` the ones that must stay silent (the other direction of a boundary);
``expected_notices`` names deployment/advisory findings that must appear (any severity).
A key that is missing from ``expected_verdict`` is not asserted for that scenario.
``openssl_seclevel`` / ``openssl_loads`` tell a server what OpenSSL needs to send it.

Layout: :mod:`.kit` (the :class:`Scenario` record, rule ids, the registry and the
:class:`~.kit.Kit` that makes the lab's certificates with :mod:`mailtls.pki`), one
``catalogue_*`` module per family of rules (chain and dates, names, keys, EKU, validity, CA
certificates, structure), :mod:`.build` (build by name, write files and fixtures/). The
command line is :func:`mailtls.commands.lab.catalogue_main`.

Each scenario is one decorated builder whose docstring is its provenance line. Builders
use the lab keys committed under ``mailtls/lab/keys/`` (public test keys!), fixed serial
numbers, RSA PKCS#1 v1.5 and Ed25519 signatures only, and dates computed from ``now``: the
same ``now`` always gives byte-identical PEM. CA dates are rounded to whole years so the
"mailtls Lab Root CA" stays the same certificate for a whole calendar year (one root to
install on a test phone covers every private-chain scenario).

Decisions where Apple's rules are finer than the brief (see ios-trust-rules.md):

* Under ``SYS`` a chain whose leaf was issued after 2018-10-15 must be CT-qualified
  (§1d ``ct_required_system``); lab leaves carry no SCTs, so every recent lab chain is
  ``prompt`` under ``SYS``. Only ``legacy-2018-long-lived`` is ``trusted`` there.
* 825 days: ``notAfter - notBefore <= 825 d + 3600 s`` passes (§1c ``validity_max_other``),
  so exactly 825 d + 1 h passes and one second more fails.
* 398 days under ``SYS``: exactly 398 × 86 400 s passes in Apple's code (§1c
  ``validity_max_system``); one second more fails.

Regenerate the committed fixtures with::

    python -m mailtls.lab.scenarios build fixtures --at 2026-11-01 --force
"""

from mailtls.lab.scenarios.build import (
    DEMO_SCENARIOS,
    SCENARIO_NAMES,
    SCENARIO_TITLES,
    build_all,
    build_fixtures,
    build_scenario,
    provenance_markdown,
    write_scenario,
)
from mailtls.lab.scenarios.kit import (
    ANCHOR_KINDS,
    FIXTURE_DATE,
    HOST,
    REAL_SERVER_MATRIX,
    Scenario,
    lab_key,
)

__all__ = [
    "ANCHOR_KINDS",
    "DEMO_SCENARIOS",
    "FIXTURE_DATE",
    "HOST",
    "REAL_SERVER_MATRIX",
    "SCENARIO_NAMES",
    "SCENARIO_TITLES",
    "Scenario",
    "build_all",
    "build_fixtures",
    "build_scenario",
    "lab_key",
    "provenance_markdown",
    "write_scenario",
]
