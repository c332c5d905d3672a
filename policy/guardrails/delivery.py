"""Log delivery: services write where org-logging picks their logs up.

A log written anywhere but `AWSLogs/<account>/` of the account's log bucket is never
replicated, and an API Gateway access log outside `/aws/apigateway/` can't be told apart:
this policy catches both before they happen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import conventions
from guardrails.values import (
    config_of,
    declare_config,
    first,
    get,
    is_false,
    is_true,
    is_unknown,
    name_prefix,
    never_crash,
    unproxied,
)
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy

FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LOAD_BALANCERS = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
CLASSIC_LOAD_BALANCER = "aws:elb/loadBalancer:LoadBalancer"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
API_STAGES = ("aws:apigateway/stage:Stage", "aws:apigatewayv2/stage:Stage")
RESOLVER_LOGGING = "aws:route53/resolverQueryLogConfig:ResolverQueryLogConfig"
S3_ARN = re.compile(r"^arn:[a-z-]+:s3:::(?P<bucket>[^/]+)(?P<path>/.*)?$")
LOG_GROUP_ARN = re.compile(r"^arn:[a-z-]+:logs:[^:]*:[^:]*:log-group:(?P<name>[^:]+)(?::\*)?$")
DELIVERY = "log-delivery-prefix"
DELIVERING_TYPES = (
    FLOW_LOG,
    *LOAD_BALANCERS,
    CLASSIC_LOAD_BALANCER,
    DISTRIBUTION,
    *API_STAGES,
    RESOLVER_LOGGING,
)


def log_bucket_pattern(prefix: str | None) -> re.Pattern[str]:
    who = re.escape(prefix) if prefix else "[a-z0-9-]+"
    return re.compile(rf"^{who}-logs-(?P<account>[0-9]{{12}})-(?P<region>[a-z0-9-]+)$")


class Checker:
    def __init__(self, args: Any, report_violation: Any, config: Mapping[str, Any]) -> None:
        self.args = args
        self.report = report_violation
        self.prefix = name_prefix(config)
        self.log_buckets = log_bucket_pattern(self.prefix)
        self.example = f"{self.prefix or '<namePrefix>'}-logs-<accountId>-<region>"

    def what(self) -> str:
        return f"{self.args.resource_type.split(':')[-1]} {self.args.name!r}"

    def bucket(self, bucket: Any, prefix: Any, service: str) -> None:
        """S3 delivery by bucket name and key prefix (ELB, CloudFront)."""
        if is_unknown(bucket) or is_unknown(prefix):
            return
        if not isinstance(bucket, str) or not self.log_buckets.fullmatch(bucket):
            self.report(
                f"{self.what()} delivers {service} logs to bucket {bucket!r}, which org-logging "
                f"does not collect. Deliver to the account's log bucket {self.example} (the "
                "source stack's logBucketName output)."
            )
            return
        if prefix:
            self.report(
                f"{self.what()} delivers {service} logs under prefix {prefix!r}, so they land in "
                f"{prefix.rstrip('/')}/AWSLogs/... and are never replicated. Remove the prefix: "
                f"the service writes AWSLogs/<accountId>/ itself."
            )

    def s3_arn(self, arn: Any, service: str) -> None:
        """S3 delivery by destination ARN (flow logs, resolver query logs)."""
        if is_unknown(arn):
            return
        match = S3_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if not match:
            self.report(f"{self.what()} has an S3 destination {arn!r} that is not an S3 ARN.")
            return
        path = (match["path"] or "").strip("/")
        self.bucket(match["bucket"], path, service)

    def log_group(self, arn: Any, service: str) -> None:
        if is_unknown(arn):
            return
        match = LOG_GROUP_ARN.fullmatch(arn) if isinstance(arn, str) else None
        name = match["name"] if match else None
        if not name or not name.startswith(conventions.API_GATEWAY_LOG_GROUP_PREFIX):
            self.report(
                f"{self.what()} sends {service} to {arn!r}; use a log group named "
                f"{conventions.API_GATEWAY_LOG_GROUP_PREFIX}<api>/<stage> so the archive can tell "
                "these logs from others."
            )


@never_crash(DELIVERY)
def validate_delivery(args: Any, report_violation: Any) -> None:
    kind = args.resource_type
    if kind not in DELIVERING_TYPES:
        return
    props = unproxied(args.props)
    check = Checker(args, report_violation, config_of(args, DELIVERY))
    if kind == FLOW_LOG:
        destination_type = props.get("logDestinationType")
        if destination_type == "s3":
            check.s3_arn(props.get("logDestination"), "VPC flow")
    elif kind in LOAD_BALANCERS:
        for block, service in (("accessLogs", "access"), ("connectionLogs", "connection")):
            logs = first(props.get(block))
            if isinstance(logs, Mapping) and is_true(logs.get("enabled")):
                check.bucket(logs.get("bucket"), logs.get("prefix"), f"load balancer {service}")
    elif kind == CLASSIC_LOAD_BALANCER:
        logs = first(props.get("accessLogs"))
        if isinstance(logs, Mapping) and not is_false(logs.get("enabled")) and logs.get("bucket"):
            check.bucket(logs.get("bucket"), logs.get("bucketPrefix"), "load balancer access")
    elif kind == DISTRIBUTION:
        logs = first(props.get("loggingConfig"))
        if isinstance(logs, Mapping) and logs.get("bucket"):
            domain = logs.get("bucket")
            if is_unknown(domain) or is_unknown(logs.get("prefix")):
                return
            bucket = domain.split(".s3", 1)[0] if isinstance(domain, str) else domain
            match = check.log_buckets.fullmatch(bucket) if isinstance(bucket, str) else None
            if not match:
                check.bucket(bucket, None, "CloudFront")
                return
            expected = conventions.cloudfront_logs_prefix(match["account"])
            if logs.get("prefix") != expected:
                report_violation(
                    f"{check.what()} logs under prefix {logs.get('prefix')!r}; set "
                    f"loggingConfig.prefix to {expected!r} so the logs are replicated."
                )
    elif kind in API_STAGES:
        settings = first(props.get("accessLogSettings"))
        destination = get(settings, "destinationArn")
        if destination is None:
            report_violation(
                f"{check.what()} has no access logs. Set accessLogSettings.destinationArn to a "
                f"log group named {conventions.API_GATEWAY_LOG_GROUP_PREFIX}<api>/<stage>."
            )
        else:
            check.log_group(destination, "API Gateway access logs")
    elif kind == RESOLVER_LOGGING:
        destination = props.get("destinationArn")
        if (
            isinstance(destination, str)
            and destination.startswith("arn:")
            and ":s3:::" in destination
        ):
            check.s3_arn(destination, "Route 53 resolver query")


log_delivery_prefix = ResourceValidationPolicy(
    name=DELIVERY,
    description=(
        "Flow logs, load balancers, CloudFront and Route 53 resolver query logs deliver to the "
        "account's log bucket under AWSLogs/<account>/; API Gateway stages log to "
        "/aws/apigateway/ log groups."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    validate=validate_delivery,
    config_schema=declare_config(
        DELIVERY,
        {
            "namePrefix": {
                "type": "string",
                "description": "The organization's namePrefix (default: the stack's "
                "org-logging:namePrefix).",
            }
        },
    ),
)
