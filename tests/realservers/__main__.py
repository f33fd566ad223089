"""Start a real Dovecot and Postfix by hand, for trying mailtls against them (root only).

    python3 -m tests.realservers CHAIN.pem KEY.pem [--modern] [--tls-min V] [--tls-max V]
    python3 -m tests.realservers --sample           # a generated private chain

Prints one JSON line (address, ports, URLs, work directories; with --sample also the root
to pass as --ca-file), then serves until stdin closes or Ctrl-C, and cleans up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.realservers.common import TLS_VERSION_NAMES, RigError, running
from tests.realservers.dovecot import DovecotInstance
from tests.realservers.postfix import PostfixInstance


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.realservers", description=__doc__)
    parser.add_argument("chain", nargs="?", type=Path, help="PEM chain, leaf first")
    parser.add_argument("key", nargs="?", type=Path, help="PEM private key of the leaf")
    parser.add_argument("--sample", action="store_true", help="serve a generated private chain")
    parser.add_argument("--modern", action="store_true", help="no weak certificates, TLS >= 1.2")
    parser.add_argument("--tls-min", choices=list(TLS_VERSION_NAMES))
    parser.add_argument("--tls-max", choices=list(TLS_VERSION_NAMES))
    parser.add_argument("--host", default="mail.example.test", help="host name for the URLs")
    args = parser.parse_args(argv)

    root_file: str | None = None
    if args.sample:
        from tests.realservers.material import private_chain

        material = private_chain(args.host)
        chain_pem, key_pem = material.chain_pem, material.key_pem
        with tempfile.NamedTemporaryFile(
            "wb", prefix="mtl-root.", suffix=".pem", delete=False
        ) as f:
            f.write(material.root_pem)
            root_file = f.name
    elif args.chain and args.key:
        chain_pem, key_pem = args.chain.read_bytes(), args.key.read_bytes()
    else:
        parser.error("give CHAIN and KEY, or --sample")

    options = {"weak_ok": not args.modern, "tls_min": args.tls_min, "tls_max": args.tls_max}
    servers = (
        DovecotInstance(chain_pem, key_pem, **options),
        PostfixInstance(chain_pem, key_pem, **options),
    )
    try:
        with running(*servers):
            info = {
                "address": servers[0].address,
                "ports": {**servers[0].ports, **servers[1].ports},
                "urls": [url for server in servers for url in server.urls(args.host)],
                "directories": [str(server.directory) for server in servers],
                "ca_file": root_file,
            }
            print(json.dumps(info), flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                sys.stdin.read()
    except RigError as exc:
        print(f"tests.realservers: {exc}", file=sys.stderr)
        return 1
    finally:
        if root_file:
            Path(root_file).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
