"""The log-archive stack's query layer, as the program registers it (mocked render): the Glue
database, one table per log type with partition projection over the plan's accounts and
regions, the enforced workgroup and its results bucket, the reader role and the named
queries (docs/querying.md)."""

from __future__ import annotations

import json

from conftest import (
    LOG_ARCHIVE,
    MANAGEMENT,
    MEMBER,
    ORG_ID,
    REGIONS,
    policy_doc,
    render_config,
    stack_config,
)

from components.archive_tables import partition_regions
from components.named_queries import named_queries

CENTRAL = "acme-org-logs-222222222222-us-east-1"
RESULTS = "acme-athena-results-222222222222-us-east-1"
KEY_ARN = "arn:aws:kms:us-east-1:222222222222:key/119c7bc1-3b35-4000-8000-119c7bc13b35"
TABLE = "aws:glue/catalogTable:CatalogTable"
ACCOUNTS = ",".join(sorted({MANAGEMENT, LOG_ARCHIVE, MEMBER}))
ENROLLED = ",".join(REGIONS["aws"])
DAYS = {
    "projection.day.type": "date",
    "projection.day.format": "yyyy/MM/dd",
    "projection.day.range": "2020/01/01,NOW",
    "projection.day.interval": "1",
    "projection.day.interval.unit": "DAYS",
}


def tables(rendered) -> dict[str, dict]:
    return {t.inputs["name"]: t.inputs for t in rendered.of_type(TABLE)}


def test_the_glue_database_is_named_for_athena_in_the_home_region(log_archive):
    database = log_archive.one("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "acme_org_logs"
    assert database.inputs["region"] == "us-east-1"


def test_one_table_per_log_type_all_external_in_the_database(log_archive):
    found = tables(log_archive)
    assert sorted(found) == [
        "alb_access_logs",
        "clb_access_logs",
        "cloudfront_logs",
        "cloudtrail",
        "cloudwatch_logs",
        "nlb_access_logs",
        "route53_resolver_query_logs",
        "vpc_flow_logs",
    ]
    for name, table in found.items():
        assert table["tableType"] == "EXTERNAL_TABLE", name
        assert table["databaseName"] == "acme_org_logs", name
        assert table["region"] == "us-east-1", name


def test_cloudtrail_projects_the_org_trail_layout_over_every_region_of_the_partition(log_archive):
    table = tables(log_archive)["cloudtrail"]
    assert table["parameters"] == {
        "EXTERNAL": "TRUE",
        "projection.enabled": "true",
        "storage.location.template": (
            f"s3://{CENTRAL}/AWSLogs/{ORG_ID}/${{account}}/CloudTrail/${{region}}/${{day}}/"
        ),
        "projection.account.type": "enum",
        "projection.account.values": ACCOUNTS,
        "projection.region.type": "enum",
        "projection.region.values": ",".join(partition_regions("us-east-1")),
        **DAYS,
    }
    assert [k["name"] for k in table["partitionKeys"]] == ["account", "region", "day"]
    storage = table["storageDescriptor"]
    assert storage["location"] == f"s3://{CENTRAL}/AWSLogs/{ORG_ID}/"
    assert storage["inputFormat"] == "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
    assert (
        storage["serDeInfo"]["serializationLibrary"] == "com.amazon.emr.hive.serde.CloudTrailSerde"
    )


def test_cloudtrail_regions_are_those_of_the_partition_in_govcloud_and_china():
    for partition in ("aws-us-gov", "aws-cn"):
        config = stack_config("log-archive", partition)
        rendered = render_config(config, "log-archive")
        values = tables(rendered)["cloudtrail"]["parameters"]["projection.region.values"]
        home = config["org-logging:homeRegion"]
        assert values == ",".join(partition_regions(home))
        assert all(r.startswith(("us-gov-", "cn-")) for r in values.split(","))


def test_replicated_tables_project_the_enrolled_regions_and_the_plans_accounts(log_archive):
    found = tables(log_archive)
    for name, folder in (
        ("vpc_flow_logs", "vpcflowlogs"),
        ("alb_access_logs", "elasticloadbalancing"),
        ("nlb_access_logs", "elasticloadbalancing"),
        ("clb_access_logs", "elasticloadbalancing"),
    ):
        params = found[name]["parameters"]
        assert params["storage.location.template"] == (
            f"s3://{CENTRAL}/AWSLogs/${{account}}/{folder}/${{region}}/${{day}}/"
        ), name
        assert params["projection.account.values"] == ACCOUNTS, name
        assert params["projection.region.values"] == ENROLLED, name
        assert {k: params[k] for k in DAYS} == DAYS, name


def test_vpc_flow_logs_skip_the_header_line_and_split_on_spaces(log_archive):
    table = tables(log_archive)["vpc_flow_logs"]
    assert table["parameters"]["skip.header.line.count"] == "1"
    serde = table["storageDescriptor"]["serDeInfo"]
    assert serde["parameters"] == {"field.delim": " ", "serialization.format": " "}


def test_resolver_logs_project_a_vpc_the_query_names_not_a_region(log_archive):
    params = tables(log_archive)["route53_resolver_query_logs"]["parameters"]
    assert params["storage.location.template"] == (
        f"s3://{CENTRAL}/AWSLogs/${{account}}/vpcdnsquerylogs/${{vpc}}/${{day}}/"
    )
    assert params["projection.vpc.type"] == "injected"
    assert "projection.region.type" not in params


def test_cloudfront_is_projected_by_account_only_with_two_header_lines(log_archive):
    table = tables(log_archive)["cloudfront_logs"]
    params = table["parameters"]
    assert params["storage.location.template"] == f"s3://{CENTRAL}/AWSLogs/${{account}}/CloudFront/"
    assert [k["name"] for k in table["partitionKeys"]] == ["account"]
    assert params["skip.header.line.count"] == "2"


def test_cloudwatch_logs_read_firehose_prefix_by_account_region_and_day(log_archive):
    table = tables(log_archive)["cloudwatch_logs"]
    params = table["parameters"]
    assert params["storage.location.template"] == (
        f"s3://{CENTRAL}/CloudWatchLogs/${{account}}/${{region}}/${{day}}/"
    )
    assert params["projection.region.values"] == ENROLLED
    assert table["storageDescriptor"]["serDeInfo"]["serializationLibrary"] == (
        "org.openx.data.jsonserde.JsonSerDe"
    )
    columns = {c["name"]: c["type"] for c in table["storageDescriptor"]["columns"]}
    assert columns["logevents"] == "array<struct<id:string,timestamp:bigint,message:string>>"


def test_load_balancer_tables_are_regex_serdes(log_archive):
    for name in ("alb_access_logs", "nlb_access_logs", "clb_access_logs"):
        serde = tables(log_archive)[name]["storageDescriptor"]["serDeInfo"]
        assert serde["serializationLibrary"] == "org.apache.hadoop.hive.serde2.RegexSerDe"
        assert serde["parameters"]["input.regex"].endswith("(?: .*)?"), name


def test_without_a_member_list_projection_still_knows_the_management_and_archive_accounts():
    rendered = render_config(stack_config("log-archive", memberAccountIds=None), "log-archive")
    values = tables(rendered)["vpc_flow_logs"]["parameters"]["projection.account.values"]
    assert values == f"{MANAGEMENT},{LOG_ARCHIVE}"


def test_the_workgroup_enforces_engine_v3_a_cutoff_and_encrypted_results(log_archive):
    workgroup = log_archive.one("aws:athena/workgroup:Workgroup")
    assert workgroup.inputs["name"] == "acme-org-logs"
    assert workgroup.inputs["configuration"] == {
        "enforceWorkgroupConfiguration": True,
        "publishCloudwatchMetricsEnabled": True,
        "bytesScannedCutoffPerQuery": 10 * 1024**3,
        "engineVersion": {"selectedEngineVersion": "Athena engine version 3"},
        "resultConfiguration": {
            "outputLocation": f"s3://{RESULTS}/",
            "encryptionConfiguration": {"encryptionOption": "SSE_KMS", "kmsKeyArn": KEY_ARN},
        },
    }


def test_the_cutoff_is_a_setting():
    rendered = render_config(
        stack_config("log-archive", athenaBytesScannedCutoff=1024**3), "log-archive"
    )
    workgroup = rendered.one("aws:athena/workgroup:Workgroup")
    assert workgroup.inputs["configuration"]["bytesScannedCutoffPerQuery"] == 1024**3


def test_results_are_sse_kms_and_expire_after_a_week(log_archive):
    bucket = log_archive.one("aws:s3/bucket:Bucket", "log-archive-query-results")
    assert bucket.inputs["bucket"] == RESULTS
    encryption = log_archive.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "log-archive-query-results-encryption",
    )
    assert encryption.inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY_ARN,
    }
    lifecycle = log_archive.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "log-archive-query-results-lifecycle",
    )
    rule = next(r for r in lifecycle.inputs["rules"] if r["id"] == "archive-then-expire")
    assert rule["expiration"] == {"days": 7}
    assert rule["transitions"] == []


def test_the_reader_role_is_assumed_only_from_inside_the_organization(log_archive):
    role = log_archive.one("aws:iam/role:Role", "log-archive-query-reader-role")
    assert role.inputs["name"] == "acme-logging-reader"
    assert policy_doc(role, "assumeRolePolicy") == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrustedReaders",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{LOG_ARCHIVE}:root"},
                "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
            }
        ],
    }


def test_reader_principals_are_a_setting():
    analysts = [f"arn:aws:iam::{MEMBER}:role/SecurityAnalyst", f"arn:aws:iam::{MANAGEMENT}:root"]
    rendered = render_config(
        stack_config("log-archive", readerPrincipalArns=analysts), "log-archive"
    )
    role = rendered.one("aws:iam/role:Role", "log-archive-query-reader-role")
    (statement,) = policy_doc(role, "assumeRolePolicy")["Statement"]
    assert statement["Principal"] == {"AWS": analysts}


def test_the_reader_reads_logs_tables_and_its_results_and_nothing_else(log_archive):
    inline = log_archive.one("aws:iam/rolePolicy:RolePolicy", "log-archive-query-reader-policy")
    central, results = f"arn:aws:s3:::{CENTRAL}", f"arn:aws:s3:::{RESULTS}"
    assert policy_doc(inline) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadLogs",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"{central}/AWSLogs/*", f"{central}/CloudWatchLogs/*"],
            },
            {
                "Sid": "ListLogs",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": central,
                "Condition": {"StringLike": {"s3:prefix": ["AWSLogs/*", "CloudWatchLogs/*"]}},
            },
            {
                "Sid": "LocateBuckets",
                "Effect": "Allow",
                "Action": "s3:GetBucketLocation",
                "Resource": [central, results],
            },
            {
                "Sid": "DecryptLogsAndResults",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": KEY_ARN,
                "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
            },
            {
                "Sid": "ReadTables",
                "Effect": "Allow",
                "Action": [
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartition",
                    "glue:GetPartitions",
                    "glue:BatchGetPartition",
                ],
                "Resource": [
                    "arn:aws:glue:us-east-1:222222222222:catalog",
                    "arn:aws:glue:us-east-1:222222222222:database/acme_org_logs",
                    "arn:aws:glue:us-east-1:222222222222:table/acme_org_logs/*",
                ],
            },
            {
                "Sid": "QueryInWorkgroup",
                "Effect": "Allow",
                "Action": [
                    "athena:GetWorkGroup",
                    "athena:StartQueryExecution",
                    "athena:StopQueryExecution",
                    "athena:GetQueryExecution",
                    "athena:GetQueryResults",
                    "athena:GetQueryResultsStream",
                    "athena:ListQueryExecutions",
                    "athena:BatchGetQueryExecution",
                    "athena:GetNamedQuery",
                    "athena:ListNamedQueries",
                    "athena:BatchGetNamedQuery",
                ],
                "Resource": "arn:aws:athena:us-east-1:222222222222:workgroup/acme-org-logs",
            },
            {
                "Sid": "KeepQueryResults",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:AbortMultipartUpload",
                    "s3:ListMultipartUploadParts",
                ],
                "Resource": f"{results}/*",
            },
            {
                "Sid": "ListQueryResults",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": results,
            },
        ],
    }


def test_the_central_bucket_lets_the_reader_role_read(log_archive):
    policy = policy_doc(
        log_archive.one("aws:s3/bucketPolicy:BucketPolicy", "log-archive-central-policy")
    )
    deny = next(s for s in policy["Statement"] if s["Sid"] == "DenyReadingLogsExceptReaders")
    readers = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    assert f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-reader" in readers


def test_every_named_query_is_registered_with_its_text_in_the_workgroup(log_archive):
    registered = {
        q.inputs["name"]: q.inputs for q in log_archive.of_type("aws:athena/namedQuery:NamedQuery")
    }
    expected = named_queries("acme")
    assert sorted(registered) == sorted(q.name for q in expected)
    assert {
        "root-user-activity",
        "console-logins-without-mfa",
        "logging-tampering",
        "denied-calls-by-account",
        "rejected-flows-by-account-and-port",
        "alb-5xx-by-account",
        "errors-by-log-group",
        "objects-per-account-per-day",
    } <= set(registered)
    for query in expected:
        inputs = registered[query.name]
        assert inputs["query"] == query.sql, query.name
        assert inputs["database"] == "acme_org_logs"
        assert inputs["workgroup"] == "acme-org-logs"
        assert inputs["region"] == "us-east-1"


def test_the_stack_exports_the_query_layer(log_archive):
    outputs = log_archive.outputs
    assert outputs["glueDatabase"] == "acme_org_logs"
    assert outputs["athenaWorkgroup"] == "acme-org-logs"
    assert outputs["readerRoleArn"] == f"arn:aws:iam::{LOG_ARCHIVE}:role/acme-logging-reader"
    assert json.dumps(outputs, default=str)
