"""The contract between a stack's config and everything that reads or writes it: the config
namespace, the roles, which account each role deploys into, the project name, and the aws
provider version the program is built and judged against. One home for each."""

from __future__ import annotations

import json
import sys
from typing import Any, Literal

PROJECT = "org-logging"
NAMESPACE = "org-logging"  # every org-logging stack config key is "org-logging:<key>"
AWS_PROVIDER_VERSION = "7.51.1"  # pulumi-aws, pinned in requirements.txt

Role = Literal["log-archive", "management", "source"]
# In deployment order: log-archive first, then management, then every source.
ROLES: tuple[Role, ...] = ("log-archive", "management", "source")
# The config key of the account a stack of each role deploys into.
ROLE_ACCOUNT_KEY: dict[str, str] = {
    "log-archive": "logArchiveAccountId",
    "management": "managementAccountId",
    "source": "accountId",
}


def config_key(key: str) -> str:
    """The full stack config key of an org-logging setting; interned, so that the configs of
    a plan's 40,000 stacks share one copy of each key."""
    return sys.intern(f"{NAMESPACE}:{key}")


def config_string(value: Any) -> str:
    """Pulumi config holds strings; structured values are their JSON."""
    return value if isinstance(value, str) else json.dumps(value)
