"""Property-based fuzzing of every operation in api/openapi.yaml against the stack under test.

Schemathesis generates requests that fit the document (positive) and that
break it (negative). Each response must pass these checks:

- no 5xx (`not_a_server_error`);
- the body and status match the documented response (`response_schema_conformance`);
- the Content-Type is one the operation documents (`content_type_conformance`);
- a request that breaks the document is rejected (`negative_data_rejection`);
- an error is `{"error", "message"}` with a contract code that matches the status,
  and carries Access-Control-Allow-Origin (`contract_error_shape`).

Owner routes get the fuzz owner's ID token. Cases whose only broken part is
the Authorization header keep the generated value, and so does every fifth of
the others. Three of four generated survey ids that look like UUIDs are
swapped for real surveys, so the cases reach the backend and not only its 404.
"""
from __future__ import annotations

import copy
import math
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.fuzz.conftest import MIN_TOTAL_CASES, FuzzTally, SurveyPool
from tests.fuzz.contract import error_body_problems
from tests.integration.conftest import SAMPLE_ANSWERS
from tests.support.stack import StackUnderTest, User

schemathesis = pytest.importorskip("schemathesis", reason="the fuzz test needs schemathesis; install the test extras")

from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
)

pytestmark = pytest.mark.integration

UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# One case in this many keeps the generated Authorization header instead of the owner's token.
GENERATED_TOKEN_EVERY = 5
# One case in this many keeps a generated survey id, which is almost never a real survey.
GENERATED_SURVEY_ID_EVERY = 4


def contract_error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis check: every 4xx and 5xx body is the contract's error object."""
    if response.status_code < 400:
        return None
    problems = error_body_problems(response.status_code, response.headers, response.content)
    if problems:
        raise AssertionError(f"{case.operation.label} returned {response.status_code}: {'; '.join(problems)}")
    return None


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
    contract_error_shape,
]


def is_negative(case: Any, location: str) -> bool:
    """Return whether schemathesis generated this part of the request ("header", "query", "body") to break the schema."""
    if case.meta is None:
        return False
    for component_location, info in case.meta.components.items():
        if component_location.value == location:
            return info.mode.value == "negative"
    return False


def requires_token(case: Any) -> bool:
    return bool(case.operation.definition.raw.get("security"))


def use_owner_token(case: Any, index: int, owner: User) -> None:
    """Send the owner's token, unless the case is about the Authorization header itself.

    A case whose only broken part is the header keeps it and expects 401. A
    case broken elsewhere gets the token, so that its broken query or body is
    what the API rejects.
    """
    broken_elsewhere = is_negative(case, "query") or is_negative(case, "body")
    if is_negative(case, "header") and not broken_elsewhere:
        return
    generated = (case.headers or {}).get("Authorization")
    if not broken_elsewhere and generated is not None and index % GENERATED_TOKEN_EVERY == 0:
        return
    case.headers = {**(case.headers or {}), **owner.headers}


def aim_query_at_survey(case: Any, index: int, pool: SurveyPool) -> None:
    survey_id = (case.query or {}).get("survey_id")
    if not isinstance(survey_id, str) or not UUID_PATTERN.fullmatch(survey_id):
        return
    if index % GENERATED_SURVEY_ID_EVERY == 0:
        return
    if case.method.upper() == "DELETE":
        # A deleted survey is gone for the later cases, so each delete gets a new one.
        case.query["survey_id"] = pool.create(responses=1)
    elif case.method.upper() == "PATCH":
        case.query["survey_id"] = pool.editable[index % len(pool.editable)]
    else:
        case.query["survey_id"] = pool.readable[index % len(pool.readable)]


def valid_number(question: dict[str, Any], seed: int) -> int | float:
    """Pick a number answer within the question's bounds: a bound, the midpoint, or a fixed value that fits."""
    low, high = question.get("min"), question.get("max")
    candidates = [value for value in (low, high) if value is not None]
    if low is not None and high is not None:
        candidates.append(round((low + high) / 2, 6))
    candidates.extend(value for value in (0, -2.5, 123.456789) if (low is None or value >= low) and (high is None or value <= high))
    return candidates[seed % len(candidates)]


def valid_answers(questions: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    """Build answers that a survey with these questions must accept, varied by `seed`."""
    answers: dict[str, Any] = {}
    for position, question in enumerate(questions):
        variant = seed + position
        if not question["required"] and variant % 3 == 0:
            continue
        options = question.get("options")
        if question["type"] == "single_choice":
            answers[question["id"]] = options[variant % len(options)]
        elif question["type"] == "multiple_choice":
            answers[question["id"]] = options[: 1 + variant % len(options)]
        elif question["type"] == "rating":
            answers[question["id"]] = question["min"] + variant % (question["max"] - question["min"] + 1)
        elif question["type"] == "number":
            answers[question["id"]] = valid_number(question, variant)
        else:
            answers[question["id"]] = "✓ answer "[: 1 + variant % 9][: question["max_length"]]
    return answers


def aim_submission_at_survey(case: Any, index: int, pool: SurveyPool) -> bool:
    """Point a generated submission at a real survey, and give some of them valid answers or real question ids.

    Returns whether the request is valid as sent, so that its status must be 200, 201 or 410 (closed).
    """
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("survey_id"), str):
        return False
    if not UUID_PATTERN.fullmatch(body["survey_id"]) or index % GENERATED_SURVEY_ID_EVERY == 0:
        return False
    body["survey_id"] = pool.readable[index % len(pool.readable)]
    # The coverage phase also sends the body with other methods and media types, which must fail.
    sent_as_documented = case.method.upper() == "POST" and case.media_type in (None, "application/json")
    if is_negative(case, "body") or not sent_as_documented:
        return False
    variant = index % GENERATED_SURVEY_ID_EVERY
    if variant == 1:
        body["answers"] = copy.deepcopy(SAMPLE_ANSWERS)
        return not is_negative(case, "header")
    if variant == 2 and isinstance(body.get("answers"), dict):
        body["answers"] = dict(zip(SAMPLE_ANSWERS, body["answers"].values()))
    elif variant == 3 and pool.generated:
        target = pool.generated[(index // GENERATED_SURVEY_ID_EVERY) % len(pool.generated)]
        body["survey_id"] = target["survey_id"]
        body["answers"] = valid_answers(target["questions"], index)
        return not is_negative(case, "header")
    return False


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_openapi_operation_fuzz(case: Any, fuzz_owner: User, survey_pool: SurveyPool, fuzz_tally: FuzzTally) -> None:
    index = fuzz_tally.cases[case.operation.label]
    fuzz_tally.cases[case.operation.label] += 1
    if requires_token(case):
        use_owner_token(case, index, fuzz_owner)
    aim_query_at_survey(case, index, survey_pool)
    valid_submission = case.operation.path == "/survey/respond" and aim_submission_at_survey(case, index, survey_pool)

    response = case.call_and_validate(checks=CHECKS)
    fuzz_tally.statuses[response.status_code] += 1
    fuzz_tally.outcomes[(case.operation.label, response.status_code)] += 1
    if case.operation.label == "POST /survey/create" and response.status_code == 201:
        survey_pool.keep_generated(response.json())
    if valid_submission:
        assert response.status_code in (200, 201, 410), f"valid answers {case.body} got {response.status_code}: {response.text}"


def test_openapi_fuzz_reaches_case_budget(fuzz_tally: FuzzTally) -> None:
    # Runs after the fuzz test in this module. A run that selected only this test has nothing to count.
    if fuzz_tally.total == 0:
        pytest.skip("the fuzz test did not run in this session")
    assert fuzz_tally.total >= MIN_TOTAL_CASES, dict(fuzz_tally.cases)


def all_responses(stack: StackUnderTest, owner: User, survey_id: str) -> list[dict[str, Any]]:
    """Page through every stored response of a survey."""
    responses: list[dict[str, Any]] = []
    params = {"survey_id": survey_id, "limit": "100"}
    while True:
        page = stack.get("/survey/responses", params=params, headers=owner.headers)
        assert page.status_code == 200, page.text
        responses.extend(page.json()["responses"])
        next_token = page.json()["next_token"]
        if next_token is None:
            return responses
        params["next_token"] = next_token


def recount(question: dict[str, Any], answers: list[Any]) -> dict[str, Any]:
    """Compute a question's results entry from its stored answers, as the contract defines it."""
    entry: dict[str, Any] = {"answered": len(answers)}
    if question["type"] in ("single_choice", "multiple_choice"):
        counts = dict.fromkeys(question["options"], 0)
        for answer in answers:
            for option in answer if isinstance(answer, list) else [answer]:
                counts[option] += 1
        entry["counts"] = counts
        return entry
    entry["count"] = len(answers)
    if question["type"] in ("rating", "number"):
        entry["min"] = min(answers, default=None)
        entry["max"] = max(answers, default=None)
        entry["average"] = sum(Decimal(repr(answer)) for answer in answers) / len(answers) if answers else None
    if question["type"] == "rating":
        entry["distribution"] = {str(value): answers.count(value) for value in range(question["min"], question["max"] + 1)}
    return entry


def test_fuzzed_surveys_results_match_responses(
    stack: StackUnderTest, fuzz_owner: User, survey_pool: SurveyPool, fuzz_tally: FuzzTally
) -> None:
    # The fuzz test submitted, retried and rejected responses to these surveys, so their results must still add up.
    # The generated surveys have random question sets, options and bounds.
    if fuzz_tally.total == 0:
        pytest.skip("the fuzz test did not run in this session")
    for survey_id in survey_pool.readable + [survey["survey_id"] for survey in survey_pool.generated]:
        params = {"survey_id": survey_id}
        survey = stack.get("/survey", params=params, headers=fuzz_owner.headers).json()
        results = stack.get("/survey/results", params=params, headers=fuzz_owner.headers).json()
        responses = all_responses(stack, fuzz_owner, survey_id)
        assert survey["response_count"] == len(responses), survey_id
        assert results["response_count"] == len(responses), survey_id

        for question, reported in zip(survey["questions"], results["questions"], strict=True):
            answers = [response["answers"][question["id"]] for response in responses if question["id"] in response["answers"]]
            expected = recount(question, answers)
            where = f"survey {survey_id} question {question['id']}"
            assert reported["id"] == question["id"], where
            assert reported["answered"] == expected["answered"], where
            for name in ("counts", "count", "min", "max", "distribution"):
                if name in expected:
                    assert reported[name] == expected[name], f"{where}: {name}"
            if expected.get("average") is None:
                assert reported.get("average") is None, where
            elif "average" in expected:
                assert math.isclose(reported["average"], float(expected["average"]), rel_tol=1e-9), where
