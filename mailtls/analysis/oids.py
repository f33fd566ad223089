"""Object identifiers mailtls reads, with the names it prints (RFC 5280 and vendor arcs)."""

from __future__ import annotations

# --------------------------------------------------------------------------- extensions

SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
KEY_USAGE = "2.5.29.15"
PRIVATE_KEY_USAGE_PERIOD = "2.5.29.16"
SUBJECT_ALT_NAME = "2.5.29.17"
ISSUER_ALT_NAME = "2.5.29.18"
BASIC_CONSTRAINTS = "2.5.29.19"
NAME_CONSTRAINTS = "2.5.29.30"
CRL_DISTRIBUTION_POINTS = "2.5.29.31"
CERTIFICATE_POLICIES = "2.5.29.32"
POLICY_MAPPINGS = "2.5.29.33"
AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"
POLICY_CONSTRAINTS = "2.5.29.36"
EXTENDED_KEY_USAGE = "2.5.29.37"
INHIBIT_ANY_POLICY = "2.5.29.54"
AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1"
SUBJECT_INFO_ACCESS = "1.3.6.1.5.5.7.1.11"
QC_STATEMENTS = "1.3.6.1.5.5.7.1.3"
NETSCAPE_CERT_TYPE = "2.16.840.1.113730.1.1"
ENTRUST_VERSION = "1.2.840.113533.7.65.0"
OCSP_NO_CHECK = "1.3.6.1.5.5.7.48.1.5"
SCT_LIST = "1.3.6.1.4.1.11129.2.4.2"
CT_PRECERT_POISON = "1.3.6.1.4.1.11129.2.4.3"
APPLE_ARC = "1.2.840.113635.100.6."

EXTENSION_NAMES: dict[str, str] = {
    SUBJECT_KEY_IDENTIFIER: "subjectKeyIdentifier",
    KEY_USAGE: "keyUsage",
    PRIVATE_KEY_USAGE_PERIOD: "privateKeyUsagePeriod",
    SUBJECT_ALT_NAME: "subjectAltName",
    ISSUER_ALT_NAME: "issuerAltName",
    BASIC_CONSTRAINTS: "basicConstraints",
    NAME_CONSTRAINTS: "nameConstraints",
    CRL_DISTRIBUTION_POINTS: "cRLDistributionPoints",
    CERTIFICATE_POLICIES: "certificatePolicies",
    POLICY_MAPPINGS: "policyMappings",
    AUTHORITY_KEY_IDENTIFIER: "authorityKeyIdentifier",
    POLICY_CONSTRAINTS: "policyConstraints",
    EXTENDED_KEY_USAGE: "extendedKeyUsage",
    INHIBIT_ANY_POLICY: "inhibitAnyPolicy",
    AUTHORITY_INFO_ACCESS: "authorityInfoAccess",
    SUBJECT_INFO_ACCESS: "subjectInfoAccess",
    QC_STATEMENTS: "qcStatements",
    NETSCAPE_CERT_TYPE: "netscapeCertType",
    ENTRUST_VERSION: "entrustVersionInfo",
    OCSP_NO_CHECK: "ocspNoCheck",
    SCT_LIST: "signedCertificateTimestampList",
    CT_PRECERT_POISON: "ctPrecertificatePoison",
}

#: Extensions iOS parses (SecCertificateInitializeExtensionParsers); a *critical* extension
#: outside this set makes iOS fail ``CriticalExtensions`` (ios-trust-rules.md §1b).
IOS_PARSED_EXTENSIONS: frozenset[str] = frozenset(
    {
        SUBJECT_KEY_IDENTIFIER,
        KEY_USAGE,
        PRIVATE_KEY_USAGE_PERIOD,
        SUBJECT_ALT_NAME,
        ISSUER_ALT_NAME,
        BASIC_CONSTRAINTS,
        NAME_CONSTRAINTS,
        CRL_DISTRIBUTION_POINTS,
        CERTIFICATE_POLICIES,
        POLICY_MAPPINGS,
        AUTHORITY_KEY_IDENTIFIER,
        POLICY_CONSTRAINTS,
        EXTENDED_KEY_USAGE,
        INHIBIT_ANY_POLICY,
        AUTHORITY_INFO_ACCESS,
        SUBJECT_INFO_ACCESS,
        NETSCAPE_CERT_TYPE,
        ENTRUST_VERSION,
        OCSP_NO_CHECK,
        QC_STATEMENTS,
    }
)

# --------------------------------------------------------------------------- key usage

KEY_USAGE_BITS: tuple[str, ...] = (
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
)

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
ANY_EKU = "2.5.29.37.0"
MICROSOFT_SGC = "1.3.6.1.4.1.311.10.3.3"
NETSCAPE_SGC = "2.16.840.1.113730.4.1"

EKU_NAMES: dict[str, str] = {
    SERVER_AUTH: "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    ANY_EKU: "anyExtendedKeyUsage",
    MICROSOFT_SGC: "msSGC",
    NETSCAPE_SGC: "nsSGC",
}

# --------------------------------------------------------------------------- algorithms

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_PSS = "1.2.840.113549.1.1.10"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ED25519 = "1.3.101.112"
ED448 = "1.3.101.113"
DSA = "1.2.840.10040.4.1"

KEY_ALGORITHMS: dict[str, str] = {
    RSA_ENCRYPTION: "RSA",
    RSA_PSS: "RSA",
    EC_PUBLIC_KEY: "EC",
    ED25519: "Ed25519",
    ED448: "Ed448",
    DSA: "DSA",
}

#: signature OID -> (name, hash name or None, key family)
SIGNATURE_ALGORITHMS: dict[str, tuple[str, str | None, str]] = {
    "1.2.840.113549.1.1.2": ("md2WithRSAEncryption", "md2", "RSA"),
    "1.2.840.113549.1.1.3": ("md4WithRSAEncryption", "md4", "RSA"),
    "1.2.840.113549.1.1.4": ("md5WithRSAEncryption", "md5", "RSA"),
    "1.2.840.113549.1.1.5": ("sha1WithRSAEncryption", "sha1", "RSA"),
    "1.3.14.3.2.29": ("sha1WithRSASignature", "sha1", "RSA"),
    "1.2.840.113549.1.1.14": ("sha224WithRSAEncryption", "sha224", "RSA"),
    "1.2.840.113549.1.1.11": ("sha256WithRSAEncryption", "sha256", "RSA"),
    "1.2.840.113549.1.1.12": ("sha384WithRSAEncryption", "sha384", "RSA"),
    "1.2.840.113549.1.1.13": ("sha512WithRSAEncryption", "sha512", "RSA"),
    RSA_PSS: ("rsassaPss", None, "RSA-PSS"),
    "1.2.840.10045.4.1": ("ecdsa-with-SHA1", "sha1", "EC"),
    "1.2.840.10045.4.3.1": ("ecdsa-with-SHA224", "sha224", "EC"),
    "1.2.840.10045.4.3.2": ("ecdsa-with-SHA256", "sha256", "EC"),
    "1.2.840.10045.4.3.3": ("ecdsa-with-SHA384", "sha384", "EC"),
    "1.2.840.10045.4.3.4": ("ecdsa-with-SHA512", "sha512", "EC"),
    ED25519: ("ed25519", None, "Ed25519"),
    ED448: ("ed448", None, "Ed448"),
    "1.2.840.10040.4.3": ("dsa-with-sha1", "sha1", "DSA"),
    "2.16.840.1.101.3.4.3.1": ("dsa-with-sha224", "sha224", "DSA"),
    "2.16.840.1.101.3.4.3.2": ("dsa-with-sha256", "sha256", "DSA"),
}

HASH_OIDS: dict[str, str] = {
    "1.3.14.3.2.26": "sha1",
    "2.16.840.1.101.3.4.2.4": "sha224",
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}

# --------------------------------------------------------------------------- names

NAME_ATTRIBUTES: dict[str, str] = {
    "2.5.4.3": "CN",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "0.9.2342.19200300.100.1.25": "DC",
    "0.9.2342.19200300.100.1.1": "UID",
}
COMMON_NAME = "2.5.4.3"

# --------------------------------------------------------------------------- access

CA_ISSUERS = "1.3.6.1.5.5.7.48.2"
