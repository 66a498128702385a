"""Conversion of stored items to the contract's objects.

Stored items carry internals (owner data, questions_version, item keys) and
DynamoDB Decimals. These functions return only the contract's fields, as
plain JSON types, so the Lambda runtime can serialise them.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any


def format_timestamp(moment: datetime) -> str:
    """Format as YYYY-MM-DDTHH:MM:SS.mmmZ in UTC, so string order is time order."""
    utc = moment.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def stored_questions(item: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(item["questions"])


def optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def survey_view(item: dict[str, Any]) -> dict[str, Any]:
    """Return the contract's Survey object with the stored status, "open" or "closed"."""
    return {
        "survey_id": item["survey_id"],
        "title": item["title"],
        "description": item.get("description", ""),
        "questions": stored_questions(item),
        "status": item["status"],
        "created_at": item["created_at"],
        "closes_at": item.get("closes_at"),
        "max_responses": optional_int(item.get("max_responses")),
        "response_count": int(item.get("response_count", 0)),
    }


def summary_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "survey_id": item["survey_id"],
        "title": item["title"],
        "status": item["status"],
        "created_at": item["created_at"],
        "response_count": int(item.get("response_count", 0)),
    }


def public_view(item: dict[str, Any]) -> dict[str, Any]:
    """Return what a respondent may see: no owner data, no counts."""
    return {
        "survey_id": item["survey_id"],
        "title": item["title"],
        "description": item.get("description", ""),
        "questions": stored_questions(item),
        "status": item["status"],
        "closes_at": item.get("closes_at"),
    }


def response_view(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "response_id": item["response_id"],
        "submitted_at": item["submitted_at"],
        "answers": json.loads(item["answers"]),
    }
