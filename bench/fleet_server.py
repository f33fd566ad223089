"""The fleet benchmark's server: one separate process serving the 7 endpoint kinds.

Started by ``bench/run.py``; not meant to be run by hand. It builds a private chain
(root -> intermediate -> leaf for ``*.fleet.test``), starts the mailtls lab on loopback
(TLS 1.2 and 1.3, like a current Dovecot/Postfix), prints one JSON line with the ports and
the root's path, and serves until its standard input closes (the benchmark ends, or dies).

Why the lab and not the real Dovecot/Postfix of tests/realservers: a real Dovecot forks a
login process for every connection (the rig's configuration, Dovecot's default), so a
thousand endpoints measure Dovecot's fork rate, not the client; see docs/performance.md.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailtls import pki
from mailtls.lab.servers import start_lab

DOMAIN = "fleet.test"


def make_chain(directory: Path) -> tuple[bytes, bytes, Path]:
    """(chain PEM, key PEM, root file) for ``*.fleet.test``, valid around now."""
    now = datetime.now(UTC).replace(microsecond=0)
    not_before, not_after = now - timedelta(days=30), now + timedelta(days=300)
    root_key = pki.generate_key("ec", 256)
    root = pki.issue(
        pki.ca_spec("Fleet Bench Root"), root_key, not_before=not_before, not_after=not_after
    )
    inter_key = pki.generate_key("ec", 256)
    inter = pki.issue(
        pki.ca_spec("Fleet Bench Intermediate"),
        inter_key,
        issuer_cert=root,
        issuer_key=root_key,
        not_before=not_before,
        not_after=not_after,
    )
    leaf_key = pki.generate_key("ec", 256)
    leaf = pki.issue(
        pki.leaf_spec(f"*.{DOMAIN}", DOMAIN),
        leaf_key,
        issuer_cert=inter,
        issuer_key=inter_key,
        not_before=not_before,
        not_after=not_after,
    )
    root_file = directory / "fleet-root.pem"
    root_file.write_bytes(pki.cert_to_pem(root))
    chain = pki.cert_to_pem(leaf) + pki.cert_to_pem(inter)
    return chain, pki.key_to_pem(leaf_key), root_file


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else Path(".")
    chain, key, root_file = make_chain(directory)
    with start_lab(chain, key, min_tls="TLSv1.2") as lab:
        print(
            json.dumps(
                {"address": lab.connect_address, "ports": lab.endpoints, "root": str(root_file)}
            ),
            flush=True,
        )
        sys.stdin.read()  # until the benchmark closes the pipe
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
