"""Faults injected into a boto3 client's requests (a botocore `before-send` hook): throttling,
5xx, a malformed 200, for the discovery tests and benchmarks. The request never leaves the
process when a fault is injected; otherwise it goes to the emulator as usual."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse

THROTTLE = (400, {"__type": "TooManyRequestsException", "Message": "Rate exceeded"})
SERVER_ERROR = (500, {"__type": "ServiceException", "Message": "Internal failure"})
UNAVAILABLE = (503, {"__type": "ServiceUnavailableException", "Message": "Try again"})
EMPTY_PAGE = (200, {})


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


@dataclass
class Faults:
    """Fail a `rate` of the calls (all of them to `only`, if given) with one of `kinds`."""

    rate: float
    kinds: tuple[tuple[int, dict], ...] = (THROTTLE,)
    seed: int = 7
    only: Callable[[str], bool] = lambda operation: True
    injected: int = 0
    calls: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def install(self, client: Any) -> Any:
        client.meta.events.register("before-send", self._maybe_fail)
        return client

    def _maybe_fail(self, request: Any, **_: Any) -> AWSResponse | None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
        self.calls += 1
        if not self.only(operation) or self.rng.random() >= self.rate:
            return None
        self.injected += 1
        status, body = self.rng.choice(self.kinds)
        headers = {"Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps(body).encode()))
