"""Rules for accepting a response and the items one submission writes."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backend_fn.errors import BackendError, Gone, survey_not_found
from backend_fn.results import AggregateLayout, counter_increments, number_answers, value_index_key
from backend_fn.store import Submission, response_key

# Cancellation codes that mean "try again": a concurrent transaction held an
# item, or the table was throttled.
RETRYABLE_CANCELLATION_CODES = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


@dataclass(frozen=True)
class SubmitResult:
    response_id: str
    created: bool


def refusal_reason(survey: dict[str, Any] | None, survey_id: str, now: str) -> BackendError | None:
    """Return why the survey takes no response now, or None when it is accepting.

    A survey being deleted is not found. Closed, past closes_at and full are
    all 410 Gone, each with its own message.
    """
    if survey is None or survey["status"] == "deleting":
        return survey_not_found(survey_id)
    if survey["status"] == "closed":
        return Gone(f"Survey {survey_id} is closed and accepts no more responses.")
    closes_at = survey.get("closes_at")
    if closes_at is not None and closes_at <= now:
        return Gone(f"Survey {survey_id} closed at {closes_at} and accepts no more responses.")
    max_responses = survey.get("max_responses")
    if max_responses is not None and survey.get("response_count", 0) >= max_responses:
        return Gone(f"Survey {survey_id} has reached its maximum of {int(max_responses)} responses.")
    return None


def build_submission(
    survey: dict[str, Any],
    questions: list[dict[str, Any]],
    layout: AggregateLayout,
    answers: dict[str, Any],
    response_id: str,
    submitted_at: str,
    idempotency_key: str | None,
) -> Submission:
    """Assemble the response item, counter increments and value-index items of one response."""
    survey_id = survey["survey_id"]
    response_item = {
        "survey_id": survey_id,
        "item_key": response_key(submitted_at, response_id),
        "response_id": response_id,
        "submitted_at": submitted_at,
        "answers": json.dumps(answers, ensure_ascii=False),
    }
    value_index_items = [
        {
            "survey_id": survey_id,
            "item_key": value_index_key(question_id, value, response_id),
            "response_id": response_id,
            "value": value,
        }
        for question_id, value in number_answers(questions, answers).items()
    ]
    return Submission(
        survey_id=survey_id,
        response_item=response_item,
        idempotency_key=idempotency_key,
        questions_version=int(survey["questions_version"]),
        submitted_at=submitted_at,
        counter_increments=counter_increments(questions, layout, answers),
        value_index_items=value_index_items,
    )
