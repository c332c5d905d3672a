"""A local copy of the central bucket from an S3 endpoint (the demo's emulator): the log
prefixes only, into a scratch directory named after the bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from components import naming
from enroll.query.engine import QueryError
from policy import conventions

LOG_PREFIXES = (f"{conventions.AWS_LOGS}/", f"{naming.CLOUDWATCH_LOGS}/")


def central_bucket(s3: Any, bucket: str | None) -> str:
    """The given bucket, or the one central bucket (`*-org-logs-*`, not the access logs')."""
    if bucket:
        return bucket
    names = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    central = [n for n in names if "-org-logs-" in n and "-org-logs-access-" not in n]
    if len(central) != 1:
        raise QueryError(f"name the central bucket with --bucket (found: {central or names})")
    return central[0]


def download_archive(endpoint_url: str, bucket: str | None, scratch: Path) -> tuple[str, Path]:
    s3 = boto3.client("s3", endpoint_url=endpoint_url)
    try:
        name = central_bucket(s3, bucket)
        root = scratch / name
        pages = s3.get_paginator("list_objects_v2")
        for prefix in LOG_PREFIXES:
            for page in pages.paginate(Bucket=name, Prefix=prefix):
                for item in page.get("Contents", []):
                    if ".." in item["Key"].split("/"):
                        continue  # never outside the scratch directory
                    target = root / item["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    s3.download_file(name, item["Key"], str(target))
    except (BotoCoreError, ClientError) as error:
        raise QueryError(f"cannot read the bucket at {endpoint_url}: {error}") from None
    root.mkdir(parents=True, exist_ok=True)
    return name, root
