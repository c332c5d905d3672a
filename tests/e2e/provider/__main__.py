"""`python -u -m tests.e2e.provider <engine-address>`: serve the stand-in aws provider."""

import sys

from .server import serve

if __name__ == "__main__":
    serve(sys.argv[1:])
