"""Owner actions on surveys: create, get, list with paging, update, and the owner check."""
from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from backend_fn.errors import BadRequest, Conflict, NotFound
from backend_fn.paging import encode_token
from backend_fn.service import Caller, SurveyService

from .conftest import OTHER, OWNER, SAMPLE_ANSWERS

SURVEY_KEYS = {
    "survey_id", "title", "description", "questions", "status",
    "created_at", "closes_at", "max_responses", "response_count",
}


def test_create_survey_returns_contract_object(create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(closes_at="2031-01-01T00:00:00Z", max_responses=3)
    assert set(survey) == SURVEY_KEYS
    assert survey["status"] == "open"
    assert survey["response_count"] == 0
    assert survey["closes_at"] == "2031-01-01T00:00:00.000Z"
    assert survey["max_responses"] == 3
    assert survey["created_at"] == "2030-05-01T12:00:00.001Z"


def test_create_survey_stores_owner_not_extra_fields(
    service: SurveyService, surveys_table: Any
) -> None:
    document = {"title": "T", "questions": [{"type": "text", "text": "Q"}], "status": "closed", "owner_sub": "x"}
    survey = service.create_survey(OWNER, document)
    item = surveys_table.get_item(Key={"survey_id": survey["survey_id"]})["Item"]
    assert item["owner_sub"] == OWNER.sub
    assert item["owner_email"] == OWNER.email
    assert item["status"] == "open"
    assert "closes_at" not in item
    assert "max_responses" not in item


def test_create_survey_too_many_transaction_actions(service: SurveyService) -> None:
    document = {"title": "T", "questions": [{"type": "number", "text": f"N{i}"} for i in range(100)]}
    with pytest.raises(BadRequest) as caught:
        service.create_survey(OWNER, document)
    assert caught.value.message.startswith("questions")


def test_get_survey_equals_created(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    assert service.get_survey(OWNER, survey["survey_id"]) == survey


def test_get_survey_other_owner_is_not_found(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    with pytest.raises(NotFound):
        service.get_survey(OTHER, survey["survey_id"])


def test_get_survey_unknown_is_not_found(service: SurveyService) -> None:
    with pytest.raises(NotFound) as caught:
        service.get_survey(OWNER, "00000000-0000-4000-8000-000000000000")
    assert "00000000-0000-4000-8000-000000000000" in caught.value.message


def test_get_survey_deleting_is_not_found(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    survey = create_survey()
    surveys_table.update_item(
        Key={"survey_id": survey["survey_id"]},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": "deleting"},
    )
    with pytest.raises(NotFound):
        service.get_survey(OWNER, survey["survey_id"])


def list_all(service: SurveyService, caller: Caller, limit: int) -> tuple[list[str], int]:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = service.list_surveys(caller, limit, token)
        assert len(page["surveys"]) <= limit
        seen.extend(summary["survey_id"] for summary in page["surveys"])
        pages += 1
        token = page["next_token"]
        if token is None:
            return seen, pages
        assert pages < 20, "paging does not end"


def test_list_surveys_newest_first_in_pages(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    created = [create_survey(title=f"Survey {index}")["survey_id"] for index in range(5)]
    create_survey(caller=OTHER)
    seen, pages = list_all(service, OWNER, 2)
    assert seen == list(reversed(created))
    assert pages == 3


def test_list_surveys_no_trailing_empty_page(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    for _ in range(4):
        create_survey()
    _, pages = list_all(service, OWNER, 2)
    assert pages == 2


def test_list_surveys_summary_shape(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    summary = service.list_surveys(OWNER, None, None)["surveys"][0]
    assert summary == {
        "survey_id": survey["survey_id"],
        "title": survey["title"],
        "status": "open",
        "created_at": survey["created_at"],
        "response_count": 1,
    }


def test_list_surveys_empty(service: SurveyService) -> None:
    assert service.list_surveys(OWNER, None, None) == {"surveys": [], "next_token": None}


def test_list_surveys_skips_deleting(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    kept = [create_survey()["survey_id"] for _ in range(3)]
    hidden = create_survey()["survey_id"]
    kept.append(create_survey()["survey_id"])
    surveys_table.update_item(
        Key={"survey_id": hidden},
        UpdateExpression="SET #s = :d",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":d": "deleting"},
    )
    seen, _ = list_all(service, OWNER, 2)
    assert seen == list(reversed(kept))


def forged_token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


BAD_TOKENS = [
    "garbage",
    "eyJ9",
    "e30",
    "%%%",
    "",
    forged_token(["a"]),
    forged_token({"survey_id": "x", "owner_sub": OWNER.sub}),
    forged_token({"survey_id": "x", "owner_sub": OWNER.sub, "created_at": 5}),
    forged_token({"survey_id": "", "owner_sub": OWNER.sub, "created_at": "2030"}),
    forged_token({"survey_id": "x", "owner_sub": OTHER.sub, "created_at": "2030"}),
    forged_token({"survey_id": "x" * 2000, "owner_sub": OWNER.sub, "created_at": "2030"}),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_list_surveys_bad_token_names_next_token(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], token: str
) -> None:
    create_survey()
    with pytest.raises(BadRequest) as caught:
        service.list_surveys(OWNER, 1, token)
    assert "next_token" in caught.value.message


def test_list_surveys_other_owner_token(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    for _ in range(2):
        create_survey(caller=OTHER)
    token = service.list_surveys(OTHER, 1, None)["next_token"]
    with pytest.raises(BadRequest) as caught:
        service.list_surveys(OWNER, 1, token)
    assert "next_token" in caught.value.message


def test_list_surveys_forged_key_stays_owned(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    create_survey(caller=OTHER)
    mine = create_survey()["survey_id"]
    token = encode_token({"survey_id": "00000000-0000-4000-8000-000000000000", "owner_sub": OWNER.sub, "created_at": "9999"})
    page = service.list_surveys(OWNER, 5, token)
    assert [summary["survey_id"] for summary in page["surveys"]] == [mine]


@pytest.mark.parametrize("limit", [0, 101, -1, "10", 1.5, True])
def test_list_surveys_bad_limit(service: SurveyService, limit: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        service.list_surveys(OWNER, limit, None)
    assert "limit" in caught.value.message


def test_update_survey_changes_fields(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    changes = {
        "title": "Renamed",
        "description": "New",
        "closes_at": "2099-01-01T00:00:00Z",
        "max_responses": 10,
        "status": "closed",
    }
    updated = service.update_survey(OWNER, survey["survey_id"], changes)
    assert updated["title"] == "Renamed"
    assert updated["description"] == "New"
    assert updated["closes_at"] == "2099-01-01T00:00:00.000Z"
    assert updated["max_responses"] == 10
    assert updated["status"] == "closed"
    assert service.get_survey(OWNER, survey["survey_id"]) == updated


def test_update_survey_null_clears_limits(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(max_responses=5, closes_at="2099-01-01T00:00:00Z")
    updated = service.update_survey(OWNER, survey["survey_id"], {"max_responses": None, "closes_at": None})
    assert updated["max_responses"] is None
    assert updated["closes_at"] is None


def test_update_survey_empty_changes(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    with pytest.raises(BadRequest):
        service.update_survey(OWNER, survey["survey_id"], {})


def test_update_survey_other_owner_changes_nothing(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    with pytest.raises(NotFound):
        service.update_survey(OTHER, survey["survey_id"], {"title": "Hijacked"})
    assert service.get_survey(OWNER, survey["survey_id"])["title"] == survey["title"]


def test_update_survey_unknown_is_not_found(service: SurveyService) -> None:
    with pytest.raises(NotFound):
        service.update_survey(OWNER, "00000000-0000-4000-8000-000000000000", {"title": "X"})


def test_update_survey_questions_before_responses(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    updated = service.update_survey(OWNER, survey["survey_id"], {"questions": [{"type": "text", "text": "Only"}]})
    assert updated["questions"] == [{"id": "q1", "type": "text", "text": "Only", "required": False, "max_length": 2000}]
    response = service.submit_response(survey["survey_id"], {"q1": "fine"}, None)
    assert response.created


def test_update_survey_questions_after_response_conflict(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    with pytest.raises(Conflict):
        service.update_survey(OWNER, survey["survey_id"], {"questions": [{"type": "text", "text": "Changed"}], "title": "New"})
    unchanged = service.get_survey(OWNER, survey["survey_id"])
    assert unchanged["questions"] == survey["questions"]
    assert unchanged["title"] == survey["title"]


def test_update_survey_other_fields_after_response(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    service.submit_response(survey["survey_id"], SAMPLE_ANSWERS, None)
    updated = service.update_survey(OWNER, survey["survey_id"], {"title": "Still editable"})
    assert updated["title"] == "Still editable"
    assert updated["response_count"] == 1


def test_update_survey_questions_over_budget(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    with pytest.raises(BadRequest) as caught:
        service.update_survey(OWNER, survey["survey_id"], {"questions": [{"type": "number", "text": "N"}] * 100})
    assert caught.value.message.startswith("questions")
