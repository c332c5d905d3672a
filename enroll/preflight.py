"""What the CLI checks before anything runs, so that a bad flag or path is a one-line error
with exit 2 and an untouched state dir, never a traceback or a half-done run."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlparse

from components.contract import ROLES
from enroll.org.model import Plan
from enroll.util.paths import PROJECT_DIR

OUR_PACK = PROJECT_DIR / "policy"


class UsageError(Exception):
    """A bad flag value or path: exit 2 with the message."""


# --------------------------------------------------------------------------------------------
# argparse types: argparse turns their ArgumentTypeError into "argument --x: <message>", exit 2
# --------------------------------------------------------------------------------------------


def whole_number(minimum: int, meaning: str = "") -> Callable[[str], int]:
    """A whole number of at least `minimum`; `meaning` says what the bound means."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            why = f" ({meaning})" if meaning else ""
            raise argparse.ArgumentTypeError(f"{text!r} must be at least {minimum}{why}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in some messages
    return parse


def endpoint_url(text: str) -> str:
    """An http(s) URL with a host: boto3 would otherwise fail deep inside with a traceback."""
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be a URL with a scheme and a host, e.g. http://127.0.0.1:5000"
        )
    return text


# --------------------------------------------------------------------------------------------
# Paths
# --------------------------------------------------------------------------------------------


def check_report_path(text: str | None) -> Path | None:
    """`--report FILE`: a file whose directory exists (checked before the run, so a finished run
    never finds out at the end)."""
    if text is None:
        return None
    path = Path(text)
    if path.is_dir():
        raise UsageError(
            f"--report {text!r} is a directory; give a file name, e.g. {path / 'run.json'}"
        )
    parent = path.parent
    if not parent.exists():
        raise UsageError(f"--report {text!r}: its directory {str(parent)!r} does not exist")
    if not parent.is_dir():
        raise UsageError(f"--report {text!r}: {str(parent)!r} is not a directory")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"--report {text!r}: the directory {str(parent)!r} is not writable")
    return path


def check_writable_dir(flag: str, path: Path) -> None:
    """`path` is, or can be made, a directory we can write in. Creates it (a run needs it
    next) and leaves nothing else behind."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {str(path)!r} is a file; it must be a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise UsageError(
            f"{flag} {str(path)!r} is not a writable directory: {error.strerror or error}"
        ) from None


def check_policy_packs(packs: Sequence[str], *, offline: bool) -> tuple[str, ...]:
    """Each --policy-pack is a pack directory. Offline, only this project's pack runs (it always
    does): another pack is refused, not silently skipped."""
    for pack in packs:
        path = Path(pack)
        if not (path / "PulumiPolicy.yaml").is_file():
            raise UsageError(
                f"--policy-pack {pack!r} is not a policy pack: there is no "
                f"{path / 'PulumiPolicy.yaml'}"
            )
        if offline and path.resolve() != OUR_PACK.resolve():
            raise UsageError(
                f"--policy-pack {pack!r}: preview --offline runs only this project's pack "
                f"({OUR_PACK}), and always does; run other packs in an online preview"
            )
    return tuple(packs)


def check_roles(text: str | None) -> list[str] | None:
    if not text:
        return None
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise UsageError(
            f"--roles {text!r}: unknown role {', '.join(unknown) or '(none given)'}; the roles "
            f"are {', '.join(ROLES)}"
        )
    return roles


# --------------------------------------------------------------------------------------------
# Confirmation
# --------------------------------------------------------------------------------------------


def confirm(
    action: str,
    plan: Plan,
    *,
    yes: bool,
    ask: Callable[[str], str] = input,
    stdin: TextIO | None = None,
    env: dict[str, str] | None = None,
) -> bool:
    """`up` and `destroy` of more than one stack: show the count per role and ask. `--yes`
    skips the question; with no terminal to ask on (CI) it is required."""
    if yes or len(plan.stacks) <= 1:
        return True
    counts = Counter(stack.role for stack in plan.stacks)
    listing = ", ".join(f"{counts[role]} {role}" for role in ROLES if counts[role])
    what = f"{action} of {len(plan.stacks)} stacks ({listing})"
    return ask_yes_no(
        f"{action} {len(plan.stacks)} stacks ({listing})? [y/N] ",
        what,
        ask=ask,
        stdin=stdin,
        env=env,
    )


def ask_yes_no(
    question: str,
    what: str,
    *,
    ask: Callable[[str], str] = input,
    stdin: TextIO | None = None,
    env: dict[str, str] | None = None,
) -> bool:
    """Ask `question` on the terminal; with no terminal to ask on (or in CI) refuse, naming
    `what` needs confirmation and that --yes gives it. Only y or yes agrees."""
    stdin = stdin if stdin is not None else sys.stdin
    env = env if env is not None else dict(os.environ)
    if env.get("CI") or stdin is None or not stdin.isatty():
        raise UsageError(
            f"{what} needs confirmation and there is no terminal to ask on; pass --yes"
        )
    return ask(question).strip().lower() in ("y", "yes")
