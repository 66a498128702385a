"""Resource names derived from infra/stack.json."""
from __future__ import annotations

import json

from local.names import STACK_FILE, StackNames


def _definition() -> dict:
    return json.loads(STACK_FILE.read_text())


def test_names_tables_use_prefix() -> None:
    names = StackNames(prefix="demo")
    assert names.surveys_table == "demo-surveys"
    assert names.responses_table == "demo-responses"


def test_names_buckets_end_in_account() -> None:
    names = StackNames(prefix="demo", account_id="000000000042")
    assert names.public_bucket == "demo-web-000000000042"
    assert names.private_bucket == "demo-private-000000000042"


def test_names_topic_arn_has_region_and_account() -> None:
    names = StackNames(prefix="demo", account_id="000000000042", region="eu-west-1")
    assert names.topic_name == "demo-notifications"
    assert names.topic_arn == "arn:aws:sns:eu-west-1:000000000042:demo-notifications"


def test_names_surveys_table_arguments_match_stack_file() -> None:
    arguments = StackNames().create_table_arguments("surveys")
    assert arguments["TableName"] == "survey-surveys"
    assert arguments["BillingMode"] == "PAY_PER_REQUEST"
    assert arguments["KeySchema"] == [{"AttributeName": "survey_id", "KeyType": "HASH"}]
    assert {"AttributeName": "owner_sub", "AttributeType": "S"} in arguments["AttributeDefinitions"]
    index = arguments["GlobalSecondaryIndexes"][0]
    assert index["IndexName"] == "owner-created-index"
    assert index["KeySchema"] == [
        {"AttributeName": "owner_sub", "KeyType": "HASH"},
        {"AttributeName": "created_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title", "status", "response_count"]}


def test_names_responses_table_keys() -> None:
    arguments = StackNames().create_table_arguments("responses")
    assert arguments["KeySchema"] == [
        {"AttributeName": "survey_id", "KeyType": "HASH"},
        {"AttributeName": "item_key", "KeyType": "RANGE"},
    ]
    assert "GlobalSecondaryIndexes" not in arguments


def test_names_every_table_in_stack_file_is_known() -> None:
    assert StackNames().table_keys() == list(_definition()["tables"])


def test_names_functions_follow_stack_file() -> None:
    definition = _definition()["functions"]
    functions = StackNames(prefix="demo").functions
    for key, spec in definition.items():
        function = functions[key]
        assert function.name == f"demo-{spec['suffix']}"
        assert function.handler == spec["handler"]
        assert function.environment_names == tuple(spec["environment"])
        assert function.source_dir.name == spec["source_dir"].rsplit("/", 1)[-1]


def test_names_function_arn() -> None:
    names = StackNames(account_id="000000000042", region="eu-west-1")
    assert names.functions["backend"].arn == "arn:aws:lambda:eu-west-1:000000000042:function:survey-backend"


def test_names_api_and_user_pool() -> None:
    names = StackNames(prefix="demo")
    assert names.api_name == "demo-api"
    assert names.api_stage == "v1"
    assert names.user_pool_name == "demo-users"
    assert names.user_pool_client_name == "demo-web"


def test_names_from_other_definition() -> None:
    definition = _definition()
    definition["topic"]["suffix"] = "alerts"
    assert StackNames(definition=definition).topic_name == "survey-alerts"
