"""Discovery under faults: throttling and 5xx are retried per call (no shared budget), a
malformed reply is an error and never a smaller organization, the OU walk is cross-checked."""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse
from faults import EMPTY_PAGE, SERVER_ERROR, THROTTLE, UNAVAILABLE, Faults

from enroll.demo.emulator import Emulator, fake_credentials, sample_org
from enroll.org.awscalls import Retry, is_retryable
from enroll.org.discovery import DiscoveryError, discover, organizations_client

NO_WAIT = Retry(attempts=10, sleep=lambda seconds: None)


@pytest.fixture(scope="module")
def emulated():
    with fake_credentials(), Emulator() as emulator:
        sample = sample_org(emulator)
        with fake_credentials():
            clean = discover(organizations_client(emulator.endpoint_url, "us-east-1"))
        yield emulator, sample, clean


def client_with(emulator, faults: Faults):
    return faults.install(organizations_client(emulator.endpoint_url, region="us-east-1"))


def accounts(org) -> list[tuple[str, tuple[str, ...], str]]:
    return sorted((a.id, a.ou_path, a.state) for a in org.accounts)


@pytest.mark.parametrize("kinds", [(THROTTLE,), (SERVER_ERROR, UNAVAILABLE)])
def test_thirty_percent_faults_give_the_same_organization(emulated, kinds):
    emulator, _, clean = emulated
    faults = Faults(rate=0.3, kinds=kinds, seed=11)
    with fake_credentials():
        org = discover(client_with(emulator, faults), tag_key="org-logging-opt-out", retry=NO_WAIT)
    assert faults.injected > 10  # the faults really happened
    assert accounts(org) == accounts(clean)
    assert org.ou_names == clean.ou_names


def test_a_page_without_its_result_key_is_an_error_not_an_empty_page(emulated):
    emulator, _, _ = emulated
    faults = Faults(rate=1.0, kinds=(EMPTY_PAGE,), only=lambda op: op == "ListAccountsForParent")
    with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
        discover(client_with(emulator, faults), retry=NO_WAIT)
    assert str(stopped.value) == (
        "the Organizations API sent a malformed reply (a ListAccountsForParent reply has no "
        "Accounts list); nothing was planned from it. Run again; if it persists, check the "
        "endpoint."
    )


def test_an_empty_tags_page_cannot_enroll_an_opted_out_account(emulated):
    emulator, _, _ = emulated
    faults = Faults(rate=1.0, kinds=(EMPTY_PAGE,), only=lambda op: op == "ListTagsForResource")
    with fake_credentials(), pytest.raises(DiscoveryError, match="has no Tags list"):
        discover(client_with(emulator, faults), tag_key="org-logging-opt-out", retry=NO_WAIT)


def test_an_account_the_walk_missed_stops_discovery(emulated):
    """One parent's accounts answered as an empty page with its key: the walk misses them,
    ListAccounts does not."""
    emulator, sample, _ = emulated
    dropped = {"done": False}

    def empty_once(request, **_):
        target = request.headers.get("X-Amz-Target", b"").decode()
        if target.endswith("ListAccountsForParent") and not dropped["done"]:
            dropped["done"] = True
            body = json.dumps({"Accounts": []}).encode()

            class Raw:
                def stream(self, **_):
                    yield body

            return AWSResponse(request.url, 200, {}, Raw())
        return None

    client = organizations_client(emulator.endpoint_url, region="us-east-1")
    client.meta.events.register("before-send", empty_once)
    with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
        discover(client, retry=NO_WAIT)
    assert str(stopped.value).startswith(
        "the OU walk and ListAccounts disagree: only ListAccounts found "
    )
    assert sample.management_account_id in str(stopped.value)  # the root's own accounts


def test_throttling_that_outlasts_the_attempts_says_to_try_later(emulated):
    emulator, _, _ = emulated
    faults = Faults(rate=1.0, kinds=(THROTTLE,), only=lambda op: op == "ListRoots")
    with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
        discover(client_with(emulator, faults), retry=Retry(attempts=3, sleep=lambda s: None))
    assert str(stopped.value) == (
        "the Organizations API refused ListRoots (TooManyRequestsException): Rate exceeded. "
        "It was still failing after 3 attempts; try again later."
    )
    assert faults.injected == 3


def test_advice_about_credentials_only_for_credential_errors(emulated):
    emulator, _, _ = emulated
    denied = (400, {"__type": "AccessDeniedException", "Message": "You don't have permissions"})
    permanent = (400, {"__type": "InvalidInputException", "Message": "bad throttling value"})
    for kind, advice in ((denied, True), (permanent, False)):
        faults = Faults(rate=1.0, kinds=(kind,), only=lambda op: op == "ListRoots")
        with fake_credentials(), pytest.raises(DiscoveryError) as stopped:
            discover(client_with(emulator, faults), retry=NO_WAIT)
        assert ("credentials of the management account" in str(stopped.value)) is advice
        assert faults.injected == 1  # neither is retried


@pytest.mark.parametrize(
    "code, status, retried",
    [
        ("TooManyRequestsException", 400, True),
        ("ThrottlingException", 400, True),
        ("ProvisionedThroughputExceededException", 400, True),
        ("PriorRequestNotComplete", 400, True),
        ("", 429, True),  # a bare 429
        ("ConcurrentModificationException", 400, True),
        ("ServiceException", 500, True),
        ("InvalidInputException", 400, False),
        ("AccessDeniedException", 400, False),
        ("ValidationException", 400, False),
    ],
)
def test_retry_classification_is_by_code_never_by_message(code, status, retried):
    from botocore.exceptions import ClientError

    error = ClientError(
        {
            "Error": {"Code": code, "Message": "throttling mentioned in passing"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "ListRoots",
    )
    assert is_retryable(error) is retried
