"""moto's object requests meet our bucket policies the wrong way: for GET/PUT/HEAD of an object,
moto 5.2.5 evaluates the bucket policy's statements without their request context
(`FakeBucket.get_permission(action, resource)`: no caller, no condition keys), and a statement
whose condition it cannot check counts as a Deny. `DenyInsecureTransport` (`s3:*` unless
`aws:SecureTransport` is false) so refuses every object request, TLS or not, whoever asks.

The tests that move objects (verify's canary, the delivery simulator's copies) turn that check
off: object requests then go by moto's other checks only, as before moto enforced bucket
policies on objects. What the bucket policies allow and deny for the canary is proved with the
stand-in provider's evaluator instead (tests/test_verify_policies.py), statement by statement.

`python -m tests.e2e.object_policy_gap <moto server args>` runs the emulator server with the
check off.
"""

from __future__ import annotations

from typing import Any


def neutral_get_permission(self: Any, action: str, resource: str) -> Any:
    """`FakeBucket.get_permission` that leaves object requests to moto's other checks."""
    from moto.iam.access_control import PermissionResult

    return PermissionResult.NEUTRAL


def neutral_object_policies() -> None:
    """Make moto's object-level bucket-policy check neutral (in this process)."""
    from moto.s3.models import FakeBucket

    FakeBucket.get_permission = neutral_get_permission  # type: ignore[method-assign]


def main() -> None:
    from enroll.demo import emulator_server

    neutral_object_policies()
    emulator_server.main()


if __name__ == "__main__":
    main()
