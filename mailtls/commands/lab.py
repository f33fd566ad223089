"""``mailtls lab``: serve a scenario (or your own chain) on local IMAP, POP3 and SMTP ports.

For training and for trying mailtls without touching a real server: the lab presents the
chain exactly as given on the 7 endpoint kinds iPhone Mail uses, prints the URLs and a
ready-to-paste ``mailtls check`` command, and runs until Ctrl-C. It binds to loopback
unless ``--bind`` says otherwise, and then warns loudly.

Only argparse is imported at module level; the lab itself is imported inside :func:`run`.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailtls.errors import InputFileError, LabError, UsageError

if TYPE_CHECKING:
    from mailtls.lab.servers import Lab, LabEvent

TLS_CHOICES = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
DEFAULT_HOST = "mail.example.test"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "lab",
        help="serve a scenario or your own chain on local IMAP/POP3/SMTP ports",
        description=(
            "Start local IMAP, POP3 and SMTP servers (STARTTLS and implicit TLS, the 7 ways "
            "iPhone Mail connects) that present a scenario's chain, or your own chain and "
            "key, exactly as given. Prints the URLs and the mailtls check command to paste; "
            "runs until Ctrl-C. Binds to 127.0.0.1 unless --bind says otherwise."
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scenario", metavar="NAME", help="serve this scenario of the catalogue")
    source.add_argument(
        "--list-scenarios", action="store_true", help="list the scenario names and exit"
    )
    source.add_argument(
        "--chain", metavar="FILE", help="serve this chain (PEM or DER; leaf first, sent as is)"
    )
    parser.add_argument(
        "--key",
        metavar="FILE",
        help="the private key of the chain's leaf (not needed when the chain file holds it)",
    )
    parser.add_argument(
        "--host",
        metavar="NAME",
        help="host name for the URLs and the check (default: the scenario's, or the leaf's "
        "first DNS name)",
    )
    parser.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1; a non-loopback address is reachable "
        "from other machines and is warned about)",
    )
    parser.add_argument(
        "--port-base",
        type=int,
        metavar="N",
        help="listen on N + the standard port (e.g. 10000: 10993, 10143, ..., 10025); "
        "default: free ports",
    )
    parser.add_argument(
        "--port",
        action="append",
        default=[],
        metavar="SCHEME=PORT",
        help="listen on this port for this scheme (repeatable; overrides --port-base)",
    )
    parser.add_argument(
        "--scheme",
        action="append",
        default=[],
        metavar="SCHEME",
        help="serve only these endpoint kinds (repeatable; default all 7: imaps imap pop3s "
        "pop3 submissions submission smtp)",
    )
    parser.add_argument(
        "--no-starttls",
        action="store_true",
        help="do not offer STARTTLS/STLS on the plaintext endpoints",
    )
    parser.add_argument(
        "--auth-before-tls",
        action="store_true",
        help="advertise authentication before TLS (a transport finding)",
    )
    parser.add_argument(
        "--min-tls",
        choices=TLS_CHOICES,
        help="lowest TLS version to accept (default TLSv1.2; TLSv1 serves old clients too)",
    )
    parser.add_argument("--max-tls", choices=TLS_CHOICES, help="highest TLS version to accept")
    parser.add_argument(
        "--at",
        metavar="DATETIME",
        help="build the scenario for this moment (ISO 8601; default now)",
    )
    parser.add_argument(
        "--serve-for",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every connection on stderr"
    )


# --------------------------------------------------------------------------- input


def read_input_file(name: str, what: str) -> bytes:
    path = Path(name)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"{name}: no such file ({what})") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a directory, not a {what} file") from None
    except OSError as exc:
        raise InputFileError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise InputFileError(f"{name}: empty file, expected a {what}")
    return data


def chain_as_pem(name: str, data: bytes) -> bytes:
    """PEM as is (order kept); a DER certificate converted to PEM."""
    if b"-----BEGIN" in data:
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise InputFileError(f"{name}: no certificate in this PEM file (is it a key?)")
        return data
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        return x509.load_der_x509_certificate(data).public_bytes(Encoding.PEM)
    except ValueError:
        raise InputFileError(f"{name}: neither PEM nor a DER certificate") from None


def key_as_pem(name: str, data: bytes) -> bytes:
    """A PEM key as is; a DER key converted to PKCS#8 PEM."""
    if b"-----BEGIN" in data:
        if b"PRIVATE KEY-----" not in data:
            raise InputFileError(f"{name}: no private key in this PEM file (is it a certificate?)")
        return data
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_der_private_key(data, password=None)
    except (ValueError, TypeError):
        raise InputFileError(f"{name}: neither a PEM nor an unencrypted DER private key") from None
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def certificates_only(chain_pem: bytes) -> bytes:
    import ssl

    from mailtls.lab.servers import pem_chain_to_der

    return "".join(ssl.DER_cert_to_PEM_cert(der) for der in pem_chain_to_der(chain_pem)).encode()


def leaf_host(chain_pem: bytes) -> str:
    """The first DNS name of the leaf (a wildcard becomes ``mail.``), else its CN."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        leaf = x509.load_pem_x509_certificates(chain_pem)[0]
    except ValueError:
        return DEFAULT_HOST
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except (x509.ExtensionNotFound, ValueError):
        names = []
    for name in names:
        name = name.rstrip(".")
        if name.startswith("*."):
            name = "mail." + name[2:]
        if name and "*" not in name:
            return name
    try:
        cns = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        cns = []
    for cn in cns:
        value = str(cn.value).strip().rstrip(".")
        if value and "*" not in value and " " not in value:
            return value
    return DEFAULT_HOST


def parse_ports(
    port_base: int | None, explicit: Sequence[str], schemes: Sequence[str]
) -> dict[str, int]:
    """Ports per scheme from ``--port-base`` and ``--port SCHEME=PORT``."""
    from mailtls.model import service_for_scheme

    ports: dict[str, int] = {}
    if port_base is not None:
        if port_base < 0:
            raise UsageError(f"--port-base {port_base}: must be 0 or more")
        for scheme in schemes:
            port = port_base + service_for_scheme(scheme).default_port
            if port > 65535:
                raise UsageError(
                    f"--port-base {port_base}: {scheme} would need port {port} (> 65535)"
                )
            ports[scheme] = port
    for item in explicit:
        scheme_text, sep, port_text = item.partition("=")
        try:
            scheme = service_for_scheme(scheme_text.strip()).scheme
        except KeyError:
            raise UsageError(f"--port {item!r}: unknown scheme {scheme_text.strip()!r}") from None
        try:
            port = int(port_text)
        except ValueError:
            port = -1
        if not sep or not 1 <= port <= 65535:
            raise UsageError(f"--port {item!r}: expected SCHEME=PORT with PORT 1-65535")
        ports[scheme] = port
    return ports


def parse_host_option(text: str) -> str:
    """``--host``: a host name or IP literal (IDN converted to ASCII), nothing else."""
    from mailtls.targets import parse_target

    target = parse_target(text)  # TargetError (a UsageError) names what is wrong
    if target.kind != "host" or target.port is not None:
        raise UsageError(f"--host {text!r}: give a host name or IP address, without port")
    return target.host


# --------------------------------------------------------------------------- output


def check_command(
    lab: Lab, host: str, ca_file: Path | None = None, at: datetime | None = None
) -> str:
    """The ``mailtls check`` line a person pastes to check this lab."""
    words = ["mailtls", "check", *lab.urls(host), "--address", lab.connect_address]
    if at is not None:  # a scenario built for another moment is judged at that moment
        words += ["--at", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")]
    if ca_file is not None:
        words += ["--ca-file", str(ca_file)]
    return shlex.join(words)


def format_event(event: LabEvent) -> str:
    detail = f" {event.detail}" if event.detail else ""
    return f"[{event.elapsed:8.3f}s] {event.scheme:<11} {event.peer:<22} {event.kind}{detail}"


def _print_event(event: LabEvent) -> None:
    print(f"mailtls lab: {format_event(event)}", file=sys.stderr, flush=True)


def list_scenarios() -> int:
    from mailtls.lab import scenarios

    now = datetime.now(UTC)
    width = max(len(name) for name in scenarios.SCENARIO_NAMES)
    for name in scenarios.SCENARIO_NAMES:
        scenario = scenarios.build_scenario(name, now=now)
        demo = "  [demo]" if scenario.demo else ""
        print(f"{name:<{width}}  {scenario.title}{demo}")
    return 0


def catalogue_main(argv: Sequence[str] | None = None) -> int:
    """``python -m mailtls.lab.scenarios build DIR --at DATE [--force]`` / ``list``."""
    from mailtls.errors import MailtlsError
    from mailtls.lab import scenarios
    from mailtls.moments import parse_moment

    parser = argparse.ArgumentParser(
        prog="python -m mailtls.lab.scenarios", description="Build the scenario catalogue."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    build = sub.add_parser("build", help="write every scenario into DIR/NAME/ + PROVENANCE.md")
    build.add_argument("directory", type=Path)
    build.add_argument(
        "--at", default=scenarios.FIXTURE_DATE.strftime("%Y-%m-%d"), help="build moment"
    )
    build.add_argument("--force", action="store_true", help="overwrite existing files")
    sub.add_parser("list", help="list scenario names and titles")
    args = parser.parse_args(argv)
    try:
        if args.action == "list":
            for name in scenarios.SCENARIO_NAMES:
                print(f"{name:32} {scenarios.SCENARIO_TITLES[name]}")
            return 0
        now = parse_moment(args.at)
        files = scenarios.build_fixtures(args.directory, now=now, force=args.force)
    except MailtlsError as exc:
        print(f"scenarios: {exc}", file=sys.stderr)
        return 3
    print(f"wrote {len(files)} files under {args.directory}")
    return 0


# --------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    if args.list_scenarios:
        return list_scenarios()
    if args.key and not args.chain:
        raise UsageError("--key goes with --chain FILE")
    if not args.scenario and not args.chain:
        raise UsageError("give --scenario NAME (see --list-scenarios) or --chain FILE --key FILE")
    if args.serve_for is not None and args.serve_for < 0:
        raise UsageError("--serve-for must be 0 or more seconds")

    from mailtls.lab.servers import Lab, LabConfig, bind_warning, service_for_scheme_checked
    from mailtls.model import IPHONE_SWEEP

    title = description = ""
    root_pem: bytes | None = None
    at: datetime | None = None
    if args.scenario:
        from mailtls.lab.scenarios import build_scenario
        from mailtls.moments import parse_moment

        at = parse_moment(args.at) if args.at else None
        scenario = build_scenario(args.scenario, now=at or datetime.now(UTC))
        if not getattr(scenario, "openssl_loads", True):
            raise LabError(
                f"scenario {scenario.name} cannot be served: OpenSSL (so the lab, Dovecot and "
                "Postfix alike) refuses to load its chain; it exists for mailtls inspect "
                f"(fixtures/{scenario.name}/chain.pem in a source checkout)"
            )
        chain_pem, key_pem, root_pem = scenario.chain_pem, scenario.key_pem, scenario.root_pem
        host = args.host or scenario.host
        title = f"scenario {scenario.name}: {scenario.title}"
        description = scenario.description
    else:
        if args.at:
            raise UsageError("--at applies to --scenario only")
        chain_data = read_input_file(args.chain, "certificate chain")
        chain_pem = chain_as_pem(args.chain, chain_data)
        if args.key:
            key_pem = key_as_pem(args.key, read_input_file(args.key, "private key"))
        elif b"PRIVATE KEY-----" in chain_data:
            key_pem = chain_data  # one file with certificates and key (as HAProxy uses)
        else:
            raise UsageError(
                f"--chain {args.chain}: no private key in it; give --key FILE (the leaf's key)"
            )
        host = args.host or leaf_host(chain_pem)
        title = f"chain {args.chain}"

    if args.host:
        host = parse_host_option(args.host)
    schemes = [service_for_scheme_checked(s).scheme for s in args.scheme] or list(IPHONE_SWEEP)
    ports = parse_ports(args.port_base, args.port, schemes)
    warning = bind_warning(args.bind)
    if warning:
        print(f"mailtls lab: {warning}", file=sys.stderr, flush=True)

    config = LabConfig(
        chain_pem=chain_pem,
        key_pem=key_pem,
        bind=args.bind,
        ports=ports,
        schemes=tuple(schemes),
        starttls=not args.no_starttls,
        auth_before_tls=args.auth_before_tls,
        min_tls=args.min_tls,
        max_tls=args.max_tls,
        server_name=host,
    )
    lab = Lab(config, on_event=_print_event if args.verbose else None)
    import shutil
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="mailtls-lab-"))
    # SIGTERM is caught from before the first connection can arrive until the lab is down.
    with _stop_requests() as stop:
        try:
            lab.start()
            # Certificates only: a combined chain+key file must not leave its key behind.
            (workdir / "chain.pem").write_bytes(certificates_only(chain_pem))
            ca_file: Path | None = None
            if root_pem is not None:
                ca_file = workdir / "root.pem"
                ca_file.write_bytes(root_pem)
            _print_banner(lab, host, title, description, workdir, ca_file, warning is not None, at)
            _serve(stop, args.serve_for)
        finally:
            lab.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    print("mailtls lab: stopped.", file=sys.stderr)
    return 0


def _print_banner(
    lab: Lab,
    host: str,
    title: str,
    description: str,
    workdir: Path,
    ca_file: Path | None,
    exposed: bool,
    at: datetime | None = None,
) -> None:
    where = "ALL interfaces" if exposed and lab.host in ("0.0.0.0", "::") else lab.host
    scope = "reachable from other machines!" if exposed else "loopback only"
    lines = [f"mailtls lab: {title}"]
    if description:
        lines += textwrap.wrap(description, width=88, initial_indent="  ", subsequent_indent="  ")
    lines += ["", f"Serving {host} on {where} ({scope}):"]
    lines += [f"  Note: {note}" for note in lab.notes]
    lines += [f"  {url}" for url in lab.urls(host)]
    lines += [
        "",
        f"Check it ({host} is not looked up: --address sends mailtls to the lab):",
        f"  {check_command(lab, host, at=at)}",
    ]
    if ca_file is not None:
        lines += [
            "",
            "The same, as if the scenario's root were installed on the iPhone with full trust:",
            f"  {check_command(lab, host, ca_file, at)}",
        ]
    lines += [
        "",
        f"The served chain is in {shlex.quote(str(workdir / 'chain.pem'))} "
        f"(try: mailtls inspect {shlex.quote(str(workdir / 'chain.pem'))} --host {host}).",
        "These files are removed when the lab stops. Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


@contextlib.contextmanager
def _stop_requests() -> Iterator[threading.Event]:
    """An event set by SIGTERM while the block runs (main thread only; restored after)."""
    import signal

    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_term(_signum: int, _frame: object) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield stop
    finally:
        # None means "set outside Python"; the default is the closest we can restore.
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _serve(stop: threading.Event, seconds: float | None) -> None:
    """Wait for Ctrl-C, SIGTERM (``stop``) or the end of ``--serve-for``."""
    try:
        if seconds is not None:
            stop.wait(seconds)
        else:
            while not stop.wait(0.5):
                pass
    except KeyboardInterrupt:
        print("", file=sys.stderr)
