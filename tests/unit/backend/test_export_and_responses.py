"""Listing responses with paging, and the CSV and JSON exports."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from backend_fn import export, paging
from backend_fn.errors import BadRequest, NotFound, PayloadTooLarge
from backend_fn.paging import encode_token
from backend_fn.service import SurveyService

from .conftest import OTHER, OWNER, SAMPLE_ANSWERS


def submit_numbered(service: SurveyService, survey_id: str, count: int) -> list[str]:
    return [
        service.submit_response(survey_id, {**SAMPLE_ANSWERS, "q5": f"answer {index}"}, None).response_id
        for index in range(count)
    ]


def test_list_responses_pages_oldest_first(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey_id = create_survey()["survey_id"]
    submitted = submit_numbered(service, survey_id, 5)
    seen: list[dict[str, Any]] = []
    token = None
    pages = 0
    while True:
        page = service.list_responses(OWNER, survey_id, 2, token)
        assert len(page["responses"]) <= 2
        seen.extend(page["responses"])
        pages += 1
        token = page["next_token"]
        if token is None:
            break
    assert pages == 3
    assert [item["response_id"] for item in seen] == submitted
    assert [item["answers"]["q5"] for item in seen] == [f"answer {index}" for index in range(5)]
    assert {key for item in seen for key in item} == {"response_id", "submitted_at", "answers"}


def test_list_responses_ignores_other_items(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey_id = create_survey()["survey_id"]
    for index in range(3):
        service.submit_response(survey_id, SAMPLE_ANSWERS, f"key-{index}")
    page = service.list_responses(OWNER, survey_id, 100, None)
    assert len(page["responses"]) == 3
    assert page["next_token"] is None


def test_list_responses_token_of_other_survey(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    first = create_survey()["survey_id"]
    second = create_survey()["survey_id"]
    submit_numbered(service, first, 3)
    token = service.list_responses(OWNER, first, 1, None)["next_token"]
    with pytest.raises(BadRequest) as caught:
        service.list_responses(OWNER, second, 1, token)
    assert "next_token" in caught.value.message


@pytest.mark.parametrize("item_key", ["i#key-1", "a#0", "v#q4#00#x"])
def test_list_responses_token_outside_responses(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], item_key: str
) -> None:
    survey_id = create_survey()["survey_id"]
    token = encode_token({"survey_id": survey_id, "item_key": item_key})
    with pytest.raises(BadRequest) as caught:
        service.list_responses(OWNER, survey_id, 1, token)
    assert "next_token" in caught.value.message


@pytest.mark.parametrize("token", ["garbage", "e30", "%%%", encode_token({"survey_id": "x"})])
def test_list_responses_malformed_token(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], token: str
) -> None:
    survey_id = create_survey()["survey_id"]
    with pytest.raises(BadRequest) as caught:
        service.list_responses(OWNER, survey_id, 1, token)
    assert "next_token" in caught.value.message


def test_list_responses_other_owner_is_not_found(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey_id = create_survey()["survey_id"]
    with pytest.raises(NotFound):
        service.list_responses(OTHER, survey_id, None, None)


def test_export_csv_rows(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey_id = create_survey()["survey_id"]
    ids = [service.submit_response(survey_id, SAMPLE_ANSWERS, None).response_id for _ in range(3)]
    partial = service.submit_response(survey_id, {"q1": "No", "q3": 2}, None).response_id
    exported = service.export_responses(OWNER, survey_id, "csv")
    assert exported.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.body)))
    assert rows[0] == ["response_id", "submitted_at", "q1", "q2", "q3", "q4", "q5"]
    assert [row[0] for row in rows[1:]] == [*ids, partial]
    assert rows[1][2:] == ["Yes", "Talks; Dinner", "4", "2.5", "Great food"]
    assert rows[4][2:] == ["No", "", "2", "", ""]
    assert exported.body.endswith("\r\n")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_export_csv_neutralises_formulas(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], text: str
) -> None:
    survey_id = create_survey()["survey_id"]
    service.submit_response(survey_id, {**SAMPLE_ANSWERS, "q5": text}, None)
    rows = list(csv.reader(io.StringIO(service.export_responses(OWNER, survey_id, "csv").body)))
    assert rows[1][-1] == "'" + text


@pytest.mark.parametrize(
    ("options", "cell"),
    [
        (["x; y", "z"], '["x; y","z"]'),
        (["[a]", "b"], '["[a]","b"]'),
        (["x", "z"], "x; z"),
    ],
)
def test_export_csv_choices_cell(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], options: list[str], cell: str
) -> None:
    question = {"type": "multiple_choice", "text": "Pick", "options": options}
    survey_id = create_survey(questions=[question])["survey_id"]
    service.submit_response(survey_id, {"q1": options}, None)
    rows = list(csv.reader(io.StringIO(service.export_responses(OWNER, survey_id, "csv").body)))
    assert rows[1][-1] == cell


def test_export_csv_joined_cell_neutralises_formulas() -> None:
    cell = export.csv_cell(["=SUM(A1)", "b"])
    assert cell == "'=SUM(A1); b"


def test_export_csv_keeps_negative_numbers(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey_id = create_survey(questions=[{"type": "number", "text": "Delta"}])["survey_id"]
    service.submit_response(survey_id, {"q1": -3}, None)
    rows = list(csv.reader(io.StringIO(service.export_responses(OWNER, survey_id, "csv").body)))
    assert rows[1][-1] == "-3"


def test_export_json_array(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey_id = create_survey()["survey_id"]
    response_id = service.submit_response(survey_id, SAMPLE_ANSWERS, None).response_id
    exported = service.export_responses(OWNER, survey_id, "json")
    assert exported.body[0]["response_id"] == response_id
    assert exported.body[0]["answers"] == SAMPLE_ANSWERS
    assert set(exported.body[0]) == {"response_id", "submitted_at", "answers"}
    json.dumps(exported.body)


def test_export_pages_through_everything(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    survey_id = create_survey()["survey_id"]
    ids = submit_numbered(service, survey_id, 12)
    real_query = service.store.responses.query

    def small_pages(**kwargs: Any) -> dict[str, Any]:
        return real_query(**{**kwargs, "Limit": 5})

    monkeypatch.setattr(service.store.responses, "query", small_pages)
    exported = service.export_responses(OWNER, survey_id, "json")
    assert [item["response_id"] for item in exported.body] == ids


@pytest.mark.parametrize("export_format", ["xlsx", 5, ""])
def test_export_unknown_format(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], export_format: Any
) -> None:
    survey_id = create_survey()["survey_id"]
    with pytest.raises(BadRequest) as caught:
        service.export_responses(OWNER, survey_id, export_format)
    assert "format" in caught.value.message


@pytest.mark.parametrize("export_format", ["csv", "json"])
def test_export_too_large(
    service: SurveyService,
    create_survey: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    export_format: str,
) -> None:
    survey_id = create_survey()["survey_id"]
    for _ in range(5):
        service.submit_response(survey_id, {**SAMPLE_ANSWERS, "q5": "x" * 400}, None)
    monkeypatch.setattr(export, "EXPORT_MAX_BYTES", 1500)
    with pytest.raises(PayloadTooLarge):
        service.export_responses(OWNER, survey_id, export_format)


def test_export_other_owner_is_not_found(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey_id = create_survey()["survey_id"]
    with pytest.raises(NotFound):
        service.export_responses(OTHER, survey_id, "csv")


def test_list_responses_page_fits_payload(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    survey_id = create_survey()["survey_id"]
    for index in range(6):
        service.submit_response(survey_id, {**SAMPLE_ANSWERS, "q5": f"{index}" + "x" * 400}, None)
    monkeypatch.setattr(paging, "PAGE_MAX_BYTES", 1200)

    seen: list[str] = []
    sizes: list[int] = []
    token = None
    for _ in range(10):
        page = service.list_responses(OWNER, survey_id, 100, token)
        sizes.append(len(page["responses"]))
        seen.extend(item["answers"]["q5"][0] for item in page["responses"])
        token = page["next_token"]
        if token is None:
            break
    assert token is None
    assert seen == [str(index) for index in range(6)]
    assert max(sizes) < 6
