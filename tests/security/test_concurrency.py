"""Submissions racing each other and a delete: exact counts, one response per key, no orphans."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from boto3.dynamodb.conditions import Key

from tests.security.conftest import ANSWERS, assert_contract_error, survey_state
from tests.security.support import edge_resource
from tests.support.stack import StackUnderTest, User

pytestmark = pytest.mark.integration

MAX_THREADS = 32
SAME_KEY_SUBMISSIONS = 50
DISTINCT_SUBMISSIONS = 200
# Submissions acknowledged before the delete starts, so the delete lands mid-stream.
ACKNOWLEDGED_BEFORE_DELETE = 20
RACING_SUBMISSIONS = 150


def answers_for(index: int) -> dict[str, Any]:
    """Return valid answers that vary with the index, so every count of the results is checked."""
    return {"q1": "Yes" if index % 3 else "No", "q2": 1 + index % 5, "q3": index % 101, "q4": f"note {index}"}


def assert_consistent(state: dict[str, Any], expected: int) -> None:
    """Check that the survey's count, its stored responses and every results count agree."""
    assert state["survey"]["response_count"] == expected
    assert len(state["responses"]) == expected
    assert len({response["response_id"] for response in state["responses"]}) == expected
    results = state["results"]
    assert results["response_count"] == expected
    by_id = {question["id"]: question for question in results["questions"]}
    assert sum(by_id["q1"]["counts"].values()) == expected
    assert sum(by_id["q2"]["distribution"].values()) == expected
    assert by_id["q3"]["count"] == expected
    assert by_id["q4"]["count"] == expected


def test_same_key_submissions_store_one(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    survey_id = create_survey()["survey_id"]
    key = f"same-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        responses = list(pool.map(lambda _: submit(survey_id, key=key), range(SAME_KEY_SUBMISSIONS)))

    statuses = sorted({response.status_code for response in responses})
    assert set(statuses) <= {200, 201}, [response.text for response in responses if response.status_code not in (200, 201)]
    assert len({response.json()["response_id"] for response in responses}) == 1
    assert_consistent(survey_state(stack, owner, survey_id), 1)


def test_distinct_submissions_all_counted(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    survey_id = create_survey()["survey_id"]

    def submit_one(index: int) -> Any:
        return submit(survey_id, answers=answers_for(index), key=f"distinct-{index}-{uuid.uuid4().hex[:8]}")

    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        responses = list(pool.map(submit_one, range(DISTINCT_SUBMISSIONS)))

    failed = [response.text for response in responses if response.status_code != 201]
    assert failed == []
    assert len({response.json()["response_id"] for response in responses}) == DISTINCT_SUBMISSIONS
    state = survey_state(stack, owner, survey_id)
    assert_consistent(state, DISTINCT_SUBMISSIONS)
    q1_counts = next(question for question in state["results"]["questions"] if question["id"] == "q1")["counts"]
    expected_no = len(range(0, DISTINCT_SUBMISSIONS, 3))
    assert q1_counts == {"Yes": DISTINCT_SUBMISSIONS - expected_no, "No": expected_no}


def test_delete_during_submissions_leaves_nothing(
    offline_stack: StackUnderTest, owner: User, create_survey: Callable[..., dict], submit: Callable[..., Any]
) -> None:
    stack = offline_stack
    survey_id = create_survey()["survey_id"]
    acknowledged = threading.Semaphore(0)

    def submit_one(index: int) -> int:
        response = submit(survey_id, answers=answers_for(index), key=f"race-{index}")
        if response.status_code == 201:
            acknowledged.release()
        return response.status_code

    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        futures = [pool.submit(submit_one, index) for index in range(RACING_SUBMISSIONS)]
        for _ in range(ACKNOWLEDGED_BEFORE_DELETE):
            assert acknowledged.acquire(timeout=60), "submissions stopped before the delete could start"
        deleted = stack.delete("/survey", params={"survey_id": survey_id}, headers=owner.headers)
        statuses = [future.result() for future in futures]

    assert deleted.status_code == 200, deleted.text
    # A submission either counted before the delete, or found the survey deleting or gone.
    assert set(statuses) <= {201, 404}, statuses
    assert statuses.count(201) >= ACKNOWLEDGED_BEFORE_DELETE
    assert deleted.json()["responses_deleted"] == statuses.count(201)

    assert_contract_error(stack.get("/survey", params={"survey_id": survey_id}, headers=owner.headers), 404, "not_found")
    assert_contract_error(stack.get("/survey/results", params={"survey_id": survey_id}, headers=owner.headers), 404, "not_found")
    assert_contract_error(submit(survey_id, answers=ANSWERS), 404, "not_found")

    table = edge_resource(stack, "dynamodb").Table(stack.outputs["responses_table"])
    leftover = table.query(KeyConditionExpression=Key("survey_id").eq(survey_id), ConsistentRead=True)
    assert leftover["Items"] == []
    assert leftover["Count"] == 0
    surveys = edge_resource(stack, "dynamodb").Table(stack.outputs["surveys_table"])
    assert "Item" not in surveys.get_item(Key={"survey_id": survey_id}, ConsistentRead=True)
