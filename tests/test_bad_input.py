"""Bad input through the real CLI, in a subprocess each: settings files, plan files, flags and
the environment. Every one must exit 2 with a one-line-per-problem message, print no Python
traceback, and leave the state dir exactly as it was.

Each case names what is wrong and a fragment of the message that must say so.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from enroll.util.lock import exclusive

PROJECT = Path(__file__).resolve().parents[1]
SETTINGS = (PROJECT / "stacks" / "org.yaml").read_text()


def stack(name: str, role: str, account: str, region: str = "us-east-1") -> dict:
    config = {"org-logging:role": role, "aws:region": region}
    return {"name": name, "role": role, "accountId": account, "region": region, "config": config}


GOOD_PLAN = {
    "stacks": [
        stack("log-archive", "log-archive", "222222222222"),
        stack("management", "management", "111111111111"),
        stack("source-333333333333-us-east-1", "source", "333333333333"),
    ],
    "excluded": [],
    "warnings": [],
}


def settings_with(old: str, new: str) -> str:
    assert old in SETTINGS, old
    return SETTINGS.replace(old, new, 1)


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    says: str  # a fragment of the error that must name the problem
    files: dict[str, str | bytes] = field(default_factory=dict)  # relative to the work dir
    env: dict[str, str] = field(default_factory=dict)


def settings_case(id: str, text: str | bytes, says: str) -> Case:
    return Case(
        id, ("preview", "--offline", "--settings", "org.yaml"), says, files={"org.yaml": text}
    )


def plan_case(id: str, document: object, says: str, *, raw: str | None = None) -> Case:
    text = raw if raw is not None else json.dumps(document)
    return Case(id, ("preview", "--offline", "--plan", "plan.json"), says, {"plan.json": text})


def flag_case(id: str, args: tuple[str, ...], says: str, **kw) -> Case:
    return Case(id, args, says, **kw)


PLAN_FILES = {"plan.json": json.dumps(GOOD_PLAN)}
OFFLINE = ("preview", "--offline", "--plan", "plan.json")

CASES = [
    # --- settings files -----------------------------------------------------------------------
    settings_case("settings-not-utf8", b"namePrefix: acme\xff\xfe\n", "not UTF-8"),
    settings_case(
        "settings-alias-bomb",
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "line 2: an alias (a reuse of the value on line 1) is not allowed here",
    ),
    settings_case(
        "settings-non-string-key", "namePrefix: acme\n1: x\n", "line 2: the key 1 must be a string"
    ),
    settings_case(
        "settings-deep-nesting",
        "a: " + "[" * 50_000 + "]" * 50_000 + "\n",
        "nested more than 64 levels",
    ),
    settings_case(
        "settings-duplicate-key",
        SETTINGS + "exclude:\n  accountIds: []\n",
        "'exclude' is given twice (first on line",
    ),
    settings_case("settings-empty", "", "must be a map of settings, not null"),
    settings_case("settings-a-list", "- a\n- b\n", 'must be a map of settings, not ["a", "b"]'),
    settings_case("settings-yaml-syntax", "namePrefix: [acme\n", "org.yaml: not valid YAML"),
    settings_case("settings-unknown-key", SETTINGS + "colour: blue\n", "colour is not a known key"),
    settings_case(
        "settings-bad-prefix",
        settings_with("namePrefix: acme ", "namePrefix: ACME_"),
        "namePrefix 'ACME_' must match",
    ),
    settings_case(
        "settings-octal-account",
        settings_with('logArchiveAccountId: "222222222222"', "logArchiveAccountId: 012345670123"),
        "012345670123 is octal to YAML",
    ),
    settings_case(
        "settings-unquoted-account",
        settings_with('logArchiveAccountId: "222222222222"', "logArchiveAccountId: 222222222222"),
        "must be a quoted string",
    ),
    settings_case(
        "settings-regions-not-a-list",
        re.sub(r"regions:[^\n]*\n(  - [^\n]*\n)+", "regions: us-east-1\n", SETTINGS),
        "regions 'us-east-1' must be a list",
    ),
    settings_case(
        "settings-mixed-partitions",
        settings_with("  - eu-west-1", "  - us-gov-west-1"),
        "one organization is one partition",
    ),
    settings_case(
        "settings-home-region-not-enrolled",
        settings_with("homeRegion: us-east-1", "homeRegion: eu-central-1"),
        "must include homeRegion 'eu-central-1'",
    ),
    settings_case(
        "settings-retention-zero",
        settings_with("retentionDays: 365", "retentionDays: 0"),
        "retentionDays 0 must be a whole number of days",
    ),
    settings_case(
        "settings-retention-text",
        settings_with("retentionDays: 365", "retentionDays: forever"),
        "retentionDays 'forever'",
    ),
    settings_case(
        "settings-long-compliance-lock",
        settings_with(
            "retentionDays: 365", "retentionDays: 400\nobjectLock: {mode: COMPLIANCE, days: 400}"
        ),
        "acknowledgeLongCompliance: true",
    ),
    settings_case(
        "settings-lock-mode",
        settings_with(
            "retentionDays: 365", "retentionDays: 365\nobjectLock: {mode: FOREVER, days: 1}"
        ),
        "mode must be GOVERNANCE or COMPLIANCE",
    ),
    settings_case(
        "settings-exclude-not-a-map",
        SETTINGS.split("exclude:")[0] + "exclude: [a]\n",
        'exclude ["a"] must be a map',
    ),
    settings_case(
        "settings-exclude-unknown-key",
        settings_with("  optOutTag: org-logging-opt-out", "  optOutTag: x\n  teams: [a]"),
        "exclude.teams is not a known key",
    ),
    settings_case(
        "settings-exclude-bad-ou",
        settings_with("  ouIds: []", "  ouIds: [sandbox]"),
        "must be an OU id",
    ),
    settings_case(
        "settings-admin-role-path",
        settings_with("adminRoleName: OrgLoggingAdmin", "adminRoleName: admin/OrgLoggingAdmin"),
        "adminRoleName 'admin/OrgLoggingAdmin' must be a role name without a path",
    ),
    settings_case(
        "settings-bad-email",
        settings_with(
            "# alertEmails: [security-alerts@example.com]", "alertEmails: [not-an-email]"
        ),
        "must be an email address",
    ),
    settings_case(
        "settings-bad-scp-target",
        settings_with("# scpTargets: [ou-ab12-cdef3456]", "scpTargets: [Workloads]"),
        "scpTargets 'Workloads' (an item) must be a root or OU id",
    ),
    settings_case(
        "settings-discovered-key",
        SETTINGS + 'orgId: "o-abcdefghij"\n',
        "orgId is not set in the file",
    ),
    Case(
        "settings-missing-file",
        ("preview", "--offline", "--settings", "nope.yaml"),
        "settings file nope.yaml not found",
    ),
    Case(
        "settings-a-directory",
        ("preview", "--offline", "--settings", "."),
        "is a directory, not a YAML file",
    ),
    # --- plan files ---------------------------------------------------------------------------
    plan_case("plan-stacks-a-map", {"stacks": {}}, "stacks {} must be a list"),
    plan_case("plan-no-stacks", {"stacks": []}, "stacks must list at least one stack"),
    plan_case("plan-missing-stacks", {}, "stacks is missing"),
    plan_case(
        "plan-duplicate-names",
        {"stacks": [GOOD_PLAN["stacks"][0], GOOD_PLAN["stacks"][0]]},
        "stack names are unique",
    ),
    plan_case(
        "plan-config-not-a-map",
        {"stacks": [{**GOOD_PLAN["stacks"][0], "config": "x"}]},
        "config 'x' must be a map",
    ),
    plan_case(
        "plan-unknown-role",
        {"stacks": [{**GOOD_PLAN["stacks"][0], "role": "auditor"}]},
        "must be one of log-archive, management, source",
    ),
    plan_case(
        "plan-bad-stack-name",
        {"stacks": [{**GOOD_PLAN["stacks"][0], "name": "a b"}]},
        "must be a Pulumi stack name",
    ),
    plan_case("plan-not-json", None, "is not JSON", raw="{stacks: ["),
    plan_case("plan-a-list", [1], "must be a JSON object with `stacks`"),
    plan_case(
        "plan-empty-file",
        None,
        "--plan plan.json is not a plan saved with `plan --json`: is empty",
        raw="",
    ),
    Case(
        "plan-missing-file",
        ("preview", "--offline", "--plan", "nope.json"),
        "cannot be read: No such file",
    ),
    # --- flags --------------------------------------------------------------------------------
    flag_case("retries-zero", (*OFFLINE, "--retries", "0"), "--retries: '0' must be at least 1"),
    flag_case("retries-text", (*OFFLINE, "--retries", "many"), "'many' is not a whole number"),
    flag_case("concurrency-zero", (*OFFLINE, "--concurrency", "0"), "must be at least 1"),
    flag_case("concurrency-negative", (*OFFLINE, "--concurrency", "-3"), "must be at least 1"),
    flag_case("max-failures-negative", (*OFFLINE, "--max-failures", "-1"), "must be at least 0"),
    flag_case("workers-zero", (*OFFLINE, "--workers", "0"), "--workers: '0' must be at least 1"),
    flag_case(
        "endpoint-no-scheme",
        ("plan", "--endpoint-url", "127.0.0.1:5000"),
        "must be a URL with a scheme and a host",
    ),
    flag_case(
        "endpoint-other-scheme",
        ("plan", "--endpoint-url", "ftp://127.0.0.1"),
        "must be a URL with a scheme",
    ),
    flag_case("shard-zero", (*OFFLINE, "--shard", "0/2"), "must satisfy 1 <= i <= n"),
    flag_case("shard-past-the-end", (*OFFLINE, "--shard", "3/2"), "must satisfy 1 <= i <= n"),
    flag_case("shard-text", (*OFFLINE, "--shard", "half"), "must look like i/n"),
    flag_case(
        "roles-unknown",
        (*OFFLINE, "--roles", "bogus"),
        "the roles are log-archive, management, source",
    ),
    flag_case("roles-empty-list", (*OFFLINE, "--roles", ","), "the roles are"),
    flag_case("report-a-directory", (*OFFLINE, "--report", "."), "is a directory"),
    flag_case(
        "report-parent-missing",
        (*OFFLINE, "--report", "no/such/dir/run.json"),
        "its directory 'no/such/dir' does not exist",
    ),
    flag_case(
        "report-parent-a-file",
        (*OFFLINE, "--report", "plan.json/run.json"),
        "is not a directory",
    ),
    flag_case(
        "policy-pack-missing",
        ("preview", "--plan", "plan.json", "--policy-pack", "no-such-pack"),
        "is not a policy pack",
    ),
    flag_case(
        "policy-pack-offline-other",
        (*OFFLINE, "--policy-pack", str(PROJECT / "tests" / "fixtures" / "minimal_pack")),
        "preview --offline runs only this project's pack",
    ),
    flag_case("state-dir-a-file", (*OFFLINE, "--state-dir", "plan.json"), "is a file"),
    flag_case(
        "state-dir-under-a-file",
        (*OFFLINE, "--state-dir", "plan.json/state"),
        "is not a writable directory",
    ),
    flag_case("up-without-yes", ("up", "--plan", "plan.json"), "pass --yes"),
    flag_case("destroy-without-yes", ("destroy", "--plan", "plan.json"), "pass --yes"),
    flag_case("demo-out-a-file", ("demo", "--out", "plan.json"), "is a file"),
    flag_case("demo-extra-negative", ("demo", "--extra-accounts", "-1"), "must be at least 0"),
    flag_case("demo-workers-zero", ("demo", "--workers", "0"), "must be at least 1"),
    flag_case("demo-seed-text", ("demo", "--seed", "x"), "invalid int value"),
    flag_case(
        "plan-shards-zero", ("plan", "--format", "github-matrix", "--shards", "0"), "--shards"
    ),
    flag_case("plan-unknown-format", ("plan", "--format", "yaml"), "invalid choice"),
    flag_case("unknown-command", ("enroll",), "invalid choice"),
    flag_case("no-command", (), "required"),
    flag_case("unknown-flag", (*OFFLINE, "--colour"), "unrecognized arguments"),
    flag_case("resume-on-preview", (*OFFLINE, "--resume"), "unrecognized arguments"),
    # --- environment ----------------------------------------------------------------------------
    Case(
        "env-unknown-profile",
        ("plan",),
        "AWS_PROFILE 'no-such-profile': no such profile",
        env={"AWS_PROFILE": "no-such-profile"},
    ),
    Case(
        "env-no-credentials",
        ("plan", "--endpoint-url", "http://127.0.0.1:9"),
        "no AWS credentials found",
        env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
    ),
    Case(
        "env-endpoint-without-scheme",
        ("plan",),
        "AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_ORGANIZATIONS",
        env={"AWS_ENDPOINT_URL": "127.0.0.1:9"},
    ),
    Case(
        "env-unreachable-endpoint",
        ("plan", "--endpoint-url", "http://127.0.0.1:9"),
        "cannot reach the Organizations API",
        env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
    ),
    Case(
        "env-state-dir-a-file",
        ("preview", "--offline", "--plan", "plan.json"),
        "is a file",
        env={"ORG_LOGGING_STATE_DIR": "plan.json"},
    ),
]


def run_cli(args: tuple[str, ...], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "PULUMI_", "ORG_LOGGING_")) and key != "CI"
    }
    environment.update(
        AWS_CONFIG_FILE=str(cwd / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(cwd / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",  # never ask an instance metadata service
        ORG_LOGGING_STATE_DIR=str(cwd / "state"),
        CI="true",
    )
    environment.update({key: value for key, value in env.items() if value})
    for key in [key for key, value in env.items() if not value]:
        environment.pop(key, None)
    return subprocess.run(
        [sys.executable, "-m", "stacks", *args],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes() if path.is_file() else b"<dir>"
        for path in sorted(directory.rglob("*"))
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_exits_2_with_a_message_and_changes_nothing(case: Case, tmp_path: Path):
    for name, content in {**PLAN_FILES, **case.files}.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    state = tmp_path / "state"
    state.mkdir()
    (state / "ledger.jsonl").write_text('{"a previous run": true}\n')
    before = snapshot(state)

    done = run_cli(case.args, tmp_path, case.env)

    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert case.says in " ".join(done.stderr.split()), done.stderr
    assert snapshot(state) == before


def test_there_are_at_least_60_cases():
    assert len(CASES) >= 60
    assert len({case.id for case in CASES}) == len(CASES)


def test_a_run_on_a_state_dir_in_use_is_refused_naming_the_holder(tmp_path: Path):
    (tmp_path / "plan.json").write_text(json.dumps(GOOD_PLAN))
    state = tmp_path / "state"
    state.mkdir()
    with exclusive(state, "up"):
        before = snapshot(state)
        done = run_cli(("preview", "--offline", "--plan", "plan.json"), tmp_path, {})
        after = snapshot(state)
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert f"is in use by another run (pid {os.getpid()} on " in message
    assert "`org-logging up`, started" in message
    assert "Traceback" not in done.stdout + done.stderr
    assert after == before
