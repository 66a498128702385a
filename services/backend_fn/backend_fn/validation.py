"""Validation and normalisation of survey documents, changes and answers.

Every function raises BadRequest with a message that names the field, for
example `questions[2].options` or `answers.q3`. JSON types are checked
strictly: a number sent as a string, a boolean where an integer is expected
(Python's `True` is an `int`) or an integral float such as 3.0 for a rating
are all rejected. Unknown fields, top level or inside a question, are ignored
and never stored.
"""
from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from backend_fn.errors import BadRequest

QUESTION_TYPES = ("single_choice", "multiple_choice", "rating", "number", "text")
CHOICE_TYPES = ("single_choice", "multiple_choice")

TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000
QUESTIONS_MAX = 100
QUESTION_TEXT_MAX_LENGTH = 500
OPTIONS_MIN = 2
OPTIONS_MAX = 50
# The contract sets no limit on an option's length. 200 characters keeps a
# 50-option question and its aggregate attribute names small.
OPTION_MAX_LENGTH = 200
RATING_LOWEST = 0
RATING_HIGHEST = 10
RATING_DEFAULT_MIN = 1
RATING_DEFAULT_MAX = 5
TEXT_MAX_LENGTH_LIMIT = 5000
TEXT_MAX_LENGTH_DEFAULT = 2000
# Number answers and bounds are limited to 1e12. Answers are stored rounded to
# 6 decimal places, so each stored value has at most 19 significant digits.
# DynamoDB numbers keep 38 digits, so the sums stay exact for far more
# responses than a survey can hold. Bounds live in the questions JSON and are
# kept exactly as sent.
NUMBER_ABS_MAX = 10**12
NUMBER_DECIMAL_PLACES = 6
MAX_RESPONSES_LIMIT = 1_000_000
# DynamoDB items are at most 400 KB. These caps leave room for the other
# attributes of the survey item and of the response item.
QUESTIONS_MAX_BYTES = 300 * 1024
ANSWERS_MAX_BYTES = 300 * 1024

SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SURVEY_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Only ASCII digits, because \d also matches other scripts' digits such as "٢٠٣٠".
# int() reads those as 2030, but the stored string would keep them and never compare as a time.
TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?Z")
SURVEY_STATUSES = ("open", "closed")
UPDATABLE_FIELDS = ("title", "description", "closes_at", "max_responses", "status", "questions")

_SIX_PLACES = Decimal(1).scaleb(-NUMBER_DECIMAL_PLACES)


def describe_value(value: Any) -> str:
    """Render a client-sent value for an error message, cut to 60 characters."""
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def is_json_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_json_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def require_string(value: Any, field: str, *, min_length: int, max_length: int) -> str:
    """Return the string with surrounding whitespace removed, checking its length in characters."""
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string, got {json_type_name(value)}.")
    text = value.strip()
    if len(text) < min_length:
        raise BadRequest(f"{field} must not be empty.")
    if len(text) > max_length:
        raise BadRequest(f"{field} must be at most {max_length} characters, got {len(text)}.")
    return text


def require_integer(value: Any, field: str, *, low: int, high: int) -> int:
    if isinstance(value, float):
        # Show the number itself, because "must be an integer, got a number" contradicts itself.
        raise BadRequest(f"{field} must be an integer, got {describe_value(value)}.")
    if not is_json_integer(value):
        raise BadRequest(f"{field} must be an integer, got {json_type_name(value)}.")
    if not low <= value <= high:
        raise BadRequest(f"{field} must be from {low} to {high}, got {value}.")
    return value


def require_boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"{field} must be true or false, got {json_type_name(value)}.")
    return value


def require_object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be a JSON object, got {json_type_name(value)}.")
    return value


def validate_survey_id(value: Any) -> str:
    if not isinstance(value, str) or not SURVEY_ID.fullmatch(value):
        raise BadRequest(f"survey_id must be a UUID string, got {describe_value(value)}.")
    return value


def validate_idempotency_key(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SAFE_ID.fullmatch(value):
        raise BadRequest("idempotency_key must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.")
    return value


def exact_decimal(value: int | float) -> Decimal:
    """Convert a JSON number to a Decimal with the digits it was sent with.

    The float goes through its shortest repr, so 0.1 becomes Decimal("0.1")
    and not the binary expansion of the double.
    """
    if isinstance(value, int):
        return Decimal(value)
    return Decimal(repr(value))


def round_number(value: int | float) -> Decimal:
    """Convert a JSON number to the exact Decimal that is stored, rounded half to even to 6 places."""
    if isinstance(value, int):
        return Decimal(value)
    return exact_decimal(value).quantize(_SIX_PLACES)


def round_number_into_range(value: int | float, low: int | float | None, high: int | float | None) -> Decimal:
    """Round an answer that is within [low, high] to 6 places without leaving the range.

    Nearest rounding can cross a bound that has more than 6 decimal places
    (0.1234566 with max 0.1234567 rounds to 0.123457). Such a value is rounded
    toward the range instead. validate_number_range rejects a range with no
    6-place value in it, so the result is always within [low, high].
    """
    exact = exact_decimal(value)
    stored = round_number(value)
    if low is not None and stored < exact_decimal(low):
        stored = exact.quantize(_SIX_PLACES, rounding=ROUND_CEILING)
    elif high is not None and stored > exact_decimal(high):
        stored = exact.quantize(_SIX_PLACES, rounding=ROUND_FLOOR)
    return stored


def decimal_to_json(value: Decimal) -> int | float:
    """Return an int for integral values and a float otherwise."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def validate_number(value: Any, field: str) -> int | float:
    """Check that a number answer or bound is finite and within ±1e12, and return it unchanged."""
    if isinstance(value, float) and math.isinf(value):
        # json.loads turns a literal too large for a double, such as 1e309, into infinity.
        raise BadRequest(f"{field} is too large to be a finite number. Send a number from -1e12 to 1e12.")
    if isinstance(value, float) and math.isnan(value):
        raise BadRequest(f"{field} must be a finite number, got NaN.")
    if not is_json_number(value):
        raise BadRequest(f"{field} must be a finite number, got {json_type_name(value)}.")
    if abs(value) > NUMBER_ABS_MAX:
        raise BadRequest(f"{field} must be between -1e12 and 1e12, got {describe_value(value)}.")
    return value


def normalize_timestamp(value: Any, field: str) -> str:
    """Parse an ISO 8601 UTC timestamp ending in Z and return it as YYYY-MM-DDTHH:MM:SS.mmmZ.

    Fractional seconds beyond milliseconds are truncated.
    """
    match = TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise BadRequest(
            f"{field} must be an ISO 8601 UTC timestamp such as 2030-01-31T18:00:00Z, got {describe_value(value)}."
        )
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=timezone.utc)
    except ValueError as exc:
        raise BadRequest(f"{field} is not a valid date and time: {exc}.") from exc
    milliseconds = (fraction or "").ljust(3, "0")[:3]
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{milliseconds}Z"


def validate_title(value: Any) -> str:
    return require_string(value, "title", min_length=1, max_length=TITLE_MAX_LENGTH)


def validate_description(value: Any) -> str:
    if value is None:
        return ""
    return require_string(value, "description", min_length=0, max_length=DESCRIPTION_MAX_LENGTH)


def validate_closes_at(value: Any) -> str | None:
    if value is None:
        return None
    return normalize_timestamp(value, "closes_at")


def validate_max_responses(value: Any) -> int | None:
    if value is None:
        return None
    return require_integer(value, "max_responses", low=1, high=MAX_RESPONSES_LIMIT)


def validate_status(value: Any) -> str:
    if value not in SURVEY_STATUSES:
        raise BadRequest(f"status must be \"open\" or \"closed\", got {describe_value(value)}.")
    return value


def validate_survey(document: Any) -> dict[str, Any]:
    """Validate a survey sent for creation and return its normalised fields.

    Returns title, description, questions, closes_at and max_responses, the
    last two None when absent.
    """
    body = require_object(document, "survey")
    if "title" not in body:
        raise BadRequest("title is required.")
    if "questions" not in body:
        raise BadRequest("questions is required.")
    return {
        "title": validate_title(body["title"]),
        "description": validate_description(body.get("description")),
        "questions": validate_questions(body["questions"]),
        "closes_at": validate_closes_at(body.get("closes_at")),
        "max_responses": validate_max_responses(body.get("max_responses")),
    }


def validate_changes(changes: Any) -> dict[str, Any]:
    """Validate a PATCH body and return only the fields it changes, normalised.

    closes_at and max_responses may be None, which clears them.
    """
    body = require_object(changes, "changes")
    validators = {
        "title": validate_title,
        "description": validate_description,
        "closes_at": validate_closes_at,
        "max_responses": validate_max_responses,
        "status": validate_status,
        "questions": validate_questions,
    }
    normalized = {name: validators[name](body[name]) for name in UPDATABLE_FIELDS if name in body}
    if not normalized:
        raise BadRequest(f"The request changes nothing: send at least one of {', '.join(UPDATABLE_FIELDS)}.")
    return normalized


def validate_questions(value: Any) -> list[dict[str, Any]]:
    """Validate the question list, assign missing ids and return the normalised questions."""
    if not isinstance(value, list):
        raise BadRequest(f"questions must be an array, got {json_type_name(value)}.")
    if not 1 <= len(value) <= QUESTIONS_MAX:
        raise BadRequest(f"questions must contain 1 to {QUESTIONS_MAX} questions, got {len(value)}.")

    questions = [validate_question(item, f"questions[{index}]") for index, item in enumerate(value)]
    assign_question_ids(questions)

    size = len(json.dumps(questions, ensure_ascii=False).encode("utf-8"))
    if size > QUESTIONS_MAX_BYTES:
        raise BadRequest(f"questions are too large: {size} bytes as JSON, the maximum is {QUESTIONS_MAX_BYTES}.")
    return questions


def assign_question_ids(questions: list[dict[str, Any]]) -> None:
    """Reject duplicate ids, then give each question without one `q<position>` or the next free `q<n>`."""
    taken: set[str] = set()
    for index, question in enumerate(questions):
        question_id = question["id"]
        if question_id is None:
            continue
        if question_id in taken:
            raise BadRequest(f"questions[{index}].id {question_id!r} is already used by an earlier question. Ids must be unique.")
        taken.add(question_id)

    next_number = 1
    for index, question in enumerate(questions):
        if question["id"] is not None:
            continue
        candidate = f"q{index + 1}"
        while candidate in taken:
            candidate = f"q{next_number}"
            next_number += 1
        question["id"] = candidate
        taken.add(candidate)


def validate_question(value: Any, field: str) -> dict[str, Any]:
    item = require_object(value, field)
    question_type = item.get("type")
    if question_type not in QUESTION_TYPES:
        raise BadRequest(f"{field}.type must be one of {', '.join(QUESTION_TYPES)}, got {describe_value(question_type)}.")

    question_id = item.get("id")
    if question_id is not None and (not isinstance(question_id, str) or not SAFE_ID.fullmatch(question_id)):
        raise BadRequest(f"{field}.id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-', got {describe_value(question_id)}.")

    question: dict[str, Any] = {
        "id": question_id,
        "type": question_type,
        "text": require_string(item.get("text"), f"{field}.text", min_length=1, max_length=QUESTION_TEXT_MAX_LENGTH),
        "required": require_boolean(item.get("required", False), f"{field}.required"),
    }
    if question_type in CHOICE_TYPES:
        question["options"] = validate_options(item.get("options"), f"{field}.options")
    elif question_type == "rating":
        question.update(validate_rating_range(item, field))
    elif question_type == "number":
        question.update(validate_number_range(item, field))
    else:
        max_length = item.get("max_length", TEXT_MAX_LENGTH_DEFAULT)
        question["max_length"] = require_integer(max_length, f"{field}.max_length", low=1, high=TEXT_MAX_LENGTH_LIMIT)
    return question


def validate_options(value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be an array of strings, got {json_type_name(value)}.")
    if not OPTIONS_MIN <= len(value) <= OPTIONS_MAX:
        raise BadRequest(f"{field} must contain {OPTIONS_MIN} to {OPTIONS_MAX} options, got {len(value)}.")
    options = [
        require_string(option, f"{field}[{index}]", min_length=1, max_length=OPTION_MAX_LENGTH)
        for index, option in enumerate(value)
    ]
    seen: set[str] = set()
    for index, option in enumerate(options):
        if option in seen:
            raise BadRequest(f"{field}[{index}] repeats the option {option!r}. Options must be distinct.")
        seen.add(option)
    return options


def validate_rating_range(item: dict[str, Any], field: str) -> dict[str, int]:
    low = require_integer(item.get("min", RATING_DEFAULT_MIN), f"{field}.min", low=RATING_LOWEST, high=RATING_HIGHEST)
    high = require_integer(item.get("max", RATING_DEFAULT_MAX), f"{field}.max", low=RATING_LOWEST, high=RATING_HIGHEST)
    if low >= high:
        raise BadRequest(f"{field}.max must be greater than {field}.min, got min {low} and max {high}.")
    return {"min": low, "max": high}


def validate_number_range(item: dict[str, Any], field: str) -> dict[str, int | float | None]:
    low = item.get("min")
    high = item.get("max")
    low = None if low is None else validate_number(low, f"{field}.min")
    high = None if high is None else validate_number(high, f"{field}.max")
    if low is not None and high is not None and low > high:
        raise BadRequest(f"{field}.max must not be less than {field}.min, got min {low} and max {high}.")
    if low is None or high is None:
        return {"min": low, "max": high}
    lowest_stored = exact_decimal(low).quantize(_SIX_PLACES, rounding=ROUND_CEILING)
    if lowest_stored > exact_decimal(high):
        # Answers are stored rounded to 6 places, so no answer could be stored within this range.
        raise BadRequest(
            f"{field}.min and {field}.max leave no number with at most {NUMBER_DECIMAL_PLACES} decimal places "
            f"between them, got min {low} and max {high}. Widen the range."
        )
    return {"min": low, "max": high}


def validate_answers(questions: list[dict[str, Any]], answers: Any) -> dict[str, Any]:
    """Validate answers against the survey's questions and return the answered ones, normalised.

    null, "" and [] mean "not answered", which is an error only for a required
    question. The result keeps the questions' order.
    """
    body = require_object(answers, "answers")
    known = {question["id"] for question in questions}
    for question_id in body:
        if question_id not in known:
            field = f"answers.{question_id}" if SAFE_ID.fullmatch(question_id) else f"answers[{describe_value(question_id)}]"
            raise BadRequest(f"{field} does not match any question of this survey.")

    normalized: dict[str, Any] = {}
    for question in questions:
        field = f"answers.{question['id']}"
        value = body.get(question["id"])
        if value is None or value == "" or value == []:
            if question["required"]:
                raise BadRequest(f"{field} is required.")
            continue
        normalized[question["id"]] = validate_answer(question, value, field)

    size = len(json.dumps(normalized, ensure_ascii=False).encode("utf-8"))
    if size > ANSWERS_MAX_BYTES:
        raise BadRequest(f"answers are too large: {size} bytes as JSON, the maximum is {ANSWERS_MAX_BYTES}.")
    return normalized


def validate_answer(question: dict[str, Any], value: Any, field: str) -> Any:
    question_type = question["type"]
    if question_type == "single_choice":
        if not isinstance(value, str) or value not in question["options"]:
            raise BadRequest(f"{field} must be one of the question's options, got {describe_value(value)}.")
        return value
    if question_type == "multiple_choice":
        return validate_choices(question, value, field)
    if question_type == "rating":
        # Strict on purpose: 4.0 is rejected like 3.5, because a rating is an integer scale.
        if not is_json_integer(value) or not question["min"] <= value <= question["max"]:
            raise BadRequest(
                f"{field} must be an integer from {question['min']} to {question['max']}, got {describe_value(value)}."
            )
        return value
    if question_type == "number":
        return validate_number_answer(question, value, field)
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string, got {json_type_name(value)}.")
    if len(value) > question["max_length"]:
        raise BadRequest(f"{field} must be at most {question['max_length']} characters, got {len(value)}.")
    return value


def validate_choices(question: dict[str, Any], value: Any, field: str) -> list[str]:
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be an array of options, got {json_type_name(value)}.")
    seen: set[str] = set()
    for choice in value:
        if not isinstance(choice, str) or choice not in question["options"]:
            raise BadRequest(f"{field} contains {describe_value(choice)}, which is not one of the question's options.")
        if choice in seen:
            raise BadRequest(f"{field} contains {describe_value(choice)} twice. Choices must be distinct.")
        seen.add(choice)
    return value


def validate_number_answer(question: dict[str, Any], value: Any, field: str) -> int | float:
    """Check a number answer against the question's range as sent, then round it to 6 places for storage."""
    number = validate_number(value, field)
    low, high = question.get("min"), question.get("max")
    if low is not None and number < low:
        raise BadRequest(f"{field} must be at least {low}, got {describe_value(value)}.")
    if high is not None and number > high:
        raise BadRequest(f"{field} must be at most {high}, got {describe_value(value)}.")
    if isinstance(number, int):
        return number
    return float(round_number_into_range(number, low, high))
