"""A run keeps one StackResult per stack: a result from a render worker shares the plan's
strings, and survives the trip through pickle whole."""

from __future__ import annotations

import pickle
import sys

from enroll.org.model import PlannedStack, StackResult, Violation


def fresh(text: str) -> str:
    """An equal string that is not the same object (as one unpickled in another process)."""
    return "".join(list(text))


def planned() -> PlannedStack:
    account = fresh("111122223333")
    return PlannedStack(
        fresh(f"source-{account}-eu-west-1"), "source", account, fresh("eu-west-1"), {}
    )


def test_a_result_from_a_worker_shares_the_plans_strings():
    stack = planned()
    sent = pickle.dumps(StackResult.for_stack(stack, "passed", resources=23))
    received = pickle.loads(sent)
    assert received.name is stack.name
    assert received.account_id is stack.account_id
    assert received.region is stack.region
    assert received.role is stack.role
    assert received.status is sys.intern(fresh("passed"))


def test_a_result_survives_pickle_whole():
    violation = Violation("s3-bucket-name", "mandatory", "wrong prefix", "urn:pulumi:x::y::z")
    result = StackResult(
        "source-111122223333-eu-west-1",
        "source",
        "111122223333",
        "eu-west-1",
        "failed",
        resources=23,
        violations=[violation],
        error="boom",
        changes={"create": 3},
        attempts=2,
        duration_seconds=1.5,
        cached=True,
    )
    assert pickle.loads(pickle.dumps(result)) == result
    assert pickle.loads(pickle.dumps(result)).duration_seconds == 1.5  # not part of to_json


def test_a_result_holds_no_per_instance_dict():
    assert not hasattr(StackResult.for_stack(planned(), "passed"), "__dict__")
