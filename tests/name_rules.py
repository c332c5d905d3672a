"""AWS's rules for the names only the program makes, as the tests check them (the program
itself makes names; it does not need to judge them)."""

from __future__ import annotations

import re

from policy import conventions

_IAM_ROLE_NAME = re.compile(r"^[A-Za-z0-9_+=,.@-]{1,64}$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$")
_FIREHOSE_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
_EVENT_BUS_NAME = re.compile(r"^[/.\-_A-Za-z0-9]{1,256}$")
_EVENT_RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
_SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_KMS_ALIAS = re.compile(r"^alias/[a-zA-Z0-9/_-]{1,250}$")
_ALARM_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,255}$")
_CWL_DESTINATION = re.compile(r"^[^:*]{1,512}$")


def is_valid_iam_role_name(name: str) -> bool:
    return bool(_IAM_ROLE_NAME.fullmatch(name))


def is_valid_trail_name(name: str) -> bool:
    # CloudTrail also forbids adjacent '.', '_' and '-' such as "my-_trail".
    return bool(_TRAIL_NAME.fullmatch(name)) and not re.search(r"[._-]{2}", name)


def is_valid_firehose_name(name: str) -> bool:
    return bool(_FIREHOSE_NAME.fullmatch(name))


def is_valid_event_bus_name(name: str) -> bool:
    return bool(_EVENT_BUS_NAME.fullmatch(name)) and name != "default"


def is_valid_event_rule_name(name: str) -> bool:
    return bool(_EVENT_RULE_NAME.fullmatch(name))


def is_valid_sns_topic_name(name: str) -> bool:
    return bool(_SNS_TOPIC_NAME.fullmatch(name))


def is_valid_alarm_name(name: str) -> bool:
    return bool(_ALARM_NAME.fullmatch(name))


def is_valid_kms_alias(name: str) -> bool:
    return bool(_KMS_ALIAS.fullmatch(name)) and not name.startswith("alias/aws/")


def is_valid_destination_name(name: str) -> bool:
    return bool(_CWL_DESTINATION.fullmatch(name))


def is_valid_log_group_name(name: str) -> bool:
    return bool(conventions.LOG_GROUP_NAME_PATTERN.fullmatch(name))
