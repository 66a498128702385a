"""CSV and JSON exports of a survey's responses.

In the CSV, a multiple_choice answer is one cell with the selected options
joined by "; ". When any selected option contains ";" or starts with "[",
the joined text could not be split back, so that cell is a JSON array of the
options instead, such as ["x; y","z"]. A cell that starts with "[" is
therefore always a JSON array.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from backend_fn.errors import PayloadTooLarge

# Lambda limits a synchronous response payload to 6 MB. The export stops at
# 5 MiB of JSON-encoded body to leave room for the rest of the payload.
EXPORT_MAX_BYTES = 5 * 1024 * 1024
# Spreadsheet programs evaluate a cell that starts with one of these as a
# formula, so such cells get a leading apostrophe (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MULTIPLE_CHOICE_SEPARATOR = "; "
JSON_ARRAY_PREFIX = "["


def neutralize_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def choices_cell(choices: list[str]) -> str:
    """Render a multiple_choice answer as "; "-joined options, or as a JSON array when joining would be ambiguous."""
    ambiguous = any(";" in choice or choice.startswith(JSON_ARRAY_PREFIX) for choice in choices)
    if ambiguous:
        return json.dumps(choices, ensure_ascii=False, separators=(",", ":"))
    return MULTIPLE_CHOICE_SEPARATOR.join(choices)


def csv_cell(value: Any) -> str | int | float:
    """Render an answer as a CSV cell. Numbers stay numbers and strings are neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralize_formula(choices_cell(value))
    if isinstance(value, str):
        return neutralize_formula(value)
    return value


def too_large(survey_id: str) -> PayloadTooLarge:
    # TODO: export large surveys through S3 and return a presigned URL instead of rejecting them.
    return PayloadTooLarge(
        f"The export of survey {survey_id} is larger than {EXPORT_MAX_BYTES // (1024 * 1024)} MiB, "
        "the most a response can carry. Use GET /survey/responses to page through the responses."
    )


def export_csv(survey_id: str, question_ids: list[str], responses: Iterable[dict[str, Any]]) -> str:
    """Return the CSV text: a header `response_id,submitted_at,<question ids>` and one row a response."""
    row_buffer = io.StringIO()
    writer = csv.writer(row_buffer, lineterminator="\r\n")

    def render(row: list[Any]) -> str:
        row_buffer.seek(0)
        row_buffer.truncate()
        writer.writerow(row)
        return row_buffer.getvalue()

    lines = [render(["response_id", "submitted_at", *(neutralize_formula(qid) for qid in question_ids)])]
    # The body travels as a JSON string, so the size counted is the escaped one.
    size = len(json.dumps(lines[0]))
    for response in responses:
        answers = response["answers"]
        line = render([response["response_id"], response["submitted_at"], *(csv_cell(answers.get(qid)) for qid in question_ids)])
        size += len(json.dumps(line)) - 2
        if size > EXPORT_MAX_BYTES:
            raise too_large(survey_id)
        lines.append(line)
    return "".join(lines)


def export_json(survey_id: str, responses: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the responses as a list of `{response_id, submitted_at, answers}`."""
    exported: list[dict[str, Any]] = []
    size = 2
    for response in responses:
        size += len(json.dumps(response)) + 2
        if size > EXPORT_MAX_BYTES:
            raise too_large(survey_id)
        exported.append(response)
    return exported
