"""Aggregate layout of a survey's results and the assembly of the results object.

Results are kept as counters in `a#<n>` items of the responses table, one flat
number attribute a counter, updated with `ADD` in the submission transaction.
Counter names start with the question id (`<qid>#n` answered, `<qid>#o<k>`
option k, `<qid>#r<v>` rating value v, `<qid>#s` sum of a number question),
and question ids cannot contain `#`, so names never collide. The layout that
assigns questions to chunks is derived from the question list alone, and
questions cannot change once a response exists, so the layout is stable.

Min and max of a number question come from value-index items
`v#<qid>#<sortable>#<response_id>` whose key order equals numeric order.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from backend_fn.errors import BadRequest
from backend_fn.validation import NUMBER_DECIMAL_PLACES, decimal_to_json, round_number

# DynamoDB limits an UpdateExpression to 4 KB. With at most 100 counters a
# chunk, the longest `ADD #c0 :c0, ...` expression is about 1.2 KB.
MAX_COUNTERS_PER_CHUNK = 100
# DynamoDB limits TransactWriteItems to 100 actions.
MAX_TRANSACTION_ACTIONS = 100
# Actions of every submission besides aggregates and value-index items: the
# response Put, the idempotency Put and the survey Update.
FIXED_SUBMISSION_ACTIONS = 3

AGGREGATE_PREFIX = "a#"
VALUE_INDEX_PREFIX = "v#"

# Offset that maps the signed scaled value onto 0..2**64-1, so that 16 hex
# digits sort like the numbers. |value| <= 1e12 scaled by 1e6 is at most 1e18,
# well inside the signed 64-bit range.
_SORTABLE_OFFSET = 2**63


def answered_counter(question_id: str) -> str:
    return f"{question_id}#n"


def option_counter(question_id: str, option_index: int) -> str:
    return f"{question_id}#o{option_index}"


def rating_counter(question_id: str, value: int) -> str:
    return f"{question_id}#r{value}"


def sum_counter(question_id: str) -> str:
    return f"{question_id}#s"


def aggregate_key(chunk: int) -> str:
    return f"{AGGREGATE_PREFIX}{chunk}"


def counters_touched_at_most(question: dict[str, Any]) -> int:
    """Return how many counters one response can change for this question."""
    question_type = question["type"]
    if question_type == "multiple_choice":
        return 1 + len(question["options"])
    if question_type == "text":
        return 1
    return 2


@dataclass(frozen=True)
class AggregateLayout:
    """Assignment of questions to aggregate chunks."""

    chunk_of: dict[str, int]
    chunk_count: int
    number_question_count: int

    @property
    def max_transaction_actions(self) -> int:
        """Worst-case number of actions in one submission transaction."""
        return FIXED_SUBMISSION_ACTIONS + self.chunk_count + self.number_question_count


def plan_layout(questions: list[dict[str, Any]]) -> AggregateLayout:
    """Assign questions to chunks in order, each chunk taking at most MAX_COUNTERS_PER_CHUNK counters."""
    chunk_of: dict[str, int] = {}
    chunk = 0
    used = 0
    for question in questions:
        needed = counters_touched_at_most(question)
        if used + needed > MAX_COUNTERS_PER_CHUNK:
            chunk += 1
            used = 0
        chunk_of[question["id"]] = chunk
        used += needed
    number_count = sum(1 for question in questions if question["type"] == "number")
    return AggregateLayout(chunk_of=chunk_of, chunk_count=chunk + 1, number_question_count=number_count)


def check_transaction_budget(questions: list[dict[str, Any]]) -> AggregateLayout:
    """Plan the layout and reject the questions if one response could exceed the transaction limit."""
    layout = plan_layout(questions)
    actions = layout.max_transaction_actions
    if actions > MAX_TRANSACTION_ACTIONS:
        raise BadRequest(
            f"questions are too many to store a response atomically: a response could need {actions} "
            f"database writes in one transaction and the limit is {MAX_TRANSACTION_ACTIONS}. "
            "Each number question needs one write and every 100 answer counters one more; "
            "use fewer number questions or fewer options."
        )
    return layout


def encode_sortable(value: Decimal) -> str:
    """Encode a number rounded to 6 places as 16 hex digits whose string order is numeric order."""
    scaled = int(value.scaleb(NUMBER_DECIMAL_PLACES))
    return format(scaled + _SORTABLE_OFFSET, "016x")


def value_index_prefix(question_id: str) -> str:
    return f"{VALUE_INDEX_PREFIX}{question_id}#"


def value_index_key(question_id: str, value: Decimal, response_id: str) -> str:
    return f"{value_index_prefix(question_id)}{encode_sortable(value)}#{response_id}"


def counter_increments(
    questions: list[dict[str, Any]], layout: AggregateLayout, answers: dict[str, Any]
) -> dict[int, dict[str, Decimal]]:
    """Return the counters that one response adds to, grouped by chunk. Chunks it does not touch are absent."""
    one = Decimal(1)
    chunks: dict[int, dict[str, Decimal]] = {}
    for question in questions:
        question_id = question["id"]
        if question_id not in answers:
            continue
        value = answers[question_id]
        counters = chunks.setdefault(layout.chunk_of[question_id], {})
        counters[answered_counter(question_id)] = one

        question_type = question["type"]
        if question_type == "single_choice":
            counters[option_counter(question_id, question["options"].index(value))] = one
        elif question_type == "multiple_choice":
            for choice in value:
                counters[option_counter(question_id, question["options"].index(choice))] = one
        elif question_type == "rating":
            counters[rating_counter(question_id, value)] = one
        elif question_type == "number":
            counters[sum_counter(question_id)] = round_number(value)
    return chunks


def number_answers(questions: list[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Decimal]:
    """Return the answered number questions' values as the Decimals stored in the value index."""
    return {
        question["id"]: round_number(answers[question["id"]])
        for question in questions
        if question["type"] == "number" and question["id"] in answers
    }


def assemble_results(
    survey_id: str,
    response_count: int,
    questions: list[dict[str, Any]],
    counters: dict[str, Decimal],
    number_extremes: dict[str, tuple[Decimal, Decimal] | None],
) -> dict[str, Any]:
    """Build the contract's results object from merged chunk counters and number extremes."""
    entries = [question_results(question, counters, number_extremes.get(question["id"])) for question in questions]
    return {"survey_id": survey_id, "response_count": response_count, "questions": entries}


def question_results(
    question: dict[str, Any], counters: dict[str, Decimal], extremes: tuple[Decimal, Decimal] | None
) -> dict[str, Any]:
    question_id = question["id"]
    answered = int(counters.get(answered_counter(question_id), 0))
    entry: dict[str, Any] = {"id": question_id, "type": question["type"], "text": question["text"], "answered": answered}

    question_type = question["type"]
    if question_type in ("single_choice", "multiple_choice"):
        entry["counts"] = {
            option: int(counters.get(option_counter(question_id, index), 0))
            for index, option in enumerate(question["options"])
        }
    elif question_type == "rating":
        entry.update(rating_results(question, counters, answered))
    elif question_type == "number":
        total = counters.get(sum_counter(question_id), Decimal(0))
        entry["count"] = answered
        entry["average"] = float(total / answered) if answered else None
        entry["min"] = decimal_to_json(extremes[0]) if extremes else None
        entry["max"] = decimal_to_json(extremes[1]) if extremes else None
    else:
        entry["count"] = answered
    return entry


def rating_results(question: dict[str, Any], counters: dict[str, Decimal], answered: int) -> dict[str, Any]:
    """Return count, average, min, max and the distribution with every value of the scale."""
    question_id = question["id"]
    distribution = {
        str(value): int(counters.get(rating_counter(question_id, value), 0))
        for value in range(question["min"], question["max"] + 1)
    }
    chosen = [int(value) for value, count in distribution.items() if count > 0]
    total = sum(int(value) * count for value, count in distribution.items())
    return {
        "count": answered,
        "average": total / answered if answered else None,
        "min": min(chosen) if chosen else None,
        "max": max(chosen) if chosen else None,
        "distribution": distribution,
    }
