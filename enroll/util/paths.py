"""Where the project is: the automation runs the program and the policy pack from it."""

from __future__ import annotations

from pathlib import Path

# enroll/util/paths.py -> the checkout's root, wherever the command is run from.
PROJECT_DIR = Path(__file__).resolve().parents[2]
POLICY_PACK_DIR = PROJECT_DIR / "policy"
