"""Every recovery path as data: one source for the CLI, the TUI wizards and the runbooks.

A :class:`Guide` is one fix (title, when it applies, why, ordered steps). Each
:class:`Step` says how sure we are that it is needed or works (:class:`Basis`) and cites
where that comes from (ios-trust-rules.md rule ids, Apple documents, reports). Text may
contain placeholders (``{host}``, ``{root}`` ...) that :func:`render_step` fills from the
admin's values, or with the readable defaults of :data:`PLACEHOLDER_DEFAULTS`.

Findings name their fix with ``Finding.remedy``; the ids are the keys of :data:`GUIDES`:
``profile``, ``stale_exception``, ``reissue``, ``public_ca``, ``full_chain``,
``upgrade_tls`` (and ``recheck``, the last step of every path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from mailtls.model import Verdict


class Basis(StrEnum):
    """How we know a step is needed or works. Said to the reader, never hidden."""

    DOCUMENTED = "documented"  # Apple (or the tool's maker) documents it
    SOURCE = "apple_source"  # seen in Apple's open-source trust code or its tests
    REPORTED = "reported"  # reported to work by users / third parties, not documented
    INFERRED = "inferred"  # our inference from the above


BASIS_LABELS: dict[Basis, str] = {
    Basis.DOCUMENTED: "documented",
    Basis.SOURCE: "seen in Apple's source code",
    Basis.REPORTED: "reported by users, not documented by Apple",
    Basis.INFERRED: "inferred by mailtls, not documented",
}


class Actor(StrEnum):
    """Who does the step."""

    ADMIN = "admin"  # on the server or the admin's computer
    IPHONE = "iphone"  # on the phone (the user, guided by the help desk)


@dataclass(frozen=True)
class Step:
    text: str
    basis: Basis
    actor: Actor = Actor.ADMIN
    citation: str = ""
    command: str | None = None  # a command to run (placeholders allowed)


@dataclass(frozen=True)
class Guide:
    id: str  # the remedy id findings use
    title: str
    applies_when: str
    why: str
    steps: tuple[Step, ...]
    verdicts: tuple[Verdict, ...] = ()  # verdicts this path is the usual answer to
    rule_ids: tuple[str, ...] = ()  # ios-trust-rules.md rules it addresses
    command: str | None = None  # the mailtls command that makes the artefact
    see_also: tuple[str, ...] = ()  # other guide ids that may fit better


#: Readable stand-ins for values a guide is rendered without.
PLACEHOLDER_DEFAULTS: dict[str, str] = {
    "host": "HOST",
    "names": "NAME...",
    "root": "ROOT.pem",
    "root_name": "your company's root",
    "profile": "company-root.mobileconfig",
    "ca_dir": "mailtls-ca",
    "out": "mailtls-server",
    "cert": "mailtls-server/fullchain.pem",
    "key": "mailtls-server/server.key",
    "csr": "mailtls-server/server.csr",
}

RULES = "ios-trust-rules.md"

_RECHECK_CA = Step(
    "Check again from your computer, telling mailtls about the root the phones now trust; "
    f"every endpoint should say {Verdict.TRUSTED.label}.",
    Basis.INFERRED,
    citation=f"mailtls emulates the iOS rules for a user-trusted root ({RULES} §1g)",
    command="mailtls check {host} --ca-file {root}",
)
_RECHECK_PUBLIC = Step(
    f"Check again from your computer; every endpoint should say {Verdict.TRUSTED.label}.",
    Basis.INFERRED,
    citation=f"mailtls emulates the iOS rules ({RULES} §1)",
    command="mailtls check {host}",
)


GUIDES: dict[str, Guide] = {}


def _add(guide: Guide) -> None:
    GUIDES[guide.id] = guide


_add(
    Guide(
        id="profile",
        see_also=("stale_exception", "reissue"),
        title="Install and trust the company root on the iPhone",
        applies_when=(
            "The server's certificate comes from a private (company) CA: mailtls says "
            f"{Verdict.NEEDS_PROFILE.label}, or the findings name a private root."
        ),
        why=(
            "An iPhone trusts only Apple's preinstalled roots. A private root must be "
            "installed with a configuration profile, and then full trust must be switched on "
            "by hand; until then Mail shows 'Cannot Verify Server Identity'."
        ),
        verdicts=(Verdict.NEEDS_PROFILE,),
        rule_ids=(
            "profile_root_needs_full_trust",
            "ios_cts_ui_lists_ca_only",
            "chain_anchor_required",
        ),
        command="mailtls profile {root} -o {profile}",
        steps=(
            Step(
                "Build the profile. mailtls refuses a certificate iOS would not offer for full "
                "trust (not a CA, no common name, not SHA-2, RSA under 2048 bits or EC under "
                "P-256, expired) and says why.",
                Basis.INFERRED,
                citation=f"{RULES} ios_cts_ui_lists_ca_only (reported), ios13_key_size (documented)",
                command='mailtls profile {root} -o {profile} --name "Company mail root"',
            ),
            Step(
                "Get the file onto the iPhone: AirDrop it, send it as a Mail attachment and tap "
                "it, or open a link to it in Safari.",
                Basis.DOCUMENTED,
                actor=Actor.IPHONE,
                citation="support.apple.com/102390 [HT204477]; mkcert README 'Mobile devices'",
            ),
            Step(
                "Within 8 minutes, open Settings > Profile Downloaded (also listed under Settings "
                "> General > VPN & Device Management) > Install, enter the device passcode, and "
                "confirm Install. A downloaded profile that is not installed in time is deleted, "
                "and only the last one downloaded waits. An unsigned profile is shown as 'Not "
                "Verified'; that is expected for a profile made by mailtls.",
                Basis.DOCUMENTED,
                actor=Actor.IPHONE,
                citation=(
                    "support.apple.com/102390 [HT204477]; Apple iPhone User Guide 'Install or "
                    "remove configuration profiles' (8-minute limit, read via a quoted copy)"
                ),
            ),
            Step(
                "Open Settings > General > About > Certificate Trust Settings and switch on full "
                "trust for {root_name}; confirm with Continue. Without this the root is installed "
                "but not trusted for mail servers.",
                Basis.DOCUMENTED,
                actor=Actor.IPHONE,
                citation=f"support.apple.com/102390 [HT204477]; {RULES} profile_root_needs_full_trust",
            ),
            Step(
                "If the root is not listed under Certificate Trust Settings, it is not a CA "
                "certificate or has no common name; make the profile from the real root "
                "(mailtls profile refuses the others).",
                Basis.REPORTED,
                actor=Actor.IPHONE,
                citation=(
                    f"{RULES} ios_cts_ui_lists_ca_only: apple.stackexchange.com/questions/283348; "
                    "github.com/FiloSottile/mkcert/issues/47, /233"
                ),
            ),
            Step(
                "Phones managed by MDM or Apple Configurator can receive the same root there; it "
                "is then trusted without the manual switch.",
                Basis.DOCUMENTED,
                citation=f"support.apple.com/102390 [HT204477]; {RULES} profile_root_needs_full_trust",
            ),
            _RECHECK_CA,
            Step(
                "Open Mail and refresh. If it still warns, the account may use a "
                "host name that is not in the certificate, or an old 'Trust' exception is in the "
                "way: follow 'Clear a stale Trust exception'.",
                Basis.INFERRED,
                actor=Actor.IPHONE,
                citation=f"{RULES} §2",
            ),
        ),
    )
)

_add(
    Guide(
        id="stale_exception",
        see_also=("profile", "reissue", "public_ca"),
        title="Clear a stale 'Trust' exception",
        applies_when=(
            "The iPhone keeps warning although mailtls says the server is now trusted, or the "
            "warning came back after the certificate was renewed or replaced."
        ),
        why=(
            "Tapping Trust stores an exception for that exact certificate (its SHA-1 "
            "fingerprint) and for the problems seen at that moment. A renewed certificate, "
            "another host name or a new problem (such as expiry) no longer matches, so the "
            "phone asks again; an exception never excuses a fatal problem. Where Mail keeps "
            "these exceptions, and whether they belong to the account or the host, Apple does "
            "not document."
        ),
        verdicts=(Verdict.TRUSTED, Verdict.PROMPT),
        rule_ids=("chain_anchor_required",),
        steps=(
            Step(
                f"Check the server first. If it is not {Verdict.TRUSTED.label}, fix the server "
                "(see the other "
                "guides): the phone will ask again for any untrusted certificate whatever you "
                "clear on it.",
                Basis.SOURCE,
                citation=(
                    f"{RULES} §2: SecTrustSetExceptions / SecPVCIsExceptedError "
                    "(OSX/sec/Security/SecTrust.c, trust/trustd/SecPolicyServer.c)"
                ),
                command="mailtls check {host}",
            ),
            Step(
                "Tap Details on the warning and compare the certificate's SHA-256 fingerprint with "
                "the one mailtls shows for the leaf. If they differ, do not tap Trust: the phone "
                "is talking to another server, or someone is in between.",
                Basis.INFERRED,
                actor=Actor.IPHONE,
                citation=f"{RULES} §2 (exceptions are tied to the exact certificate)",
            ),
            Step(
                "Delete the mail account on the phone (Settings > Apps > Mail > Mail Accounts on "
                "iOS 18 and later; Settings > Mail > Accounts on older versions; choose the "
                "account > Delete Account). One report (iOS 8) says this alone did not clear the "
                "trust decision.",
                Basis.REPORTED,
                actor=Actor.IPHONE,
                citation=f"{RULES} §2: apple.stackexchange.com/questions/149023",
            ),
            Step(
                "If the old outgoing (SMTP) server stays in the list and cannot be deleted because "
                "an account uses it, add a temporary second account, point it at another outgoing "
                "server, delete the old server entry, then delete the temporary account.",
                Basis.INFERRED,
                actor=Actor.IPHONE,
                citation="common help-desk advice; no Apple document or public report found",
            ),
            Step(
                "Restart the iPhone.",
                Basis.INFERRED,
                actor=Actor.IPHONE,
                citation="common help-desk advice; no Apple document or public report found",
            ),
            Step(
                "Add the account again with host names that are in the certificate ({names}). "
                "If the warning appears, accept it only if the fingerprint matches the one "
                "mailtls shows.",
                Basis.INFERRED,
                actor=Actor.IPHONE,
                citation=f"{RULES} ios13_san_only, §2",
            ),
            Step(
                "Last resort: Settings > General > Transfer or Reset iPhone > Reset > Reset All "
                "Settings. It keeps data and apps but resets settings such as Wi-Fi passwords. "
                "'Reset Network Settings' reportedly does not clear certificate exceptions.",
                Basis.REPORTED,
                actor=Actor.IPHONE,
                citation=(
                    f"{RULES} §2: apple.stackexchange.com/questions/149023 (Reset All Settings); "
                    "copy of apple.stackexchange question 130612 (Reset Network Settings)"
                ),
            ),
            Step(
                "For good: make the certificate trusted (company root by profile, or a public "
                "CA), so nobody needs an exception that breaks at every renewal.",
                Basis.SOURCE,
                citation=f"{RULES} §2 (a renewed certificate always re-prompts)",
            ),
        ),
    )
)

_add(
    Guide(
        id="reissue",
        see_also=("public_ca", "profile", "full_chain"),
        title="Reissue the certificate from a private CA",
        applies_when=(
            "The certificate is self-signed or breaks an iOS rule (host name not in the SAN, "
            "no serverAuth, too long, weak key or hash), and the phones can be given a company "
            "root."
        ),
        why=(
            "A certificate from a private CA is trusted once its root is installed with full "
            "trust. It must still list every host name in the SAN, be at most 825 days long, "
            "use SHA-256 and RSA 2048+ or P-256+."
        ),
        verdicts=(Verdict.PROMPT, Verdict.FATAL),
        rule_ids=(
            "ios13_san_only",
            "hostname_match",
            "ios13_key_size",
            "ios13_sha2",
            "validity_max_other",
            "ios13_eku_serverauth",
        ),
        command="mailtls ca issue {names} --ca-dir {ca_dir} --out {out}",
        steps=(
            Step(
                "Create the CA once and keep ca.key safe (offline if you can). The root is "
                "CA:TRUE, has a common name, SHA-256, RSA-3072 (or P-256 with --ec).",
                Basis.SOURCE,
                citation=f"{RULES} ca_basic_constraints, ca_keycertsign, ios13_key_size, ios_cts_ui_lists_ca_only",
                command='mailtls ca init {ca_dir} --cn "Example Mail Root"',
            ),
            Step(
                "Issue the server certificate with every host name the phones use, for incoming "
                "and outgoing mail ({names}). iOS matches only the SAN, never the common name.",
                Basis.DOCUMENTED,
                citation=f"support.apple.com/103769 [HT210176]; {RULES} ios13_san_only, hostname_match",
                command="mailtls ca issue {names} --ca-dir {ca_dir} --out {out}",
            ),
            Step(
                "The default lifetime is 397 days: iOS allows at most 825 days under a company "
                "root, and a short lifetime limits the damage of a leaked key.",
                Basis.DOCUMENTED,
                citation=f"support.apple.com/103769; {RULES} validity_max_other, §1g",
            ),
            Step(
                "Deploy fullchain.pem and server.key (see 'Deploy the full chain').",
                Basis.INFERRED,
                command="mailtls deploy --cert {out}/fullchain.pem --key {out}/server.key",
            ),
            Step(
                "Install the root on the phones (see 'Install and trust the company root').",
                Basis.DOCUMENTED,
                citation=f"{RULES} profile_root_needs_full_trust",
                command="mailtls profile {ca_dir}/ca.pem -o {profile}",
            ),
            Step(
                _RECHECK_CA.text,
                _RECHECK_CA.basis,
                citation=_RECHECK_CA.citation,
                command="mailtls check {host} --ca-file {ca_dir}/ca.pem",
            ),
            Step(
                "Renew before it expires (mailtls ca issue ... --force). Phones that trust the "
                "root need nothing new; phones that had tapped Trust on the old certificate will "
                "ask again.",
                Basis.SOURCE,
                citation=f"{RULES} §2 (exceptions are tied to the exact certificate)",
            ),
        ),
    )
)

_add(
    Guide(
        id="public_ca",
        see_also=("reissue", "full_chain"),
        title="Reissue the certificate from a public CA",
        applies_when=(
            "The phones are not managed and should work without a profile: use a certificate "
            "from a CA Apple trusts (for example Let's Encrypt via ACME)."
        ),
        why=(
            "A public certificate is trusted by every iPhone without any step on the phone, "
            "if it lists every host name and the server sends the full chain."
        ),
        verdicts=(Verdict.PROMPT, Verdict.FATAL),
        rule_ids=("ios13_san_only", "validity_max_system", "ct_required_system", "aia_fetch"),
        command="mailtls csr {names} --out {out}",
        steps=(
            Step(
                "Make a key and a certificate signing request with every host name ({names}).",
                Basis.INFERRED,
                command="mailtls csr {names} --out {out}",
            ),
            Step(
                "Obtain the certificate with an ACME client; mailtls prints the certbot and "
                "acme.sh commands with your names filled in. Public CAs do not issue for private "
                "names (.local, .lan, single labels) and rarely for IP addresses.",
                Basis.DOCUMENTED,
                citation=(
                    "eff-certbot.readthedocs.io; github.com/acmesh-official/acme.sh; CA/Browser "
                    "Forum Baseline Requirements (no internal names)"
                ),
            ),
            Step(
                "Deploy the FULL chain (fullchain.pem), not the certificate alone (cert.pem). "
                "iOS can sometimes fetch a missing intermediate itself, but when that fails Mail "
                "shows the warning.",
                Basis.SOURCE,
                citation=f"{RULES} aia_fetch; github.com/hestiacp/hestiacp/issues/2918 (reported)",
                command="mailtls deploy --cert {cert} --key {key}",
            ),
            Step(
                "Public certificates are limited to 398 days (Apple) and shorter under the "
                "CA/Browser Forum schedule; automate renewal.",
                Basis.DOCUMENTED,
                citation=f"support.apple.com/102028 [HT211025]; {RULES} validity_max_system, sc081_not_client_enforced",
            ),
            _RECHECK_PUBLIC,
        ),
    )
)

_add(
    Guide(
        id="full_chain",
        see_also=("public_ca", "reissue"),
        title="Deploy the full chain",
        applies_when="The server sends its certificate without the intermediate CA certificate(s).",
        why=(
            "iOS must build a path from the server's certificate to a trusted root. The server "
            "has to send the intermediates; iOS tries to download a missing one, and when that "
            "fails Mail shows 'Cannot Verify Server Identity'. This is the most common "
            "deployment error."
        ),
        verdicts=(Verdict.PROMPT,),
        rule_ids=("chain_anchor_required", "aia_fetch"),
        command="mailtls deploy --cert {cert} --key {key}",
        steps=(
            Step(
                "Point every mail service at the full-chain file (leaf first, then the "
                "intermediates), never at the leaf alone; mailtls prints Dovecot, Postfix and "
                "Exim settings and checks the files.",
                Basis.SOURCE,
                citation=f"{RULES} chain_anchor_required, aia_fetch",
                command="mailtls deploy --cert {cert} --key {key} --server all",
            ),
            Step(
                "Reload the services (doveadm reload; postfix reload; systemctl restart exim4).",
                Basis.DOCUMENTED,
                citation="Dovecot, Postfix and Exim documentation",
            ),
            _RECHECK_PUBLIC,
        ),
    )
)

_add(
    Guide(
        id="upgrade_tls",
        see_also=("full_chain",),
        title="Offer TLS 1.2 or newer on every mail port",
        applies_when=(
            "A port offers only TLS 1.0/1.1, does not offer STARTTLS, or accepts passwords "
            "before TLS."
        ),
        why=(
            "Apple deprecated TLS 1.0 and 1.1 with iOS 15 and announced their removal; a port "
            "without TLS exposes the password. These are not trust problems, but Mail fails or "
            "leaks on them."
        ),
        rule_ids=("tls10_11_deprecated",),
        command="mailtls deploy --cert {cert} --key {key}",
        steps=(
            Step(
                "Set the minimum protocol to TLS 1.2 and enable TLS on every port iPhone Mail "
                "may use (993, 995, 465, 587; STARTTLS on 143, 110, 25).",
                Basis.DOCUMENTED,
                citation=f"Apple developer news, Sept 2021 (quoted in {RULES} tls10_11_deprecated)",
                command="mailtls deploy --cert {cert} --key {key} --server all",
            ),
            Step(
                "On port 25 (server-to-server mail) a TLS floor can make old senders fall back "
                "to plaintext; apply the floor to submission ports first.",
                Basis.INFERRED,
                citation="Postfix TLS_README (opportunistic TLS)",
            ),
            _RECHECK_PUBLIC,
        ),
    )
)

_add(
    Guide(
        id="recheck",
        see_also=("stale_exception",),
        title="Check again and compare",
        applies_when="After any fix.",
        why=f"A fix is done when every endpoint the phones use says {Verdict.TRUSTED.label}.",
        steps=(
            _RECHECK_PUBLIC,
            Step(
                "With a company root, pass it with --ca-file so mailtls judges as a phone that "
                "trusts it.",
                Basis.INFERRED,
                command="mailtls check {host} --ca-file {root}",
            ),
        ),
    )
)


REMEDY_IDS: tuple[str, ...] = tuple(GUIDES)


def guide_for(remedy_id: str) -> Guide:
    """The guide for a remedy id; raises KeyError for an unknown id."""
    return GUIDES[remedy_id]


def guides_for_remedy(remedy_id: str | None) -> tuple[Guide, ...]:
    """The guide a finding names, then its alternatives (for a wizard's choices).

    ``None`` or an unknown id gives ``()``: a finding without a fix offers no path.
    """
    if remedy_id is None or remedy_id not in GUIDES:
        return ()
    first = GUIDES[remedy_id]
    return (first, *(GUIDES[other] for other in first.see_also if other in GUIDES))


class _Defaults(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: Mapping[str, str] | None = None) -> str:
    """Fill ``{placeholders}``; unknown ones stay as they are."""
    merged = _Defaults(PLACEHOLDER_DEFAULTS)
    if values:
        merged.update({k: v for k, v in values.items() if v})
    return text.format_map(merged)


def render_step(step: Step, values: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(text, command) with placeholders filled."""
    return fill(step.text, values), fill(step.command, values) if step.command else None


def render_text(guide: Guide, values: Mapping[str, str] | None = None, *, width: int = 88) -> str:
    """A plain-text rendering for the terminal (CLI commands print this)."""
    import textwrap

    lines = [guide.title, "=" * len(guide.title), ""]
    lines += textwrap.wrap(fill(guide.why, values), width)
    lines.append("")
    for number, step in enumerate(guide.steps, 1):
        text, command = render_step(step, values)
        where = "On the iPhone: " if step.actor is Actor.IPHONE else ""
        lines += textwrap.wrap(f"{number}. {where}{text}", width, subsequent_indent="   ")
        if command:
            lines.append(f"     $ {command}")
        lines.append(
            f"   [{BASIS_LABELS[step.basis]}{'; ' + step.citation if step.citation else ''}]"
        )
    return "\n".join(lines) + "\n"
