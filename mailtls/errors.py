"""Errors mailtls raises on purpose. Each carries a one-line message a person can act on.

    MailtlsError                 base; ``str(err)`` is the one-line message
     ├── UsageError              bad input from a person: target, flag, file  (exit 64-ish)
     │    ├── TargetError        a target that cannot be parsed ("imapx://host": unknown scheme)
     │    └── InputFileError     a file that is missing, empty, binary, or not what was asked
     ├── CertificateParseError   bytes that are not a certificate we can read
     ├── ArtefactError           refusing to write (exists without --force, unsuitable root)
     └── LabError                the lab could not start (port in use, bad chain/key)

Probe failures are *not* exceptions: they are data (``ProbeResult.status``).
"""

from __future__ import annotations


class MailtlsError(Exception):
    """Base of every error mailtls raises on purpose."""


class UsageError(MailtlsError):
    """Bad input from a person (a target, a flag, a file name)."""


class TargetError(UsageError):
    """A target that cannot be parsed."""


class InputFileError(UsageError):
    """A file that is missing, unreadable, empty, binary, or the wrong kind."""


class CertificateParseError(MailtlsError):
    """Bytes that are not a certificate mailtls can read."""


class ArtefactError(MailtlsError):
    """mailtls refuses to write an artefact (exists without --force, unsuitable input)."""


class LabError(MailtlsError):
    """The lab could not start."""
