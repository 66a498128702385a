"""Terraform, infra/stack.json and the offline stack name and shape resources alike.

Terraform's values are evaluated from its expressions against stack.json, so a
hard-coded name or key that drifts from stack.json fails here. The offline
stack's side is what local/names.py and local/provision.py actually create.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.names import StackNames
from local.provision import content_type_for, create_table
from tests.infra.terraform_config import REPO_ROOT, TerraformConfig, evaluate, expand_dynamic

ACCOUNT_ID = "123456789012"


def terraform_scope(stack: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Scope in which local.* evaluates as main.tf and lambda.tf define it, for the default prefix."""
    local = {
        "stack": stack,
        "prefix": stack["default_prefix"],
        "account_id": ACCOUNT_ID,
        "frontend": stack["functions"]["frontend"],
        "backend": stack["functions"]["backend"],
    }
    return {"local": local, **extra}


def render_table(config: TerraformConfig, stack: dict[str, Any], key: str) -> dict[str, Any]:
    """Build boto3 create_table arguments from aws_dynamodb_table.this for one stack.json table."""
    body = config.resources("aws_dynamodb_table")["this"]
    scope = terraform_scope(stack, each={"key": key, "value": stack["tables"][key]})

    key_schema = [{"AttributeName": evaluate(body["hash_key"], scope), "KeyType": "HASH"}]
    range_key = evaluate(body.get("range_key"), scope)
    if range_key:
        key_schema.append({"AttributeName": range_key, "KeyType": "RANGE"})

    arguments: dict[str, Any] = {
        "TableName": evaluate(body["name"], scope),
        "BillingMode": body["billing_mode"],
        "AttributeDefinitions": [
            {"AttributeName": attribute["name"], "AttributeType": attribute["type"]}
            for attribute in expand_dynamic(body, "attribute", scope)
        ],
        "KeySchema": key_schema,
    }
    indexes = [render_index(index) for index in expand_dynamic(body, "global_secondary_index", scope)]
    if indexes:
        arguments["GlobalSecondaryIndexes"] = indexes
    return arguments


def render_index(index: dict[str, Any]) -> dict[str, Any]:
    key_schema = [{"AttributeName": index["hash_key"], "KeyType": "HASH"}]
    if index.get("range_key"):
        key_schema.append({"AttributeName": index["range_key"], "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": index["projection_type"]}
    if index.get("non_key_attributes") is not None:
        projection["NonKeyAttributes"] = list(index["non_key_attributes"])
    return {"IndexName": index["name"], "KeySchema": key_schema, "Projection": projection}


def canonical_table(arguments: dict[str, Any]) -> dict[str, Any]:
    """Drop ordering that DynamoDB ignores, so two descriptions of one table compare equal."""
    indexes = arguments.get("GlobalSecondaryIndexes", [])
    return {
        "TableName": arguments["TableName"],
        "BillingMode": arguments["BillingMode"],
        "AttributeDefinitions": sorted((item["AttributeName"], item["AttributeType"]) for item in arguments["AttributeDefinitions"]),
        "KeySchema": [(item["AttributeName"], item["KeyType"]) for item in arguments["KeySchema"]],
        "GlobalSecondaryIndexes": sorted(
            (
                index["IndexName"],
                tuple((item["AttributeName"], item["KeyType"]) for item in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                tuple(sorted(index["Projection"].get("NonKeyAttributes", []))),
            )
            for index in indexes
        ),
    }


@pytest.fixture
def moto_dynamodb(monkeypatch: pytest.MonkeyPatch, stack_definition: dict[str, Any]) -> Any:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=stack_definition["default_region"])


def test_dynamodb_for_each_covers_stack(terraform_config: TerraformConfig) -> None:
    body = terraform_config.resources("aws_dynamodb_table")["this"]
    assert body["for_each"] == "${local.stack.tables}"


@pytest.mark.parametrize("key", ["surveys", "responses"])
def test_dynamodb_table_matches_offline_names(terraform_config: TerraformConfig, stack_definition: dict[str, Any], key: str) -> None:
    rendered = render_table(terraform_config, stack_definition, key)
    offline = StackNames(prefix=stack_definition["default_prefix"]).create_table_arguments(key)
    assert canonical_table(rendered) == canonical_table(offline)


@pytest.mark.parametrize("key", ["surveys", "responses"])
def test_dynamodb_table_matches_provisioned_table(
    terraform_config: TerraformConfig, stack_definition: dict[str, Any], moto_dynamodb: Any, key: str
) -> None:
    names = StackNames(prefix=stack_definition["default_prefix"])
    create_table(moto_dynamodb, names.create_table_arguments(key))
    described = moto_dynamodb.describe_table(TableName=names.table_name(key))["Table"]
    described["BillingMode"] = described["BillingModeSummary"]["BillingMode"]
    rendered = render_table(terraform_config, stack_definition, key)
    assert canonical_table(rendered) == canonical_table(described)


def test_dynamodb_tables_on_demand_and_protected(terraform_config: TerraformConfig) -> None:
    body = terraform_config.resources("aws_dynamodb_table")["this"]
    assert body["billing_mode"] == "PAY_PER_REQUEST"
    assert body["point_in_time_recovery"] == [{"enabled": True}]
    assert body["server_side_encryption"] == [{"enabled": True}]
    assert body["deletion_protection_enabled"] == "${var.deletion_protection}"


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_function_environment_names_match_stack(terraform_config: TerraformConfig, stack_definition: dict[str, Any], key: str) -> None:
    environment = terraform_config.locals()[f"{key}_environment"]
    assert sorted(environment) == sorted(stack_definition["functions"][key]["environment"])


def test_frontend_environment_wiring(terraform_config: TerraformConfig) -> None:
    variables = terraform_config.resources("aws_lambda_function")["frontend"]["environment"][0]["variables"]
    assert variables == "${merge(local.frontend_environment, local.frontend_endpoint_environment)}"


def test_frontend_extra_environment_endpoint_only(terraform_config: TerraformConfig) -> None:
    # Off AWS the frontend may get boto3's standard per-service endpoint variables, nothing of its own.
    expression = terraform_config.locals()["frontend_endpoint_environment"]
    names = re.findall(r"\b([A-Z][A-Z0-9_]+)\s*=", expression)
    assert names == ["AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"]


def test_backend_environment_wiring(terraform_config: TerraformConfig) -> None:
    variables = terraform_config.resources("aws_lambda_function")["backend"]["environment"][0]["variables"]
    assert variables == "${local.backend_environment}"


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_function_settings_match_stack(terraform_config: TerraformConfig, stack_definition: dict[str, Any], key: str) -> None:
    body = terraform_config.resources("aws_lambda_function")[key]
    spec = stack_definition["functions"][key]
    scope = terraform_scope(stack_definition)
    assert evaluate(body["runtime"], scope) == spec["runtime"]
    assert evaluate(body["handler"], scope) == spec["handler"]
    assert evaluate(body["timeout"], scope) == spec["timeout_seconds"]
    assert evaluate(body["memory_size"], scope) == spec["memory_mb"]
    assert body["function_name"] == f"${{local.function_names.{key}}}"
    assert body["source_code_hash"] == f"${{filebase64sha256(local.package_paths.{key})}}"


def test_function_locals_read_stack(terraform_config: TerraformConfig) -> None:
    locals_ = terraform_config.locals()
    assert locals_["frontend"] == "${local.stack.functions.frontend}"
    assert locals_["backend"] == "${local.stack.functions.backend}"


def test_stack_is_read_from_stack_json(terraform_config: TerraformConfig) -> None:
    assert terraform_config.locals()["stack"] == '${jsondecode(file("${path.module}/stack.json"))}'


def test_bucket_names_match_offline_names(terraform_config: TerraformConfig, stack_definition: dict[str, Any]) -> None:
    locals_ = terraform_config.locals()
    scope = terraform_scope(stack_definition)
    names = StackNames(prefix=stack_definition["default_prefix"], account_id=ACCOUNT_ID)
    assert evaluate(locals_["public_bucket_name"], scope) == names.public_bucket
    assert evaluate(locals_["private_bucket_name"], scope) == names.private_bucket


def test_other_names_match_offline_names(terraform_config: TerraformConfig, stack_definition: dict[str, Any]) -> None:
    scope = terraform_scope(stack_definition)
    names = StackNames(prefix=stack_definition["default_prefix"])
    assert evaluate(terraform_config.resources("aws_sns_topic")["this"]["name"], scope) == names.topic_name
    assert evaluate(terraform_config.resources("aws_cognito_user_pool")["this"]["name"], scope) == names.user_pool_name
    assert evaluate(terraform_config.resources("aws_cognito_user_pool_client")["this"]["name"], scope) == names.user_pool_client_name
    assert evaluate(terraform_config.resources("aws_api_gateway_rest_api")["this"]["name"], scope) == names.api_name
    assert evaluate(terraform_config.resources("aws_api_gateway_stage")["this"]["stage_name"], scope) == names.api_stage


def test_template_object_keys_use_stack_prefix(terraform_config: TerraformConfig, stack_definition: dict[str, Any]) -> None:
    body = terraform_config.resources("aws_s3_object")["template"]
    names = StackNames(prefix=stack_definition["default_prefix"])
    key = evaluate(body["key"], terraform_scope(stack_definition, each={"value": "event-feedback.json"}))
    assert key == f"{names.templates_prefix}event-feedback.json"


def web_files() -> list[Path]:
    web_dir = REPO_ROOT / "web"
    return sorted(path for path in web_dir.rglob("*") if path.is_file() and path.name != "config.json")


@pytest.mark.parametrize("path", web_files(), ids=lambda path: path.relative_to(REPO_ROOT).as_posix())
def test_web_content_type_matches_offline(terraform_config: TerraformConfig, path: Path) -> None:
    mime_types = terraform_config.locals()["mime_types"]
    terraform_type = mime_types.get(path.suffix.lower(), "application/octet-stream")
    assert terraform_type == content_type_for(path), f"add {path.suffix} to mime_types in infra/website.tf"


def test_web_config_has_the_app_settings(terraform_config: TerraformConfig) -> None:
    content = terraform_config.resources("aws_s3_object")["web_config"]["content"]
    keys = re.findall(r"\b([a-z_]+)\s*=", content)
    assert keys == ["api_url", "user_pool_client_id", "signup_requires_code"]
