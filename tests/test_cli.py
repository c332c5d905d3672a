"""`org-logging` (and its alias `python -m stacks`) end to end against an emulated organization: plan, preview --offline,
demo, --help, exit codes."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

import pytest
import yaml

from enroll.cli import main
from enroll.demo.emulator import Emulator, fake_credentials, sample_org, sample_settings

SUBCOMMANDS = [
    "doctor",
    "plan",
    "preview",
    "up",
    "destroy",
    "demo",
    "coverage",
    "verify",
    "query",
]


@pytest.fixture(scope="module")
def org(tmp_path_factory):
    """An emulated organization and a settings file for it."""
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        settings = tmp_path_factory.mktemp("org") / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample)))
        yield emulator, sample, settings


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def target(org) -> list[str]:
    emulator, _, settings = org
    return ["--settings", str(settings), "--endpoint-url", emulator.endpoint_url]


# ---- --help --------------------------------------------------------------------------------


def test_help_lists_every_subcommand_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert all(command in out for command in SUBCOMMANDS)
    assert "Exit codes: 0 ok; 1 failed stacks or mandatory policy violations; 2 usage" in out


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"org-logging {command}" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--format", "yaml"])
    assert exit_info.value.code == 2


# ---- plan ------------------------------------------------------------------------------------


def test_plan_json_is_the_plan(org, capsys):
    _, sample, _ = org
    code, out, _ = run(capsys, "plan", "--json", *target(org))
    assert code == 0
    plan = json.loads(out)
    assert [s["role"] for s in plan["stacks"][:2]] == ["log-archive", "management"]
    assert plan["stacks"][0]["accountId"] == sample.log_archive_account_id
    assert {e["accountId"] for e in plan["excluded"]} >= set(sample.suspended)
    code, again, _ = run(capsys, "plan", "--format", "json", *target(org))
    assert again == out  # deterministic


def test_plan_table_shows_stacks_and_exclusions_with_reasons(org, capsys):
    code, out, _ = run(capsys, "plan", *target(org))
    assert code == 0
    assert "log-archive" in out and "management" in out
    assert "account is SUSPENDED, not ACTIVE" in out
    assert "opted out by tag org-logging-opt-out=true" in out


def test_shards_partition_the_plan(org, capsys):
    _, full, _ = run(capsys, "plan", "--json", *target(org))
    names = [s["name"] for s in json.loads(full)["stacks"]]
    seen: list[str] = []
    for index in (1, 2, 3):
        _, out, _ = run(capsys, "plan", "--json", "--shard", f"{index}/3", *target(org))
        seen += [s["name"] for s in json.loads(out)["stacks"]]
    assert sorted(seen) == sorted(names)


def test_github_matrix_lists_the_shards(org, capsys):
    code, out, _ = run(capsys, "plan", "--format", "github-matrix", "--shards", "4", *target(org))
    matrix = json.loads(out)
    assert code == 0
    assert [job["shard"] for job in matrix["include"]] == ["1/4", "2/4", "3/4", "4/4"]
    _, full, _ = run(capsys, "plan", "--json", *target(org))
    assert sum(job["stacks"] for job in matrix["include"]) == len(json.loads(full)["stacks"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--shard", "4/3"], "--shard '4/3' must satisfy 1 <= i <= n"),
        (["--shard", "two"], "--shard 'two' must look like i/n"),
        (["--roles", "sources"], "--roles 'sources': unknown role sources"),
    ],
)
def test_bad_flag_values_exit_2_with_a_message(org, capsys, argv, message):
    code, _, err = run(capsys, "plan", *argv, *target(org))
    assert code == 2
    assert message in " ".join(err.split())


def test_bad_settings_exit_2_naming_the_key(org, capsys, tmp_path):
    _, sample, _ = org
    bad = tmp_path / "org.yaml"
    bad.write_text(yaml.safe_dump({**sample_settings(sample), "namePrefix": "ACME_"}))
    emulator = org[0]
    code, out, err = run(
        capsys, "plan", "--settings", str(bad), "--endpoint-url", emulator.endpoint_url
    )
    assert code == 2 and out == ""
    assert f"{bad}: namePrefix 'ACME_' must match" in " ".join(err.split())


def test_an_enrolled_region_the_log_archive_has_not_enabled_exits_2(org, capsys, tmp_path):
    emulator, sample, _ = org
    settings = tmp_path / "org.yaml"
    regions = ("us-east-1", "ap-east-1")  # ap-east-1 is opt-in and enabled nowhere
    settings.write_text(yaml.safe_dump(sample_settings(sample, regions=regions)))
    code, out, err = run(
        capsys, "plan", "--settings", str(settings), "--endpoint-url", emulator.endpoint_url
    )
    assert code == 2 and out == ""
    message = " ".join(err.split())
    assert (
        f"logArchiveAccountId {sample.log_archive_account_id} has not enabled the opt-in "
        "region(s) ap-east-1" in message
    )


def test_plan_warns_about_the_firehose_partition_quota(org, capsys, tmp_path):
    emulator, sample, _ = org
    settings = tmp_path / "org.yaml"
    settings.write_text(yaml.safe_dump({**sample_settings(sample), "firehosePartitionQuota": 2}))
    code, _, err = run(
        capsys, "plan", "--settings", str(settings), "--endpoint-url", emulator.endpoint_url
    )
    assert code == 0
    assert "warning: region us-east-1: 17 accounts send CloudWatch Logs" in " ".join(err.split())


def test_an_unreachable_endpoint_exits_2(org, capsys):
    code, _, err = run(
        capsys, "plan", "--settings", str(org[2]), "--endpoint-url", "http://127.0.0.1:9"
    )
    assert code == 2
    assert "cannot reach the Organizations API" in " ".join(err.split())


# ---- preview --offline -------------------------------------------------------------------------


def test_preview_offline_judges_every_stack_with_no_mandatory_violation(org, capsys, tmp_path):
    report = tmp_path / "report.json"
    code, out, _ = run(
        capsys,
        "preview",
        "--offline",
        "--report",
        str(report),
        "--state-dir",
        str(tmp_path / "state"),
        "--workers",
        "2",
        *target(org),
    )
    assert code == 0, out
    data = json.loads(report.read_text())
    _, plan_out, _ = run(capsys, "plan", "--json", *target(org))
    assert [s["name"] for s in data["stacks"]] == [
        s["name"] for s in json.loads(plan_out)["stacks"]
    ]
    for stack in data["stacks"]:
        assert set(stack) == {
            "name",
            "role",
            "accountId",
            "region",
            "status",
            "resources",
            "violations",
        }
        assert stack["status"] == "passed" and stack["resources"] > 0
        assert [v for v in stack["violations"] if v["level"] == "mandatory"] == []
    assert data["summary"]["exitCode"] == 0


def test_preview_offline_of_a_shard_and_a_role(org, capsys, tmp_path):
    report = tmp_path / "report.json"
    code, _, _ = run(
        capsys,
        "preview",
        "--offline",
        "--report",
        str(report),
        "--state-dir",
        str(tmp_path),
        "--roles",
        "management",
        *target(org),
    )
    assert code == 0
    assert [s["role"] for s in json.loads(report.read_text())["stacks"]] == ["management"]


def test_a_saved_plan_previews_without_access_to_the_org(org, capsys, tmp_path):
    _, plan_out, _ = run(capsys, "plan", "--json", *target(org))
    saved = tmp_path / "plan.json"
    saved.write_text(plan_out)
    report = tmp_path / "report.json"
    code, _, _ = run(
        capsys,
        "preview",
        "--offline",
        "--plan",
        str(saved),
        "--roles",
        "management,log-archive",
        "--report",
        str(report),
        "--state-dir",
        str(tmp_path),
    )
    assert code == 0
    assert [s["name"] for s in json.loads(report.read_text())["stacks"]] == [
        "log-archive",
        "management",
    ]
    code, _, err = run(capsys, "preview", "--offline", "--plan", str(tmp_path / "missing.json"))
    assert code == 2 and "not a plan saved with `plan --json`" in " ".join(err.split())


def test_a_stack_that_cannot_render_fails_the_run_with_exit_1(capsys, tmp_path):
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        organizations = emulator.client("organizations")
        organizations.disable_policy_type(
            RootId=sample.root_id, PolicyType="SERVICE_CONTROL_POLICY"
        )
        settings = tmp_path / "org.yaml"
        settings.write_text(yaml.safe_dump(sample_settings(sample)))
        report = tmp_path / "report.json"
        code, _, _ = run(
            capsys,
            "preview",
            "--offline",
            "--roles",
            "management",
            "--report",
            str(report),
            "--state-dir",
            str(tmp_path),
            "--settings",
            str(settings),
            "--endpoint-url",
            emulator.endpoint_url,
        )
    assert code == 1
    (stack,) = json.loads(report.read_text())["stacks"]
    assert stack["status"] == "error"
    assert "service control policies are not enabled on root" in stack["error"]


# ---- demo ------------------------------------------------------------------------------------


def test_demo_runs_in_one_command_and_leaves_nothing_running(tmp_path):
    out_dir = tmp_path / "demo"
    finished = subprocess.run(
        [sys.executable, "-m", "stacks", "demo", "--out", str(out_dir), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    report = json.loads((out_dir / "report.json").read_text())
    # 17 enrolled accounts x 3 regions, less one opt-in region an account has not enabled
    assert report["summary"]["exitCode"] == 0 and len(report["stacks"]) == 2 + 17 * 3 - 1
    assert len(report["excluded"]) == 7
    (pair,) = [e for e in report["excluded"] if "region" in e]
    assert pair["region"] == "eu-central-2"
    assert pair["reason"] == "opt-in region eu-central-2 is not enabled in the account"
    assert "opt-in region eu-central-2 is not enabled" in finished.stdout
    topology = (out_dir / "topology.md").read_text()
    assert "```mermaid" in topology and "flowchart LR" in topology
    assert (out_dir / "plan.json").exists() and (out_dir / "org.yaml").exists()
    # It ends with named queries over the seeded sample logs (docs/querying.md).
    answers = json.loads((out_dir / "queries.json").read_text())
    assert answers["rejected-flows-by-account-and-port"], answers
    # The emulator it started is gone: its port no longer answers.
    port = int(re.search(r"moto\) on http://127\.0\.0\.1:(\d+)", finished.stderr)[1])
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=2),
    ):
        pass
