"""`python -m enroll`: the `org-logging` command."""

import sys

from enroll.cli import main

sys.exit(main())
