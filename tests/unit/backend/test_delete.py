"""Deleting a survey: the whole responses partition, the survey item and the notification."""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from botocore.exceptions import ClientError

from backend_fn.errors import NotFound, ServiceUnavailable
from backend_fn.service import SurveyService

from .conftest import OTHER, OWNER, SAMPLE_ANSWERS, partition_keys

SQS_QUEUE = "survey-notifications-test"


@pytest.fixture
def topic_messages(aws: dict[str, Any]) -> Callable[[], list[dict[str, Any]]]:
    """Subscribe an SQS queue to the topic and return a reader of the SNS envelopes it received."""
    import boto3

    sqs = boto3.client("sqs", region_name=aws["sns"].meta.region_name)
    queue_url = sqs.create_queue(QueueName=SQS_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=aws["topic_arn"], Protocol="sqs", Endpoint=queue_arn)

    def read() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    return read


def submit_many(service: SurveyService, survey_id: str, count: int, keyed: bool = True) -> None:
    for index in range(count):
        service.submit_response(survey_id, SAMPLE_ANSWERS, f"key-{index}" if keyed else None)


def test_delete_removes_partition_and_survey(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any, surveys_table: Any
) -> None:
    survey = create_survey()
    survey_id = survey["survey_id"]
    submit_many(service, survey_id, 30)
    keys = partition_keys(responses_table, survey_id)
    # 30 responses, 30 idempotency items, 30 value-index items and one counter chunk.
    assert len(keys) == 91

    result = service.delete_survey(OWNER, survey_id)
    assert result == {"survey_id": survey_id, "deleted": True, "responses_deleted": 30}
    assert partition_keys(responses_table, survey_id) == []
    assert "Item" not in surveys_table.get_item(Key={"survey_id": survey_id})


def test_delete_leaves_other_surveys(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    doomed = create_survey()["survey_id"]
    kept = create_survey()["survey_id"]
    submit_many(service, doomed, 3)
    submit_many(service, kept, 3)
    service.delete_survey(OWNER, doomed)
    assert len(partition_keys(responses_table, kept)) == 10
    assert service.get_survey(OWNER, kept)["response_count"] == 3


def test_delete_then_everything_is_not_found(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]]
) -> None:
    survey_id = create_survey()["survey_id"]
    service.delete_survey(OWNER, survey_id)
    with pytest.raises(NotFound):
        service.get_survey(OWNER, survey_id)
    with pytest.raises(NotFound):
        service.get_public_survey(survey_id)
    with pytest.raises(NotFound):
        service.submit_response(survey_id, SAMPLE_ANSWERS, None)
    with pytest.raises(NotFound):
        service.delete_survey(OWNER, survey_id)


def test_delete_other_owner_changes_nothing(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey_id = create_survey()["survey_id"]
    submit_many(service, survey_id, 2)
    with pytest.raises(NotFound):
        service.delete_survey(OTHER, survey_id)
    survey = service.get_survey(OWNER, survey_id)
    assert survey["status"] == "open"
    assert survey["response_count"] == 2
    assert len(partition_keys(responses_table, survey_id)) == 7


def test_delete_publishes_notification(
    service: SurveyService,
    create_survey: Callable[..., dict[str, Any]],
    topic_messages: Callable[[], list[dict[str, Any]]],
) -> None:
    title = "Notify me " + "x" * 120
    survey_id = create_survey(title=title)["survey_id"]
    submit_many(service, survey_id, 2)
    service.delete_survey(OWNER, survey_id)

    envelopes = topic_messages()
    assert len(envelopes) == 1
    assert envelopes[0]["Subject"] == f"Survey deleted: {title}"[:100]
    message = json.loads(envelopes[0]["Message"])
    assert set(message) == {"event", "survey_id", "title", "owner_sub", "response_count", "deleted_at"}
    assert message["event"] == "survey.deleted"
    assert message["survey_id"] == survey_id
    assert message["title"] == title
    assert message["owner_sub"] == OWNER.sub
    assert message["response_count"] == 2


def test_delete_subject_drops_line_breaks(
    service: SurveyService,
    create_survey: Callable[..., dict[str, Any]],
    topic_messages: Callable[[], list[dict[str, Any]]],
) -> None:
    survey_id = create_survey(title="Line\nbreak")["survey_id"]
    service.delete_survey(OWNER, survey_id)
    assert topic_messages()[0]["Subject"] == "Survey deleted: Line break"


def test_delete_sns_failure_still_deletes(
    service: SurveyService,
    create_survey: Callable[..., dict[str, Any]],
    surveys_table: Any,
    sleeps: list[float],
    backend_log_records: list[logging.LogRecord],
) -> None:
    survey_id = create_survey()["survey_id"]
    submit_many(service, survey_id, 2)
    failure = ClientError({"Error": {"Code": "InternalError", "Message": "SNS is down"}}, "Publish")
    with mock.patch.object(service.notifier.sns, "publish", autospec=True, side_effect=failure) as publish:
        result = service.delete_survey(OWNER, survey_id)
    assert result == {"survey_id": survey_id, "deleted": True, "responses_deleted": 2}
    assert publish.call_count == 3
    assert len(sleeps) == 2
    assert "Item" not in surveys_table.get_item(Key={"survey_id": survey_id})
    errors = [record for record in backend_log_records if record.levelname == "ERROR"]
    assert len(errors) == 1
    assert survey_id in errors[0].getMessage()


def test_delete_retries_unprocessed_items(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any, sleeps: list[float]
) -> None:
    survey_id = create_survey()["survey_id"]
    submit_many(service, survey_id, 5, keyed=False)
    client = service.store.client
    real_batch_write = client.batch_write_item
    calls: list[int] = []

    def leave_one_unprocessed(**kwargs: Any) -> dict[str, Any]:
        requests = next(iter(kwargs["RequestItems"].values()))
        calls.append(len(requests))
        if len(calls) == 1:
            real_batch_write(RequestItems={name: items[1:] for name, items in kwargs["RequestItems"].items()})
            return {"UnprocessedItems": {name: items[:1] for name, items in kwargs["RequestItems"].items()}}
        return real_batch_write(**kwargs)

    with mock.patch.object(client, "batch_write_item", autospec=True, side_effect=leave_one_unprocessed):
        service.delete_survey(OWNER, survey_id)
    assert calls == [11, 1]
    assert len(sleeps) == 1
    assert partition_keys(responses_table, survey_id) == []


def test_delete_gives_up_then_resumes(
    service: SurveyService, create_survey: Callable[..., dict[str, Any]], responses_table: Any
) -> None:
    survey_id = create_survey()["survey_id"]
    submit_many(service, survey_id, 30, keyed=False)
    client = service.store.client

    def nothing_processed(**kwargs: Any) -> dict[str, Any]:
        return {"UnprocessedItems": kwargs["RequestItems"]}

    with mock.patch.object(client, "batch_write_item", autospec=True, side_effect=nothing_processed):
        with pytest.raises(ServiceUnavailable):
            service.delete_survey(OWNER, survey_id)

    # A survey left in "deleting" accepts nothing and is hidden, but a repeated delete finishes it.
    with pytest.raises(NotFound):
        service.submit_response(survey_id, SAMPLE_ANSWERS, None)
    with pytest.raises(NotFound):
        service.get_survey(OWNER, survey_id)
    result = service.delete_survey(OWNER, survey_id)
    assert result["responses_deleted"] == 30
    assert partition_keys(responses_table, survey_id) == []
