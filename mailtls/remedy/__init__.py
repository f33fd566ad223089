"""mailtls.remedy: artefacts and guides that fix what ``mailtls check`` found.

Pure library functions; the CLI commands (``mailtls profile|ca|csr|deploy``) and the TUI
wizards are thin layers over them. Submodules (import what you need; nothing heavy is
imported here):

``files``     ``write_private_key(path, pem, *, force=False)`` (0600), ``write_file(path,
              data, *, force=False, mode=0o644)``, ``check_writable(paths, *, force)``,
              ``ensure_directory``; refusals raise ``ArtefactError("FILE exists; use
              --force to replace it")``.
``names``     ``parse_names(texts) -> tuple[HostName, ...]`` (DNS names, ``*.`` wildcards,
              IP literals; refuses what iOS would not match), ``names_from_report(Report)``,
              ``names_from_report_json(data)``.
``profile``   ``check_root_installable(der, *, at=None) -> list[str]``,
              ``build_profile(root_der, *, display_name, organization=None,
              identifier_prefix="org.mailtls", account=None, at=None) -> bytes``,
              ``MailAccount``, ``MailServer``, ``parse_server``, ``pick_root``.
``ca``        ``init_ca(directory, *, cn, org=None, key_type="rsa"|"ec", days=3650,
              force=False, now=None) -> CaPaths``; ``issue_server_cert(ca_directory,
              names, *, out_directory, days=397, key_type="rsa", force=False, now=None,
              root_in_fullchain=True, verify=True) -> ServerCertPaths``.
``csr``       ``make_csr(names, *, out_directory, key_type="rsa", force=False) -> CsrPaths``,
              ``acme_commands(names, ...)``, ``render_acme_text(...)``.
``snippets``  ``snippet(server, cert, key) -> Snippet`` (dovecot, postfix, exim),
              ``snippets(servers, cert, key)``, ``inspect_deployment(cert, key=None, *,
              roots=()) -> DeploymentCheck``, ``render_snippets``.
``guides``    ``GUIDES`` (remedy id -> ``Guide``: title, applies_when, why, steps with a
              ``Basis`` and citation), ``guide_for(id)``, ``fill``, ``render_step``,
              ``render_text``.
``runbooks``  ``RUNBOOKS`` (help-desk runbooks branching on the verdict), ``branch_for``,
              Markdown rendering of ``docs/runbooks/*.md`` and ``docs/recovery.md``.
``recheck``   ``compare(before, after) -> list[RecheckRow]``, ``summary``, ``render_text``.
``verify``    ``require_trusted(chain_ders, hosts, ca_path, *, at)``: the engine check
              every issued certificate passes before it is written.
"""
