"""The lab: local mail servers that present any chain, for demo, training and tests.

* :mod:`mailtls.lab.servers` — ``start_lab(chain_pem, key_pem, ...) -> Lab``: in-process
  IMAP, POP3 and SMTP servers (STARTTLS and implicit TLS, the 7 endpoint kinds iPhone Mail
  uses) on loopback, sending the chain exactly as given.
* :mod:`mailtls.lab.dialogs` — the servers' IMAP/POP3/SMTP dialogs as sans-I/O state
  machines (well-behaved, modelled on Dovecot and Postfix; every credential refused).
* :mod:`mailtls.lab.scenarios` — the scenario catalogue: chains that break (or keep) each
  iOS rule, with the verdict an iPhone reaches (a package: the kit, one module per family
  of rules, the builder of fixtures/).
* :mod:`mailtls.lab.demo` — the demo as a use case: serve demo scenarios, check them,
  self-check the verdicts (its words are in :mod:`mailtls.report.demo`).

Front ends: ``mailtls lab`` (serve one scenario or chain; also the catalogue's
``python -m mailtls.lab.scenarios``) and ``mailtls demo``. Nothing is imported here.
"""
