"""Where the project is: the automation runs the program and the policy pack from it."""

from __future__ import annotations

from pathlib import Path

# enroll/util/paths.py -> the checkout's root, wherever the command is run from.
PROJECT_DIR = Path(__file__).resolve().parents[2]
POLICY_PACK_DIR = PROJECT_DIR / "policy"


class NotACheckout(Exception):
    """The command runs the Pulumi program or the policy pack, which only a checkout holds."""


def require_checkout(command: str) -> Path:
    """The project's checkout, or NotACheckout saying how to get one (a plain `pip install .`
    installs the command, not the program it runs)."""
    if not (PROJECT_DIR / "Pulumi.yaml").is_file() or not (PROJECT_DIR / "__main__.py").is_file():
        raise NotACheckout(
            f"`org-logging {command}` runs the Pulumi program and the policy pack, which are "
            f"not installed with the package ({PROJECT_DIR} has no Pulumi.yaml): run it from a "
            "checkout, installed with `pip install -e <checkout>` (or `make venv`)"
        )
    return PROJECT_DIR
