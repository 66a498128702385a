"""The Lambda functions' environments on the offline stack."""
from __future__ import annotations

import json

import pytest

from local.config import StackConfig
from local.functions import COMMON_ENVIRONMENT_NAMES, function_environment
from local.names import STACK_FILE, StackNames


@pytest.fixture
def config() -> StackConfig:
    return StackConfig(port=4600, web_port=4601)


@pytest.fixture
def names() -> StackNames:
    return StackNames()


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_environment_names_equal_stack_file(key: str, config: StackConfig, names: StackNames) -> None:
    declared = json.loads(STACK_FILE.read_text())["functions"][key]["environment"]
    environment = function_environment(key, config, names)
    assert set(environment) - set(COMMON_ENVIRONMENT_NAMES) == set(declared)


@pytest.mark.parametrize("key", ["frontend", "backend"])
def test_environment_points_at_edge(key: str, config: StackConfig, names: StackNames) -> None:
    environment = function_environment(key, config, names)
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4600"
    assert environment["AWS_REGION"] == "us-east-1"
    assert environment["AWS_ACCESS_KEY_ID"] == "test"
    assert environment["AWS_SECRET_ACCESS_KEY"] == "test"


def test_environment_frontend_values(config: StackConfig, names: StackNames) -> None:
    environment = function_environment("frontend", config, names)
    assert environment["BACKEND_FUNCTION_NAME"] == "survey-backend"
    assert environment["TEMPLATES_BUCKET"] == "survey-private-123456789012"
    assert environment["TEMPLATES_PREFIX"] == "templates/"
    assert environment["USER_POOL_ID"] == config.user_pool_id
    assert environment["USER_POOL_CLIENT_ID"] == config.user_pool_client_id
    assert environment["TOKEN_ISSUER"] == f"http://127.0.0.1:4600/{config.user_pool_id}"
    assert environment["JWKS_URL"] == f"http://127.0.0.1:4600/{config.user_pool_id}/.well-known/jwks.json"
    assert environment["CORS_ALLOW_ORIGIN"] == "http://127.0.0.1:4601"


def test_environment_backend_values(config: StackConfig, names: StackNames) -> None:
    environment = function_environment("backend", config, names)
    assert environment["SURVEYS_TABLE"] == "survey-surveys"
    assert environment["RESPONSES_TABLE"] == "survey-responses"
    assert environment["NOTIFICATIONS_TOPIC_ARN"] == "arn:aws:sns:us-east-1:123456789012:survey-notifications"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_environment_unknown_function_raises(config: StackConfig, names: StackNames) -> None:
    with pytest.raises(KeyError):
        function_environment("reporting", config, names)
