"""Benchmark: CPU per source stack of the in-process judge, pack decode memo on and off.

    .venv/bin/python benchmarks/judge_cpu.py                   # 60 stacks, 3 rounds
    .venv/bin/python benchmarks/judge_cpu.py --stacks 30 --rounds 5

Renders `--stacks` source stacks once (distinct accounts, the sample org's three regions), then
judges all of them with `InProcessAnalyzerClient` as `preview --offline` does (`preview._judge`:
ConfigureStack, Analyze per resource, AnalyzeStack), alternating rounds with the pack's decode
memo installed (policy/decode_memo.py) and removed. Prints CPU ms per stack
(`time.process_time`) for each, the memo's decodes and hits, and the load average. Both must
give the same violations.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import stack_config

from enroll.offline.analyzer.in_process import InProcessAnalyzerClient
from enroll.offline.preview import _judge, registrations_to_resources
from enroll.offline.render import render
from enroll.offline.runner import pack_config
from policy import decode_memo

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")  # the sample org's regions


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=60, help="source stacks to judge")
    parser.add_argument("--rounds", type=int, default=3, help="rounds each way, interleaved")
    args = parser.parse_args(argv)
    stacks = []
    for index in range(args.stacks):
        name = f"source-{index:03d}"
        config = stack_config(
            "source",
            accountId=f"{444400000000 + index:012d}",
            aws_region=REGIONS[index % len(REGIONS)],
        )
        rendered = render(config, stack=name, preview=True)
        stacks.append((name, config, registrations_to_resources(rendered, config)))
    resources = sum(len(stack[2]) for stack in stacks)
    print(f"{len(stacks)} source stacks, {resources} resources; load average {_load()}")
    with InProcessAnalyzerClient() as client:
        client.configure(pack_config("acme"))
        if decode_memo.installed() is None:
            print("the decode memo is not installed (another pulumi-policy version?)")
            return 1
        verdicts: dict[bool, list] = {}
        for round_ in range(args.rounds):
            for memoized in (True, False):
                decode_memo.uninstall()
                # Each memoized round starts with an empty memo, as a fresh pack process does.
                memo = decode_memo.install() if memoized else None
                decodes, hits = (memo.decodes, memo.hits) if memo else (0, 0)
                gc.collect()  # a collection mid-round is noise of the size being measured
                started = time.process_time()
                judged = [_judge(client, *stack) for stack in stacks]
                spent = (time.process_time() - started) * 1000 / len(stacks)
                verdicts.setdefault(memoized, judged)
                label = "memo on " if memo else "memo off"
                counts = (
                    f", {memo.decodes - decodes} decodes, {memo.hits - hits} hits" if memo else ""
                )
                print(
                    f"round {round_ + 1} {label}: {spent:5.2f} ms CPU per stack{counts}; "
                    f"load average {_load()}"
                )
        decode_memo.install()
    if verdicts[True] != verdicts[False]:
        print("VERDICTS DIFFER with and without the memo")
        return 1
    print("same violations with and without the memo")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
