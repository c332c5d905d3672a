"""Benchmark: discovering a large organization while the Organizations API throttles.

    .venv/bin/python benchmarks/discovery_faults.py                  # 1,000 accounts
    .venv/bin/python benchmarks/discovery_faults.py --accounts 200

Builds an emulated organization (moto on 127.0.0.1), then discovers it (OU walk, ListAccounts
cross-check, every account's tags) clean, at 30 % throttling, and at 30 % mixed faults
(throttling, 500, 503), each fault injected into the client before the request leaves the
process. Prints the time of each, the faults injected, and whether throttling stays under the
target of 5x the clean time. Every run must find the same accounts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from enroll.demo.emulator import LAYOUT, Emulator, fake_credentials, sample_org, sample_settings
from enroll.org.discovery import discover, organizations_client
from enroll.org.settings import parse_org_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from faults import SERVER_ERROR, THROTTLE, UNAVAILABLE, Faults

TARGET_RATIO = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000, help="accounts in the organization")
    parser.add_argument("--rate", type=float, default=0.3, help="share of calls that fail")
    args = parser.parse_args(argv)
    with fake_credentials(), Emulator() as emulator:
        started = time.perf_counter()
        sample = sample_org(emulator, extra_accounts=max(0, args.accounts - len(LAYOUT)))
        settings = parse_org_settings(sample_settings(sample), "org.yaml")
        built = time.perf_counter() - started
        print(f"organization: {len(sample.accounts)} accounts, built in {built:.1f} s")

        def run(faults: Faults | None) -> tuple[float, int]:
            client = organizations_client(emulator.endpoint_url, region="us-east-1")
            if faults is not None:
                faults.install(client)
            began = time.perf_counter()
            org = discover(client, tag_key=settings.exclude.opt_out_tag)
            return time.perf_counter() - began, len(org.accounts)

        clean, accounts = run(None)
        rows = [("clean", clean, accounts, 0, 0)]
        for label, kinds in (
            (f"{args.rate:.0%} throttling", (THROTTLE,)),
            (f"{args.rate:.0%} mixed faults", (THROTTLE, SERVER_ERROR, UNAVAILABLE)),
        ):
            faults = Faults(rate=args.rate, kinds=kinds)
            seconds, found = run(faults)
            rows.append((label, seconds, found, faults.calls, faults.injected))
    heading = ("seconds", "x clean", "accounts", "calls", "faults")
    print(f"{'discovery':<20} " + " ".join(f"{h:>8}" for h in heading))
    for label, seconds, found, calls, injected in rows:
        print(
            f"{label:<20} {seconds:>8.1f} {seconds / clean:>8.1f} {found:>8} {calls:>8} "
            f"{injected:>8}"
        )
    ratio = rows[1][1] / clean
    same = len({found for _, _, found, _, _ in rows}) == 1
    print(f"every run found the same {accounts} accounts: {'yes' if same else 'NO'}")
    print(
        f"target: {args.rate:.0%} throttling under {TARGET_RATIO:.0f}x the clean time: "
        f"{ratio:.1f}x, {'met' if ratio < TARGET_RATIO else 'MISSED'}"
    )
    return 0 if same and ratio < TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
