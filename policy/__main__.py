"""org-logging-guardrails: run by the engine (`pulumi preview --policy-pack policy`)."""

from decode_memo import install as install_decode_memo
from guardrails.cloudtrail import org_trail_hardened
from guardrails.delivery import log_delivery_prefix
from guardrails.logs import log_destination_org_scoped, log_group_naming
from guardrails.organizations import scp_count_limit, scp_presence, scp_size_limit
from guardrails.rds import rds_terse_logging, rds_terse_logging_groups
from guardrails.s3 import (
    central_bucket_hardened,
    log_replication_preserves_history,
    s3_bucket_naming,
)
from pulumi_policy import PolicyPack

install_decode_memo()  # each resource's inputs decoded once, not once per policy
PolicyPack(
    name="org-logging-guardrails",
    policies=[
        s3_bucket_naming,
        rds_terse_logging,
        rds_terse_logging_groups,
        scp_presence,
        scp_size_limit,
        scp_count_limit,
        org_trail_hardened,
        log_replication_preserves_history,
        central_bucket_hardened,
        log_destination_org_scoped,
        log_group_naming,
        log_delivery_prefix,
    ],
)
