"""Which AWS error codes are worth another attempt, and which are about credentials: shared by
discovery (boto3 errors) and the Automation API runner (the engine's error text), so both
decide by the error code, never by words in a message."""

from __future__ import annotations

# botocore's own list of throttling codes (botocore/retries/standard.py), and the bare 429.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
        "429",
    }
)
# Not throttling, but AWS says "try again": a concurrent change, a service hiccup.
TRANSIENT_CODES = frozenset(
    {
        "ConcurrentModificationException",
        "ServiceUnavailableException",
        "ServiceException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "500",
        "502",
        "503",
        "504",
    }
)
# The caller cannot do this with these credentials: advice about credentials is right here only.
CREDENTIALS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "AWSOrganizationsNotInUseException",
    }
)
