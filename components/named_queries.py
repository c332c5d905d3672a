"""The named queries of the archive, in Athena's SQL (Trino): the log-archive stack registers
them in the workgroup, and `org-logging query NAME` runs the same text locally with DuckDB
(transpiled by sqlglot). There is no second copy of any query.

Each query reads a window of `WINDOW_DAYS` days of the `day` partition: projection then
touches only those days' prefixes, which is what Athena bills (bytes scanned).
"""

from __future__ import annotations

from dataclasses import dataclass

from components import naming

WINDOW_DAYS = 7
# The window's days, as the `day` partition writes them (yyyy/MM/dd), today included.
SINCE = f"date_format(current_date - interval '{WINDOW_DAYS}' day, '%Y/%m/%d')"
UNTIL = "date_format(current_date, '%Y/%m/%d')"
WINDOW = f"day BETWEEN {SINCE} AND {UNTIL}"


@dataclass(frozen=True)
class NamedQuery:
    name: str
    description: str
    tables: tuple[str, ...]
    sql: str


def _bucket_pattern(prefix: str) -> str:
    """A LIKE pattern for every log bucket we create (source and central)."""
    return f"{prefix}-%logs-%"


def named_queries(name_prefix: str) -> list[NamedQuery]:
    buckets = _bucket_pattern(name_prefix)
    roles = f"%:role/{naming.protected_name_prefix(name_prefix)}%"
    return [
        NamedQuery(
            "root-user-activity",
            "Calls made by any account's root user in the last 7 days",
            ("cloudtrail",),
            f"""SELECT account, eventtime, eventsource, eventname, awsregion, sourceipaddress,
       errorcode
FROM cloudtrail
WHERE {WINDOW}
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
ORDER BY eventtime DESC, account
LIMIT 1000""",
        ),
        NamedQuery(
            "console-logins-without-mfa",
            "Console sign-ins without MFA in the last 7 days",
            ("cloudtrail",),
            f"""SELECT account, eventtime, useridentity.type AS identity_type,
       useridentity.arn AS principal, sourceipaddress,
       json_extract_scalar(responseelements, '$.ConsoleLogin') AS result
FROM cloudtrail
WHERE {WINDOW}
  AND eventname = 'ConsoleLogin'
  AND json_extract_scalar(additionaleventdata, '$.MFAUsed') = 'No'
ORDER BY eventtime DESC, account
LIMIT 1000""",
        ),
        NamedQuery(
            "logging-tampering",
            "Calls, allowed or not, that stop or change CloudTrail, SCPs, the log buckets or "
            "the logging roles, in the last 7 days",
            ("cloudtrail",),
            f"""SELECT account, eventtime, eventsource, eventname, useridentity.arn AS principal,
       errorcode,
       coalesce(json_extract_scalar(requestparameters, '$.bucketName'),
                json_extract_scalar(requestparameters, '$.name'),
                json_extract_scalar(requestparameters, '$.policyId'),
                json_extract_scalar(requestparameters, '$.roleName')) AS target
FROM cloudtrail
WHERE {WINDOW}
  AND (
    (eventsource = 'cloudtrail.amazonaws.com'
     AND eventname IN ('StopLogging', 'DeleteTrail', 'UpdateTrail', 'PutEventSelectors',
                       'PutInsightSelectors'))
    OR (eventsource = 'organizations.amazonaws.com'
        AND eventname IN ('DetachPolicy', 'DeletePolicy', 'UpdatePolicy',
                          'DisablePolicyType', 'LeaveOrganization'))
    OR (eventsource = 's3.amazonaws.com'
        AND eventname IN ('PutBucketPolicy', 'DeleteBucketPolicy', 'PutBucketReplication',
                          'DeleteBucketReplication', 'PutBucketLifecycle',
                          'DeleteBucketLifecycle', 'PutBucketVersioning',
                          'PutBucketEncryption', 'DeleteBucketEncryption',
                          'PutObjectLockConfiguration', 'DeleteBucket')
        AND json_extract_scalar(requestparameters, '$.bucketName') LIKE '{buckets}')
    OR (eventsource = 'iam.amazonaws.com'
        AND eventname IN ('UpdateAssumeRolePolicy', 'PutRolePolicy', 'DeleteRolePolicy',
                          'AttachRolePolicy', 'DetachRolePolicy', 'DeleteRole')
        AND useridentity.arn NOT LIKE '{roles}')
  )
ORDER BY eventtime DESC, account
LIMIT 1000""",
        ),
        NamedQuery(
            "denied-calls-by-account",
            "API calls refused for lack of permission, per account and error, last 7 days",
            ("cloudtrail",),
            f"""SELECT account, errorcode, count(*) AS calls,
       count(DISTINCT useridentity.arn) AS principals
FROM cloudtrail
WHERE {WINDOW}
  AND (errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation%')
GROUP BY account, errorcode
ORDER BY calls DESC, account""",
        ),
        NamedQuery(
            "rejected-flows-by-account-and-port",
            "Rejected VPC flows per account, destination port and protocol, last 7 days",
            ("vpc_flow_logs",),
            f"""SELECT account, dstport, protocol, count(*) AS flows, sum(packets) AS packets
FROM vpc_flow_logs
WHERE {WINDOW}
  AND action = 'REJECT'
GROUP BY account, dstport, protocol
ORDER BY flows DESC, account, dstport
LIMIT 100""",
        ),
        NamedQuery(
            "alb-5xx-by-account",
            "Application Load Balancer 5xx responses per account and load balancer, last 7 days",
            ("alb_access_logs",),
            f"""SELECT account, elb, elb_status_code, count(*) AS responses
FROM alb_access_logs
WHERE {WINDOW}
  AND elb_status_code >= 500
GROUP BY account, elb, elb_status_code
ORDER BY responses DESC, account, elb""",
        ),
        NamedQuery(
            "errors-by-log-group",
            "CloudWatch Logs events that mention an error, per account and log group, last 7 days",
            ("cloudwatch_logs",),
            f"""SELECT account, loggroup, count(*) AS events
FROM cloudwatch_logs
CROSS JOIN UNNEST(logevents) AS t(event)
WHERE {WINDOW}
  AND messagetype = 'DATA_MESSAGE'
  AND lower(event.message) LIKE '%error%'
GROUP BY account, loggroup
ORDER BY events DESC, account, loggroup""",
        ),
        NamedQuery(
            "objects-per-account-per-day",
            "Log objects that arrived per log type, account and day, last 7 days (a silent "
            "account shows as a gap)",
            ("cloudtrail", "vpc_flow_logs", "alb_access_logs", "cloudwatch_logs"),
            f"""SELECT log_type, account, day, count(DISTINCT "$path") AS objects
FROM (
  SELECT 'cloudtrail' AS log_type, account, day, "$path" FROM cloudtrail
  WHERE {WINDOW}
  UNION ALL
  SELECT 'vpcflowlogs', account, day, "$path" FROM vpc_flow_logs
  WHERE {WINDOW}
  UNION ALL
  SELECT 'elb', account, day, "$path" FROM alb_access_logs
  WHERE {WINDOW}
  UNION ALL
  SELECT 'cloudwatchlogs', account, day, "$path" FROM cloudwatch_logs
  WHERE {WINDOW}
) AS arrivals
GROUP BY log_type, account, day
ORDER BY log_type, account, day""",
        ),
    ]


def named_query(name_prefix: str, name: str) -> NamedQuery:
    for query in named_queries(name_prefix):
        if query.name == name:
            return query
    known = ", ".join(q.name for q in named_queries(name_prefix))
    raise KeyError(f"unknown query {name!r}; one of {known}")
