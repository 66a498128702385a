"""The backend's actions, with storage, notifications, clock and ids injected."""
from __future__ import annotations

import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from backend_fn import export
from backend_fn.errors import BadRequest, Conflict, ServiceUnavailable, survey_not_found
from backend_fn.notify import Notification, Notifier, deletion_notification
from backend_fn.paging import collect_page, decode_token, encode_token, fit_to_payload, validate_limit
from backend_fn.results import assemble_results, check_transaction_budget, plan_layout
from backend_fn.store import (
    BATCH_WRITE_MAX_ITEMS,
    OWNER_INDEX_KEY_FIELDS,
    RESPONSE_PREFIX,
    RESPONSES_KEY_FIELDS,
    SurveyStore,
    TransactionCancelled,
    backoff_delay,
    error_code,
)
from backend_fn.submission import RETRYABLE_CANCELLATION_CODES, SubmitResult, build_submission, refusal_reason
from backend_fn.validation import (
    validate_answers,
    validate_changes,
    validate_idempotency_key,
    validate_survey,
    validate_survey_id,
)
from backend_fn.views import (
    format_timestamp,
    public_view,
    response_view,
    stored_questions,
    summary_view,
    survey_view,
)

logger = logging.getLogger(__name__)

# Attempts of one submission: transaction conflicts, a survey whose questions
# changed meanwhile and an unexplained cancellation each use one.
SUBMIT_MAX_ATTEMPTS = 6
UPDATE_MAX_ATTEMPTS = 3
EXPORT_FORMATS = ("csv", "json")

# Short timeouts, so that one stalled connection cannot use up the backend's
# 15 s Lambda timeout. Standard mode retries throttling and transient errors
# 3 times (botocore's max_attempts counts retries), 4 attempts in all.
BOTO_CONFIG = Config(connect_timeout=2, read_timeout=4, retries={"mode": "standard", "max_attempts": 3})
# SNS calls get one attempt each, because the Notifier retries them itself. With
# botocore's retries as well, an SNS that failed every call cost 12 requests and
# about 10 s of backoff on the offline stack, most of the 15 s timeout.
SNS_BOTO_CONFIG = Config(connect_timeout=2, read_timeout=4, retries={"mode": "standard", "total_max_attempts": 1})
# Kept notifications that one delete sends at most, so a backlog cannot use up its timeout.
MAX_PENDING_NOTIFICATIONS_PER_DELETE = 10


@dataclass(frozen=True)
class Caller:
    """The signed-in user, as the frontend read it from the verified token."""

    sub: str
    email: str | None = None


@dataclass(frozen=True)
class Export:
    body: Any
    content_type: str | None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuid.uuid4())


class SurveyService:
    """Implements every action of the invoke protocol."""

    def __init__(
        self,
        store: SurveyStore,
        notifier: Notifier,
        clock: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = new_uuid,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.new_id = new_id
        self.sleep = sleep
        self.rng = rng or random.Random()

    @classmethod
    def from_environment(cls) -> SurveyService:
        """Build the service from the Lambda environment. boto3 reads the region and endpoint from it by itself."""
        dynamodb = boto3.resource("dynamodb", config=BOTO_CONFIG)
        sns = boto3.client("sns", config=SNS_BOTO_CONFIG)
        store = SurveyStore(dynamodb, os.environ["SURVEYS_TABLE"], os.environ["RESPONSES_TABLE"], sleep=time.sleep)
        notifier = Notifier(sns, os.environ["NOTIFICATIONS_TOPIC_ARN"], sleep=time.sleep)
        return cls(store, notifier)

    def now(self) -> str:
        return format_timestamp(self.clock())

    def owned_survey(self, caller: Caller, survey_id: Any) -> dict[str, Any]:
        """Return the caller's survey. Another owner's, a missing or a deleting survey raises NotFound."""
        survey_id = validate_survey_id(survey_id)
        survey = self.store.get_survey(survey_id)
        if survey is None or survey["owner_sub"] != caller.sub or survey["status"] == "deleting":
            raise survey_not_found(survey_id)
        return survey

    # Owner actions

    def create_survey(self, caller: Caller, document: Any) -> dict[str, Any]:
        fields = validate_survey(document)
        check_transaction_budget(fields["questions"])
        now = self.now()
        item: dict[str, Any] = {
            "survey_id": self.new_id(),
            "owner_sub": caller.sub,
            "title": fields["title"],
            "description": fields["description"],
            "questions": json.dumps(fields["questions"], ensure_ascii=False),
            "questions_version": 1,
            "status": "open",
            "created_at": now,
            "updated_at": now,
            "response_count": 0,
        }
        if caller.email:
            item["owner_email"] = caller.email
        if fields["closes_at"] is not None:
            item["closes_at"] = fields["closes_at"]
        if fields["max_responses"] is not None:
            item["max_responses"] = fields["max_responses"]
        self.store.put_new_survey(item)
        return survey_view(item)

    def list_surveys(self, caller: Caller, limit: Any, next_token: Any) -> dict[str, Any]:
        limit = validate_limit(limit)
        start_key = decode_token(next_token, OWNER_INDEX_KEY_FIELDS)
        if start_key is not None and start_key["owner_sub"] != caller.sub:
            raise BadRequest("next_token belongs to another listing. Pass the next_token of the previous page unchanged.")

        def query(key: dict[str, str] | None, count: int) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
            return self.store.query_owner_surveys(caller.sub, key, count)

        with token_rejected_by_dynamodb(start_key):
            items, last_key = collect_page(
                query, limit, start_key, OWNER_INDEX_KEY_FIELDS, keep=lambda item: item["status"] != "deleting"
            )
        return {
            "surveys": [summary_view(item) for item in items],
            "next_token": encode_token(last_key) if last_key else None,
        }

    def get_survey(self, caller: Caller, survey_id: Any) -> dict[str, Any]:
        return survey_view(self.owned_survey(caller, survey_id))

    def update_survey(self, caller: Caller, survey_id: Any, changes: Any) -> dict[str, Any]:
        """Apply a PATCH with one conditional update, so a concurrent delete or submission is not lost.

        Questions change only while no response exists. The aggregate layout
        is derived from the questions, and the submission transaction checks
        questions_version, so no counter of the old layout can exist or appear
        afterwards: replacing the questions resets the layout.
        """
        survey_id = validate_survey_id(survey_id)
        fields = validate_changes(changes)
        if "questions" in fields:
            check_transaction_budget(fields["questions"])

        update, condition, names, values = survey_update_expression(caller, fields, self.now())
        for _ in range(UPDATE_MAX_ATTEMPTS):
            updated = self.store.update_survey(survey_id, update, condition, names, values)
            if updated is not None:
                return survey_view(updated)
            current = self.owned_survey(caller, survey_id)
            if "questions" in fields and int(current.get("response_count", 0)) > 0:
                raise Conflict(
                    f"The questions of survey {survey_id} cannot change because it already has responses."
                )
        raise ServiceUnavailable(f"Survey {survey_id} changed during the update several times. Retry the request.")

    def delete_survey(self, caller: Caller, survey_id: Any) -> dict[str, Any]:
        """Mark the survey deleting, delete its responses partition and the survey, then notify.

        A survey already marked deleting, for example after a timeout, resumes
        from where the earlier attempt stopped.

        NOTE: deleting runs 25 items a request, so a survey with tens of
        thousands of items may not finish within the 15 s Lambda timeout. It
        then stays hidden in "deleting" until the owner repeats the delete.
        """
        survey_id = validate_survey_id(survey_id)
        survey = self.store.update_survey(
            survey_id,
            "SET #status = :deleting, updated_at = :now",
            "owner_sub = :owner",
            {"#status": "status"},
            {":deleting": "deleting", ":now": self.now(), ":owner": caller.sub},
        )
        if survey is None:
            raise survey_not_found(survey_id)

        items_deleted = 0
        batch: list[dict[str, str]] = []
        for key in self.store.iter_partition_keys(survey_id):
            batch.append(key)
            if len(batch) == BATCH_WRITE_MAX_ITEMS:
                self.store.delete_response_items(batch)
                items_deleted += len(batch)
                batch = []
        if batch:
            self.store.delete_response_items(batch)
            items_deleted += len(batch)
        self.store.delete_survey_item(survey_id)
        logger.info("Deleted survey %s and %d items of its responses partition", survey_id, items_deleted)

        notification = deletion_notification(survey, self.now())
        if self.notifier.publish(notification):
            self.send_pending_notifications()
        else:
            self.keep_notification(notification)
        return {"survey_id": survey_id, "deleted": True, "responses_deleted": int(survey.get("response_count", 0))}

    def keep_notification(self, notification: Notification) -> None:
        """Store a notification that SNS rejected, for a later delete to send. A storage failure is logged."""
        try:
            self.store.add_pending_notification(notification, self.now())
        except (ClientError, BotoCoreError):
            logger.exception("Keeping the rejected notification of survey %s failed; it is lost", notification.survey_id)
            return
        logger.info("Kept the notification of survey %s for the next delete to send", notification.survey_id)

    def send_pending_notifications(self) -> None:
        """Send notifications that SNS rejected before, oldest first, and stop at the first new failure.

        A notification is removed after SNS accepts it, so two deletes that run at
        the same time may both send it: delivery is at least once, as SNS's own is.
        """
        try:
            pending = self.store.pending_notifications()[:MAX_PENDING_NOTIFICATIONS_PER_DELETE]
            for notification in pending:
                if not self.notifier.publish(notification, attempts=1):
                    return
                self.store.remove_pending_notification(notification.survey_id)
                logger.info("Sent the kept notification of survey %s", notification.survey_id)
        except (ClientError, BotoCoreError, ValueError, KeyError):
            # The delete itself succeeded, and the notifications stay kept for the next one.
            logger.exception("Sending kept notifications failed")

    def list_responses(self, caller: Caller, survey_id: Any, limit: Any, next_token: Any) -> dict[str, Any]:
        survey = self.owned_survey(caller, survey_id)
        survey_id = survey["survey_id"]
        limit = validate_limit(limit)
        start_key = decode_token(next_token, RESPONSES_KEY_FIELDS)
        if start_key is not None and (
            start_key["survey_id"] != survey_id or not start_key["item_key"].startswith(RESPONSE_PREFIX)
        ):
            raise BadRequest("next_token belongs to another survey. Pass the next_token of the previous page unchanged.")

        def query(key: dict[str, str] | None, count: int) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
            return self.store.query_responses(survey_id, key, count)

        with token_rejected_by_dynamodb(start_key):
            items, last_key = collect_page(query, limit, start_key, RESPONSES_KEY_FIELDS)
        views, last_key = fit_to_payload(items, last_key, response_view, RESPONSES_KEY_FIELDS)
        return {"responses": views, "next_token": encode_token(last_key) if last_key else None}

    def get_results(self, caller: Caller, survey_id: Any) -> dict[str, Any]:
        """Assemble results from the survey, its counter chunks and two queries per number question.

        The number of reads depends on the questions only, never on the number of responses.
        """
        survey = self.owned_survey(caller, survey_id)
        survey_id = survey["survey_id"]
        questions = stored_questions(survey)
        counters = self.store.read_counters(survey_id)
        extremes = {
            question["id"]: self.store.read_extremes(survey_id, question["id"])
            for question in questions
            if question["type"] == "number"
        }
        return assemble_results(survey_id, int(survey.get("response_count", 0)), questions, counters, extremes)

    def export_responses(self, caller: Caller, survey_id: Any, export_format: Any) -> Export:
        survey = self.owned_survey(caller, survey_id)
        export_format = "csv" if export_format is None else export_format
        if export_format not in EXPORT_FORMATS:
            raise BadRequest(f"format must be \"csv\" or \"json\", got {json.dumps(export_format)[:40]}.")
        survey_id = survey["survey_id"]
        responses = (response_view(item) for item in self.store.iter_responses(survey_id))
        if export_format == "json":
            return Export(export.export_json(survey_id, responses), None)
        question_ids = [question["id"] for question in stored_questions(survey)]
        return Export(export.export_csv(survey_id, question_ids, responses), "text/csv")

    # Respondent actions

    def get_public_survey(self, survey_id: Any) -> dict[str, Any]:
        survey_id = validate_survey_id(survey_id)
        survey = self.store.get_survey(survey_id)
        refusal = refusal_reason(survey, survey_id, self.now())
        if refusal is not None:
            raise refusal
        return public_view(survey)

    def submit_response(self, survey_id: Any, answers: Any, idempotency_key: Any) -> SubmitResult:
        """Store one response with its counters in one transaction, at most once per idempotency key.

        Every attempt reads the survey again. A cancelled transaction therefore
        ends with the precise error (404 or 410), or is retried while the survey
        still accepts responses.
        """
        survey_id = validate_survey_id(survey_id)
        key = validate_idempotency_key(idempotency_key)
        for attempt in range(SUBMIT_MAX_ATTEMPTS):
            survey = self.store.get_survey(survey_id)
            submitted_at = self.now()
            refusal = refusal_reason(survey, survey_id, submitted_at)
            if refusal is not None:
                existing = self.store.get_idempotent_response_id(survey_id, key) if key else None
                if existing is not None:
                    return SubmitResult(existing, created=False)
                raise refusal

            questions = stored_questions(survey)
            layout = plan_layout(questions)
            normalized = validate_answers(questions, answers)
            response_id = self.new_id()
            submission = build_submission(survey, questions, layout, normalized, response_id, submitted_at, key)
            try:
                self.store.write_submission(submission)
                return SubmitResult(response_id, created=True)
            except TransactionCancelled as cancelled:
                existing = self.store.get_idempotent_response_id(survey_id, key) if key else None
                if existing is not None:
                    return SubmitResult(existing, created=False)
                if RETRYABLE_CANCELLATION_CODES.intersection(cancelled.reasons.values()):
                    delay = backoff_delay(attempt, self.rng)
                    logger.info("Submission transaction conflicted (%s), retrying in %.3f s", cancelled, delay)
                    self.sleep(delay)
                    continue
                logger.info("Submission transaction cancelled (%s), reading the survey again", cancelled)
        logger.warning("Submission to survey %s failed after %d attempts", survey_id, SUBMIT_MAX_ATTEMPTS)
        raise ServiceUnavailable("The survey is busy. Retry the submission with the same Idempotency-Key.")


@contextmanager
def token_rejected_by_dynamodb(start_key: dict[str, str] | None) -> Iterator[None]:
    """Turn DynamoDB's ValidationException for a decoded but unusable start key into a 400."""
    try:
        yield
    except ClientError as exc:
        if start_key is None or error_code(exc) != "ValidationException":
            raise
        raise BadRequest("next_token is invalid. Pass the next_token of the previous page unchanged.") from exc


def survey_update_expression(
    caller: Caller, fields: dict[str, Any], now: str
) -> tuple[str, str, dict[str, str], dict[str, Any]]:
    """Build the UpdateExpression, condition and placeholders of a PATCH.

    None for closes_at or max_responses removes the attribute. The condition
    requires the caller's survey, not being deleted, and for new questions no
    response yet.
    """
    names = {"#status": "status", "#updated_at": "updated_at"}
    values: dict[str, Any] = {":owner": caller.sub, ":deleting": "deleting", ":now": now}
    assignments = ["#updated_at = :now"]
    removals: list[str] = []
    for name, value in fields.items():
        placeholder = f"#{name}"
        names[placeholder] = name
        if value is None:
            removals.append(placeholder)
        elif name == "questions":
            assignments.append(f"{placeholder} = :{name}")
            values[f":{name}"] = json.dumps(value, ensure_ascii=False)
        else:
            assignments.append(f"{placeholder} = :{name}")
            values[f":{name}"] = value

    update = "SET " + ", ".join(assignments)
    if removals:
        update += " REMOVE " + ", ".join(removals)
    condition = "owner_sub = :owner AND #status <> :deleting"
    if "questions" in fields:
        update += " ADD questions_version :one"
        values[":one"] = 1
        values[":zero"] = 0
        condition += " AND response_count = :zero"
    return update, condition, names, values
