"""Each function's role allows exactly the AWS calls its code makes, on its own resources."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.aws_calls import find_calls, required_actions
from tests.infra.terraform_config import REPO_ROOT, TerraformConfig, allowed_actions, policy_statements

# Lambda's runtime, not the function code, writes the logs.
RUNTIME_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
FUNCTION_KEYS = ["frontend", "backend"]


def package_dir(stack_definition: dict[str, Any], key: str) -> Path:
    spec = stack_definition["functions"][key]
    directory = REPO_ROOT / spec["source_dir"] / spec["package"]
    if not directory.is_dir():
        pytest.skip(f"{directory.relative_to(REPO_ROOT)} does not exist yet")
    return directory


def statements_with(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements if action in statement.get("actions", [])]


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_code_makes_aws_calls(stack_definition: dict[str, Any], key: str) -> None:
    # Guards the scan itself: both functions call AWS, so finding nothing means the scan broke.
    assert find_calls(package_dir(stack_definition, key))


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_role_allows_every_code_call(terraform_config: TerraformConfig, stack_definition: dict[str, Any], key: str) -> None:
    needed = required_actions(package_dir(stack_definition, key))
    granted = allowed_actions(policy_statements(terraform_config, key))
    missing = {action: places for action, places in needed.items() if action not in granted}
    assert not missing, f"add to data.aws_iam_policy_document.{key} in infra/iam.tf: {missing}"


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_role_allows_no_uncalled_action(terraform_config: TerraformConfig, stack_definition: dict[str, Any], key: str) -> None:
    needed = set(required_actions(package_dir(stack_definition, key)))
    granted = allowed_actions(policy_statements(terraform_config, key))
    extra = granted - needed - RUNTIME_ACTIONS
    assert not extra, f"data.aws_iam_policy_document.{key} allows actions no code calls: {sorted(extra)}"


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_role_has_no_wildcards(terraform_config: TerraformConfig, key: str) -> None:
    for statement in policy_statements(terraform_config, key):
        assert not any("*" in action for action in statement["actions"]), statement["actions"]
        resources = statement["resources"] if isinstance(statement["resources"], list) else [statement["resources"]]
        assert "*" not in resources, f"{key}: statement {statement.get('sid')} allows every resource"
        assert "effect" not in statement or statement["effect"] == "Allow"


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_role_policy_wiring(terraform_config: TerraformConfig, key: str) -> None:
    policy = terraform_config.resources("aws_iam_role_policy")[key]
    function = terraform_config.resources("aws_lambda_function")[key]
    assert policy["policy"] == f"${{data.aws_iam_policy_document.{key}.json}}"
    assert policy["role"] == f"${{aws_iam_role.{key}.id}}"
    assert function["role"] == f"${{aws_iam_role.{key}.arn}}"


def test_only_two_inline_policies(terraform_config: TerraformConfig) -> None:
    assert set(terraform_config.resources("aws_iam_role_policy")) == set(FUNCTION_KEYS)
    assert not terraform_config.resources("aws_iam_role_policy_attachment")


@pytest.mark.parametrize("key", FUNCTION_KEYS)
def test_logs_only_to_own_log_group(terraform_config: TerraformConfig, key: str) -> None:
    for statement in statements_with(policy_statements(terraform_config, key), "logs:PutLogEvents"):
        assert statement["resources"] == [f"${{aws_cloudwatch_log_group.{key}.arn}}:*"]


def test_frontend_invokes_backend_only(terraform_config: TerraformConfig) -> None:
    statements = statements_with(policy_statements(terraform_config, "frontend"), "lambda:InvokeFunction")
    assert [statement["resources"] for statement in statements] == [["${aws_lambda_function.backend.arn}"]]


def test_frontend_reads_templates_prefix_only(terraform_config: TerraformConfig) -> None:
    statements = statements_with(policy_statements(terraform_config, "frontend"), "s3:GetObject")
    assert [statement["resources"] for statement in statements] == [["${aws_s3_bucket.private.arn}/${local.stack.templates_prefix}*"]]


def test_frontend_lists_templates_prefix_only(terraform_config: TerraformConfig) -> None:
    statements = statements_with(policy_statements(terraform_config, "frontend"), "s3:ListBucket")
    assert [statement["resources"] for statement in statements] == [["${aws_s3_bucket.private.arn}"]]
    assert statements[0]["condition"] == [
        {"test": "StringLike", "variable": "s3:prefix", "values": ["${local.stack.templates_prefix}*"]}
    ]


def test_backend_uses_own_tables_only(terraform_config: TerraformConfig) -> None:
    statements = [
        statement
        for statement in policy_statements(terraform_config, "backend")
        if any(action.startswith("dynamodb:") for action in statement["actions"])
    ]
    assert len(statements) == 1
    assert statements[0]["resources"] == '${flatten([for table in aws_dynamodb_table.this : [table.arn, "${table.arn}/index/*"]])}'


def test_backend_publishes_to_own_topic_only(terraform_config: TerraformConfig) -> None:
    statements = statements_with(policy_statements(terraform_config, "backend"), "sns:Publish")
    assert [statement["resources"] for statement in statements] == [["${aws_sns_topic.this.arn}"]]


def test_lambda_trust_policy_is_lambda_only(terraform_config: TerraformConfig) -> None:
    statements = policy_statements(terraform_config, "lambda_assume_role")
    assert statements == [
        {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]}
    ]
