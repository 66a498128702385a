"""Respondent actions: the public view and submissions, with idempotency and the transaction's conditions."""
from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import pytest

from backend_fn.errors import BadRequest, Gone, NotFound, ServiceUnavailable
from backend_fn.service import SurveyService
from backend_fn.store import SurveyStore, TransactionCancelled

from .conftest import OWNER, SAMPLE_ANSWERS, partition_keys

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def response_keys(table: Any, survey_id: str) -> list[str]:
    return [key for key in partition_keys(table, survey_id) if key.startswith("r#")]


def count_of(service: SurveyService, survey_id: str) -> int:
    return service.get_survey(OWNER, survey_id)["response_count"]


def set_status(table: Any, survey_id: str, status: str) -> None:
    table.update_item(
        Key={"survey_id": survey_id},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status},
    )


def test_public_survey_has_no_owner_data(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    public = service.get_public_survey(survey["survey_id"])
    assert set(public) == {"survey_id", "title", "description", "questions", "status", "closes_at"}
    assert public["questions"] == survey["questions"]
    assert OWNER.email not in json.dumps(public)


def test_public_survey_closed_is_gone(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    service.update_survey(OWNER, survey["survey_id"], {"status": "closed"})
    with pytest.raises(Gone):
        service.get_public_survey(survey["survey_id"])


def test_public_survey_unknown_is_not_found(service: SurveyService) -> None:
    with pytest.raises(NotFound):
        service.get_public_survey(UNKNOWN_ID)


def test_submit_stores_response(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    result = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert result.created
    assert count_of(service, survey["survey_id"]) == 1
    listed = service.list_responses(OWNER, survey["survey_id"], None, None)["responses"]
    assert listed[0]["response_id"] == result.response_id
    assert listed[0]["answers"] == SAMPLE_ANSWERS
    assert len(response_keys(responses_table, survey["survey_id"])) == 1


def test_submit_writes_value_index_for_numbers(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    service.submit_response(survey["survey_id"], {"q1": "No", "q3": 1}, None)
    keys = partition_keys(responses_table, survey["survey_id"])
    assert len([key for key in keys if key.startswith("v#q4#")]) == 1


def test_submit_rounds_numbers(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    service.submit_response(survey["survey_id"], {**SAMPLE_ANSWERS, "q4": 2.1234567}, None)
    stored = service.list_responses(OWNER, survey["survey_id"], None, None)["responses"][0]
    assert stored["answers"]["q4"] == 2.123457


def test_submit_invalid_answers_store_nothing(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    with pytest.raises(BadRequest) as caught:
        service.submit_response(survey["survey_id"], {**SAMPLE_ANSWERS, "q3": 3.5}, None)
    assert "answers.q3" in caught.value.message
    assert partition_keys(responses_table, survey["survey_id"]) == []
    assert count_of(service, survey["survey_id"]) == 0


def test_submit_unknown_survey_is_not_found(service: SurveyService) -> None:
    with pytest.raises(NotFound):
        service.submit_response(UNKNOWN_ID, SAMPLE_ANSWERS, None)


def test_submit_deleting_survey_is_not_found(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    survey = create_survey()
    set_status(surveys_table, survey["survey_id"], "deleting")
    with pytest.raises(NotFound):
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)


def test_submit_closed_survey_is_gone(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    service.update_survey(OWNER, survey["survey_id"], {"status": "closed"})
    with pytest.raises(Gone) as caught:
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert "closed" in caught.value.message
    assert count_of(service, survey["survey_id"]) == 0


def test_submit_reopened_survey_accepts(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    service.update_survey(OWNER, survey["survey_id"], {"status": "closed"})
    service.update_survey(OWNER, survey["survey_id"], {"status": "open"})
    assert service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None).created


def test_submit_past_closes_at_is_gone(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    # The test clock starts at 2030-05-01T12:00:00Z.
    survey = create_survey(closes_at="2030-05-01T11:59:59Z")
    with pytest.raises(Gone) as caught:
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert "2030-05-01T11:59:59.000Z" in caught.value.message
    assert count_of(service, survey["survey_id"]) == 0


def test_submit_before_closes_at_accepts(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(closes_at="2030-05-01T13:00:00Z")
    assert service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None).created


def test_submit_max_responses_reached_is_gone(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey(max_responses=2)
    for _ in range(2):
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    with pytest.raises(Gone) as caught:
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert "maximum of 2" in caught.value.message
    assert count_of(service, survey["survey_id"]) == 2


def run_before_first_read(service: SurveyService, action: Callable[[], None]) -> None:
    """Run `action` right after the service's first survey read, as a concurrent request would."""
    real_get_survey = service.store.get_survey
    calls = {"count": 0}

    def get_survey(survey_id: str) -> dict[str, Any] | None:
        item = real_get_survey(survey_id)
        calls["count"] += 1
        if calls["count"] == 1:
            action()
        return item

    service.store.get_survey = get_survey  # type: ignore[method-assign]


def test_submit_closed_during_submission_is_gone(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any, responses_table: Any
) -> None:
    survey = create_survey()
    run_before_first_read(service, lambda: set_status(surveys_table, survey["survey_id"], "closed"))
    with pytest.raises(Gone):
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert partition_keys(responses_table, survey["survey_id"]) == []


def test_submit_filled_during_submission_is_gone(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    survey = create_survey(max_responses=1)
    survey_id = survey["survey_id"]
    fill = lambda: surveys_table.update_item(  # noqa: E731
        Key={"survey_id": survey_id}, UpdateExpression="ADD response_count :one", ExpressionAttributeValues={":one": 1}
    )
    run_before_first_read(service, fill)
    with pytest.raises(Gone) as caught:
        service.submit_response(survey_id, SAMPLE_ANSWERS, None)
    assert "maximum" in caught.value.message


def test_submit_questions_changed_during_submission(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    survey_id = survey["survey_id"]
    new_questions = [{"type": "text", "text": "Only question"}]
    run_before_first_read(service, lambda: service.update_survey(OWNER, survey_id, {"questions": new_questions}))
    with pytest.raises(BadRequest) as caught:
        service.submit_response(survey_id, SAMPLE_ANSWERS, None)
    assert "does not match any question" in caught.value.message
    assert partition_keys(responses_table, survey_id) == []


def test_submit_same_key_returns_same_response(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    first = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "retry-key-1")
    second = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "retry-key-1")
    assert first.created
    assert not second.created
    assert second.response_id == first.response_id
    assert count_of(service, survey["survey_id"]) == 1
    assert len(response_keys(responses_table, survey["survey_id"])) == 1


def test_submit_same_key_after_close_returns_response(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    first = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "late-retry")
    service.update_survey(OWNER, survey["survey_id"], {"status": "closed"})
    again = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "late-retry")
    assert again.response_id == first.response_id
    assert not again.created


def test_submit_same_key_other_survey_is_separate(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    first = service.submit_response(create_survey()["survey_id"], SAMPLE_ANSWERS, "shared-key")
    second = service.submit_response(create_survey()["survey_id"], SAMPLE_ANSWERS, "shared-key")
    assert second.created
    assert second.response_id != first.response_id


def test_submit_concurrent_duplicates_store_once(
    serialized_aws: dict[str, Any],
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "double-click"), range(16))
        )
    assert len({result.response_id for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert count_of(service, survey["survey_id"]) == 1
    assert len(response_keys(responses_table, survey["survey_id"])) == 1


def test_submit_concurrent_distinct_all_counted(
    serialized_aws: dict[str, Any],
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey = create_survey()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda index: service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, f"key-{index}"), range(24)))
    assert len({result.response_id for result in results}) == 24
    assert count_of(service, survey["survey_id"]) == 24
    assert len(response_keys(responses_table, survey["survey_id"])) == 24


def conflict() -> TransactionCancelled:
    return TransactionCancelled({"survey": "TransactionConflict"})


def test_submit_retries_transaction_conflicts(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], sleeps: list[float]
) -> None:
    survey = create_survey()
    real_write = service.store.write_submission
    attempts: list[Any] = []

    def conflict_twice(submission: Any) -> None:
        attempts.append(submission)
        if len(attempts) <= 2:
            raise conflict()
        real_write(submission)

    with mock.patch.object(service.store, "write_submission", autospec=True, side_effect=conflict_twice):
        result = service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    assert result.created
    assert len(attempts) == 3
    assert len(sleeps) == 2
    assert count_of(service, survey["survey_id"]) == 1


def test_submit_gives_up_after_repeated_conflicts(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    with mock.patch.object(SurveyStore, "write_submission", autospec=True, side_effect=conflict()):
        with pytest.raises(ServiceUnavailable):
            service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "busy-key")
    assert count_of(service, survey["survey_id"]) == 0


def test_submit_invalid_key_is_bad_request(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    with pytest.raises(BadRequest) as caught:
        service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, "has space")
    assert "idempotency_key" in caught.value.message
