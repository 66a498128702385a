"""Failures of the backend, SNS and the frontend: what the client gets, and that nothing is half written.

The faults come from the offline stack's test-only `/_local/faults` hook, so these
tests skip on a deployed stack. Every test clears the faults it set, also when it fails.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from tests.security.conftest import SURVEY, assert_contract_error, survey_state
from tests.security.support import clear_faults, edge_resource, faults_set
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

BACKEND_FAILURES = ["raise", "timeout", "garbage"]
# Text of the failures that must not reach the client.
INTERNAL_MARKERS = ("InjectedFault", "Sandbox", "Traceback", "arn:aws", "errorType", "not a Lambda result")


@pytest.fixture
def faults(offline_stack: StackUnderTest) -> Iterator[StackUnderTest]:
    """The offline stack, with every fault cleared after the test."""
    yield offline_stack
    clear_faults(offline_stack)


def backend_fault(stack: StackUnderTest, mode: str) -> Any:
    return faults_set(stack, {"lambda": {stack.outputs["backend_function_name"]: mode}})


def assert_bad_gateway(response: Any) -> None:
    assert_contract_error(response, 502, "bad_gateway")
    for marker in INTERNAL_MARKERS:
        assert marker not in response.text


def partition_items(stack: StackUnderTest, survey_id: str) -> list[dict[str, Any]]:
    """Query the responses table on the edge directly: every item of the survey's partition."""
    table = edge_resource(stack, "dynamodb").Table(stack.outputs["responses_table"])
    items: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {"KeyConditionExpression": Key("survey_id").eq(survey_id), "ConsistentRead": True}
    while True:
        page = table.query(**arguments)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def owner_survey_ids(stack: StackUnderTest, user: User) -> set[str]:
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 100}
    while True:
        body = stack.get("/surveys", params=params, headers=user.headers).json()
        ids.update(summary["survey_id"] for summary in body["surveys"])
        if body["next_token"] is None:
            return ids
        params["next_token"] = body["next_token"]


def notifications_about(stack: StackUnderTest, survey_id: str) -> list[dict[str, str]]:
    return [message for message in stack.outbox() if message["source"] == "sns" and survey_id in message["body"]]


# --- the backend fails -------------------------------------------------------------------


@pytest.mark.parametrize("mode", BACKEND_FAILURES)
def test_failed_create_stores_no_survey(faults: StackUnderTest, owner: User, mode: str) -> None:
    before = owner_survey_ids(faults, owner)
    with backend_fault(faults, mode):
        response = faults.post("/survey/create", json=SURVEY, headers=owner.headers)
    assert_bad_gateway(response)
    assert owner_survey_ids(faults, owner) == before


@pytest.mark.parametrize("mode", BACKEND_FAILURES)
def test_failed_submission_changes_nothing(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any], mode: str
) -> None:
    survey_id = create_survey()["survey_id"]
    assert submit(survey_id).status_code == 201
    before = survey_state(faults, owner, survey_id)
    with backend_fault(faults, mode):
        response = submit(survey_id, key=f"fault-{uuid.uuid4().hex}")
    assert_bad_gateway(response)
    assert survey_state(faults, owner, survey_id) == before


@pytest.mark.parametrize("mode", BACKEND_FAILURES)
def test_failed_patch_leaves_survey_unchanged(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict], mode: str
) -> None:
    survey_id = create_survey()["survey_id"]
    before = survey_state(faults, owner, survey_id)
    changes = {"title": "Changed", "status": "closed", "questions": [{"type": "text", "text": "Replaced"}]}
    with backend_fault(faults, mode):
        response = faults.patch("/survey", params={"survey_id": survey_id}, json=changes, headers=owner.headers)
    assert_bad_gateway(response)
    assert survey_state(faults, owner, survey_id) == before


@pytest.mark.parametrize("mode", BACKEND_FAILURES)
def test_failed_delete_keeps_survey(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any], mode: str
) -> None:
    survey_id = create_survey()["survey_id"]
    assert submit(survey_id).status_code == 201
    before = survey_state(faults, owner, survey_id)
    with backend_fault(faults, mode):
        response = faults.delete("/survey", params={"survey_id": survey_id}, headers=owner.headers)
    assert_bad_gateway(response)
    assert survey_state(faults, owner, survey_id) == before
    assert notifications_about(faults, survey_id) == []


def test_lost_reply_retry_stores_once(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    # The backend stores the response, then its worker dies before replying: the client sees
    # a failure for work that was done, and retrying with the same key must not count it twice.
    survey_id = create_survey()["survey_id"]
    key = f"lost-reply-{uuid.uuid4().hex}"
    with backend_fault(faults, "crash-after-handler"):
        assert_bad_gateway(submit(survey_id, key=key))

    stored = survey_state(faults, owner, survey_id)
    assert stored["survey"]["response_count"] == 1
    assert len(stored["responses"]) == 1

    retried = submit(survey_id, key=key)
    assert retried.status_code in (200, 201), retried.text
    assert retried.json()["response_id"] == stored["responses"][0]["response_id"]
    after = survey_state(faults, owner, survey_id)
    assert after["survey"]["response_count"] == 1
    assert after["results"]["response_count"] == 1
    assert len(after["responses"]) == 1


def test_frontend_failure_is_contract_error(faults: StackUnderTest, owner: User) -> None:
    with faults_set(faults, {"lambda": {faults.outputs["frontend_function_name"]: "raise"}}):
        response = faults.get("/surveys", headers=owner.headers)
    assert_bad_gateway(response)
    assert response.headers.get("Access-Control-Allow-Origin")


# --- SNS fails during a delete -----------------------------------------------------------


def test_sns_failure_still_deletes_everything(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    survey_id = create_survey()["survey_id"]
    for index in range(3):
        assert submit(survey_id, key=f"sns-{index}-{uuid.uuid4().hex}").status_code == 201
    assert partition_items(faults, survey_id)

    with faults_set(faults, {"sns": "fail"}):
        response = faults.delete("/survey", params={"survey_id": survey_id}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"survey_id": survey_id, "deleted": True, "responses_deleted": 3}

    assert_contract_error(faults.get("/survey", params={"survey_id": survey_id}, headers=owner.headers), 404, "not_found")
    assert_contract_error(faults.get("/survey/public", params={"survey_id": survey_id}), 404, "not_found")
    assert_contract_error(submit(survey_id), 404, "not_found")
    assert partition_items(faults, survey_id) == []
    assert notifications_about(faults, survey_id) == []


def test_sns_failure_notification_sent_later(
    faults: StackUnderTest, owner: User, create_survey: Callable[..., dict]
) -> None:
    # The notification that SNS rejected is kept and sent by the next delete that reaches SNS.
    missed = create_survey(title="Missed notification")["survey_id"]
    with faults_set(faults, {"sns": "fail"}):
        deleted = faults.delete("/survey", params={"survey_id": missed}, headers=owner.headers)
    assert deleted.status_code == 200, deleted.text
    assert notifications_about(faults, missed) == []

    later = create_survey()["survey_id"]
    assert faults.delete("/survey", params={"survey_id": later}, headers=owner.headers).status_code == 200

    assert len(notifications_about(faults, later)) == 1
    sent = notifications_about(faults, missed)
    assert len(sent) == 1
    assert sent[0]["subject"] == "Survey deleted: Missed notification"
    message = json.loads(sent[0]["body"])
    assert message["event"] == "survey.deleted"
    assert message["survey_id"] == missed
