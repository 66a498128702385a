"""Results through the service: exact counts after many submissions, at a cost independent of the count."""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from backend_fn.errors import NotFound
from backend_fn.service import SurveyService

from .conftest import OTHER, OWNER, SAMPLE_ANSWERS


def random_answers(rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "q1": rng.choice(["Yes", "No"]),
        "q2": rng.sample(["Talks", "Workshops", "Dinner"], rng.randint(0, 3)),
        "q3": rng.randint(1, 5),
    }
    if rng.random() < 0.7:
        answers["q4"] = rng.choice([0, 1, 2.5, 10, 47.25, 0.000001, 33.333333])
    if rng.random() < 0.5:
        answers["q5"] = "comment"
    return answers


def by_id(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {question["id"]: question for question in results["questions"]}


def test_results_exact_after_many_submissions(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey()
    rng = random.Random(20301204)
    all_answers = [random_answers(rng) for _ in range(120)]
    for answers in all_answers:
        service.submit_response(survey["survey_id"], answers, None)

    results = service.get_results(OWNER, survey["survey_id"])
    questions = by_id(results)
    single = Counter(answers["q1"] for answers in all_answers)
    multiple = Counter(option for answers in all_answers for option in answers["q2"])
    ratings = [answers["q3"] for answers in all_answers]
    numbers = [answers["q4"] for answers in all_answers if "q4" in answers]
    texts = [answers["q5"] for answers in all_answers if "q5" in answers]

    assert results["response_count"] == 120
    assert [question["id"] for question in results["questions"]] == ["q1", "q2", "q3", "q4", "q5"]
    assert questions["q1"]["counts"] == {"Yes": single["Yes"], "No": single["No"]}
    assert questions["q1"]["answered"] == 120
    assert questions["q2"]["counts"] == {option: multiple[option] for option in ["Talks", "Workshops", "Dinner"]}
    assert questions["q2"]["answered"] == sum(1 for answers in all_answers if answers["q2"])
    assert questions["q3"]["count"] == len(ratings)
    assert questions["q3"]["average"] == pytest.approx(sum(ratings) / len(ratings))
    assert questions["q3"]["min"] == min(ratings)
    assert questions["q3"]["max"] == max(ratings)
    assert questions["q3"]["distribution"] == {str(value): ratings.count(value) for value in range(1, 6)}
    assert questions["q4"]["count"] == len(numbers)
    assert questions["q4"]["answered"] == len(numbers)
    assert questions["q4"]["average"] == pytest.approx(sum(numbers) / len(numbers))
    assert questions["q4"]["min"] == min(numbers)
    assert questions["q4"]["max"] == max(numbers)
    assert questions["q5"]["count"] == len(texts)
    assert questions["q5"]["answered"] == len(texts)


def test_results_number_extremes_with_negatives(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey = create_survey(questions=[{"type": "number", "text": "Balance"}])
    values = [5, -1000000000000, 0.5, -0.000001, 999999999999.999999, 0]
    for value in values:
        service.submit_response(survey["survey_id"], {"q1": value}, None)
    number = service.get_results(OWNER, survey["survey_id"])["questions"][0]
    assert number["min"] == -1000000000000
    assert number["max"] == 999999999999.999999
    assert number["count"] == len(values)


def test_results_sum_stays_exact(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey(questions=[{"type": "number", "text": "Amount"}])
    for _ in range(10):
        service.submit_response(survey["survey_id"], {"q1": 0.1}, None)
    number = service.get_results(OWNER, survey["survey_id"])["questions"][0]
    # Adding the floats would give an average of 0.09999999999999999. The stored decimals add up to exactly 1.0.
    assert number["average"] == 0.1


def test_results_other_owner_is_not_found(service: SurveyService, create_survey: Callable[..., dict[str, Any]]) -> None:
    survey = create_survey()
    with pytest.raises(NotFound):
        service.get_results(OTHER, survey["survey_id"])


def count_get_results_calls(aws: dict[str, Any], service: SurveyService, survey_id: str) -> Counter[str]:
    calls: Counter[str] = Counter()

    def record(event_name: str, **_: Any) -> None:
        calls[event_name.rsplit(".", 1)[-1]] += 1

    events = aws["dynamodb"].meta.client.meta.events
    events.register("before-call.dynamodb", record)
    try:
        service.get_results(OWNER, survey_id)
    finally:
        events.unregister("before-call.dynamodb", record)
    return calls


def test_results_cost_independent_of_responses(
    aws: dict[str, Any], service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    small = create_survey()
    large = create_survey()
    for _ in range(10):
        service.submit_response(small["survey_id"], SAMPLE_ANSWERS, None)
    for _ in range(200):
        service.submit_response(large["survey_id"], SAMPLE_ANSWERS, None)

    small_calls = count_get_results_calls(aws, service, small["survey_id"])
    large_calls = count_get_results_calls(aws, service, large["survey_id"])
    assert large_calls == small_calls
    # One survey read, one query of the counter chunks, two queries for the number question.
    assert small_calls == Counter({"GetItem": 1, "Query": 3})
