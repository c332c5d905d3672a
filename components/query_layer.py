"""QueryLayer: the archive made queryable (README, "Querying the archive").

A Glue database with one table per log type (partition projection over the plan's accounts
and regions: no crawler, no MSCK REPAIR), an Athena workgroup that enforces its settings (engine
v3, a bytes-scanned cutoff, SSE-KMS results in a bucket of our naming that expires them), the
reader role, and the named queries. Built by LogArchive, in the log-archive account.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import naming
from components.archive_tables import (
    TEXT_OUTPUT,
    LogTable,
    Projection,
    log_tables,
    partition_regions,
)
from components.buckets import HardenedBucket, lifecycle_rules
from components.documents.buckets import deny_insecure_transport
from components.documents.grammar import policy
from components.documents.reader import reader_policy, reader_trust_policy
from components.named_queries import named_queries
from components.outputs import as_dict

ATHENA_ENGINE_V3 = "Athena engine version 3"
# Query results are working copies of logs: kept a week (the lifecycle's minimum is a day).
RESULTS_RETENTION_DAYS = 7


@dataclass(frozen=True)
class QueryLayerArgs:
    name_prefix: str
    org_id: str
    account_id: str  # the log-archive account
    home_region: str
    regions: tuple[str, ...]
    accounts: tuple[str, ...]  # projected: the plan's member accounts
    central_bucket: str
    reader_principal_arns: tuple[str, ...]
    bytes_scanned_cutoff: int
    key_arn: pulumi.Input[str]  # the central key: it encrypts the results too


@dataclass(frozen=True)
class QueryLayerOutputs:
    glue_database: str
    athena_workgroup: str
    athena_results_bucket: str
    reader_role_arn: pulumi.Output[str]
    tables: list[str]
    named_queries: list[str]


class QueryLayer(pulumi.ComponentResource):
    """Everything in the log-archive account that lets people query the central bucket."""

    outputs: QueryLayerOutputs

    def __init__(
        self, name: str, args: QueryLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("org-logging:query_layer:QueryLayer", name, None, opts)
        self.logical_name, self.args = name, args
        prefix, home = args.name_prefix, args.home_region
        self.database = naming.glue_database_name(prefix)
        self.workgroup = naming.athena_workgroup_name(prefix)
        self.results = naming.athena_results_bucket_name(prefix, args.account_id, home)

        database = self._database()
        for table in self._log_tables():
            self._table(database, table)
        workgroup = self._workgroup(self._results_bucket())
        queries = self._named_queries(workgroup, database)
        role = self._reader_role()
        self.outputs = QueryLayerOutputs(
            glue_database=self.database,
            athena_workgroup=self.workgroup,
            athena_results_bucket=self.results,
            reader_role_arn=role.arn,
            tables=[t.name for t in self._log_tables()],
            named_queries=queries,
        )
        self.register_outputs(as_dict(self.outputs))

    def child(self, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)  # type: ignore[arg-type]

    def _log_tables(self) -> list[LogTable]:
        args = self.args
        return log_tables(
            Projection(
                org_id=args.org_id,
                accounts=args.accounts,
                regions=args.regions,
                partition_regions=partition_regions(args.home_region),
            )
        )

    def _database(self) -> aws.glue.CatalogDatabase:
        return aws.glue.CatalogDatabase(
            f"{self.logical_name}-database",
            name=self.database,
            description=f"org-logging: the organization's logs in {self.args.central_bucket}",
            region=self.args.home_region,
            opts=self.child(),
        )

    def _table(self, database: aws.glue.CatalogDatabase, table: LogTable) -> aws.glue.CatalogTable:
        bucket = self.args.central_bucket
        return aws.glue.CatalogTable(
            f"{self.logical_name}-{table.name.replace('_', '-')}",
            name=table.name,
            database_name=database.name,
            description=table.description,
            table_type="EXTERNAL_TABLE",
            parameters=table.parameters(bucket),
            partition_keys=[{"name": key.name, "type": "string"} for key in table.partitions],
            storage_descriptor={
                "location": table.location(bucket),
                "input_format": table.input_format,
                "output_format": TEXT_OUTPUT,
                "ser_de_info": {
                    "serialization_library": table.serde,
                    "parameters": dict(table.serde_parameters),
                },
                "columns": [{"name": c.name, "type": c.type} for c in table.columns],
            },
            region=self.args.home_region,
            opts=self.child(),
        )

    def _results_bucket(self) -> aws.s3.Bucket:
        """SSE-KMS under the central key, TLS only, results expire."""
        home, name = self.args.home_region, f"{self.logical_name}-results"
        bucket = aws.s3.Bucket(name, bucket=self.results, region=home, opts=self.child())
        hardened = HardenedBucket(
            self,
            name,
            bucket,
            region=home,
            sse={"sse_algorithm": "aws:kms", "kms_master_key_id": self.args.key_arn},
            lifecycle=lifecycle_rules(RESULTS_RETENTION_DAYS, transitions=False),
        )
        hardened.seal(policy(deny_insecure_transport(home, self.results)))
        return bucket

    def _workgroup(self, results: aws.s3.Bucket) -> aws.athena.Workgroup:
        return aws.athena.Workgroup(
            f"{self.logical_name}-workgroup",
            name=self.workgroup,
            description="org-logging: queries over the organization's logs",
            configuration={
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "bytes_scanned_cutoff_per_query": self.args.bytes_scanned_cutoff,
                "engine_version": {"selected_engine_version": ATHENA_ENGINE_V3},
                "result_configuration": {
                    "output_location": results.bucket.apply(lambda b: f"s3://{b}/"),
                    "encryption_configuration": {
                        "encryption_option": "SSE_KMS",
                        "kms_key_arn": self.args.key_arn,
                    },
                },
            },
            region=self.args.home_region,
            opts=self.child(),
        )

    def _named_queries(
        self, workgroup: aws.athena.Workgroup, database: aws.glue.CatalogDatabase
    ) -> list[str]:
        names = []
        for query in named_queries(self.args.name_prefix):
            aws.athena.NamedQuery(
                f"{self.logical_name}-{query.name}",
                name=query.name,
                description=query.description,
                query=query.sql,
                database=database.name,
                workgroup=workgroup.name,
                region=self.args.home_region,
                opts=self.child(),
            )
            names.append(query.name)
        return names

    def _reader_role(self) -> aws.iam.Role:
        args, home = self.args, self.args.home_region
        role = aws.iam.Role(
            f"{self.logical_name}-reader-role",
            name=naming.reader_role_name(args.name_prefix),
            description="org-logging: reads the archive through Athena (README, Querying)",
            assume_role_policy=json.dumps(
                reader_trust_policy(
                    region=home,
                    account=args.account_id,
                    org_id=args.org_id,
                    principal_arns=args.reader_principal_arns,
                )
            ),
            opts=self.child(),
        )
        aws.iam.RolePolicy(
            f"{self.logical_name}-reader-policy",
            role=role.id,
            policy=pulumi.Output.from_input(args.key_arn).apply(
                lambda key_arn: json.dumps(
                    reader_policy(
                        region=home,
                        account=args.account_id,
                        central_bucket=args.central_bucket,
                        results_bucket=self.results,
                        key_arn=key_arn,
                        database=self.database,
                        workgroup=self.workgroup,
                    )
                )
            ),
            opts=self.child(),
        )
        return role
