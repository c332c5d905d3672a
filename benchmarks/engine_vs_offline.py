"""Benchmark: the offline preview against the engine's `pulumi preview --policy-pack`, same stacks.

    make engine && .venv/bin/python benchmarks/engine_vs_offline.py [--stacks 8]

Both judge the same stacks of the emulated demo organization with the same policy pack: the
offline preview renders each under Pulumi's mocks and talks to the pack over the analyzer
protocol; the engine runs the program, the stand-in aws provider and the pack as plugins.
Prints both times and the ratio. Stacks run one at a time in both, so the ratio is per stack.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings
from enroll.offline.runner import OfflineRunner, pack_config
from enroll.org.discovery import discover, organizations_client
from enroll.org.plan import build_plan
from enroll.org.settings import parse_org_settings
from enroll.run.automation import assume_role_config
from tests.e2e.engine import engine_bin, project_copy, pulumi, write_stack_config
from tests.e2e.provider import install_plugin


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stacks", type=int, default=8, help="stacks to preview (default 8)")
    args = parser.parse_args()
    bin_dir = engine_bin()
    with fake_credentials(), Emulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample = sample_org(emulator)
        settings = parse_org_settings(sample_settings(sample, regions=("us-east-1",)), "benchmark")
        org = discover(
            organizations_client(emulator.endpoint_url, region="us-east-1"),
            tag_key=settings.exclude.opt_out_tag,
            regions=settings.regions,
        )
        stacks = build_plan(settings, org).stacks[: args.stacks]

        with OfflineRunner(org=org.facts(), policy_config=pack_config("acme"), workers=1) as runner:
            runner.run(stacks[0], "preview")  # warm the worker (imports) outside the timing
            started = time.perf_counter()
            offline = [runner.run(stack, "preview") for stack in stacks]
            offline_seconds = time.perf_counter() - started
        assert all(r.status == "passed" for r in offline), [r.to_json() for r in offline]

        home = work / "pulumi-home"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(home),
            "PULUMI_CONFIG_PASSPHRASE": "benchmark",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "AWS_ENDPOINT_URL": emulator.endpoint_url,
            "AWS_REGION": "us-east-1",
        }
        install_plugin(bin_dir / "pulumi", home, env)
        (work / "project").mkdir()
        project = project_copy(work / "project")
        (work / "backend").mkdir()
        pulumi(["login", (work / "backend").as_uri()], cwd=project, env=env)
        for stack in stacks:
            config = dict(stack.config)
            assume = assume_role_config(stack, None)
            if assume:
                config["aws:assumeRoles"] = assume
            write_stack_config(project, stack.name, config)
            pulumi(["stack", "init", stack.name], cwd=project, env=env)
        started = time.perf_counter()
        for stack in stacks:
            pulumi(
                ["preview", "--stack", stack.name, "--policy-pack", "policy"], cwd=project, env=env
            )
        engine_seconds = time.perf_counter() - started

    per_offline = offline_seconds / len(stacks)
    per_engine = engine_seconds / len(stacks)
    print(f"stacks: {len(stacks)} ({', '.join(s.role for s in stacks[:2])}, sources)")
    print(f"offline preview (mocks + pack):  {offline_seconds:.1f} s, {per_offline:.2f} s/stack")
    print(f"pulumi preview --policy-pack:   {engine_seconds:.1f} s, {per_engine:.2f} s/stack")
    print(f"ratio engine / offline: {engine_seconds / offline_seconds:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
