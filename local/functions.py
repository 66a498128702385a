"""Settings and environment variables of the two Lambda functions on the offline stack."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from local.config import StackConfig
from local.names import StackNames

if TYPE_CHECKING:
    from local.lambda_runtime import FunctionConfig

# Dummy credentials: moto accepts any, and real ones must never reach the offline stack.
DUMMY_ACCESS_KEY_ID = "test"
DUMMY_SECRET_ACCESS_KEY = "test"

# Variables every function gets off AWS, on top of the ones infra/stack.json lists.
COMMON_ENVIRONMENT_NAMES = (
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)


def function_environment(key: str, config: StackConfig, names: StackNames) -> dict[str, str]:
    """Return the environment of function `key` ("frontend" or "backend").

    Raises KeyError for a function that infra/stack.json does not declare.
    """
    spec = names.functions[key]
    powertools = {
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_LOG_LEVEL": config.log_level,
    }
    own: dict[str, str]
    if key == "frontend":
        own = {
            "BACKEND_FUNCTION_NAME": names.backend_function_name,
            "TEMPLATES_BUCKET": names.private_bucket,
            "TEMPLATES_PREFIX": names.templates_prefix,
            "USER_POOL_ID": config.user_pool_id,
            "USER_POOL_CLIENT_ID": config.user_pool_client_id,
            "TOKEN_ISSUER": config.token_issuer,
            "JWKS_URL": config.jwks_url,
            "CORS_ALLOW_ORIGIN": config.website_url,
            **powertools,
        }
    elif key == "backend":
        own = {
            "SURVEYS_TABLE": names.surveys_table,
            "RESPONSES_TABLE": names.responses_table,
            "NOTIFICATIONS_TOPIC_ARN": names.topic_arn,
            **powertools,
        }
    else:
        raise KeyError(f"No environment is defined for function {key!r}; add it to local/functions.py.")
    common = {
        "AWS_ENDPOINT_URL": config.edge_url,
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
    }
    return {**own, **common}


def function_configs(config: StackConfig, names: StackNames) -> list[FunctionConfig]:
    """Build the runtime's settings of every function in infra/stack.json."""
    from local.lambda_runtime import FunctionConfig

    return [
        FunctionConfig(
            name=spec.name,
            handler=spec.handler,
            source_dir=function_source_dir(spec.source_dir, config),
            package=spec.package,
            environment=function_environment(key, config, names),
            timeout_seconds=spec.timeout_seconds,
            memory_mb=spec.memory_mb,
            runtime=spec.runtime,
        )
        for key, spec in names.functions.items()
    ]


def function_source_dir(source_dir: Path, config: StackConfig) -> Path:
    """Return a function's source folder, moved under `config.services_dir` when that is set."""
    if config.services_dir is None:
        return source_dir
    return config.services_dir / source_dir.name
