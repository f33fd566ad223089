"""Run sslyze (certificate info only) on a list of endpoints, concurrently, via its Python API.

Started by ``bench/run.py`` with the interpreter of sslyze's own virtual environment (so
that sslyze's pinned cryptography never meets the project's); not part of mailtls.

    sslyze-venv/bin/python bench/sslyze_driver.py ENDPOINTS.json [CONCURRENT_SCANS]

ENDPOINTS.json is a list of ``{"scheme", "host", "address", "port"}``. Prints one line:
``scanned N completed C certificates K`` and exits 0 only when every scan completed and
returned a certificate chain (the benchmark must not time a run that silently failed).
"""

from __future__ import annotations

import json
import sys

from sslyze import (
    ProtocolWithOpportunisticTlsEnum,
    ScanCommand,
    ScanCommandAttemptStatusEnum,
    Scanner,
    ServerNetworkConfiguration,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)

#: STARTTLS kinds as sslyze names them; implicit TLS kinds have none.
STARTTLS = {
    "imap": ProtocolWithOpportunisticTlsEnum.IMAP,
    "pop3": ProtocolWithOpportunisticTlsEnum.POP3,
    "smtp": ProtocolWithOpportunisticTlsEnum.SMTP,
    "submission": ProtocolWithOpportunisticTlsEnum.SMTP,
}


def request(endpoint: dict[str, object]) -> ServerScanRequest:
    host, scheme = str(endpoint["host"]), str(endpoint["scheme"])
    return ServerScanRequest(
        server_location=ServerNetworkLocation(
            hostname=host, port=int(str(endpoint["port"])), ip_address=str(endpoint["address"])
        ),
        network_configuration=ServerNetworkConfiguration(
            tls_server_name_indication=host, tls_opportunistic_encryption=STARTTLS.get(scheme)
        ),
        scan_commands={ScanCommand.CERTIFICATE_INFO},
    )


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as handle:
        endpoints = json.load(handle)
    concurrent = int(argv[2]) if len(argv) > 2 else None
    scanner = Scanner(concurrent_server_scans_limit=concurrent)
    scanner.queue_scans([request(e) for e in endpoints])
    completed = certificates = 0
    for result in scanner.get_results():
        if result.scan_status is not ServerScanStatusEnum.COMPLETED:
            continue
        attempt = result.scan_result.certificate_info if result.scan_result else None
        if attempt is None or attempt.status is not ScanCommandAttemptStatusEnum.COMPLETED:
            continue
        completed += 1
        deployments = attempt.result.certificate_deployments if attempt.result else []
        if deployments and deployments[0].received_certificate_chain:
            certificates += 1
    print(f"scanned {len(endpoints)} completed {completed} certificates {certificates}")
    return 0 if certificates == len(endpoints) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
