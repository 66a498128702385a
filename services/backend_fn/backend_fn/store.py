"""DynamoDB access for surveys and for the items of each survey's responses partition.

Key names come from infra/stack.json and are repeated here as constants
because the Lambda zip does not contain that file.
"""
from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key as KeyCondition
from botocore.exceptions import ClientError

from backend_fn.errors import ServiceUnavailable
from backend_fn.notify import Notification
from backend_fn.results import AGGREGATE_PREFIX, aggregate_key, value_index_prefix

logger = logging.getLogger(__name__)

OWNER_INDEX = "owner-created-index"
RESPONSE_PREFIX = "r#"
IDEMPOTENCY_PREFIX = "i#"
SURVEY_KEY_FIELDS = ("survey_id",)
OWNER_INDEX_KEY_FIELDS = ("survey_id", "owner_sub", "created_at")
RESPONSES_KEY_FIELDS = ("survey_id", "item_key")

BATCH_WRITE_MAX_ITEMS = 25
BATCH_WRITE_MAX_ATTEMPTS = 8
# The surveys table item that keeps the notifications SNS rejected, one attribute
# `n#<survey id>` each. The key is no UUID, so no survey action can reach it, and
# it has no owner_sub, so the owner index never lists it.
PENDING_NOTIFICATIONS_ID = "pending-notifications"
PENDING_NOTIFICATION_PREFIX = "n#"

def response_key(submitted_at: str, response_id: str) -> str:
    return f"{RESPONSE_PREFIX}{submitted_at}#{response_id}"


def idempotency_key(key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{key}"


def add_expression(counters: dict[str, Decimal]) -> tuple[str, dict[str, str], dict[str, Decimal]]:
    """Build `ADD #c0 :c0, #c1 :c1, ...` with placeholders, because counter names contain `#`."""
    names: dict[str, str] = {}
    values: dict[str, Decimal] = {}
    terms: list[str] = []
    for index, (counter, amount) in enumerate(counters.items()):
        names[f"#c{index}"] = counter
        values[f":c{index}"] = amount
        terms.append(f"#c{index} :c{index}")
    return "ADD " + ", ".join(terms), names, values


@dataclass(frozen=True)
class Submission:
    """Everything one submission transaction writes."""

    survey_id: str
    response_item: dict[str, Any]
    idempotency_key: str | None
    questions_version: int
    submitted_at: str
    counter_increments: dict[int, dict[str, Decimal]]
    value_index_items: list[dict[str, Any]]


class TransactionCancelled(Exception):
    """A cancelled submission transaction. `reasons` maps each failed part to its cancellation code."""

    def __init__(self, reasons: dict[str, str]) -> None:
        super().__init__(", ".join(f"{part}: {code}" for part, code in reasons.items()) or "no reasons given")
        self.reasons = reasons


class SurveyStore:
    """Reads and writes of the surveys table and the responses table."""

    def __init__(
        self,
        dynamodb: Any,
        surveys_table: str,
        responses_table: str,
        sleep: Callable[[float], None],
        rng: random.Random | None = None,
    ) -> None:
        self.surveys = dynamodb.Table(surveys_table)
        self.responses = dynamodb.Table(responses_table)
        # The resource's client converts plain Python values (str, Decimal,
        # dict) to DynamoDB's typed JSON by itself, in requests and responses.
        self.client = dynamodb.meta.client
        self.sleep = sleep
        self.rng = rng or random.Random()

    # Surveys

    def put_new_survey(self, item: dict[str, Any]) -> None:
        self.surveys.put_item(Item=item, ConditionExpression="attribute_not_exists(survey_id)")

    def get_survey(self, survey_id: str) -> dict[str, Any] | None:
        return self.surveys.get_item(Key={"survey_id": survey_id}, ConsistentRead=True).get("Item")

    def update_survey(
        self,
        survey_id: str,
        update_expression: str,
        condition_expression: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Apply a conditional update and return the new item, or None when the condition failed."""
        try:
            response = self.surveys.update_item(
                Key={"survey_id": survey_id},
                UpdateExpression=update_expression,
                ConditionExpression=condition_expression,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return None
            raise
        return response["Attributes"]

    def delete_survey_item(self, survey_id: str) -> None:
        self.surveys.delete_item(Key={"survey_id": survey_id})

    # Notifications that SNS rejected

    def add_pending_notification(self, notification: Notification, failed_at: str) -> None:
        """Keep a notification to send later.

        One item contains all of them. At up to about 800 bytes each (an estimate),
        some 500 fit in DynamoDB's 400 KB item limit; past that, this raises ClientError.
        """
        entry = {"subject": notification.subject, "message": notification.message, "failed_at": failed_at}
        self.surveys.update_item(
            Key={"survey_id": PENDING_NOTIFICATIONS_ID},
            UpdateExpression="SET #entry = :entry",
            ExpressionAttributeNames={"#entry": PENDING_NOTIFICATION_PREFIX + notification.survey_id},
            ExpressionAttributeValues={":entry": json.dumps(entry, ensure_ascii=False)},
        )

    def pending_notifications(self) -> list[Notification]:
        """Return the kept notifications, oldest failure first."""
        item = self.surveys.get_item(Key={"survey_id": PENDING_NOTIFICATIONS_ID}, ConsistentRead=True).get("Item", {})
        entries = []
        for name, value in item.items():
            if name.startswith(PENDING_NOTIFICATION_PREFIX):
                entry = json.loads(value)
                notification = Notification(
                    survey_id=name.removeprefix(PENDING_NOTIFICATION_PREFIX),
                    subject=entry["subject"],
                    message=entry["message"],
                )
                entries.append((entry["failed_at"], notification))
        entries.sort(key=lambda pair: pair[0])
        return [notification for _, notification in entries]

    def remove_pending_notification(self, survey_id: str) -> None:
        self.surveys.update_item(
            Key={"survey_id": PENDING_NOTIFICATIONS_ID},
            UpdateExpression="REMOVE #entry",
            ExpressionAttributeNames={"#entry": PENDING_NOTIFICATION_PREFIX + survey_id},
        )

    def query_owner_surveys(
        self, owner_sub: str, start_key: dict[str, str] | None, limit: int
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Return one page of the owner's surveys, newest first, from the owner index."""
        arguments: dict[str, Any] = {
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": KeyCondition("owner_sub").eq(owner_sub),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        response = self.surveys.query(**arguments)
        return response["Items"], response.get("LastEvaluatedKey")

    # Responses partition

    def query_responses(
        self, survey_id: str, start_key: dict[str, str] | None, limit: int | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Return one page of a survey's responses, oldest first."""
        arguments: dict[str, Any] = {
            "KeyConditionExpression": KeyCondition("survey_id").eq(survey_id)
            & KeyCondition("item_key").begins_with(RESPONSE_PREFIX),
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        if limit is not None:
            arguments["Limit"] = limit
        if start_key:
            arguments["ExclusiveStartKey"] = start_key
        response = self.responses.query(**arguments)
        return response["Items"], response.get("LastEvaluatedKey")

    def iter_responses(self, survey_id: str) -> Iterator[dict[str, Any]]:
        start_key: dict[str, str] | None = None
        while True:
            items, start_key = self.query_responses(survey_id, start_key, None)
            yield from items
            if start_key is None:
                return

    def read_counters(self, survey_id: str) -> dict[str, Decimal]:
        """Merge the counters of every aggregate chunk of the survey."""
        counters: dict[str, Decimal] = {}
        condition = KeyCondition("survey_id").eq(survey_id) & KeyCondition("item_key").begins_with(AGGREGATE_PREFIX)
        arguments: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        while True:
            response = self.responses.query(**arguments)
            for item in response["Items"]:
                counters.update({name: value for name, value in item.items() if name not in RESPONSES_KEY_FIELDS})
            if "LastEvaluatedKey" not in response:
                return counters
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def read_extremes(self, survey_id: str, question_id: str) -> tuple[Decimal, Decimal] | None:
        """Return the smallest and largest value of a number question, with two queries of one item each."""
        condition = KeyCondition("survey_id").eq(survey_id) & KeyCondition("item_key").begins_with(
            value_index_prefix(question_id)
        )
        extremes: list[Decimal] = []
        for forward in (True, False):
            response = self.responses.query(
                KeyConditionExpression=condition, ScanIndexForward=forward, Limit=1, ConsistentRead=True
            )
            if not response["Items"]:
                return None
            extremes.append(response["Items"][0]["value"])
        return extremes[0], extremes[1]

    def get_idempotent_response_id(self, survey_id: str, key: str) -> str | None:
        response = self.responses.get_item(
            Key={"survey_id": survey_id, "item_key": idempotency_key(key)}, ConsistentRead=True
        )
        item = response.get("Item")
        return item["response_id"] if item else None

    def write_submission(self, submission: Submission) -> None:
        """Write a response, its counters and value-index items in one transaction.

        Raises TransactionCancelled with the code of each part that failed.
        The "idempotency" part fails when the key was already used. The
        "survey" part fails when the survey no longer accepts responses or its
        questions changed. Parts that a concurrent transaction held fail with
        "TransactionConflict".
        """
        parts, actions = self.submission_actions(submission)
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            codes = [reason.get("Code", "None") for reason in exc.response.get("CancellationReasons", [])]
            reasons = {part: code for part, code in zip(parts, codes) if code not in ("None", "", None)}
            raise TransactionCancelled(reasons) from exc

    def submission_actions(self, submission: Submission) -> tuple[list[str], list[dict[str, Any]]]:
        """Return the part names and the TransactWriteItems actions of a submission, in the same order."""
        survey_id = submission.survey_id
        responses_table = self.responses.name
        parts = ["response"]
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": responses_table,
                    "Item": submission.response_item,
                    "ConditionExpression": "attribute_not_exists(item_key)",
                }
            }
        ]
        if submission.idempotency_key is not None:
            idempotency_item = {
                "survey_id": survey_id,
                "item_key": idempotency_key(submission.idempotency_key),
                "response_id": submission.response_item["response_id"],
                "item_ref": submission.response_item["item_key"],
            }
            parts.append("idempotency")
            actions.append(
                {
                    "Put": {
                        "TableName": responses_table,
                        "Item": idempotency_item,
                        "ConditionExpression": "attribute_not_exists(item_key)",
                    }
                }
            )

        parts.append("survey")
        actions.append({"Update": self.survey_accepts_update(submission)})

        for chunk, counters in sorted(submission.counter_increments.items()):
            expression, names, values = add_expression(counters)
            parts.append(f"aggregate {chunk}")
            actions.append(
                {
                    "Update": {
                        "TableName": responses_table,
                        "Key": {"survey_id": survey_id, "item_key": aggregate_key(chunk)},
                        "UpdateExpression": expression,
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": values,
                    }
                }
            )
        for index, item in enumerate(submission.value_index_items):
            # The part name gets logged, so it must not contain the item key, which encodes an answer.
            parts.append(f"value index {index}")
            actions.append({"Put": {"TableName": responses_table, "Item": item}})
        return parts, actions

    def survey_accepts_update(self, submission: Submission) -> dict[str, Any]:
        """Count the response on the survey, only while it is open, unchanged, not past closes_at and not full."""
        condition = (
            "#status = :open AND questions_version = :version"
            " AND (attribute_not_exists(closes_at) OR closes_at > :now)"
            " AND (attribute_not_exists(max_responses) OR response_count < max_responses)"
        )
        return {
            "TableName": self.surveys.name,
            "Key": {"survey_id": submission.survey_id},
            "UpdateExpression": "ADD response_count :one",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":open": "open",
                ":version": submission.questions_version,
                ":now": submission.submitted_at,
                ":one": 1,
            },
        }

    def iter_partition_keys(self, survey_id: str) -> Iterator[dict[str, str]]:
        """Yield the key of every item in the survey's responses partition, reading keys only."""
        arguments: dict[str, Any] = {
            "KeyConditionExpression": KeyCondition("survey_id").eq(survey_id),
            "ProjectionExpression": "#hash, #range",
            "ExpressionAttributeNames": {"#hash": "survey_id", "#range": "item_key"},
            # A response committed just before the survey was marked deleting must be
            # seen, or it would outlive the survey, and eventually consistent reads may miss it.
            "ConsistentRead": True,
        }
        while True:
            response = self.responses.query(**arguments)
            yield from response["Items"]
            if "LastEvaluatedKey" not in response:
                return
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete_response_items(self, keys: list[dict[str, str]]) -> None:
        """Delete up to 25 items with BatchWriteItem, retrying unprocessed items with backoff.

        Raises ServiceUnavailable when items are still unprocessed after the
        last attempt, so a repeated delete can resume.
        """
        requests: list[dict[str, Any]] = [{"DeleteRequest": {"Key": key}} for key in keys]
        table = self.responses.name
        for attempt in range(BATCH_WRITE_MAX_ATTEMPTS):
            response = self.client.batch_write_item(RequestItems={table: requests})
            requests = response.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                return
            delay = backoff_delay(attempt, self.rng)
            logger.info("Retrying %d unprocessed deletes in %.3f s", len(requests), delay)
            self.sleep(delay)
        raise ServiceUnavailable("The database is busy and the survey is only partly deleted. Retry the delete to finish it.")


def backoff_delay(attempt: int, rng: random.Random, base: float = 0.05, cap: float = 1.0) -> float:
    """Return a "full jitter" delay: uniform between 0 and base * 2**attempt, at most cap seconds."""
    return rng.uniform(0, min(cap, base * 2**attempt))


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")
