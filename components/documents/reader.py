"""The reader role (`{namePrefix}-logging-reader`, docs/security.md): who may assume it, and
what it may do: read the logs (and decrypt them), read the Glue tables, run queries in the
archive's workgroup and keep their results. Nothing else; the bucket policy denies reading
logs to every other principal but adminRoleName."""

from __future__ import annotations

from components import naming
from components.documents.grammar import Document, allow, policy, principal_trust_policy
from policy import conventions


def reader_trust_policy(
    *, region: str, account: str, org_id: str, principal_arns: list[str] | tuple[str, ...]
) -> Document:
    """`readerPrincipalArns` may assume the role; without any, IAM in the log-archive account
    decides (its root is the principal, so an identity policy must grant sts:AssumeRole).
    Either way only from inside the organization."""
    principals = list(principal_arns) or [naming.account_root_arn(region, account)]
    return principal_trust_policy(
        "TrustedReaders",
        {"AWS": principals if len(principals) > 1 else principals[0]},
        ["sts:AssumeRole", "sts:SetSourceIdentity"],
        {"StringEquals": {"aws:PrincipalOrgID": org_id}},
    )


# The central bucket's log prefixes: replicated and trail logs, and Firehose's.
def log_prefixes() -> list[str]:
    return [f"{conventions.AWS_LOGS}/", f"{naming.CLOUDWATCH_LOGS}/"]


# https://docs.aws.amazon.com/athena/latest/ug/workgroups-iam-policy.html (a workgroup user)
ATHENA_QUERY_ACTIONS = [
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
]
GLUE_READ_ACTIONS = [
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetTable",
    "glue:GetTables",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:BatchGetPartition",
]


def reader_policy(
    *,
    region: str,
    account: str,
    central_bucket: str,
    results_bucket: str,
    key_arn: str,
    database: str,
    workgroup: str,
) -> Document:
    central = naming.s3_bucket_arn(region, central_bucket)
    results = naming.s3_bucket_arn(region, results_bucket)
    return policy(
        allow(
            "ReadLogs",
            "s3:GetObject",
            [naming.s3_objects_arn(region, central_bucket, f"{p}*") for p in log_prefixes()],
        ),
        allow(
            "ListLogs",
            "s3:ListBucket",
            central,
            condition={"StringLike": {"s3:prefix": [f"{p}*" for p in log_prefixes()]}},
        ),
        # Athena asks each bucket's region before it lists or writes.
        allow("LocateBuckets", "s3:GetBucketLocation", [central, results]),
        # CloudTrail and Firehose objects are SSE-KMS under the central key; results too.
        allow(
            "DecryptLogsAndResults",
            ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            key_arn,
            condition={"StringEquals": {"kms:ViaService": naming.service_endpoint("s3", region)}},
        ),
        allow("ReadTables", GLUE_READ_ACTIONS, naming.glue_arns(region, account, database)),
        allow(
            "QueryInWorkgroup",
            ATHENA_QUERY_ACTIONS,
            naming.athena_workgroup_arn(region, account, workgroup),
        ),
        allow(
            "KeepQueryResults",
            [
                "s3:GetObject",
                "s3:PutObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            naming.s3_objects_arn(region, results_bucket),
        ),
        allow("ListQueryResults", ["s3:ListBucket", "s3:ListBucketMultipartUploads"], results),
    )
