"""What gets installed: the runtime lock carries no test or dev tool; a command that needs the
program says so when it is not run from a checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from enroll.util import paths

ROOT = Path(__file__).resolve().parent.parent
DEV_TOOLS = {
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "moto",
    "ruff",
    "parliament",
    "import-linter",
    "jq",
}


def pinned(lock: str) -> set[str]:
    text = (ROOT / lock).read_text()
    return {m[1].lower() for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", text, re.MULTILINE)}


def test_the_runtime_lock_has_no_test_or_dev_tools():
    runtime = pinned("requirements.txt")
    assert {"pulumi", "pulumi-aws", "boto3", "pydantic"} <= runtime
    assert runtime & DEV_TOOLS == set()


def test_the_dev_lock_has_them_and_agrees_with_the_runtime_pins():
    assert pinned("requirements-dev.txt") >= DEV_TOOLS
    runtime = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    )
    dev = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements-dev.txt").read_text(), re.M)
    )
    assert {name: dev[name] for name in runtime if name in dev} == {
        name: version for name, version in runtime.items() if name in dev
    }


def test_every_pin_has_a_hash():
    for lock in ("requirements.txt", "requirements-dev.txt"):
        entries = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", (ROOT / lock).read_text())
        pins = [entry for entry in entries if re.match(r"[A-Za-z0-9_.-]+==", entry)]
        assert pins and all("--hash=sha256:" in entry for entry in pins), lock


def test_a_command_that_runs_the_program_needs_a_checkout(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "PROJECT_DIR", tmp_path)
    with pytest.raises(paths.NotACheckout, match=r"`org-logging up` runs the Pulumi program"):
        paths.require_checkout("up")
    (tmp_path / "Pulumi.yaml").write_text("name: org-logging\n")
    (tmp_path / "__main__.py").write_text("")
    assert paths.require_checkout("up") == tmp_path
