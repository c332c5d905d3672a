"""The in-process pack (tests/pack_in_process.py, used under mutation testing) answers exactly as
the launched pack does: same policies, same diagnostics for the same stack. If it drifted, the
mutation score would measure something other than the pack the engine runs."""

from __future__ import annotations

import json

from pack_in_process import InProcessAnalyzerClient
from test_policy_pack import PACK_CONFIG, judge

from enroll.offline.analyzer.client import AnalyzerClient
from enroll.offline.analyzer.wire import PolicyConfig, Resource, StackInfo, make_urn

TEAM = StackInfo(stack="team", project="team-app")


def resource(kind: str, logical_name: str, **properties) -> Resource:
    urn = make_urn("team", "team-app", kind, logical_name)
    return Resource(kind, urn, logical_name, properties)


# One resource per rule family, each breaking it, and an SCP the stack policies judge.
STACK = [
    resource("aws:s3/bucket:Bucket", "data", bucket="Bad_Name"),
    resource(
        "aws:rds/parameterGroup:ParameterGroup",
        "pg",
        family="postgres16",
        parameters=[{"name": "log_error_verbosity", "value": "default"}],
    ),
    resource(
        "aws:organizations/policy:Policy",
        "scp",
        type="SERVICE_CONTROL_POLICY",
        content=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}),
    ),
    resource("aws:cloudwatch/logGroup:LogGroup", "app", name="app"),
    resource("aws:ec2/flowLog:FlowLog", "flow", logDestinationType="s3", logDestination="x"),
]
CONFIG = {**PACK_CONFIG, "log-group-naming": PolicyConfig(properties={"allowedPrefixes": ["/x/"]})}


def diagnostics(client: AnalyzerClient) -> list[tuple]:
    with client:
        client.configure(CONFIG)
        info = client.analyzer_info()
        found = judge(client, STACK)
    return [(p.name, p.enforcement_level, p.policy_type) for p in info.policies] + sorted(
        (d.policy_name, d.enforcement_level, d.message, urn) for d, urn in found
    )


def test_the_in_process_pack_answers_as_the_launched_pack():
    launched = diagnostics(AnalyzerClient(stack=TEAM))
    in_process = diagnostics(InProcessAnalyzerClient(stack=TEAM))
    assert len(launched) > 12  # the policies, and violations of several of them
    assert in_process == launched
