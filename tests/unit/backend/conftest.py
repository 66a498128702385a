"""Fixtures for the backend unit tests: moto's in-process AWS, tables built from infra/stack.json."""
from __future__ import annotations

import copy
import json
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.botocore_stubber import BotocoreStubber

from backend_fn.notify import Notifier
from backend_fn.service import Caller, SurveyService
from backend_fn.store import SurveyStore

REPO_ROOT = Path(__file__).resolve().parents[3]
STACK = json.loads((REPO_ROOT / "infra" / "stack.json").read_text())
EVENTS_DIR = REPO_ROOT / "tests" / "events"
REGION = STACK["default_region"]
SURVEYS_TABLE = f"{STACK['default_prefix']}-{STACK['tables']['surveys']['suffix']}"
RESPONSES_TABLE = f"{STACK['default_prefix']}-{STACK['tables']['responses']['suffix']}"
TOPIC_NAME = f"{STACK['default_prefix']}-{STACK['topic']['suffix']}"

OWNER = Caller(sub="owner-sub-1", email="owner@example.com")
OTHER = Caller(sub="other-sub-2", email="other@example.com")

SAMPLE_SURVEY: dict[str, Any] = {
    "title": "Team offsite feedback",
    "description": "Tell us how the offsite went.",
    "questions": [
        {"type": "single_choice", "text": "Did you attend?", "required": True, "options": ["Yes", "No"]},
        {"type": "multiple_choice", "text": "Which sessions did you like?", "options": ["Talks", "Workshops", "Dinner"]},
        {"type": "rating", "text": "Overall rating", "required": True, "min": 1, "max": 5},
        {"type": "number", "text": "How many hours did you travel?", "min": 0, "max": 48},
        {"type": "text", "text": "Anything else?", "max_length": 500},
    ],
}
SAMPLE_ANSWERS: dict[str, Any] = {"q1": "Yes", "q2": ["Talks", "Dinner"], "q3": 4, "q4": 2.5, "q5": "Great food"}


class StepClock:
    """A clock that moves forward by `step` on every read, so timestamps are distinct and ordered."""

    def __init__(self, start: datetime, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.current = start
        self.step = step

    def __call__(self) -> datetime:
        self.current += self.step
        return self.current


def create_table(dynamodb: Any, name: str, spec: dict[str, Any]) -> None:
    """Create a table with the keys and indexes that infra/stack.json declares."""
    key_schema = [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}]
    if spec["range_key"]:
        key_schema.append({"AttributeName": spec["range_key"], "KeyType": "RANGE"})
    arguments: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": attribute, "AttributeType": kind} for attribute, kind in spec["attributes"].items()
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    indexes = []
    for index in spec["global_secondary_indexes"]:
        index_keys = [{"AttributeName": index["hash_key"], "KeyType": "HASH"}]
        if index.get("range_key"):
            index_keys.append({"AttributeName": index["range_key"], "KeyType": "RANGE"})
        projection: dict[str, Any] = {"ProjectionType": index["projection_type"]}
        if index.get("non_key_attributes"):
            projection["NonKeyAttributes"] = index["non_key_attributes"]
        indexes.append({"IndexName": index["name"], "KeySchema": index_keys, "Projection": projection})
    if indexes:
        arguments["GlobalSecondaryIndexes"] = indexes
    dynamodb.create_table(**arguments)


ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS", "AWS_PROFILE")


@pytest.fixture(scope="session")
def boto_resources() -> dict[str, Any]:
    """Create the boto3 resource and client once, because building them is slower than most tests.

    They get dummy credentials and no endpoint override, so every request
    goes to moto's in-process mock, which each test starts on its own.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ENDPOINT_VARIABLES:
            patch.delenv(name, raising=False)
        credentials = {"region_name": REGION, "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return {"dynamodb": boto3.resource("dynamodb", **credentials), "sns": boto3.client("sns", **credentials)}


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point boto3 at moto's in-process mock only: dummy credentials, no endpoint override, no profile."""
    for name in ENDPOINT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)


@pytest.fixture
def aws(aws_environment: None, boto_resources: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Start moto with fresh state, create both tables and the topic, and return the resources."""
    with mock_aws():
        dynamodb = boto_resources["dynamodb"]
        sns = boto_resources["sns"]
        create_table(dynamodb.meta.client, SURVEYS_TABLE, STACK["tables"]["surveys"])
        create_table(dynamodb.meta.client, RESPONSES_TABLE, STACK["tables"]["responses"])
        topic_arn = sns.create_topic(Name=TOPIC_NAME)["TopicArn"]
        yield {"dynamodb": dynamodb, "sns": sns, "topic_arn": topic_arn}


@pytest.fixture
def serialized_aws(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Make moto handle one request at a time, for tests that call the service from threads.

    moto 5.2.5 applies a transaction's writes one by one and, on cancellation,
    restores a deep copy of the table, with no lock: concurrent requests from
    threads fail with "dictionary changed size during iteration" or lose
    writes. Real DynamoDB isolates every request, and a lock around moto's
    request handling gives the same isolation. Threads still interleave
    between requests, which is where the service's races are.
    """
    lock = threading.Lock()
    process_request = BotocoreStubber.process_request

    def process_request_locked(self: BotocoreStubber, request: Any) -> Any:
        with lock:
            return process_request(self, request)

    monkeypatch.setattr(BotocoreStubber, "process_request", process_request_locked)
    return aws


@pytest.fixture
def backend_log_records() -> Iterator[list[logging.LogRecord]]:
    """Collect the records of the backend_fn loggers.

    Once backend_fn.app is imported, Powertools stops these loggers from
    propagating to the root logger, so pytest's caplog would miss them.
    """
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    package_logger = logging.getLogger("backend_fn")
    package_logger.addHandler(handler)
    try:
        yield records
    finally:
        package_logger.removeHandler(handler)


@pytest.fixture
def clock() -> StepClock:
    return StepClock(datetime(2030, 5, 1, 12, 0, 0, tzinfo=timezone.utc))


@pytest.fixture
def sleeps() -> list[float]:
    """Delays the service asked to sleep, recorded instead of slept."""
    return []


@pytest.fixture
def service(aws: dict[str, Any], clock: StepClock, sleeps: list[float]) -> SurveyService:
    rng = random.Random(7)
    store = SurveyStore(aws["dynamodb"], SURVEYS_TABLE, RESPONSES_TABLE, sleep=sleeps.append, rng=rng)
    notifier = Notifier(aws["sns"], aws["topic_arn"], sleep=sleeps.append, rng=rng)
    return SurveyService(store, notifier, clock=clock, new_id=lambda: str(uuid.uuid4()), sleep=sleeps.append, rng=rng)


@pytest.fixture
def responses_table(aws: dict[str, Any]) -> Any:
    return aws["dynamodb"].Table(RESPONSES_TABLE)


@pytest.fixture
def surveys_table(aws: dict[str, Any]) -> Any:
    return aws["dynamodb"].Table(SURVEYS_TABLE)


@pytest.fixture
def create_survey(service: SurveyService) -> Callable[..., dict[str, Any]]:
    """Return a function that creates a survey from SAMPLE_SURVEY with overrides, as OWNER unless `caller` is given."""

    def create(caller: Caller = OWNER, **overrides: Any) -> dict[str, Any]:
        document = copy.deepcopy(SAMPLE_SURVEY)
        document.update(overrides)
        return service.create_survey(caller, document)

    return create


def partition_keys(table: Any, survey_id: str) -> list[str]:
    """Return every item_key of the survey's responses partition."""
    keys: list[str] = []
    arguments: dict[str, Any] = {
        "KeyConditionExpression": boto3.dynamodb.conditions.Key("survey_id").eq(survey_id),
    }
    while True:
        response = table.query(**arguments)
        keys.extend(item["item_key"] for item in response["Items"])
        if "LastEvaluatedKey" not in response:
            return keys
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / f"backend_{name}.json").read_text())
