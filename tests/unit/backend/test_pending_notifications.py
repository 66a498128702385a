"""Deletion notifications that SNS rejected are kept and sent by a later delete."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.exceptions import ClientError

from backend_fn import service as service_module
from backend_fn.service import SurveyService
from backend_fn.store import PENDING_NOTIFICATION_PREFIX, PENDING_NOTIFICATIONS_ID

from .conftest import OWNER

SQS_QUEUE = "survey-notifications-pending-test"


@pytest.fixture
def topic_messages(aws: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """Subscribe an SQS queue to the topic and return a reader of the notifications it received so far."""
    sqs = boto3.client("sqs", region_name=aws["sns"].meta.region_name)
    queue_url = sqs.create_queue(QueueName=SQS_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=aws["topic_arn"], Protocol="sqs", Endpoint=queue_arn)
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                received.append(json.loads(json.loads(message["Body"])["Message"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        return received

    return read


@contextmanager
def sns_down(service: SurveyService) -> Iterator[mock.MagicMock]:
    failure = ClientError({"Error": {"Code": "InternalError", "Message": "SNS is down"}}, "Publish")
    with mock.patch.object(service.notifier.sns, "publish", autospec=True, side_effect=failure) as publish:
        yield publish


def pending_item(surveys_table: Any) -> dict[str, Any]:
    return surveys_table.get_item(Key={"survey_id": PENDING_NOTIFICATIONS_ID}, ConsistentRead=True).get("Item", {})


def pending_ids(surveys_table: Any) -> set[str]:
    return {
        name.removeprefix(PENDING_NOTIFICATION_PREFIX)
        for name in pending_item(surveys_table)
        if name.startswith(PENDING_NOTIFICATION_PREFIX)
    }


def test_rejected_notification_is_kept(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    survey_id = create_survey(title="Kept")["survey_id"]
    with sns_down(service):
        result = service.delete_survey(OWNER, survey_id)
    assert result["deleted"] is True
    assert pending_ids(surveys_table) == {survey_id}
    entry = json.loads(pending_item(surveys_table)[PENDING_NOTIFICATION_PREFIX + survey_id])
    assert entry["subject"] == "Survey deleted: Kept"
    assert json.loads(entry["message"])["survey_id"] == survey_id


def test_next_delete_sends_kept_notifications(
    service: SurveyService,
    create_survey: Callable[..., dict[str, Any]],
    surveys_table: Any,
    topic_messages: Callable[[], list[dict[str, Any]]],
) -> None:
    first = create_survey()["survey_id"]
    second = create_survey()["survey_id"]
    with sns_down(service):
        service.delete_survey(OWNER, first)
        service.delete_survey(OWNER, second)
    assert pending_ids(surveys_table) == {first, second}

    third = create_survey()["survey_id"]
    service.delete_survey(OWNER, third)
    assert [message["survey_id"] for message in topic_messages()] == [third, first, second]
    assert pending_ids(surveys_table) == set()


def test_kept_notifications_wait_while_sns_down(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    first = create_survey()["survey_id"]
    second = create_survey()["survey_id"]
    with sns_down(service) as publish:
        service.delete_survey(OWNER, first)
        service.delete_survey(OWNER, second)
    # Each delete tries its own notification three times and sends no kept one while SNS fails.
    assert publish.call_count == 6
    assert pending_ids(surveys_table) == {first, second}


def test_kept_send_stops_at_first_failure(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    kept = [create_survey()["survey_id"] for _ in range(2)]
    with sns_down(service):
        for survey_id in kept:
            service.delete_survey(OWNER, survey_id)

    real_publish = service.notifier.sns.publish
    outcomes = iter(["ok", "fail"])

    def accept_then_fail(**kwargs: Any) -> Any:
        if next(outcomes, "ok") == "fail":
            raise ClientError({"Error": {"Code": "InternalError", "Message": "down again"}}, "Publish")
        return real_publish(**kwargs)

    with mock.patch.object(service.notifier.sns, "publish", autospec=True, side_effect=accept_then_fail):
        service.delete_survey(OWNER, create_survey()["survey_id"])
    assert pending_ids(surveys_table) == set(kept)


def test_keeping_failure_still_deletes(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], surveys_table: Any
) -> None:
    survey_id = create_survey()["survey_id"]
    failure = ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "UpdateItem")
    with sns_down(service), mock.patch.object(service.store, "add_pending_notification", side_effect=failure):
        result = service.delete_survey(OWNER, survey_id)
    assert result["deleted"] is True
    assert "Item" not in surveys_table.get_item(Key={"survey_id": survey_id})


def test_pending_item_not_listed(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    kept_id = create_survey()["survey_id"]
    listed_id = create_survey()["survey_id"]
    with sns_down(service):
        service.delete_survey(OWNER, kept_id)
    listed = service.list_surveys(OWNER, 100, None)["surveys"]
    assert [summary["survey_id"] for summary in listed] == [listed_id]


def test_sns_client_leaves_retries_to_notifier() -> None:
    # botocore's retries under the Notifier's own multiplied the attempts and the backoff.
    assert service_module.SNS_BOTO_CONFIG.retries["total_max_attempts"] == 1


def test_delete_reads_partition_consistently(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    # An eventually consistent read could miss a response committed just before the delete began.
    survey_id = create_survey()["survey_id"]
    with mock.patch.object(service.store.responses, "query", wraps=service.store.responses.query) as query:
        service.delete_survey(OWNER, survey_id)
    assert query.call_count >= 1
    for call in query.call_args_list:
        assert call.kwargs.get("ConsistentRead") is True
