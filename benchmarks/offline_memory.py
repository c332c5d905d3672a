"""Benchmark: the peak memory of `preview --offline` as the organization grows.

    .venv/bin/python benchmarks/offline_memory.py                  # 1,000 then 10,000 accounts
    .venv/bin/python benchmarks/offline_memory.py --sizes 100 1000 # a quicker look

The organization is emulated (moto) with `--accounts` accounts (default 1,000) and discovered
once. A larger size adds accounts to the discovered organization, each a copy of an enrolled
member in the same OU with a new id, and plans it with the real planner: every account gets its
source stacks, and the log-archive stack lists every member, as discovery would have found
them (the emulator builds 1,000 accounts in about 20 s; 10,000 would take it minutes and
measure moto, not us).

For each size it previews every stack offline, judged in process, and prints the peak RSS of
the whole process tree (this process, the render workers, the pack process), sampled every
250 ms, and of this process alone, next to stacks/s and the load average.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import sys
import time

from offline_preview import REGIONS, TreeMemory, preview_pass

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.offline.runner import pack_config
from enroll.org.discovery import Account, Organization, discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import OrgSettings, parse_org_settings
from enroll.util.malloc import cap_malloc_arenas


def grown(org: Organization, settings: OrgSettings, accounts: int) -> Organization:
    """`org` with accounts added up to `accounts`, each like an enrolled member."""
    plan = build_plan(settings, org)
    enrolled = {stack.account_id for stack in plan.stacks if stack.role == "source"}
    model = next(
        a for a in org.accounts if a.id in enrolled and a.id != settings.log_archive_account_id
    )
    taken = {a.id for a in org.accounts}
    added: list[Account] = []
    number = 900_000_000_000
    while len(org.accounts) + len(added) < accounts:
        number += 1
        if str(number) in taken:
            continue
        added.append(dataclasses.replace(model, id=str(number), name=f"grown-{number}"))
    regions = org.enabled_regions
    if regions is not None:
        regions = {**regions, **{a.id: regions.get(model.id, frozenset()) for a in added}}
    return dataclasses.replace(org, accounts=org.accounts + tuple(added), enabled_regions=regions)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1000, 10000],
        help="organization sizes in accounts, previewed in turn (default 1000 10000)",
    )
    parser.add_argument(
        "--accounts", type=int, default=1000, help="accounts built in the emulator (default 1000)"
    )
    parser.add_argument("--regions", type=int, default=4, help="enrolled regions (default 4)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="render processes")
    args = parser.parse_args()
    cap_malloc_arenas()  # as the command line does at its start

    with fake_credentials(), Emulator() as emulator:
        started = time.perf_counter()
        sample = sample_org(emulator, extra_accounts=max(0, args.accounts - 23))
        raw = sample_settings(sample, regions=REGIONS[: args.regions])
        settings = parse_org_settings(raw, "benchmark")
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key=settings.exclude.opt_out_tag,
            regions=settings.regions,
        )
    built = time.perf_counter() - started
    print(f"emulated organization: {len(org.accounts)} accounts in {built:.1f} s")
    config = pack_config(settings.name_prefix)
    for size in args.sizes:
        sized = grown(org, settings, size) if size > len(org.accounts) else org
        plan = build_plan(settings, sized)
        print(f"{len(sized.accounts)} accounts: {len(plan.stacks)} stacks")
        with TreeMemory() as memory:
            preview_pass(plan, sized.facts(), config, args.workers, label=f"{size} accounts")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  peak RSS: whole process tree {memory.peak_kib / 1024:.0f} MiB, "
            f"this process {own:.0f} MiB (its peak so far)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
