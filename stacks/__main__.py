"""`python -m stacks`: the same commands as `org-logging` (enroll/cli.py), kept as an alias."""

import sys

from enroll.cli import main

sys.exit(main())
