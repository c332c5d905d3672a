"""Benchmark: validating a settings file with a very large exclusion list is linear.

    .venv/bin/python benchmarks/settings_validation.py                # 100,000 exclusion ids
    .venv/bin/python benchmarks/settings_validation.py --ids 400000

Prints the time (best of 3) to read and validate `stacks/org.yaml` extended with N exclusion
ids (half account ids, half OU ids), for N/4, N/2 and N (twice the ids should take about twice
the time), and whether N validate in under the target of one second. The YAML is parsed with
our strict loader (duplicate keys, aliases and depth are checked) and validated with the stack
config's rules, as `org-logging plan` does.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

from enroll.org.settings import load_org_settings

TARGET_SECONDS = 1.0
ROOT = Path(__file__).resolve().parents[1]


def settings_text(count: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    raw = yaml.safe_load((ROOT / "stacks" / "org.yaml").read_text())
    raw["exclude"] = {
        "accountIds": [f"{rng.randrange(10**11, 10**12):012d}" for _ in range(count // 2)],
        "ouIds": [
            f"ou-{rng.randrange(16**4):04x}-{rng.randrange(16**8):08x}" for _ in range(count // 2)
        ],
        "optOutTag": "org-logging-opt-out",
    }
    return yaml.safe_dump(raw, sort_keys=False)  # account ids stay quoted strings


def measure(count: int, directory: Path) -> float:
    path = directory / f"org-{count}.yaml"
    path.write_text(settings_text(count))
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        settings = load_org_settings(path)
        best = min(best, time.perf_counter() - started)
    assert len(settings.exclude.account_ids) > 0.99 * count // 2  # random ids may repeat
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ids", type=int, default=100_000, help="exclusion ids, half accounts, half OUs"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        rows = [(n, measure(n, Path(directory))) for n in (args.ids // 4, args.ids // 2, args.ids)]
    print(f"{'exclusion ids':>16} {'seconds':>9} {'us per id':>10}")
    for count, seconds in rows:
        print(f"{count:>16,} {seconds:>9.3f} {seconds / count * 1e6:>10.2f}")
    (_, quarter), _, (_, full) = rows
    print(f"growth from N/4 to N: {full / quarter:.1f}x (linear: 4x)")
    verdict = "met" if full < TARGET_SECONDS else "MISSED"
    print(f"target: {args.ids:,} exclusion ids in < {TARGET_SECONDS} s: {verdict}")
    return 0 if full < TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
