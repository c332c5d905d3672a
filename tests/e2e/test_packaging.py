"""`pip install .` into a clean virtualenv gives a working `org-logging` command."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.engine import REPO


def test_pip_install_gives_a_working_org_logging_help(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(REPO)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    helped = subprocess.run(
        [str(venv / "bin" / "org-logging"), "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert helped.returncode == 0, helped.stderr
    for command in ("plan", "preview", "up", "destroy", "demo"):
        assert command in helped.stdout
