"""Calling AWS APIs that throttle hard (Organizations: a few requests a second) without giving
up, and without believing a malformed reply.

Each call retries on its own, with capped exponential backoff and full jitter: there is no
shared retry budget to exhaust (botocore's quota refused retries after a few hundred faults in a
1,000-account organization) and no client-side rate limit that settles at 2 requests a second
(botocore's adaptive mode). Which errors are worth another attempt is decided by the error
code, never by words in a message. A page without its result key is an error, not an empty
page.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from enroll.util.awserrors import THROTTLING_CODES, TRANSIENT_CODES

# botocore does not retry: `call` does (no shared quota, no adaptive rate limit).
NO_BOTOCORE_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


class MalformedReply(Exception):
    """A 200 reply without the data it must hold."""


def error_code(error: ClientError) -> str:
    code = str(error.response.get("Error", {}).get("Code", ""))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code or str(status or "")


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, EndpointConnectionError):
        return False  # nothing listens there (refused, unknown host): retrying only delays it
    if isinstance(error, ConnectionError | ReadTimeoutError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (
        code in THROTTLING_CODES or code in TRANSIENT_CODES or status in (429, 500, 502, 503, 504)
    )


@dataclass(frozen=True)
class Retry:
    """`attempts` per call; waits drawn uniformly from 0 to min(cap, base * 2**n) seconds."""

    attempts: int = 10
    base: float = 0.25
    cap: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random | None = None

    def wait(self, attempt: int) -> float:
        rng = self.rng or random
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


DEFAULT_RETRY = Retry()


def call(client: Any, operation: str, retry: Retry = DEFAULT_RETRY, **kwargs: Any) -> dict:
    """`client.<operation>(**kwargs)`, retried while the error is throttling or transient."""
    for attempt in range(retry.attempts):
        try:
            return getattr(client, operation)(**kwargs)
        except Exception as error:
            if not is_retryable(error) or attempt == retry.attempts - 1:
                raise
            retry.sleep(retry.wait(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def pages(
    client: Any, operation: str, key: str, retry: Retry = DEFAULT_RETRY, **kwargs: Any
) -> Iterator[dict]:
    """Every item under `key` of every page; a page without `key` is MalformedReply."""
    token: str | None = None
    api_name = client.meta.method_to_api_mapping.get(operation, operation)
    while True:
        page = call(client, operation, retry, **kwargs, **({"NextToken": token} if token else {}))
        if key not in page or not isinstance(page[key], list):
            raise MalformedReply(f"a {api_name} reply has no {key} list")
        yield from page[key]
        token = page.get("NextToken")
        if not token:
            return
