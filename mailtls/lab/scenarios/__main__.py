"""``python -m mailtls.lab.scenarios build DIR --at DATE [--force]`` / ``list``.

The command line lives in :mod:`mailtls.commands.lab`; this entry point stays because
fixtures/PROVENANCE.md names it.
"""

from mailtls.commands.lab import catalogue_main

raise SystemExit(catalogue_main())
