"""The Glue tables over the central bucket: one per log type, each with partition projection.

Pure: the columns, SerDe and projection of every table, from the writers' layout in
`components/naming.py` (`log_layout`), so the tables read exactly where the logs land. The
log-archive stack registers them (components/query_layer.py); `org-logging query` reads a
local copy of the bucket with them (enroll/query/).

Each table follows AWS's Athena guide for its format, https://docs.aws.amazon.com/athena/latest/ug/
(cloudtrail-logs.html, vpc-flow-logs.html, application-load-balancer-logs.html,
networkloadbalancer-classic-logs.html, elasticloadbalancer-classic-logs.html,
cloudfront-logs.html, querying-r53-resolver-logs.html), with projection over every account
and region of the plan instead of one:
https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from components import naming
from policy import conventions

# Where projected dates start: before it no partition is generated (queries name a window).
PROJECTION_START = "2020/01/01"

TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
CLOUDTRAIL_INPUT = "com.amazon.emr.cloudtrail.CloudTrailInputFormat"
CLOUDTRAIL_SERDE = "com.amazon.emr.hive.serde.CloudTrailSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
REGEX_SERDE = "org.apache.hadoop.hive.serde2.RegexSerDe"
DELIMITED_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"

# Reader kinds: how a file becomes rows (the local reader mirrors each SerDe).
Reader = Literal["cloudtrail", "json", "regex", "delimited"]
PartitionKind = Literal["enum", "date", "injected"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Hive type, as Glue stores it


@dataclass(frozen=True)
class PartitionKey:
    name: str
    kind: PartitionKind
    values: tuple[str, ...] = ()  # enum
    date_format: str = ""  # date: Java's pattern, as the writer formats the folder


@dataclass(frozen=True)
class LogTable:
    name: str
    log_type: str  # one of naming.LOG_TYPES
    description: str
    columns: tuple[Column, ...]
    partitions: tuple[PartitionKey, ...]
    template: str  # the key under the bucket, with ${partition} placeholders
    reader: Reader
    serde: str
    input_format: str = TEXT_INPUT
    serde_parameters: dict[str, str] = field(default_factory=dict)
    skip_header_lines: int = 0

    @property
    def regex(self) -> str:
        return self.serde_parameters.get("input.regex", "")

    def location(self, bucket: str) -> str:
        """The table's LOCATION: the template up to its first placeholder."""
        return f"s3://{bucket}/{self.template.split('${', 1)[0]}"

    def location_template(self, bucket: str) -> str:
        return f"s3://{bucket}/{self.template}"

    def parameters(self, bucket: str) -> dict[str, str]:
        """The Glue table parameters: projection, and how the files are read."""
        params = {
            "EXTERNAL": "TRUE",
            "projection.enabled": "true",
            "storage.location.template": self.location_template(bucket),
        }
        for key in self.partitions:
            params[f"projection.{key.name}.type"] = key.kind
            if key.kind == "enum":
                params[f"projection.{key.name}.values"] = ",".join(key.values)
            elif key.kind == "date":
                params[f"projection.{key.name}.format"] = key.date_format
                params[f"projection.{key.name}.range"] = f"{PROJECTION_START},NOW"
                params[f"projection.{key.name}.interval"] = "1"
                params[f"projection.{key.name}.interval.unit"] = "DAYS"
        if self.skip_header_lines:
            params["skip.header.line.count"] = str(self.skip_header_lines)
        return params


def columns(spec: str) -> tuple[Column, ...]:
    """`name type, name type, ...` (types may nest: struct<a:string,b:array<string>>)."""
    result, depth, start = [], 0, 0
    for index, char in enumerate(spec + ","):
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            name, type_ = spec[start:index].split(None, 1)
            result.append(Column(name.strip(), re.sub(r"\s+", "", type_)))
            start = index + 1
    return tuple(result)


# ---- the columns of each format -------------------------------------------------------------

CLOUDTRAIL_COLUMNS = columns(
    "eventversion string, "
    "useridentity struct<type:string,principalid:string,arn:string,accountid:string,"
    "invokedby:string,accesskeyid:string,username:string,"
    "onbehalfof:struct<userid:string,identitystorearn:string>,"
    "sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,"
    "sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,"
    "username:string>,ec2roledelivery:string,"
    "webidfederationdata:struct<federatedprovider:string,attributes:map<string,string>>>>, "
    "eventtime string, eventsource string, eventname string, awsregion string, "
    "sourceipaddress string, useragent string, errorcode string, errormessage string, "
    "requestparameters string, responseelements string, additionaleventdata string, "
    "requestid string, eventid string, readonly string, "
    "resources array<struct<arn:string,accountid:string,type:string>>, eventtype string, "
    "apiversion string, recipientaccountid string, serviceeventdetails string, "
    "sharedeventid string, vpcendpointid string, vpcendpointaccountid string, "
    "eventcategory string, "
    "tlsdetails struct<tlsversion:string,ciphersuite:string,clienthostheader:string>"
)

# The default format (version 2) of a flow log record, in its order (`start` and `end` are
# reserved words in SQL, so start_time and end_time):
# https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
VPC_FLOW_COLUMNS = columns(
    "version int, account_id string, interface_id string, srcaddr string, dstaddr string, "
    "srcport int, dstport int, protocol bigint, packets bigint, bytes bigint, "
    "start_time bigint, end_time bigint, action string, log_status string"
)

RESOLVER_COLUMNS = columns(
    "version string, account_id string, region string, vpc_id string, query_timestamp string, "
    "query_name string, query_type string, query_class string, rcode string, "
    "answers array<struct<rdata:string,type:string,class:string>>, srcaddr string, "
    "srcport int, transport string, srcids struct<instance:string,resolver_endpoint:string>, "
    "firewall_rule_action string, firewall_rule_group_id string, firewall_domain_list_id string"
)

# Fields after the last known one (AWS appends fields without notice) match the trailing
# non-capturing `(?: .*)?`: the row keeps its columns instead of turning into nulls.
TRAILING = r"(?: .*)?"

ALB_COLUMNS = columns(
    "type string, time string, elb string, client_ip string, client_port int, "
    "target_ip string, target_port int, request_processing_time double, "
    "target_processing_time double, response_processing_time double, elb_status_code int, "
    "target_status_code string, received_bytes bigint, sent_bytes bigint, "
    "request_verb string, request_url string, request_proto string, user_agent string, "
    "ssl_cipher string, ssl_protocol string, target_group_arn string, trace_id string, "
    "domain_name string, chosen_cert_arn string, matched_rule_priority string, "
    "request_creation_time string, actions_executed string, redirect_url string, "
    "lambda_error_reason string, target_port_list string, target_status_code_list string, "
    "classification string, classification_reason string, conn_trace_id string"
)
ALB_REGEX = (
    r"([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) "
    r'([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) "([^ ]*) (.*) (- |[^ ]*)" '
    r'"([^"]*)" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^"]*)" '
    r'([-.0-9]*) ([^ ]*) "([^"]*)" "([^"]*)" "([^ ]*)" "([^\s]+?)" "([^\s]+)" "([^ ]*)" '
    r'"([^ ]*)" ?([^ ]*)?' + TRAILING
)

NLB_COLUMNS = columns(
    "type string, version string, time string, elb string, listener_id string, "
    "client_ip string, client_port int, target_ip string, target_port int, "
    "tcp_connection_time_ms double, tls_handshake_time_ms double, received_bytes bigint, "
    "sent_bytes bigint, incoming_tls_alert int, cert_arn string, certificate_serial string, "
    "tls_cipher_suite string, tls_protocol_version string, tls_named_group string, "
    "domain_name string, alpn_fe_protocol string, alpn_be_protocol string, "
    "alpn_client_preference_list string, tls_connection_creation_time string"
)
# `tls` first (the only type NLB access logs have): an ALB line is not read as an NLB one.
NLB_REGEX = (
    r"(tls) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*):([0-9]*) ([-.0-9]*) "
    r"([-.0-9]*) ([-0-9]*) ([-0-9]*) ([-0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) "
    r"([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*)" + TRAILING
)

CLB_COLUMNS = columns(
    "time string, elb_name string, request_ip string, request_port int, backend_ip string, "
    "backend_port int, request_processing_time double, backend_processing_time double, "
    "client_response_time double, elb_response_code string, backend_response_code string, "
    "received_bytes bigint, sent_bytes bigint, request_verb string, url string, "
    "protocol string, user_agent string, ssl_cipher string, ssl_protocol string"
)
# A timestamp first (ALB and NLB lines start with their type): they are not read as CLB ones.
CLB_REGEX = (
    r"([0-9]{4}-[^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) "
    r'([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) "([^ ]*) ([^ ]*) (- |[^ ]*)" '
    r'"([^"]*)" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*)' + TRAILING
)

# Standard logging's fields in their default order (W3C, tab-separated, two header lines):
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
CLOUDFRONT_COLUMNS = columns(
    "date date, time string, location string, bytes bigint, request_ip string, "
    "method string, host string, uri string, status int, referrer string, "
    "user_agent string, query_string string, cookie string, result_type string, "
    "request_id string, host_header string, request_protocol string, request_bytes bigint, "
    "time_taken double, xforwarded_for string, ssl_protocol string, ssl_cipher string, "
    "response_result_type string, http_version string, fle_status string, "
    "fle_encrypted_fields int, c_port int, time_to_first_byte double, "
    "x_edge_detailed_result_type string, sc_content_type string, sc_content_len bigint, "
    "sc_range_start bigint, sc_range_end bigint"
)

# What our Firehose writes: CloudWatch Logs' subscription envelope, one JSON per line:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html
CLOUDWATCH_LOGS_COLUMNS = columns(
    "messagetype string, owner string, loggroup string, logstream string, "
    "subscriptionfilters array<string>, "
    "logevents array<struct<id:string,timestamp:bigint,message:string>>"
)


# ---- the tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """The values projection enumerates: the plan's accounts and regions."""

    org_id: str
    accounts: tuple[str, ...]
    regions: tuple[str, ...]  # enrolled
    partition_regions: tuple[str, ...]  # every region of the partition (the trail's)


def date_format(separator: str) -> str:
    """The Java pattern of a writer's date folders (yyyy, MM, dd joined by `separator`)."""
    return separator.join(("yyyy", "MM", "dd"))


def _layout_template(log_type: str, org_id: str) -> tuple[str, tuple[str, ...], str]:
    """The writer's layout with placeholders: (template, partition names, date format)."""
    layout = naming.log_layout(log_type, "${account}", org_id)
    if layout.partition == "distribution":
        return layout.prefix, ("account",), ""
    folder = {"region": "region", "vpc": "vpc"}[layout.partition]
    sep = layout.date_separator
    template = f"{layout.partition_prefix('${' + folder + '}')}${{day}}{sep}"
    return template, ("account", folder, "day"), date_format(sep)


def _partitions(
    names: tuple[str, ...], fmt: str, projection: Projection, regions: tuple[str, ...]
) -> tuple[PartitionKey, ...]:
    keys = {
        "account": PartitionKey("account", "enum", projection.accounts),
        "region": PartitionKey("region", "enum", regions),
        # A VPC id is not known in advance: a query names it (WHERE vpc = '...').
        "vpc": PartitionKey("vpc", "injected"),
        "day": PartitionKey("day", "date", date_format=fmt),
    }
    return tuple(keys[name] for name in names)


def _table(
    name: str, log_type: str, description: str, projection: Projection, **kwargs: object
) -> LogTable:
    template, names, fmt = _layout_template(log_type, projection.org_id)
    regions = projection.partition_regions if log_type == "cloudtrail" else projection.regions
    return LogTable(
        name=name,
        log_type=log_type,
        description=description,
        partitions=_partitions(names, fmt, projection, regions),
        template=template,
        **kwargs,  # type: ignore[arg-type]
    )


def _regex(regex: str) -> dict[str, str]:
    return {"serialization.format": "1", "input.regex": regex}


def log_tables(projection: Projection) -> list[LogTable]:
    """Every table of the archive, in a stable order."""
    p = projection
    return [
        _table(
            "cloudtrail",
            "cloudtrail",
            "The organization trail: every account's management events, every region",
            p,
            columns=CLOUDTRAIL_COLUMNS,
            reader="cloudtrail",
            serde=CLOUDTRAIL_SERDE,
            input_format=CLOUDTRAIL_INPUT,
        ),
        _table(
            "vpc_flow_logs",
            "vpcflowlogs",
            "VPC flow logs, default format (version 2)",
            p,
            columns=VPC_FLOW_COLUMNS,
            reader="delimited",
            serde=DELIMITED_SERDE,
            serde_parameters={"field.delim": " ", "serialization.format": " "},
            skip_header_lines=1,
        ),
        _table(
            "route53_resolver_query_logs",
            "route53resolver",
            "Route 53 Resolver query logs (JSON); the path holds the VPC id, so a query names it",
            p,
            columns=RESOLVER_COLUMNS,
            reader="json",
            serde=JSON_SERDE,
        ),
        _table(
            "alb_access_logs",
            "elb",
            "Application Load Balancer access logs (other load balancers' lines read as nulls)",
            p,
            columns=ALB_COLUMNS,
            reader="regex",
            serde=REGEX_SERDE,
            serde_parameters=_regex(ALB_REGEX),
        ),
        _table(
            "nlb_access_logs",
            "elb",
            "Network Load Balancer (TLS) access logs (other load balancers' lines read as nulls)",
            p,
            columns=NLB_COLUMNS,
            reader="regex",
            serde=REGEX_SERDE,
            serde_parameters=_regex(NLB_REGEX),
        ),
        _table(
            "clb_access_logs",
            "elb",
            "Classic Load Balancer access logs (other load balancers' lines read as nulls)",
            p,
            columns=CLB_COLUMNS,
            reader="regex",
            serde=REGEX_SERDE,
            serde_parameters=_regex(CLB_REGEX),
        ),
        _table(
            "cloudfront_logs",
            "cloudfront",
            "CloudFront standard logs (W3C, tab-separated), every distribution of the account",
            p,
            columns=CLOUDFRONT_COLUMNS,
            reader="delimited",
            serde=DELIMITED_SERDE,
            serde_parameters={"field.delim": "\t", "serialization.format": "\t"},
            skip_header_lines=2,
        ),
        _table(
            "cloudwatch_logs",
            "cloudwatchlogs",
            "CloudWatch Logs of every account and enrolled region, as our Firehose writes them: "
            "one subscription envelope per line; the log group is inside",
            p,
            columns=CLOUDWATCH_LOGS_COLUMNS,
            reader="json",
            serde=JSON_SERDE,
        ),
    ]


def partition_regions(home_region: str) -> tuple[str, ...]:
    """Every region of the home region's partition: the organization trail writes them all."""
    partition = conventions.partition_of(home_region)
    return tuple(sorted(r for r, p in conventions.REGIONS.items() if p is partition))


def placeholders(template: str) -> list[str]:
    return re.findall(r"\$\{([a-z_]+)\}", template)
