"""Responses, results and export over HTTP."""
from __future__ import annotations

import csv
import io
import random
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.conftest import SAMPLE_ANSWERS, assert_error
from tests.support.stack import StackUnderTest, User


def submit(stack: StackUnderTest, survey_id: str, answers: dict[str, Any]) -> str:
    response = stack.post("/survey/respond", json={"survey_id": survey_id, "answers": answers})
    assert response.status_code == 201, response.text
    return response.json()["response_id"]


def random_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "q1": rng.choice(["Yes", "No"]),
        "q2": rng.sample(["Talks", "Workshops", "Dinner"], rng.randint(0, 3)),
        "q3": rng.randint(1, 5),
    }
    if rng.random() < 0.7:
        answers["q4"] = rng.choice([0, 1, 2.5, 10, 47.25])
    if rng.random() < 0.5:
        answers["q5"] = "comment"
    return answers


def expected_results(all_answers: list[dict[str, Any]]) -> dict[str, Any]:
    single = Counter(answers["q1"] for answers in all_answers)
    multiple = Counter(option for answers in all_answers for option in answers["q2"])
    ratings = [answers["q3"] for answers in all_answers]
    numbers = [answers["q4"] for answers in all_answers if "q4" in answers]
    texts = [answers["q5"] for answers in all_answers if "q5" in answers]
    return {
        "single": {"Yes": single["Yes"], "No": single["No"]},
        "multiple": {option: multiple[option] for option in ["Talks", "Workshops", "Dinner"]},
        "ratings": ratings,
        "numbers": numbers,
        "texts": texts,
    }


def test_results_exact_after_concurrent_submissions(
    stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]
) -> None:
    survey = create_survey()
    rng = random.Random(20261204)
    all_answers = [random_answers(rng) for _ in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda answers: submit(stack, survey["survey_id"], answers), all_answers))

    response = stack.get("/survey/results", params={"survey_id": survey["survey_id"]}, headers=owner.headers)
    assert response.status_code == 200, response.text
    results = response.json()
    expected = expected_results(all_answers)

    assert results["survey_id"] == survey["survey_id"]
    assert results["response_count"] == 40
    by_id = {question["id"]: question for question in results["questions"]}
    assert [question["id"] for question in results["questions"]] == ["q1", "q2", "q3", "q4", "q5"]

    assert by_id["q1"]["counts"] == expected["single"]
    assert by_id["q1"]["answered"] == 40
    assert by_id["q2"]["counts"] == expected["multiple"]

    ratings = expected["ratings"]
    assert by_id["q3"]["count"] == len(ratings)
    assert by_id["q3"]["average"] == pytest.approx(sum(ratings) / len(ratings))
    assert by_id["q3"]["min"] == min(ratings)
    assert by_id["q3"]["max"] == max(ratings)
    assert by_id["q3"]["distribution"] == {str(value): ratings.count(value) for value in range(1, 6)}

    numbers = expected["numbers"]
    assert by_id["q4"]["count"] == len(numbers)
    assert by_id["q4"]["answered"] == len(numbers)
    assert by_id["q4"]["average"] == pytest.approx(sum(numbers) / len(numbers))
    assert by_id["q4"]["min"] == min(numbers)
    assert by_id["q4"]["max"] == max(numbers)

    assert by_id["q5"]["count"] == len(expected["texts"])
    for question in results["questions"]:
        assert {"id", "type", "text", "answered"} <= set(question)


def test_results_empty_survey_has_zero_counts(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    results = stack.get("/survey/results", params={"survey_id": survey["survey_id"]}, headers=owner.headers).json()
    assert results["response_count"] == 0
    by_id = {question["id"]: question for question in results["questions"]}
    assert by_id["q1"]["counts"] == {"Yes": 0, "No": 0}
    assert by_id["q2"]["counts"] == {"Talks": 0, "Workshops": 0, "Dinner": 0}
    assert by_id["q3"]["distribution"] == {str(value): 0 for value in range(1, 6)}
    assert by_id["q3"]["count"] == 0
    assert by_id["q4"]["count"] == 0


def test_responses_page_oldest_first(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    submitted = [submit(stack, survey["survey_id"], {**SAMPLE_ANSWERS, "q5": f"answer {index}"}) for index in range(5)]

    seen: list[dict[str, Any]] = []
    next_token = None
    for _ in range(10):
        params: dict[str, Any] = {"survey_id": survey["survey_id"], "limit": 2}
        if next_token:
            params["next_token"] = next_token
        response = stack.get("/survey/responses", params=params, headers=owner.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["responses"]) <= 2
        seen.extend(body["responses"])
        next_token = body["next_token"]
        if next_token is None:
            break
    assert next_token is None
    assert [item["response_id"] for item in seen] == submitted
    assert [item["answers"]["q5"] for item in seen] == [f"answer {index}" for index in range(5)]
    for item in seen:
        assert set(item) == {"response_id", "submitted_at", "answers"}


def test_responses_token_of_other_survey_is_bad_request(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    first = create_survey()
    second = create_survey()
    for _ in range(3):
        submit(stack, first["survey_id"], SAMPLE_ANSWERS)
    page = stack.get("/survey/responses", params={"survey_id": first["survey_id"], "limit": 1}, headers=owner.headers).json()
    assert page["next_token"]
    response = stack.get(
        "/survey/responses",
        params={"survey_id": second["survey_id"], "next_token": page["next_token"]},
        headers=owner.headers,
    )
    assert_error(response, 400, "bad_request")


def test_export_csv_has_row_per_response(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    ids = [submit(stack, survey["survey_id"], SAMPLE_ANSWERS) for _ in range(3)]
    formula = submit(stack, survey["survey_id"], {**SAMPLE_ANSWERS, "q5": "=HYPERLINK(\"x\")"})
    response = stack.get("/survey/export", params={"survey_id": survey["survey_id"], "format": "csv"}, headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:2] == ["response_id", "submitted_at"]
    assert len(rows) == 5
    assert [row[0] for row in rows[1:]] == [*ids, formula]
    assert not rows[4][-1].startswith("="), "a cell starting with = must be neutralised against formula injection"


def test_export_json_is_array(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response_id = submit(stack, survey["survey_id"], SAMPLE_ANSWERS)
    response = stack.get("/survey/export", params={"survey_id": survey["survey_id"], "format": "json"}, headers=owner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    assert body[0]["response_id"] == response_id
    assert body[0]["answers"] == SAMPLE_ANSWERS


def test_export_unknown_format_is_bad_request(stack: StackUnderTest, owner: User, create_survey: Callable[..., dict]) -> None:
    survey = create_survey()
    response = stack.get("/survey/export", params={"survey_id": survey["survey_id"], "format": "xlsx"}, headers=owner.headers)
    body = assert_error(response, 400, "bad_request")
    assert "format" in body["message"]
