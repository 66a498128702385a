"""The moto patches: same responses as moto's own code, rollback of cancelled transactions, no lost updates."""
from __future__ import annotations

import random
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from werkzeug.serving import make_server

from local import moto_patches
from local.edge import create_moto_app

TABLE = "responses"
REGION = "us-east-1"
PARTITIONS = ("survey-a", "survey-b", "survey-c")


@pytest.fixture
def patched() -> Iterator[None]:
    assert moto_patches.install() is True
    try:
        yield
    finally:
        moto_patches.uninstall()


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "survey_id", "AttributeType": "S"},
                {"AttributeName": "item_key", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "survey_id", "KeyType": "HASH"},
                {"AttributeName": "item_key", "KeyType": "RANGE"},
            ],
        )
        yield client


def fill(client: Any, seed: int = 3) -> None:
    """Write the item kinds of a survey partition (a#, i#, r#, v#) into three partitions."""
    rng = random.Random(seed)
    for survey_id in PARTITIONS:
        keys = [f"a#{n}" for n in range(2)]
        keys += [f"i#{rng.getrandbits(40):x}" for _ in range(rng.randint(3, 9))]
        keys += [f"r#2026-01-0{rng.randint(1, 9)}T00:00:00.000Z#{uuid.UUID(int=rng.getrandbits(128))}" for _ in range(rng.randint(5, 30))]
        keys += [f"v#q4#{rng.randint(0, 99):03d}#{n}" for n in range(rng.randint(0, 12))]
        for key in keys:
            client.put_item(
                TableName=TABLE,
                Item={"survey_id": {"S": survey_id}, "item_key": {"S": key}, "n": {"N": str(rng.randint(0, 9))}},
            )


# Query arguments that the backend and the delete path use, plus the other key conditions.
QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "survey_id = :s"},
    {"KeyConditionExpression": "survey_id = :s", "Limit": 1},
    {"KeyConditionExpression": "survey_id = :s", "Limit": 7, "ScanIndexForward": False},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 3, "p": "r#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 4, "ScanIndexForward": False, "p": "r#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 1, "p": "v#q4#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 1, "ScanIndexForward": False, "p": "v#q4#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "p": "a#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 2, "p": "a#"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "p": "zz"},
    {"KeyConditionExpression": "survey_id = :s AND item_key = :p", "p": "a#1"},
    {"KeyConditionExpression": "survey_id = :s AND item_key < :p", "Limit": 5, "p": "r#"},
    {"KeyConditionExpression": "survey_id = :s AND item_key <= :p", "p": "i#8"},
    {"KeyConditionExpression": "survey_id = :s AND item_key > :p", "Limit": 5, "ScanIndexForward": False, "p": "i#"},
    {"KeyConditionExpression": "survey_id = :s AND item_key >= :p", "Limit": 6, "p": "r#"},
    {"KeyConditionExpression": "survey_id = :s AND item_key BETWEEN :p AND :q", "Limit": 4, "p": "i#", "q": "r#9"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 5, "p": "r#",
     "FilterExpression": "n > :zero"},
    {"KeyConditionExpression": "survey_id = :s AND begins_with(item_key, :p)", "Limit": 5, "p": "r#",
     "ProjectionExpression": "item_key"},
    {"KeyConditionExpression": "survey_id = :s", "Select": "COUNT"},
]


def run_query(client: Any, survey_id: str, spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Run one query to its last page and return every page's response, without metadata."""
    arguments = {key: value for key, value in spec.items() if key not in ("p", "q")}
    values = {":s": {"S": survey_id}}
    for name in ("p", "q"):
        if name in spec:
            values[f":{name}"] = {"S": spec[name]}
    if "FilterExpression" in spec:
        values[":zero"] = {"N": "0"}
    pages = []
    start_key = None
    while True:
        page_arguments = dict(arguments, TableName=TABLE, ExpressionAttributeValues=values)
        if start_key is not None:
            page_arguments["ExclusiveStartKey"] = start_key
        response = client.query(**page_arguments)
        response.pop("ResponseMetadata")
        pages.append(response)
        start_key = response.get("LastEvaluatedKey")
        if start_key is None or len(pages) > 100:
            return pages


def all_pages(client: Any) -> list[list[dict[str, Any]]]:
    return [run_query(client, survey_id, spec) for survey_id in (*PARTITIONS, "unknown") for spec in QUERIES]


def test_query_pages_equal_moto(dynamodb: Any) -> None:
    fill(dynamodb)
    expected = all_pages(dynamodb)
    assert moto_patches.install() is True
    try:
        patched = all_pages(dynamodb)
    finally:
        moto_patches.uninstall()
    for spec_pages, reference_pages in zip(patched, expected):
        assert spec_pages == reference_pages


def test_query_sees_puts_and_deletes(dynamodb: Any, patched: None) -> None:
    fill(dynamodb)
    before = run_query(dynamodb, "survey-a", QUERIES[0])[0]["Count"]
    dynamodb.put_item(TableName=TABLE, Item={"survey_id": {"S": "survey-a"}, "item_key": {"S": "r#9999"}})
    dynamodb.delete_item(TableName=TABLE, Key={"survey_id": {"S": "survey-a"}, "item_key": {"S": "a#0"}})
    dynamodb.put_item(TableName=TABLE, Item={"survey_id": {"S": "survey-a"}, "item_key": {"S": "a#1"}, "n": {"N": "5"}})

    keys = [item["item_key"]["S"] for item in run_query(dynamodb, "survey-a", QUERIES[0])[0]["Items"]]
    assert len(keys) == before
    assert "r#9999" in keys
    assert "a#0" not in keys
    assert keys == sorted(keys)


def test_query_after_reinstall_sees_unpatched_writes(dynamodb: Any) -> None:
    fill(dynamodb)
    moto_patches.install()
    run_query(dynamodb, "survey-b", QUERIES[0])
    moto_patches.uninstall()
    dynamodb.put_item(TableName=TABLE, Item={"survey_id": {"S": "survey-b"}, "item_key": {"S": "b#new"}})
    moto_patches.install()
    try:
        keys = [item["item_key"]["S"] for item in run_query(dynamodb, "survey-b", QUERIES[0])[0]["Items"]]
    finally:
        moto_patches.uninstall()
    assert "b#new" in keys


def item(survey_id: str, key: str, **numbers: int) -> dict[str, Any]:
    return {"survey_id": {"S": survey_id}, "item_key": {"S": key}, **{name: {"N": str(value)} for name, value in numbers.items()}}


def key_of(survey_id: str, key: str) -> dict[str, Any]:
    return {"survey_id": {"S": survey_id}, "item_key": {"S": key}}


def test_transaction_cancelled_restores_items(dynamodb: Any, patched: None) -> None:
    dynamodb.put_item(TableName=TABLE, Item=item("s", "a#0", count=5))
    dynamodb.put_item(TableName=TABLE, Item=item("s", "r#old", count=1))
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("s", "r#new")}},
                {"Update": {"TableName": TABLE, "Key": key_of("s", "a#0"), "UpdateExpression": "ADD #c :one",
                            "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Delete": {"TableName": TABLE, "Key": key_of("s", "r#old")}},
                {"ConditionCheck": {"TableName": TABLE, "Key": key_of("s", "missing"),
                                    "ConditionExpression": "attribute_exists(item_key)"}},
            ]
        )
    reasons = [reason["Code"] for reason in error.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "ConditionalCheckFailed"]

    items = run_query(dynamodb, "s", QUERIES[0])[0]["Items"]
    assert [stored["item_key"]["S"] for stored in items] == ["a#0", "r#old"]
    assert items[0]["count"] == {"N": "5"}


def test_transaction_duplicate_key_rolls_back(dynamodb: Any, patched: None) -> None:
    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": item("s", "r#1")}},
                {"Put": {"TableName": TABLE, "Item": item("s", "r#1", count=2)}},
            ]
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert run_query(dynamodb, "s", QUERIES[0])[0]["Count"] == 0


def test_transaction_commits_every_action(dynamodb: Any, patched: None) -> None:
    dynamodb.put_item(TableName=TABLE, Item=item("s", "a#0", count=5))
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": item("s", "r#new"), "ConditionExpression": "attribute_not_exists(item_key)"}},
            {"Update": {"TableName": TABLE, "Key": key_of("s", "a#0"), "UpdateExpression": "ADD #c :one",
                        "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]
    )
    items = run_query(dynamodb, "s", QUERIES[0])[0]["Items"]
    assert [stored["item_key"]["S"] for stored in items] == ["a#0", "r#new"]
    assert items[0]["count"] == {"N": "6"}


def test_cached_update_expression_keeps_values_apart(dynamodb: Any, patched: None) -> None:
    for survey_id, increment in (("s1", 2), ("s2", 5), ("s1", 3)):
        dynamodb.update_item(
            TableName=TABLE, Key=key_of(survey_id, "a#0"), UpdateExpression="ADD #c :v",
            ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":v": {"N": str(increment)}},
        )
    first = dynamodb.get_item(TableName=TABLE, Key=key_of("s1", "a#0"))["Item"]["count"]
    second = dynamodb.get_item(TableName=TABLE, Key=key_of("s2", "a#0"))["Item"]["count"]
    assert first == {"N": "5"}
    assert second == {"N": "5"}


def test_invalid_update_expression_still_rejected(dynamodb: Any, patched: None) -> None:
    for _ in range(2):
        with pytest.raises(ClientError) as error:
            dynamodb.update_item(
                TableName=TABLE, Key=key_of("s", "a#0"), UpdateExpression="ADD ADD #c :v",
                ExpressionAttributeNames={"#c": "count"}, ExpressionAttributeValues={":v": {"N": "1"}},
            )
        assert error.value.response["Error"]["Code"] == "ValidationException"


def test_install_is_idempotent(patched: None) -> None:
    from moto.dynamodb.models.table import Table

    query = Table.query
    assert moto_patches.install() is True
    assert Table.query is query


# --- the threaded server -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def moto_server(patched: None) -> Iterator[str]:
    server = make_server("127.0.0.1", free_port(), create_moto_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_concurrent_transactions_count_exactly(moto_server: str) -> None:
    client = boto3.client(
        "dynamodb", endpoint_url=moto_server, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
    )
    table = f"counter-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "survey_id", "AttributeType": "S"}, {"AttributeName": "item_key", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "survey_id", "KeyType": "HASH"}, {"AttributeName": "item_key", "KeyType": "RANGE"}],
    )

    def submit(index: int) -> None:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item("s", f"r#{index:04d}"), "ConditionExpression": "attribute_not_exists(item_key)"}},
                {"Update": {"TableName": table, "Key": key_of("s", "a#0"), "UpdateExpression": "ADD #c :one",
                            "ExpressionAttributeNames": {"#c": "count"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            ]
        )

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(submit, range(160)))
        counter = client.get_item(TableName=table, Key=key_of("s", "a#0"))["Item"]["count"]
        stored = client.query(
            TableName=table, KeyConditionExpression="survey_id = :s AND begins_with(item_key, :r)",
            ExpressionAttributeValues={":s": {"S": "s"}, ":r": {"S": "r#"}}, Select="COUNT",
        )["Count"]
    finally:
        client.delete_table(TableName=table)
    assert counter == {"N": "160"}
    assert stored == 160
