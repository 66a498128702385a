"""Validation of survey documents, PATCH changes and answers: every error names its field."""
from __future__ import annotations

import copy
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from backend_fn.errors import BadRequest
from backend_fn.validation import (
    TIMESTAMP,
    round_number,
    validate_answers,
    validate_changes,
    validate_idempotency_key,
    validate_survey,
    validate_survey_id,
)

from .conftest import SAMPLE_ANSWERS, SAMPLE_SURVEY

TEXT_QUESTION = {"type": "text", "text": "Q"}


def survey_with(**fields: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"title": "T", "questions": [dict(TEXT_QUESTION)]}
    document.update(fields)
    return document


def question_survey(**question: Any) -> dict[str, Any]:
    return survey_with(questions=[question])


INVALID_SURVEYS: list[tuple[str, Any, str]] = [
    ("not an object", ["title"], "survey"),
    ("missing title", {"questions": [TEXT_QUESTION]}, "title"),
    ("blank title", survey_with(title="   "), "title"),
    ("long title", survey_with(title="x" * 201), "title"),
    ("title as number", survey_with(title=12), "title"),
    ("description as list", survey_with(description=["d"]), "description"),
    ("long description", survey_with(description="d" * 2001), "description"),
    ("missing questions", {"title": "T"}, "questions"),
    ("no questions", survey_with(questions=[]), "questions"),
    ("questions as string", survey_with(questions="q"), "questions"),
    ("too many questions", survey_with(questions=[TEXT_QUESTION] * 101), "questions"),
    ("question not object", survey_with(questions=["q"]), "questions[0]"),
    ("unknown type", question_survey(type="essay", text="Q"), "questions[0].type"),
    ("missing type", question_survey(text="Q"), "questions[0].type"),
    ("missing text", question_survey(type="text"), "questions[0].text"),
    ("empty text", question_survey(type="text", text=""), "questions[0].text"),
    ("long text", question_survey(type="text", text="q" * 501), "questions[0].text"),
    ("required as string", question_survey(type="text", text="Q", required="yes"), "questions[0].required"),
    ("required as number", question_survey(type="text", text="Q", required=1), "questions[0].required"),
    ("id with space", question_survey(type="text", text="Q", id="a b"), "questions[0].id"),
    ("id too long", question_survey(type="text", text="Q", id="a" * 65), "questions[0].id"),
    ("id as number", question_survey(type="text", text="Q", id=7), "questions[0].id"),
    ("id with hash", question_survey(type="text", text="Q", id="a#b"), "questions[0].id"),
    ("options missing", question_survey(type="single_choice", text="Q"), "questions[0].options"),
    ("one option", question_survey(type="single_choice", text="Q", options=["A"]), "questions[0].options"),
    ("51 options", question_survey(type="multiple_choice", text="Q", options=[str(i) for i in range(51)]), "questions[0].options"),
    ("duplicate options", question_survey(type="single_choice", text="Q", options=["A", "A"]), "questions[0].options[1]"),
    ("duplicate after trim", question_survey(type="single_choice", text="Q", options=["A", " A "]), "questions[0].options[1]"),
    ("empty option", question_survey(type="multiple_choice", text="Q", options=["A", ""]), "questions[0].options[1]"),
    ("option as number", question_survey(type="multiple_choice", text="Q", options=["A", 2]), "questions[0].options[1]"),
    ("long option", question_survey(type="single_choice", text="Q", options=["A", "b" * 201]), "questions[0].options[1]"),
    ("rating max 11", question_survey(type="rating", text="Q", min=1, max=11), "questions[0].max"),
    ("rating min negative", question_survey(type="rating", text="Q", min=-1, max=5), "questions[0].min"),
    ("rating min equals max", question_survey(type="rating", text="Q", min=5, max=5), "questions[0].max"),
    ("rating min above default max", question_survey(type="rating", text="Q", min=6), "questions[0].max"),
    ("rating min as string", question_survey(type="rating", text="Q", min="1", max=5), "questions[0].min"),
    ("rating max as bool", question_survey(type="rating", text="Q", min=0, max=True), "questions[0].max"),
    ("rating max as float", question_survey(type="rating", text="Q", min=1, max=5.0), "questions[0].max"),
    ("number min above max", question_survey(type="number", text="Q", min=5, max=1), "questions[0].max"),
    ("number min as string", question_survey(type="number", text="Q", min="0"), "questions[0].min"),
    ("number max as bool", question_survey(type="number", text="Q", max=True), "questions[0].max"),
    ("number max too large", question_survey(type="number", text="Q", max=1e13), "questions[0].max"),
    ("text max_length zero", question_survey(type="text", text="Q", max_length=0), "questions[0].max_length"),
    ("text max_length 5001", question_survey(type="text", text="Q", max_length=5001), "questions[0].max_length"),
    ("text max_length string", question_survey(type="text", text="Q", max_length="10"), "questions[0].max_length"),
    (
        "duplicate ids",
        survey_with(questions=[{"id": "a", **TEXT_QUESTION}, {"id": "a", **TEXT_QUESTION}]),
        "questions[1].id",
    ),
    ("closes_at words", survey_with(closes_at="tomorrow"), "closes_at"),
    ("closes_at without Z", survey_with(closes_at="2030-01-01T00:00:00"), "closes_at"),
    ("closes_at with offset", survey_with(closes_at="2030-01-01T00:00:00+02:00"), "closes_at"),
    ("closes_at impossible date", survey_with(closes_at="2030-02-30T00:00:00Z"), "closes_at"),
    ("closes_at as number", survey_with(closes_at=1893456000), "closes_at"),
    ("closes_at with Arabic-Indic digits", survey_with(closes_at="٢٠٠٠-01-01T00:00:00Z"), "closes_at"),
    ("closes_at with full-width digits", survey_with(closes_at="２０３０-01-01T00:00:00Z"), "closes_at"),
    ("closes_at fraction in other digits", survey_with(closes_at="2030-01-01T00:00:00.१२३Z"), "closes_at"),
    ("max_responses zero", survey_with(max_responses=0), "max_responses"),
    ("max_responses too big", survey_with(max_responses=1_000_001), "max_responses"),
    ("max_responses string", survey_with(max_responses="5"), "max_responses"),
    ("max_responses bool", survey_with(max_responses=True), "max_responses"),
    ("max_responses float", survey_with(max_responses=5.0), "max_responses"),
]


@pytest.mark.parametrize(("case", "document", "field"), INVALID_SURVEYS, ids=[case for case, _, _ in INVALID_SURVEYS])
def test_validate_survey_rejects_naming_field(case: str, document: Any, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_survey(document)
    assert field in caught.value.message


def test_validate_survey_assigns_ids_by_position() -> None:
    fields = validate_survey(copy.deepcopy(SAMPLE_SURVEY))
    assert [question["id"] for question in fields["questions"]] == ["q1", "q2", "q3", "q4", "q5"]


def test_validate_survey_assigned_ids_skip_given_ones() -> None:
    document = survey_with(questions=[{**TEXT_QUESTION, "id": "q2"}, dict(TEXT_QUESTION), dict(TEXT_QUESTION)])
    ids = [question["id"] for question in validate_survey(document)["questions"]]
    assert ids[0] == "q2"
    assert len(set(ids)) == 3


def test_validate_survey_applies_defaults() -> None:
    document = survey_with(questions=[{"type": "rating", "text": "R"}, {"type": "text", "text": "T"}])
    rating, text = validate_survey(document)["questions"]
    assert (rating["min"], rating["max"]) == (1, 5)
    assert rating["required"] is False
    assert text["max_length"] == 2000


def test_validate_survey_drops_unknown_fields() -> None:
    document = survey_with(owner_sub="someone", questions=[{**TEXT_QUESTION, "color": "red", "options": ["a", "b"]}])
    fields = validate_survey(document)
    assert "owner_sub" not in fields
    assert set(fields["questions"][0]) == {"id", "type", "text", "required", "max_length"}


def test_validate_survey_number_bounds_optional() -> None:
    question = validate_survey(question_survey(type="number", text="N"))["questions"][0]
    assert question["min"] is None
    assert question["max"] is None


def test_validate_survey_trims_title_and_options() -> None:
    fields = validate_survey(survey_with(title="  Trip  ", questions=[{"type": "single_choice", "text": "Q", "options": [" a", "b "]}]))
    assert fields["title"] == "Trip"
    assert fields["questions"][0]["options"] == ["a", "b"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2030-01-31T18:00:00Z", "2030-01-31T18:00:00.000Z"),
        ("2030-01-31T18:00:00.5Z", "2030-01-31T18:00:00.500Z"),
        ("2030-01-31T18:00:00.123456789Z", "2030-01-31T18:00:00.123Z"),
    ],
)
def test_validate_survey_normalises_closes_at(given: str, stored: str) -> None:
    assert validate_survey(survey_with(closes_at=given))["closes_at"] == stored


def test_validate_survey_rejects_oversized_questions() -> None:
    options = [f"{index:03d}" + "o" * 196 for index in range(50)]
    questions = [{"type": "single_choice", "text": "t" * 500, "options": options} for _ in range(40)]
    with pytest.raises(BadRequest) as caught:
        validate_survey(survey_with(questions=questions))
    assert "too large" in caught.value.message


def test_validate_changes_empty_is_rejected() -> None:
    with pytest.raises(BadRequest) as caught:
        validate_changes({"unknown": 1})
    assert "changes nothing" in caught.value.message


def test_validate_changes_keeps_nulls_that_clear() -> None:
    assert validate_changes({"closes_at": None, "max_responses": None}) == {"closes_at": None, "max_responses": None}


@pytest.mark.parametrize("status", ["deleting", "archived", None, 1])
def test_validate_changes_rejects_status(status: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_changes({"status": status})
    assert "status" in caught.value.message


def questions() -> list[dict[str, Any]]:
    return validate_survey(copy.deepcopy(SAMPLE_SURVEY))["questions"]


INVALID_ANSWERS: list[tuple[str, Any, str]] = [
    ("not an object", ["Yes"], "answers"),
    ("required missing", {"q3": 4}, "answers.q1"),
    ("required null", {**SAMPLE_ANSWERS, "q1": None}, "answers.q1"),
    ("required empty string", {**SAMPLE_ANSWERS, "q1": ""}, "answers.q1"),
    ("unknown question", {**SAMPLE_ANSWERS, "q99": "x"}, "answers.q99"),
    ("unknown odd key", {**SAMPLE_ANSWERS, "a b": "x"}, "'a b'"),
    ("single not an option", {**SAMPLE_ANSWERS, "q1": "Maybe"}, "answers.q1"),
    ("single as list", {**SAMPLE_ANSWERS, "q1": ["Yes"]}, "answers.q1"),
    ("multiple not a list", {**SAMPLE_ANSWERS, "q2": "Talks"}, "answers.q2"),
    ("multiple unknown option", {**SAMPLE_ANSWERS, "q2": ["Karaoke"]}, "answers.q2"),
    ("multiple duplicates", {**SAMPLE_ANSWERS, "q2": ["Talks", "Talks"]}, "answers.q2"),
    ("multiple with number", {**SAMPLE_ANSWERS, "q2": [1]}, "answers.q2"),
    ("rating above max", {**SAMPLE_ANSWERS, "q3": 6}, "answers.q3"),
    ("rating below min", {**SAMPLE_ANSWERS, "q3": 0}, "answers.q3"),
    ("rating as string", {**SAMPLE_ANSWERS, "q3": "4"}, "answers.q3"),
    ("rating as bool", {**SAMPLE_ANSWERS, "q3": True}, "answers.q3"),
    ("rating fractional", {**SAMPLE_ANSWERS, "q3": 3.5}, "answers.q3"),
    ("rating integral float", {**SAMPLE_ANSWERS, "q3": 3.0}, "answers.q3"),
    ("number above max", {**SAMPLE_ANSWERS, "q4": 49}, "answers.q4"),
    ("number below min", {**SAMPLE_ANSWERS, "q4": -0.5}, "answers.q4"),
    ("number as string", {**SAMPLE_ANSWERS, "q4": "2"}, "answers.q4"),
    ("number as bool", {**SAMPLE_ANSWERS, "q4": False}, "answers.q4"),
    ("number infinite", {**SAMPLE_ANSWERS, "q4": float("inf")}, "answers.q4"),
    ("number nan", {**SAMPLE_ANSWERS, "q4": float("nan")}, "answers.q4"),
    ("text too long", {**SAMPLE_ANSWERS, "q5": "x" * 501}, "answers.q5"),
    ("text as number", {**SAMPLE_ANSWERS, "q5": 5}, "answers.q5"),
]


@pytest.mark.parametrize(("case", "answers", "field"), INVALID_ANSWERS, ids=[case for case, _, _ in INVALID_ANSWERS])
def test_validate_answers_rejects_naming_field(case: str, answers: Any, field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_answers(questions(), answers)
    assert field in caught.value.message


def test_validate_answers_skips_empty_optional() -> None:
    normalized = validate_answers(questions(), {"q1": "No", "q2": [], "q3": 2, "q4": None, "q5": ""})
    assert normalized == {"q1": "No", "q3": 2}


def test_validate_answers_counts_characters_not_bytes() -> None:
    answers = {**SAMPLE_ANSWERS, "q5": "é" * 500}
    assert validate_answers(questions(), answers)["q5"] == "é" * 500


def test_validate_answers_rounds_numbers() -> None:
    normalized = validate_answers(questions(), {**SAMPLE_ANSWERS, "q4": 1.23456789})
    assert normalized["q4"] == 1.234568


def test_validate_answers_number_limit() -> None:
    unbounded = validate_survey(question_survey(type="number", text="N"))["questions"]
    with pytest.raises(BadRequest) as caught:
        validate_answers(unbounded, {"q1": 10**12 + 1})
    assert "answers.q1" in caught.value.message


def number_question(**bounds: Any) -> list[dict[str, Any]]:
    return validate_survey(question_survey(type="number", text="N", **bounds))["questions"]


def test_validate_survey_keeps_number_bounds_exact() -> None:
    question = number_question(min=0.1234567, max=5.5)[0]
    assert question["min"] == 0.1234567


@pytest.mark.parametrize("answer", [-5.0000001, 5.5000004])
def test_validate_answers_checks_range_before_rounding(answer: float) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_answers(number_question(min=-5, max=5.5), {"q1": answer})
    assert "answers.q1" in caught.value.message


@pytest.mark.parametrize("answer", [0.1234566, 0.12345649])
def test_validate_answers_number_below_exact_min(answer: float) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_answers(number_question(min=0.1234567), {"q1": answer})
    assert "at least 0.1234567," in caught.value.message


def test_validate_answers_number_rounds_onto_bound() -> None:
    normalized = validate_answers(number_question(min=-5, max=5.5), {"q1": 5.4999996})
    assert normalized["q1"] == 5.5


@pytest.mark.parametrize(
    ("bounds", "answer", "stored"),
    [
        ({"max": 0.1234567}, 0.1234566, 0.123456),
        ({"min": 0.1234563}, 0.1234564, 0.123457),
    ],
)
def test_validate_answers_number_rounds_toward_range(bounds: dict[str, float], answer: float, stored: float) -> None:
    normalized = validate_answers(number_question(**bounds), {"q1": answer})
    assert normalized["q1"] == stored


def test_validate_survey_rejects_unstorable_number_range() -> None:
    with pytest.raises(BadRequest) as caught:
        validate_survey(question_survey(type="number", text="N", min=0.1234561, max=0.1234569))
    assert "questions[0].min and questions[0].max" in caught.value.message


def test_validate_survey_infinite_bound_message() -> None:
    # json.loads reads a literal such as 1e309 as infinity.
    with pytest.raises(BadRequest) as caught:
        validate_survey(question_survey(type="number", text="N", min=float("inf")))
    assert "questions[0].min is too large" in caught.value.message
    assert "got a number" not in caught.value.message


def test_validate_survey_fractional_rating_bound_message() -> None:
    with pytest.raises(BadRequest) as caught:
        validate_survey(question_survey(type="rating", text="R", min=1.0))
    assert "questions[0].min must be an integer, got 1.0." in caught.value.message


def test_round_number_uses_shortest_repr() -> None:
    assert round_number(0.1) == Decimal("0.1")


def test_round_number_keeps_integers() -> None:
    assert round_number(10**12) == Decimal(10**12)


@pytest.mark.parametrize("key", ["", "x" * 65, "has space", "semi;colon", "ünïcode", 5])
def test_validate_idempotency_key_rejects(key: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_idempotency_key(key)
    assert "idempotency_key" in caught.value.message


@pytest.mark.parametrize("survey_id", ["", "not-a-uuid", "../etc/passwd", "x" * 500, None, 5])
def test_validate_survey_id_rejects(survey_id: Any) -> None:
    with pytest.raises(BadRequest) as caught:
        validate_survey_id(survey_id)
    assert "survey_id" in caught.value.message


@pytest.mark.parametrize(
    "value",
    ["2030-01-31T18:00:00Z", "2030-01-31T18:00:00.5Z", "2030-01-31T18:00:00.123456789Z", "2030-01-31T18:00:00.1234567890Z",
     "2030-01-31T18:00:00", "2030-01-31T18:00:00+00:00", "2030-01-31 18:00:00Z", "٢٠٣٠-01-31T18:00:00Z", "30-01-31T18:00:00Z"],
)
def test_openapi_closes_at_pattern_matches_validation(value: str) -> None:
    document = yaml.safe_load((Path(__file__).resolve().parents[3] / "api" / "openapi.yaml").read_text())
    for schema in ("SurveyCreate", "SurveyUpdate"):
        pattern = document["components"]["schemas"][schema]["properties"]["closes_at"]["pattern"]
        assert bool(re.search(pattern, value)) == bool(TIMESTAMP.fullmatch(value)), schema
