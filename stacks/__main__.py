"""`python -m stacks`: see stacks/cli.py."""

import sys

from stacks.cli import main

sys.exit(main())
