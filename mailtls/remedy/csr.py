"""A key and a certificate signing request (CSR) for a public CA, with every name in the SAN.

:func:`make_csr` writes ``server.key`` (0600) and ``server.csr`` and checks what it wrote
(the CSR's signature verifies, it carries every name, and it belongs to the key).
:func:`acme_commands` fills in certbot and acme.sh commands; both stress that the *full
chain* must be deployed (``fullchain.pem``, never ``cert.pem`` alone).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from mailtls import pki
from mailtls.errors import ArtefactError, UsageError
from mailtls.remedy import files
from mailtls.remedy.names import HostName, parse_names

KEY_FILE = "server.key"
CSR_FILE = "server.csr"


@dataclass(frozen=True)
class CsrPaths:
    directory: Path
    key: Path
    csr: Path
    names: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def make_csr(
    names: Sequence[str],
    *,
    out_directory: str | os.PathLike[str],
    key_type: Literal["rsa", "ec"] = "rsa",
    force: bool = False,
) -> CsrPaths:
    """Write a new key and a CSR for ``names`` into ``out_directory``."""
    hosts = parse_names(names)
    out = Path(out_directory)
    key_path, csr_path = out / KEY_FILE, out / CSR_FILE
    if out.exists():
        files.check_writable([key_path, csr_path], force=force)
    if key_type == "rsa":
        key = pki.generate_key("rsa", 2048)
    elif key_type == "ec":
        key = pki.generate_key("ec", 256)
    else:
        raise UsageError(f"key type must be 'rsa' or 'ec', not {key_type!r}")
    csr = build_csr(key, hosts)
    verify_csr(csr, key, hosts)
    files.ensure_directory(out)
    files.check_writable([key_path, csr_path], force=force)
    files.write_private_key(key_path, pki.key_to_pem(key), force=force)
    files.write_file(csr_path, csr.public_bytes(serialization.Encoding.PEM), force=force)
    return CsrPaths(
        out, key_path, csr_path, tuple(h.value for h in hosts), public_ca_warnings(hosts)
    )


def build_csr(key: pki.PrivateKey, hosts: Sequence[HostName]) -> x509.CertificateSigningRequest:
    san: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address(h.value)) if h.is_ip else x509.DNSName(h.value)
        for h in hosts
    ]
    cn = next((h.value for h in hosts if not h.is_ip), hosts[0].value)
    builder = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(pki.name(cn))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
    )
    return builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]


def verify_csr(
    csr: x509.CertificateSigningRequest, key: pki.PrivateKey, hosts: Sequence[HostName]
) -> None:
    """Raise :class:`ArtefactError` unless the CSR is signed, complete and matches ``key``."""
    if not csr.is_signature_valid:
        raise ArtefactError("the CSR's signature does not verify; nothing was written")
    form = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if csr.public_key().public_bytes(enc, form) != key.public_key().public_bytes(enc, form):
        raise ArtefactError("the CSR does not carry the new key; nothing was written")
    listed = set(csr_names(csr))
    missing = [h.value for h in hosts if h.value not in listed]
    if missing:
        raise ArtefactError(f"the CSR lacks {', '.join(missing)}; nothing was written")


def csr_names(csr: x509.CertificateSigningRequest) -> tuple[str, ...]:
    """The SAN entries of a CSR, as plain names / IP literals."""
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    dns = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    ips = [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    return tuple(dns + ips)


def public_ca_warnings(hosts: Sequence[HostName]) -> tuple[str, ...]:
    """Names a public CA will most likely refuse (said before the admin tries)."""
    notes = []
    for host in hosts:
        if host.is_ip:
            notes.append(
                f"{host.value}: most public CAs do not issue for IP addresses; configure the "
                "phones with a host name instead"
            )
        elif "." not in host.value or host.value.rsplit(".", 1)[1] in _PRIVATE_SUFFIXES:
            notes.append(
                f"{host.value}: not a public DNS name; a public CA cannot validate it (use the "
                "private CA: mailtls ca issue)"
            )
    return tuple(notes)


_PRIVATE_SUFFIXES = frozenset(
    {
        "local",
        "lan",
        "internal",
        "home",
        "corp",
        "localdomain",
        "test",
        "invalid",
        "example",
        "localhost",
        "intranet",
        "private",
        "arpa",
    }
)


@dataclass(frozen=True)
class AcmeCommand:
    tool: str
    purpose: str
    command: str


def acme_commands(
    names: Sequence[str],
    *,
    csr_path: str = f"server/{CSR_FILE}",
    key_path: str = f"server/{KEY_FILE}",
    out_directory: str = "server",
) -> tuple[AcmeCommand, ...]:
    """certbot and acme.sh commands with the names and paths filled in."""
    dns = [n for n in names if not _is_ip(n)]
    d_flags = " ".join(f"-d {n}" for n in dns) or "-d HOST"
    first = dns[0] if dns else "HOST"
    return (
        AcmeCommand(
            "certbot",
            "with this CSR (keeps the key mailtls made; writes the full chain to fullchain.pem)",
            f"certbot certonly --csr {csr_path} --standalone "
            f"--cert-path {out_directory}/cert.pem --chain-path {out_directory}/chain.pem "
            f"--fullchain-path {out_directory}/fullchain.pem",
        ),
        AcmeCommand(
            "certbot",
            "or let certbot make the key (deploy /etc/letsencrypt/live/"
            f"{first}/fullchain.pem and privkey.pem)",
            f"certbot certonly --standalone {d_flags}",
        ),
        AcmeCommand(
            "acme.sh",
            "with this CSR",
            f"acme.sh --signcsr --csr {csr_path} --standalone",
        ),
        AcmeCommand(
            "acme.sh",
            "or let acme.sh make the key, then install key and FULL chain",
            f"acme.sh --issue --standalone {d_flags} && "
            f"acme.sh --install-cert -d {first} --key-file {key_path} "
            f"--fullchain-file {out_directory}/fullchain.pem",
        ),
    )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def render_acme_text(
    names: Sequence[str], *, csr_path: str, key_path: str, out_directory: str
) -> str:
    lines = [
        "Get the certificate from a public CA with an ACME client (--standalone needs port "
        "80 free; use --webroot or a DNS plugin otherwise):",
        "",
    ]
    for item in acme_commands(
        names, csr_path=csr_path, key_path=key_path, out_directory=out_directory
    ):
        lines.append(f"  {item.tool}: {item.purpose}")
        lines.append(f"    $ {item.command}")
    lines += [
        "",
        "Deploy the FULL chain (fullchain.pem: your certificate followed by the intermediate), "
        "never cert.pem alone: a server that sends only its own certificate is the most "
        "common reason an iPhone says 'Cannot Verify Server Identity'.",
        f"  $ mailtls deploy --cert {out_directory}/fullchain.pem --key {key_path}",
    ]
    return "\n".join(lines) + "\n"
