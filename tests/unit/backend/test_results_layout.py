"""Aggregate layout, transaction budget, sortable number encoding and results assembly."""
from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from backend_fn.errors import BadRequest
from backend_fn.results import (
    MAX_COUNTERS_PER_CHUNK,
    MAX_TRANSACTION_ACTIONS,
    assemble_results,
    check_transaction_budget,
    counter_increments,
    encode_sortable,
    plan_layout,
)
from backend_fn.store import add_expression
from backend_fn.validation import round_number, validate_questions

# DynamoDB's limit on the length of an UpdateExpression.
UPDATE_EXPRESSION_MAX_BYTES = 4096


def raw_choices(count: int) -> list[dict[str, Any]]:
    return [{"type": "multiple_choice", "text": f"C{i}", "options": [f"option {k}" for k in range(50)]} for i in range(count)]


def raw_numbers(count: int) -> list[dict[str, Any]]:
    return [{"type": "number", "text": f"N{i}"} for i in range(count)]


def choice_questions(count: int) -> list[dict[str, Any]]:
    return validate_questions(raw_choices(count))


def number_questions(count: int) -> list[dict[str, Any]]:
    return validate_questions(raw_numbers(count))


def test_plan_layout_small_survey_is_one_chunk() -> None:
    layout = plan_layout(validate_questions([{"type": "text", "text": "T"}, {"type": "rating", "text": "R"}]))
    assert layout.chunk_count == 1


def test_plan_layout_splits_large_choices() -> None:
    layout = plan_layout(choice_questions(4))
    # A 50-option multiple choice question can touch 51 counters, so two never share a chunk of 100.
    assert layout.chunk_count == 4


def test_plan_layout_worst_case_expression_fits_limit() -> None:
    questions = validate_questions(raw_choices(30) + raw_numbers(10) + [{"type": "rating", "text": "R", "min": 0, "max": 10}])
    layout = plan_layout(questions)
    answers: dict[str, Any] = {}
    for question in questions:
        if question["type"] == "multiple_choice":
            answers[question["id"]] = question["options"]
        elif question["type"] == "number":
            answers[question["id"]] = -123456789012.123456
        else:
            answers[question["id"]] = 10
    for counters in counter_increments(questions, layout, answers).values():
        assert len(counters) <= MAX_COUNTERS_PER_CHUNK
        expression, _, _ = add_expression(counters)
        assert len(expression.encode("utf-8")) < UPDATE_EXPRESSION_MAX_BYTES // 2


def test_check_transaction_budget_accepts_many_choices() -> None:
    layout = check_transaction_budget(choice_questions(90))
    assert layout.max_transaction_actions <= MAX_TRANSACTION_ACTIONS


def test_check_transaction_budget_rejects_many_numbers() -> None:
    with pytest.raises(BadRequest) as caught:
        check_transaction_budget(number_questions(100))
    assert "questions" in caught.value.message
    assert "transaction" in caught.value.message


def test_check_transaction_budget_counts_every_action() -> None:
    layout = plan_layout(number_questions(95))
    # Response, idempotency item, survey update, two counter chunks, one value item per question.
    assert layout.max_transaction_actions == 3 + 2 + 95


def test_encode_sortable_order_matches_numbers() -> None:
    rng = random.Random(3)
    values = [round_number(rng.uniform(-1e12, 1e12)) for _ in range(300)]
    values += [round_number(v) for v in (0, 0.000001, -0.000001, 10**12, -(10**12), 1.5, -1.5)]
    assert sorted(values, key=encode_sortable) == sorted(values)


def test_encode_sortable_fixed_width() -> None:
    assert {len(encode_sortable(round_number(v))) for v in (-(10**12), 0, 10**12)} == {16}


def test_encode_sortable_negative_zero_equals_zero() -> None:
    assert encode_sortable(round_number(-0.0)) == encode_sortable(round_number(0))


def test_assemble_results_empty_survey() -> None:
    questions = validate_questions(
        [
            {"type": "single_choice", "text": "S", "options": ["a", "b"]},
            {"type": "rating", "text": "R", "min": 0, "max": 3},
            {"type": "number", "text": "N"},
            {"type": "text", "text": "T"},
        ]
    )
    results = assemble_results("s-1", 0, questions, {}, {"q3": None})
    single, rating, number, text = results["questions"]
    assert single == {"id": "q1", "type": "single_choice", "text": "S", "answered": 0, "counts": {"a": 0, "b": 0}}
    assert rating["distribution"] == {"0": 0, "1": 0, "2": 0, "3": 0}
    assert rating["average"] is None
    assert rating["min"] is None
    assert number == {"id": "q3", "type": "number", "text": "N", "answered": 0, "count": 0, "average": None, "min": None, "max": None}
    assert text == {"id": "q4", "type": "text", "text": "T", "answered": 0, "count": 0}


def test_assemble_results_rating_from_distribution() -> None:
    questions = validate_questions([{"type": "rating", "text": "R"}])
    counters = {"q1#n": Decimal(4), "q1#r2": Decimal(1), "q1#r4": Decimal(3)}
    rating = assemble_results("s-1", 4, questions, counters, {})["questions"][0]
    assert rating["count"] == 4
    assert rating["average"] == pytest.approx(3.5)
    assert rating["min"] == 2
    assert rating["max"] == 4
    assert rating["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 3, "5": 0}
