"""`python -m mailtls` is the same as the `mailtls` console script."""

import sys

from mailtls.cli import main

sys.exit(main())
