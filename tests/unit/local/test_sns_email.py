"""SNS email deliveries into the outbox, through real boto3 publishes against moto."""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone

import boto3
import pytest
from moto import mock_aws

from local.outbox import Outbox
from local.sns_email import install_email_delivery

FIXED_TIME = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=timezone.utc)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(clock=lambda: FIXED_TIME)


@pytest.fixture
def sns(outbox: Outbox) -> Iterator[object]:
    with mock_aws():
        uninstall = install_email_delivery(outbox, clock=lambda: FIXED_TIME)
        try:
            yield boto3.client("sns", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        finally:
            uninstall()


@pytest.fixture
def topic_arn(sns) -> str:
    return sns.create_topic(Name="survey-notifications")["TopicArn"]


def test_email_publish_adds_outbox_message(sns, topic_arn: str, outbox: Outbox) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="owner@example.com")
    sns.publish(TopicArn=topic_arn, Message='{"event": "survey.deleted"}', Subject="Survey deleted: Lunch")
    assert outbox.messages() == [
        {
            "to": "owner@example.com",
            "subject": "Survey deleted: Lunch",
            "body": '{"event": "survey.deleted"}',
            "sent_at": "2026-03-01T12:00:00.123Z",
            "source": "sns",
        }
    ]


def test_email_one_message_per_subscription(sns, topic_arn: str, outbox: Outbox) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="b@example.com")
    sns.publish(TopicArn=topic_arn, Message="hello")
    assert sorted(message["to"] for message in outbox.messages()) == ["a@example.com", "b@example.com"]


def test_email_without_subject_gets_default(sns, topic_arn: str, outbox: Outbox) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")
    sns.publish(TopicArn=topic_arn, Message="hello")
    assert outbox.messages()[0]["subject"] == "AWS Notification Message"


def test_email_json_body_is_notification_envelope(sns, topic_arn: str, outbox: Outbox) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="email-json", Endpoint="ops@example.com")
    message_id = sns.publish(TopicArn=topic_arn, Message="hello", Subject="Hi")["MessageId"]
    envelope = json.loads(outbox.messages()[0]["body"])
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == message_id
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Message"] == "hello"
    assert envelope["Subject"] == "Hi"


def test_email_message_structure_json(sns, topic_arn: str, outbox: Outbox) -> None:
    sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")
    message = json.dumps({"default": "default text", "email": "email text"})
    sns.publish(TopicArn=topic_arn, Message=message, MessageStructure="json")
    assert outbox.messages()[0]["body"] == "email text"


def test_email_filter_policy_mismatch_skips(sns, topic_arn: str, outbox: Outbox) -> None:
    subscription_arn = sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")["SubscriptionArn"]
    sns.set_subscription_attributes(
        SubscriptionArn=subscription_arn, AttributeName="FilterPolicy", AttributeValue=json.dumps({"event": ["created"]})
    )
    sns.publish(
        TopicArn=topic_arn,
        Message="hello",
        MessageAttributes={"event": {"DataType": "String", "StringValue": "deleted"}},
    )
    assert outbox.messages() == []


def test_email_other_protocols_skip(sns, topic_arn: str, outbox: Outbox) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    queue_url = sqs.create_queue(QueueName="copies")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    sns.publish(TopicArn=topic_arn, Message="hello")
    assert outbox.messages() == []
    assert len(sqs.receive_message(QueueUrl=queue_url).get("Messages", [])) == 1


def test_email_uninstall_stops_delivery(outbox: Outbox) -> None:
    with mock_aws():
        uninstall = install_email_delivery(outbox)
        uninstall()
        sns = boto3.client("sns", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        topic_arn = sns.create_topic(Name="survey-notifications")["TopicArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint="a@example.com")
        sns.publish(TopicArn=topic_arn, Message="hello")
    assert outbox.messages() == []
